package main_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
)

// TestServeOnEventStoreDB runs `meetingd serve` as a child process with
// MEETINGD_EVENTSTORE set to the connection string of an in-process
// EventStoreDB (esdbtest, loopback gRPC, ?tls=false). A whole meeting is
// posted through the webhook intake (one delivery twice); the events land in
// the EventStoreDB log, the projections fold them, and the reports say what
// API.md's semantics give. A second service on an empty data directory,
// on the same EventStoreDB, rebuilds the same reports from that log alone.
func TestServeOnEventStoreDB(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	conn, es := esdbtest.StartServer(t)
	env := "MEETINGD_EVENTSTORE=" + conn
	before := es.Len()

	srv := startServe(t, t.TempDir(), freeAddr(t), env)
	const session = "v1.us.esdb-e2e.1"
	const t0 = int64(1_700_000_000)
	deliveries := []struct {
		body []byte
		dup  bool
	}{
		{sessionBody("meeting_started", session, t0), false},
		{joinedBody(session, "ana", t0, "wh-1"), false},
		{joinedBody(session, "bo", t0+60, "wh-1"), false},
		{joinedBody(session, "ana", t0, "wh-2"), true}, // CometChat's retry, another webhook id
		{leftBody(session, "ana", t0, t0+600), false},
		{leftBody(session, "bo", t0+60, t0+1200), false},
		{sessionBody("meeting_ended", session, t0), false},
	}
	var acked []string
	for i, d := range deliveries {
		status, ans, err := postWebhook(context.Background(), srv.base, d.body)
		if err != nil || status != 200 {
			t.Fatalf("delivery %d: %d %v %v\n%s", i, status, ans, err, srv.stderr)
		}
		if ans["duplicate"] != d.dup {
			t.Fatalf("delivery %d: duplicate = %v, want %v", i, ans["duplicate"], d.dup)
		}
		if !d.dup {
			acked = append(acked, ans["event_id"].(string))
		}
	}
	if got := es.Len() - before; got != len(acked) {
		t.Fatalf("EventStoreDB gained %d events, want %d (one per distinct delivery)", got, len(acked))
	}
	if got := storedEventIDs(t, srv.base, session); !cmp.Equal(got, acked) {
		t.Fatalf("stored event ids %v, want the acknowledged %v in order", got, acked)
	}

	waitCaughtUp(t, srv.base)
	var m struct {
		Status           string `json:"status"`
		Kind             string `json:"kind"`
		StartedAt        string `json:"started_at"`
		EndedAt          string `json:"ended_at"`
		Duration         int64  `json:"duration_seconds"`
		ParticipantCount int    `json:"participant_count"`
		PeakConcurrent   int    `json:"peak_concurrent"`
		TotalAttendance  int64  `json:"total_attendance_seconds"`
		Participants     []struct {
			Participant string  `json:"participant"`
			Attended    int64   `json:"attended_seconds"`
			Ratio       float64 `json:"attendance_ratio"`
			JoinCount   int     `json:"join_count"`
		} `json:"participants"`
	}
	if status := getJSON(t, srv.base+"/v1/meetings/"+session, &m); status != 200 {
		t.Fatalf("GET meeting: %d", status)
	}
	type row struct {
		P         string
		Attended  int64
		Ratio     float64
		JoinCount int
	}
	var rows []row
	for _, p := range m.Participants {
		rows = append(rows, row{p.Participant, p.Attended, p.Ratio, p.JoinCount})
	}
	// meeting_ended: created_at t0, destroyed_at t0+1800 (sessionBody).
	want := []row{{"ana", 600, 0.3333, 1}, {"bo", 1140, 0.6333, 1}}
	if m.Status != "ended" || m.Kind != "meeting" || m.StartedAt != "2023-11-14T22:13:20Z" || m.EndedAt != "2023-11-14T22:43:20Z" ||
		m.Duration != 1800 || m.ParticipantCount != 2 || m.PeakConcurrent != 2 || m.TotalAttendance != 1740 || !cmp.Equal(rows, want) {
		t.Fatalf("meeting report %+v, rows %+v; want ended 1800 s, 2 participants, rows %+v", m, rows, want)
	}
	first := reportSnapshot(t, srv.base)
	srv.stop(t)

	// The log is in EventStoreDB: a service with empty read models rebuilds
	// the same reports from it.
	again := startServe(t, t.TempDir(), freeAddr(t), env)
	waitCaughtUp(t, again.base)
	if diff := cmp.Diff(first, reportSnapshot(t, again.base)); diff != "" {
		t.Fatalf("reports folded afresh from EventStoreDB differ (-first +again):\n%s", diff)
	}
	again.stop(t)
}
