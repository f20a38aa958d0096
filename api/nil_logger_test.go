package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/intake"
)

// downPinger is a readiness check that always fails.
type downPinger struct{}

func (downPinger) Ping(context.Context) error { return errors.New("down for the test") }

// TestNewNilLogger builds the intake and the server without a logger and
// takes the paths that log (an error answer, a failed readiness check) and
// the intake's: each answers as usual instead of panicking.
func TestNewNilLogger(t *testing.T) {
	store := newMemStore()
	in, err := intake.New(intake.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass},
		api.Deps{Intake: in, Events: store, Ready: []api.Pinger{downPinger{}}, Registry: reg, Gatherer: reg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := cometchattest.Fixture(t, "meeting_started", cometchattest.Vars{"<sessionId>": "v1.us.test.nil-logger"})
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"error answer", getReq("/v1/quarantine", ""), 401},
		{"failed readiness", getReq("/readyz", ""), 503},
		{"webhook", webhookReq(body, hookUser, hookPass), 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.App().Test(tc.req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: status %d, want %d", tc.req.Method, tc.req.URL.Path, resp.StatusCode, tc.want)
			}
		})
	}
}
