package api_test

import (
	"strings"
	"testing"

	"github.com/meetingd/meetingd/api"
)

// FuzzParseTokens feeds MEETINGD_API_TOKENS's parser arbitrary specs: it
// never panics; its errors never quote a token (they are printed at start);
// every well-formed entry (token of 16+ characters = app) is found again
// with its app, the first entry winning for a token listed twice; and a
// probe that is no listed token is not found.
func FuzzParseTokens(f *testing.F) {
	f.Add("tok-aaaaaaaaaaaaaaaa=app-1, tok-bbbbbbbbbbbbbbbb=*", "tok-aaaaaaaaaaaaaaaa")
	f.Add("short=app,=x,novalue,tok-cccccccccccccccc=", "short")
	f.Add(",,, , tok-dddddddddddddddd = app = 2 ,", "tok-dddddddddddddddd")
	f.Add("tok-eeeeeeeeeeeeeeee=a,tok-eeeeeeeeeeeeeeee=b", "tok-eeeeeeeeeeeeeeee")
	f.Add("\x00\xff=\u2028", "")
	f.Fuzz(func(t *testing.T, spec, probe string) {
		tokens, err := api.ParseTokens(spec)
		want := map[string]string{}
		for item := range strings.SplitSeq(spec, ",") {
			tok, app, ok := strings.Cut(strings.TrimSpace(item), "=")
			tok, app = strings.TrimSpace(tok), strings.TrimSpace(app)
			if !ok || app == "" || len(tok) < 16 {
				if err == nil && strings.TrimSpace(item) != "" {
					t.Fatalf("spec %q: entry %q accepted", spec, item)
				}
				continue
			}
			if _, dup := want[tok]; !dup {
				want[tok] = app
			}
		}
		// Malformed entries with a marked token: the error names them by
		// number and app, never by token.
		if !strings.Contains(spec, "⟪") {
			_, err := api.ParseTokens(spec + ",⟪short⟫=app-x,⟪no-app-aaaaaaaaaaaa⟫=,⟪no-equals-aaaaaaaaaaaa⟫")
			if err == nil || strings.Contains(err.Error(), "⟪") {
				t.Fatalf("spec %q with bad entries: error %v", spec, err)
			}
		}
		if err != nil {
			return
		}
		if tokens.Len() < len(want) {
			t.Fatalf("spec %q: %d tokens, want at least %d", spec, tokens.Len(), len(want))
		}
		for tok, app := range want {
			if got, ok := api.LookupToken(tokens, tok); !ok || got != app {
				t.Fatalf("spec %q: token %q → %q, %v; want %q", spec, tok, got, ok, app)
			}
		}
		if _, listed := want[strings.TrimSpace(probe)]; !listed {
			if app, ok := api.LookupToken(tokens, probe); ok {
				t.Fatalf("spec %q: unlisted %q found (app %q)", spec, probe, app)
			}
		}
	})
}
