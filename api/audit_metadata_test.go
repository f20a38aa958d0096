package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// TestEventsEndpointServesEveryWritersMetadata: the audit trail serves each
// event's metadata as stored, whoever wrote it: the HTTP intake, a job, and
// a job before the jobs shared intake.Metadata (recorded_at); each of them
// reads back as an intake.Metadata.
func TestEventsEndpointServesEveryWritersMetadata(t *testing.T) {
	h := newHarness(t)
	if status, _, raw := h.do(t, webhookReq(cometchattest.Fixture(t, "meeting_started", nil), hookUser, hookPass)); status != 200 {
		t.Fatalf("webhook: %d %s", status, raw)
	}
	at := time.Date(2026, 11, 27, 6, 32, 30, 0, time.UTC)
	job, err := intake.Metadata{ReceivedAt: at, Source: "job:stale-closer"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	old := []byte(`{"source":"job:reconcile","recorded_at":"2026-11-27T06:32:30Z"}`)
	const app, session = "app-1", "v1.us.test.session-1"
	stream := domain.StreamName(app, session)
	for _, meta := range [][]byte{job, old} {
		ev := eventstore.Event{ID: uuid.New(), Type: domain.TypeSessionAbandoned, Data: []byte(`{}`), Metadata: meta}
		if _, err := h.store.Append(context.Background(), stream, eventstore.Any, ev); err != nil {
			t.Fatal(err)
		}
	}

	status, _, raw := h.do(t, getReq("/v1/meetings/"+session+"/events", tokenApp1))
	if status != 200 {
		t.Fatalf("events: %d %s", status, raw)
	}
	var answer struct {
		Events []struct {
			Metadata json.RawMessage `json:"metadata"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(raw), &answer); err != nil || len(answer.Events) != 3 {
		t.Fatalf("answer %s: %v", raw, err)
	}
	want := []struct {
		stored string // "" : the intake's, not known in advance
		source string
		at     time.Time
	}{
		{"", "http", time.Unix(1700000000, 0)},
		{string(job), "job:stale-closer", at},
		{string(old), "job:reconcile", at},
	}
	for i, w := range want {
		got := answer.Events[i].Metadata
		if w.stored != "" && string(got) != w.stored {
			t.Errorf("event %d: metadata %s, want it as stored: %s", i, got, w.stored)
		}
		var m intake.Metadata
		if err := json.Unmarshal(got, &m); err != nil || m.Source != w.source || !m.ReceivedAt.Equal(w.at) {
			t.Errorf("event %d: metadata %s reads as %+v, %v; want source %s at %s", i, got, m, err, w.source, w.at)
		}
	}
}
