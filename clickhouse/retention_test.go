package clickhouse_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// TestDeleteSessionsLeavesNoRow: after DeleteSessions no row of any table
// holds a deleted session (or the names only it had), and every duration
// report equals that of a database that only ever had the retained
// sessions (the oracle): roll-up buckets that lost a meeting, or all of
// them, are recomputed. Repeating the call changes nothing.
func TestDeleteSessionsLeavesNoRow(t *testing.T) {
	t.Parallel()
	type sess struct {
		id      string
		offset  int64 // from testBase
		person  string
		deleted bool
	}
	all := []sess{
		{"alone-in-its-hour", 0, "Gone-Person-A", true},
		{"shares-an-hour", 2 * 3600, "Gone-Person-B", true},
		{"kept-same-hour", 2*3600 + 60, "Kept-Person", false},
		{"alone-in-its-day", 3 * 86400, "Gone-Person-C", true},
		{"kept-other-day", 86400, "Kept-Person", false},
	}
	events := func(keep func(sess) bool) []domain.Event {
		var evs []domain.Event
		for _, s := range all {
			if !keep(s) {
				continue
			}
			t0 := testBase + s.offset
			ev := func(trig domain.Trigger, p domain.Payload) {
				evs = append(evs, domain.Event{AppID: "app", SessionID: s.id, Kind: domain.KindMeeting, Trigger: trig, Payload: p})
			}
			o := domain.Occupant{UID: s.person, Name: s.person, JoinedAt: t0 + 5, LeftAt: t0 + 500}
			ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: t0})
			ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: o})
			ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: o})
			ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: t0, DestroyedAt: t0 + 600})
		}
		return evs
	}
	open := func(keep func(sess) bool) (*clickhouse.Sink, *clickhouse.Reports, func(needle string) []string) {
		conn, _ := clickhousetest.Migrated(t)
		sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Write(t.Context(), batchOf(5, events(keep))); err != nil {
			t.Fatal(err)
		}
		return sink, clickhouse.NewReports(conn), func(n string) []string { return clickhousetest.TablesHolding(t, conn, n, "") }
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	sink, rep, holding := open(func(sess) bool { return true })
	_, oracle, _ := open(func(s sess) bool { return !s.deleted })
	var keys []reports.SessionKey
	for _, s := range all {
		if s.deleted {
			keys = append(keys, reports.SessionKey{AppID: "app", SessionID: s.id})
		}
	}
	// Register +05:30 in both databases (a first query in Kolkata) and wait
	// for its day rows, so that the deletion must also remove and recompute
	// zone_day_rollups rows.
	for _, r := range []*clickhouse.Reports{rep, oracle} {
		if _, err := r.Durations(t.Context(), reports.DurationQuery{AppID: "app", From: time.Unix(testBase-86400*7, 0),
			To: time.Unix(testBase+86400*30, 0), Bucket: reports.Day, Location: kolkata}); err != nil {
			t.Fatal(err)
		}
		clickhouse.WaitBackfills(r)
	}
	if got := holding("Gone-Person-A"); !slices.Contains(got, "zone_day_rollups") {
		t.Fatalf("the scan finds Gone-Person-A in %v before the deletion, not in zone_day_rollups: it proves nothing", got)
	}
	for round := range 2 {
		if err := sink.DeleteSessions(t.Context(), keys); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, needle := range []string{"Gone-Person", "alone-in-its", "shares-an-hour"} {
			if got := holding(needle); len(got) > 0 {
				t.Errorf("round %d: tables holding %q: %v", round, needle, got)
			}
		}
		// UTC hours, days and weeks read the hour and day rows; a zone
		// (Kolkata, +05:30) and the usage report read the quarter-hour rows.
		from, to := time.Unix(testBase-86400*7, 0), time.Unix(testBase+86400*30, 0)
		for _, tc := range []struct {
			bucket reports.Bucket
			loc    *time.Location
		}{{reports.Hour, nil}, {reports.Day, nil}, {reports.Week, nil}, {reports.Day, kolkata}, {reports.Month, kolkata}} {
			q := reports.DurationQuery{AppID: "app", From: from, To: to, Bucket: tc.bucket, Location: tc.loc}
			got, err := rep.Durations(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := oracle.Durations(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonString(got), jsonString(want); g != w {
				t.Errorf("round %d: %s durations in %v after the deletion:\n got %s\nwant %s", round, tc.bucket, tc.loc, g, w)
			}
			if tc.bucket == reports.Hour {
				continue // usage has no hourly buckets
			}
			uq := reports.UsageQuery{AppID: "app", From: from, To: to, Bucket: tc.bucket, Location: tc.loc}
			gotU, err := rep.Usage(t.Context(), uq)
			if err != nil {
				t.Fatal(err)
			}
			wantU, err := oracle.Usage(t.Context(), uq)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonString(gotU), jsonString(wantU); g != w {
				t.Errorf("round %d: %s usage in %v after the deletion:\n got %s\nwant %s", round, tc.bucket, tc.loc, g, w)
			}
		}
	}
	if got := holding("Kept-Person"); len(got) == 0 {
		t.Error("the retained sessions' rows are gone too")
	}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
