package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/jobs"
)

// TestJobsWriteIntakeMetadata: the events the jobs append carry the
// metadata every writer stores (intake.Metadata), the job named in source,
// the webhook fields left out, byte for byte what Metadata.Marshal writes.
func TestJobsWriteIntakeMetadata(t *testing.T) {
	const t0 = 1_700_000_000
	for _, tc := range []struct {
		name, source string
		app, session string
		// run posts the webhooks, runs the job once and returns its clock's time.
		run func(t *testing.T, h *harness) time.Time
	}{
		{name: "stale closer", source: "job:" + jobs.StaleJobName, app: app, session: "meta-stale",
			run: func(t *testing.T, h *harness) time.Time {
				h.post(t, startedBody(app, "meta-stale", t0), joinedBody(app, "meta-stale", "Ana", "", t0+5))
				h.project(t)
				clk := newClock(time.Unix(t0+5, 123456789).Add(6*time.Hour + time.Second))
				if got := summaryInt(t, runJob(t, newStaleCloser(t, h, nil, clk, 6*time.Hour)), "abandoned"); got != 1 {
					t.Fatalf("abandoned %d, want 1", got)
				}
				return clk.Now()
			}},
		{name: "reconcile", source: "job:" + jobs.ReconcileJobName, app: restApp, session: restSession,
			run: func(t *testing.T, h *harness) time.Time {
				h.post(t, startedBody(restApp, restSession, restStart),
					joinedBody(restApp, restSession, "Two", "cometchat-uid-2", 1692368132))
				h.project(t)
				api := &callsAPI{calls: map[string]string{restSession: string(cometchattest.RESTFixture(t, "get_call"))}}
				clk := newClock(time.Unix(1692368132, 987654321).Add(time.Hour))
				if got := summaryInt(t, runJob(t, newReconciler(t, h, nil, api, restApp, clk)), "reconciled"); got != 1 {
					t.Fatalf("reconciled %d, want 1", got)
				}
				return clk.Now()
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			now := tc.run(t, h)
			var last eventstore.RecordedEvent
			for rec, err := range h.store.ReadStream(context.Background(), domain.StreamName(tc.app, tc.session), 0) {
				if err != nil {
					t.Fatal(err)
				}
				last = rec
			}
			want, err := intake.Metadata{ReceivedAt: now.UTC(), Source: tc.source}.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(last.Metadata) != string(want) {
				t.Fatalf("%s's metadata %s, want %s", last.Type, last.Metadata, want)
			}
			var m intake.Metadata
			if err := json.Unmarshal(last.Metadata, &m); err != nil || m.Source != tc.source || !m.ReceivedAt.Equal(now) || m.WebhookID != "" {
				t.Fatalf("read back %+v, %v", m, err)
			}
		})
	}
}
