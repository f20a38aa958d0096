package api_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/intake"
)

func TestParseWebhookCredentials(t *testing.T) {
	for _, tc := range []struct {
		spec string
		n    int
		bad  []string // what the error must name
	}{
		{"", 0, nil},
		{"app-1=cc:pw-1", 1, nil},
		{" app-1=cc:pw-1 , app-2=cc:p:w=2,app-1=cc:pw-new", 3, nil}, // a password may hold ':' and '='; app-1 rotated
		{"app-1", 0, []string{"credential 1"}},
		{"app-1=cc", 0, []string{"credential 1 (for app app-1)"}},
		{"=cc:pw", 0, []string{"credential 1"}},
		{"app-1=:pw,app-2=cc:", 0, []string{"credential 1 (for app app-1)", "credential 2 (for app app-2)"}},
		{"app-1=cc:same-pw,app-2=cc:same-pw", 0, []string{"credential 2 (for app app-2)", "app app-1's"}},
	} {
		creds, err := api.ParseWebhookCredentials(tc.spec)
		if tc.bad == nil {
			if err != nil || creds.Len() != tc.n {
				t.Errorf("%q: %d credentials, %v; want %d", tc.spec, creds.Len(), err, tc.n)
			}
			continue
		}
		for _, b := range tc.bad {
			if err == nil || !strings.Contains(err.Error(), b) {
				t.Errorf("%q: error %v; want one naming %s", tc.spec, err, b)
			}
		}
		for _, secret := range []string{"pw", "same-pw"} {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("%q: the error quotes a password: %v", tc.spec, err)
			}
		}
	}
}

// TestSingleAndPerAppCredentialsRefused: the single pair opens every app,
// so with per-app credentials it would undo them: the server refuses both.
func TestSingleAndPerAppCredentialsRefused(t *testing.T) {
	creds, err := api.ParseWebhookCredentials("app-1=cc:pw-app-1")
	if err != nil {
		t.Fatal(err)
	}
	err = api.Config{WebhookUser: hookUser, WebhookPassword: hookPass, WebhookCredentials: creds}.Validate()
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("Validate with both: %v; want a refusal", err)
	}
	if err := (api.Config{WebhookCredentials: creds}).Validate(); err != nil {
		t.Fatalf("Validate with per-app credentials only: %v", err)
	}
}

// TestPerAppWebhookCredentials: with MEETINGD_WEBHOOK_CREDENTIALS, a
// webhook is stored only when its appId, as the decoder reads it, is its
// credential's app; another app (whether its payload would be accepted or
// quarantined), or no readable app id, is a 403 with a JSON error, nothing
// appended and counted as forbidden.
func TestPerAppWebhookCredentials(t *testing.T) {
	creds, err := api.ParseWebhookCredentials("app-1=cc-1:pw-app-1,app-2=cc-2:pw-app-2,app-1=cc-1:pw-app-1-next")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	store := newMemStore()
	in, err := intake.New(intake.Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{WebhookCredentials: creds}, api.Deps{Intake: in, Events: store, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, srv)
	h.store, h.log, h.reg = store, store, reg

	started := func(app, session string) []byte {
		return cometchattest.Fixture(t, "meeting_started", cometchattest.Vars{"<appId>": app, "<sessionId>": session})
	}
	unknown := func(app string) []byte {
		return []byte(`{"trigger":"meeting_renamed","data":{"sessionId":"s-q"},"appId":"` + app + `"}`)
	}
	for _, tc := range []struct {
		name, user, pass string
		body             []byte
		want             int
		appends          int // new appends to the log
		msg              string
	}{
		{"right app", "cc-1", "pw-app-1", started("app-1", "pac-1"), 200, 1, ""},
		{"right app, the rotated password", "cc-1", "pw-app-1-next", started("app-1", "pac-2"), 200, 1, ""},
		{"the other app's credentials for its app", "cc-2", "pw-app-2", started("app-2", "pac-3"), 200, 1, ""},
		{"right app, quarantined", "cc-1", "pw-app-1", unknown("app-1"), 202, 1, ""},
		{"another app", "cc-1", "pw-app-1", started("app-2", "pac-4"), 403, 0, `appId is \"app-2\"`},
		{"another app, would be quarantined", "cc-1", "pw-app-1", unknown("app-2"), 403, 0, `appId is \"app-2\"`},
		{"no appId", "cc-1", "pw-app-1", []byte(`{"trigger":"meeting_started","data":{"sessionId":"pac-5","created_at":1700000000}}`), 403, 0, "appId: required"},
		{"appId not a string", "cc-1", "pw-app-1", []byte(`{"trigger":"meeting_started","data":{"sessionId":"pac-6"},"appId":true}`), 403, 0, "appId"},
		{"appId with a path separator", "cc-1", "pw-app-1", []byte(`{"trigger":"meeting_started","data":{"sessionId":"pac-7"},"appId":"app-1/../app-2"}`), 403, 0, "appId"},
		{"a key sent twice: the last one counts", "cc-1", "pw-app-1", []byte(`{"trigger":"x","data":{},"appId":"app-1","appId":"app-2"}`), 403, 0, `appId is \"app-2\"`},
		{"not JSON", "cc-1", "pw-app-1", []byte(`{`), 400, 0, ""},
		{"wrong password", "cc-1", "pw-app-2", started("app-1", "pac-8"), 401, 0, ""},
		{"the password of another app", "cc-2", "pw-app-1", started("app-1", "pac-9"), 401, 0, ""},
		{"no credentials", "", "", started("app-1", "pac-10"), 401, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := store.appendCount()
			status, body, raw := h.do(t, webhookReq(tc.body, tc.user, tc.pass))
			if status != tc.want {
				t.Fatalf("%d %s; want %d", status, raw, tc.want)
			}
			if status >= 400 && (body == nil || body["error"] == nil) {
				t.Fatalf("%d without a JSON error: %s", status, raw)
			}
			if !strings.Contains(raw, tc.msg) {
				t.Errorf("answer %s; want it to name %s", raw, tc.msg)
			}
			if strings.Contains(raw, "pw-app") {
				t.Errorf("answer quotes a password: %s", raw)
			}
			if got := store.appendCount() - before; got != tc.appends {
				t.Fatalf("%d appends; want %d", got, tc.appends)
			}
		})
	}
	if n := store.count(domain.QuarantineStream("app-1")); n != 1 {
		t.Errorf("app-1's quarantine holds %d records; want 1", n)
	}
	_, _, metrics := h.do(t, getReq("/metrics", ""))
	if !strings.Contains(metrics, `meetingd_webhooks_total{outcome="forbidden",trigger="meeting_started"} 4`) {
		t.Errorf("forbidden webhooks not counted:\n%s", grepLines(metrics, "meetingd_webhooks_total"))
	}
}
