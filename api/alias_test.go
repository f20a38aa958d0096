package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestValuesOutliveTheRequest: what a handler takes from a request's path
// and query (here the queries the report store receives, held by the fake)
// keeps its value after later requests on the same keep-alive connection,
// which reuse fasthttp's request buffer. A value aliasing that buffer would
// read as the later request's value of the same length.
func TestValuesOutliveTheRequest(t *testing.T) {
	rh := newReportHarness(t)
	h := serve(t, rh.srv) // over loopback: one connection, reused
	f := rh.reports
	for _, tc := range []struct {
		name        string
		first, next string // the same lengths, other bytes
		held        func() []string
		want        []string
	}{
		{"meetings",
			"/v1/meetings?app_id=app-A&participant=uid-aaaa&cursor=cursor-aaaa",
			"/v1/meetings?app_id=app-B&participant=uid-bbbb&cursor=cursor-bbbb",
			func() []string { q := f.lastMeetings; return []string{q.AppID, q.Participant, q.Cursor} },
			[]string{"app-A", "uid-aaaa", "cursor-aaaa"}},
		{"participant",
			"/v1/participants/uid-aaaa/attendance?app_id=app-A&cursor=cursor-aaaa",
			"/v1/participants/uid-bbbb/attendance?app_id=app-B&cursor=cursor-bbbb",
			func() []string { q := f.lastPart; return []string{q.AppID, q.Participant, q.Cursor} },
			[]string{"app-A", "uid-aaaa", "cursor-aaaa"}},
		{"meeting",
			"/v1/meetings/session-aaaa?app_id=app-A",
			"/v1/meetings/session-bbbb?app_id=app-B",
			func() []string { k := f.lastKey; return []string{k.AppID, k.SessionID} },
			[]string{"app-A", "session-aaaa"}},
		{"escaped session",
			"/v1/meetings/session%20aa?app_id=app-A",
			"/v1/meetings/session%20bb?app_id=app-B",
			func() []string { k := f.lastKey; return []string{k.AppID, k.SessionID} },
			[]string{"app-A", "session aa"}},
		{"durations",
			"/v1/reports/durations?app_id=app-A&from=2023-10-01&to=2023-10-02",
			"/v1/reports/durations?app_id=app-B&from=2023-10-01&to=2023-10-02",
			func() []string { return []string{f.lastDur.AppID} },
			[]string{"app-A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _, raw := h.do(t, getReq(tc.first, tokenAdmin)); status >= 500 {
				t.Fatalf("first: %d %s", status, raw)
			}
			f.mu.Lock()
			held := tc.held()
			f.mu.Unlock()
			for range 3 {
				if status, _, raw := h.do(t, getReq(tc.next, tokenAdmin)); status >= 500 {
					t.Fatalf("next: %d %s", status, raw)
				}
			}
			for i, w := range tc.want {
				if held[i] != w {
					t.Errorf("value %d held from the first request is %q after the next ones, want %q", i, held[i], w)
				}
			}
		})
	}
}

// TestHandlersReadValuesOnlyThroughParams: outside param and query
// (params.go), no code of the package reads fiber's path or query values
// directly, so none can keep one that aliases the request buffer.
func TestHandlersReadValuesOnlyThroughParams(t *testing.T) {
	direct := map[string]bool{
		"Params": true, "AllParams": true, "ParamsInt": true, "ParamsParser": true,
		"Query": true, "Queries": true, "QueryInt": true, "QueryBool": true, "QueryFloat": true, "QueryParser": true,
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && (fn.Name.Name == "param" || fn.Name.Name == "query") && name == "params.go" {
				continue
			}
			ast.Inspect(d, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && direct[sel.Sel.Name] {
					t.Errorf("%s: .%s(…) read directly; use param or query (params.go), which copy", fset.Position(call.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
}
