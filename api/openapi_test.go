package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/reports"
)

func init() {
	// The attendance CSV and /metrics are text; validate them as strings.
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
}

// loadOpenAPI fetches /openapi.json from the server (no token) and validates it.
func loadOpenAPI(t *testing.T, h *reportHarness) *openapi3.T {
	t.Helper()
	status, ctype, body := h.get(t, "/openapi.json", "")
	if status != 200 || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("/openapi.json: %d %q", status, ctype)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	loadOpenAPI(t, newReportHarness(t))
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIMatchesRoutes compares the document's operations with the
// routes fiber has registered, in both directions: a route added without
// documenting it, or a documented route that is gone, fails.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newReportHarness(t)
	doc := loadOpenAPI(t, h)

	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var registered []string
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue // fiber adds HEAD to every GET
		}
		registered = append(registered, r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(documented)
	slices.Sort(registered)
	registered = slices.Compact(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json documents %s, which no route serves", d)
		}
	}
}

// TestOpenAPIResponses validates real answers (successes and errors) against
// the document's response schemas; an undocumented status fails too.
func TestOpenAPIResponses(t *testing.T) {
	h := newReportHarness(t)
	doc := loadOpenAPI(t, h)
	doc.Servers = nil // match paths on any host
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	hook := func(body []byte, user, pass string) *http.Request { return webhookReq(body, user, pass) }
	joined := cometchattest.Fixture(t, "meeting_participant_joined", nil)
	bad := []byte(`{"trigger":"meeting_exploded","data":{"sessionId":"s"},"appId":"app-1"}`)
	// Events and quarantine have something to list.
	for _, body := range [][]byte{joined, bad} {
		if status, _, raw := h.roundTrip(t, hook(body, hookUser, hookPass)); status != 200 && status != 202 {
			t.Fatalf("webhook: %d %s", status, raw)
		}
	}
	withHeader := func(r *http.Request, k, v string) *http.Request { r.Header.Set(k, v); return r }
	// A planned meeting that was held, beside the harness's scheduled one.
	h.reports.meetings[reports.SessionKey{AppID: "app-1", SessionID: "week-1"}] = plannedMeeting("week-1", 1788253200,
		map[string][2]int64{"uid-ravi": {1788253200 + 360, 1788253200 + 3600}})
	put := func(path, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tokenApp1)
		r.Header.Set("Content-Type", "application/json")
		return r
	}

	post := func(path, body string) *http.Request {
		r := put(path, body)
		r.Method = http.MethodPost
		return r
	}
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"webhook accepted", hook(joined, hookUser, hookPass), 200},
		{"webhook quarantined", hook(bad, hookUser, hookPass), 202},
		{"webhook unauthorized", hook(joined, "", ""), 401},
		{"webhook not JSON", hook([]byte("nope"), hookUser, hookPass), 400},
		{"webhook too large", hook(bytes.Repeat([]byte("x"), 1<<20+1), hookUser, hookPass), 413},
		{"quarantine", getReq("/v1/quarantine", tokenApp1), 200},
		{"events", getReq("/v1/meetings/v1.us.test.session-1/events?limit=1", tokenApp1), 200},
		{"events 404", getReq("/v1/meetings/nope/events", tokenApp1), 404},
		{"meeting", getReq("/v1/meetings/s-1", tokenApp1), 200},
		{"call", getReq("/v1/meetings/call-1", tokenApp1), 200},
		{"meeting 404", getReq("/v1/meetings/nope", tokenApp1), 404},
		{"meeting 401", getReq("/v1/meetings/s-1", ""), 401},
		{"meeting 403", getReq("/v1/meetings/s-1?app_id=app-2", tokenApp1), 403},
		{"attendance", getReq("/v1/meetings/s-1/attendance", tokenApp1), 200},
		{"attendance csv", withHeader(getReq("/v1/meetings/s-1/attendance", tokenApp1), "Accept", "text/csv"), 200},
		{"meetings", getReq("/v1/meetings?limit=2", tokenApp1), 200},
		{"meetings 400", getReq("/v1/meetings?limit=2000", tokenApp1), 400},
		{"participant", getReq("/v1/participants/uid-1/attendance", tokenApp1), 200},
		{"durations", getReq("/v1/reports/durations?from=2023-10-01&to=2023-11-01&bucket=day", tokenApp1), 200},
		{"durations 400", getReq("/v1/reports/durations", tokenAdmin), 400},
		{"durations in a zone", getReq("/v1/reports/durations?from=2023-10-01&to=2023-11-01&bucket=month&tz=Asia/Kolkata", tokenApp1), 200},
		{"usage", getReq("/v1/reports/usage?from=2023-10-01&to=2023-11-01&tz=Asia/Kolkata", tokenApp1), 200},
		{"usage csv", getReq("/v1/reports/usage?from=2023-10-01&to=2023-11-01&format=csv", tokenApp1), 200},
		{"usage 400 tz", getReq("/v1/reports/usage?from=2023-10-01&to=2023-11-01&tz=Nowhere/Land", tokenApp1), 400},
		{"status", getReq("/v1/status", tokenApp1), 200},
		{"planned meeting", getReq("/v1/meetings/week-1", tokenApp1), 200},
		{"scheduled meeting", getReq("/v1/meetings/week-0", tokenApp1), 200},
		{"planned attendance", getReq("/v1/meetings/week-1/attendance", tokenApp1), 200},
		{"plan", getReq("/v1/meetings/class-0/plan", tokenApp1), 200},
		{"plan 404", getReq("/v1/meetings/nope/plan", tokenApp1), 404},
		{"plan put", put("/v1/meetings/class-9/plan", validPlan), 200},
		{"plan put 400", put("/v1/meetings/class-9/plan", `{"scheduled_start":"x"}`), 400},
		{"series", getReq("/v1/series/maths-7b/attendance", tokenApp1), 200},
		{"series csv", getReq("/v1/series/maths-7b/attendance?format=csv", tokenApp1), 200},
		{"series 404", getReq("/v1/series/nope/attendance", tokenApp1), 404},
		{"erasure", post("/v1/erasures", `{"participant":"uid-9"}`), 202},
		{"erasure 400", post("/v1/erasures", `{"participant":""}`), 400},
		{"erasure 404", getReq("/v1/erasures/nope", tokenApp1), 404},
		{"healthz", getReq("/healthz", ""), 200},
		{"readyz", getReq("/readyz", ""), 200},
		{"metrics", getReq("/metrics", ""), 200},
		{"openapi", getReq("/openapi.json", ""), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The router needs the request as the client sent it.
			route, params, err := router.FindRoute(cloneReq(t, tc.req))
			if err != nil {
				t.Fatalf("%s %s: not in the document: %v", tc.req.Method, tc.req.URL, err)
			}
			resp, err := h.srv.App().Test(tc.req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: tc.req, PathParams: params, Route: route},
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Fatalf("answer does not match openapi.json: %v\n%s", err, truncate(body))
			}
		})
	}
}

// TestOpenAPIRejectsDrift shows that the response validation bites: a field
// the document does not know fails.
func TestOpenAPIRejectsDrift(t *testing.T) {
	h := newReportHarness(t)
	doc := loadOpenAPI(t, h)
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req := getReq("/v1/status", tokenApp1)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 200,
		Header:                 http.Header{"Content-Type": {"application/json"}},
		Body:                   io.NopCloser(strings.NewReader(`{"events":1,"projected_position":{"commit":1,"prepare":1},"projected_events":1,"lag_events":0,"surprise":1}`)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err == nil {
		t.Fatal("an undocumented field passed validation")
	}
}

func cloneReq(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	c := httptest.NewRequest(r.Method, r.URL.RequestURI(), nil)
	c.Header = r.Header.Clone()
	return c
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
