package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/esdbkeys"
)

// sessionEvents counts the events of the session streams of the server.
func sessionEvents(es *esdbtest.Server) int {
	n := 0
	es.Records(func(stream, _ string, _, _ []byte) {
		if strings.HasPrefix(stream, domain.StreamPrefix) {
			n++
		}
	})
	return n
}

// scanKurrentDB fails t if an event of the server, its stream name, data or
// metadata, holds the erasure test's subject in any form.
func scanKurrentDB(t *testing.T, stage string, es *esdbtest.Server) {
	t.Helper()
	es.Records(func(stream, typ string, data, meta []byte) {
		for _, n := range erasureNeedles() {
			if strings.Contains(stream, n) || bytes.Contains(data, []byte(n)) || bytes.Contains(meta, []byte(n)) {
				t.Errorf("%s: KurrentDB event %s (%s) holds %q", stage, stream, typ, n)
			}
		}
	})
}

// TestServeOnEventStoreDB runs `meetingd serve` as a child process with
// MEETINGD_EVENTSTORE set to the connection string of an in-process
// EventStoreDB (esdbtest, loopback gRPC, ?tls=false). A whole meeting is
// posted through the webhook intake (one delivery twice); the events land in
// the EventStoreDB log, the projections fold them, and the reports say what
// API.md's semantics give. The personal data is sealed under keys kept in
// EventStoreDB itself (privacy/esdbkeys): no event, stream name or metadata
// holds a name. An erasure there pseudonymises every /v1 answer without
// changing a figure and tombstones the subject's key. A second service on
// an empty data directory, on the same EventStoreDB, rebuilds the same
// reports from that log and its keys alone, the erased subject still
// erased; after a scavenge the key's bytes are gone from the server.
func TestServeOnEventStoreDB(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	conn, es := esdbtest.StartServer(t)
	env := []string{"MEETINGD_EVENTSTORE=" + conn,
		"MEETINGD_API_TOKENS=" + erasureToken + "=" + erasureApp + "," + testToken + "=" + testApp,
		"MEETINGD_STALE_AFTER=876000h", "MEETINGD_FINAL_AFTER=1s"}
	before := sessionEvents(es)

	srv := startServe(t, t.TempDir(), freeAddr(t), env...)
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
	if got := sessionEvents(es) - before; got != len(acked) {
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

	// Zelda in three meetings of another app, then her erasure.
	t0e := int64(1_700_000_000)
	zelda, ann, bob := [2]string{zeldaUID, zeldaName}, [2]string{"u-ann", "Ann"}, [2]string{"u-bob", "Bob"}
	sessions := []string{"er-1", "er-2", "er-3", "er-4"}
	postSession(t, srv.base, erasureApp, "er-1", t0e, ann, zelda)
	postSession(t, srv.base, erasureApp, "er-2", t0e+86400, zelda, bob)
	postSession(t, srv.base, erasureApp, "er-3", t0e+2*86400, ann, zelda, bob)
	postSession(t, srv.base, erasureApp, "er-4", t0e+3*86400, ann, bob)
	waitCaughtUp(t, srv.base)
	scanKurrentDB(t, "sealed", es)
	if status, body := request(t, http.MethodGet, srv.base+"/v1/meetings/er-1", erasureToken, nil); status != 200 || !bytes.Contains(body, []byte(zeldaUID)) {
		t.Fatalf("before the erasure the report does not show her (the keys do not open): %d %s", status, body)
	}
	figuresBefore := figures(t, srv.base, sessions)
	status, body := request(t, http.MethodPost, srv.base+"/v1/erasures", erasureToken, []byte(`{"participant":"`+zeldaUID+`"}`))
	var accepted struct{ ID string }
	if status != http.StatusAccepted || json.Unmarshal(body, &accepted) != nil {
		t.Fatalf("POST /v1/erasures: %d %s", status, body)
	}
	pseudonym := privacy.Subject{AppID: erasureApp, Participant: zeldaUID}.Pseudonym()
	erasedSessions := []string{"er-1", "er-2", "er-3"}
	waitErased(t, srv.base, erasureToken, accepted.ID, pseudonym, erasedSessions)
	check := func(stage, base string) {
		t.Helper()
		for path, body := range erasureAnswers(t, base, sessions, true) {
			for _, n := range erasureNeedles() {
				if bytes.Contains(body, []byte(n)) {
					t.Errorf("%s: GET %s shows %q", stage, path, n)
				}
			}
		}
		if after := figures(t, base, sessions); !slices.Equal(after, figuresBefore) {
			t.Errorf("%s: figures changed:\n%v\n%v", stage, figuresBefore, after)
		}
	}
	check("after the erasure", srv.base)
	srv.stop(t)
	tombstoned := 0
	es.Records(func(stream, typ string, _, _ []byte) {
		if strings.HasPrefix(stream, esdbkeys.Prefix+"k-") && typ == "$streamDeleted" {
			tombstoned++
		}
	})
	if tombstoned != 1 {
		t.Errorf("%d key streams tombstoned, want Zelda's one", tombstoned)
	}

	// The log and the keys are in EventStoreDB: a service with empty read
	// models rebuilds the same reports from them, Zelda still erased.
	again := startServe(t, t.TempDir(), freeAddr(t), env...)
	waitCaughtUp(t, again.base)
	if diff := cmp.Diff(first, reportSnapshot(t, again.base)); diff != "" {
		t.Fatalf("reports folded afresh from EventStoreDB differ (-first +again):\n%s", diff)
	}
	check("folded afresh", again.base)
	again.stop(t)
	es.Scavenge()
	scanKurrentDB(t, "after a scavenge", es)
}
