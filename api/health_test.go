package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// healthFake is a hand-written api.HealthChecker.
type healthFake struct{ err error }

func (f healthFake) Health(context.Context) error { return f.err }

// TestLiveness: a liveness source that fails (the embedded event log after a
// failed fsync) turns /healthz and /readyz into 503 with the error named, so
// that the orchestrator restarts the process; a healthy one leaves both 200.
func TestLiveness(t *testing.T) {
	failed := healthFake{err: errors.New("health: " + eventstore.ErrUnavailable.Error() + ": event log failed, restart meetingd to reopen it")}
	for _, tc := range []struct {
		name   string
		live   []api.HealthChecker
		status int
		want   string // in the answer
	}{
		{"no source", nil, 200, ""},
		{"healthy", []api.HealthChecker{healthFake{}}, 200, ""},
		{"failed", []api.HealthChecker{healthFake{}, failed}, 503, "restart meetingd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			in, err := intake.New(intake.Config{}, store, log)
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass},
				api.Deps{Intake: in, Events: store, Ready: []api.Pinger{store}, Live: tc.live, Registry: reg, Gatherer: reg}, log)
			if err != nil {
				t.Fatal(err)
			}
			h := serve(t, srv)
			for _, path := range []string{"/healthz", "/readyz"} {
				status, body, raw := h.do(t, getReq(path, ""))
				if status != tc.status {
					t.Fatalf("%s: %d %s, want %d", path, status, raw, tc.status)
				}
				if msg, _ := body["error"].(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("%s: error %q, want it to contain %q", path, msg, tc.want)
				}
			}
		})
	}
}
