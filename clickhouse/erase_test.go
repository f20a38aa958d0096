package clickhouse_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// TestEraseLeavesNoRow: after Erase, no row of any table names the subject
// (identity or name), another app's namesake is untouched, and every
// figure of the meetings and attendance rows is unchanged.
func TestEraseLeavesNoRow(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	zelda := domain.Occupant{UID: "u-zelda-7", Name: "Zelda Quux"}
	var evs []domain.Event
	for i, app := range []string{"app", "app", "app", "other"} {
		session := "s" + string(rune('a'+i))
		t0 := testBase + int64(i)*7200
		ev := func(trig domain.Trigger, p domain.Payload) {
			evs = append(evs, domain.Event{AppID: app, SessionID: session, Kind: domain.KindMeeting, Trigger: trig, Payload: p})
		}
		ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: t0})
		for j, o := range []domain.Occupant{{UID: "u-ann", Name: "Ann"}, zelda} {
			if i == 2 && j == 1 {
				continue // a session without her
			}
			o.JoinedAt, o.LeftAt = t0+int64(10*j), t0+300+int64(j)
			ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: o})
			ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: o})
		}
		ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: t0, DestroyedAt: t0 + 600})
	}
	b := batchOf(5, evs)
	if err := sink.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	figures := func(app string) []string {
		t.Helper()
		rows, err := conn.Query(t.Context(), `SELECT concat(session_id, ':', toString(duration_seconds), ':', toString(participant_count), ':',
			toString(total_attendance_seconds)) FROM meetings_v WHERE app_id = ? ORDER BY session_id`, app)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	// A report in Kolkata registers +05:30, whose day rows then list her
	// too (zone_day_rollups): the erasure must rewrite them.
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	zoneQuery := reports.DurationQuery{AppID: "app", From: time.Unix(testBase-86400*3, 0), To: time.Unix(testBase+86400*3, 0),
		Bucket: reports.Day, Location: kolkata}
	zoneReports := clickhouse.NewReports(conn)
	defer zoneReports.Close()
	if _, err := zoneReports.Durations(t.Context(), zoneQuery); err != nil {
		t.Fatal(err)
	}
	clickhouse.WaitBackfills(zoneReports)
	zoneBefore, err := zoneReports.Durations(t.Context(), zoneQuery)
	if err != nil {
		t.Fatal(err)
	}
	before := figures("app")
	if got := clickhousetest.TablesHolding(t, conn, "zelda", "app"); !slices.Contains(got, "zone_day_rollups") {
		t.Fatalf("the scan finds her in %v before the erasure, not in zone_day_rollups: it proves nothing", got)
	}
	pseudonym := domain.Pseudonym("app", zelda.UID)
	var ups []projections.SessionUpdate
	for _, u := range b.Sessions {
		if u.Key.AppID != "app" {
			continue
		}
		st, changed := u.Facts.State().Pseudonymise(domain.PseudonymOf("app", pseudonym), pseudonym)
		if !changed {
			continue
		}
		f := domain.NewFacts(u.Key.AppID, u.Key.SessionID)
		if err := f.MergeState(st); err != nil {
			t.Fatal(err)
		}
		ups = append(ups, projections.SessionUpdate{Key: u.Key, Facts: f, Meeting: f.Meeting()})
	}
	if len(ups) != 2 {
		t.Fatalf("%d sessions name her, want 2", len(ups))
	}
	// Twice: an erasure resumed after a crash repeats it.
	for range 2 {
		if err := sink.Erase(t.Context(), "app", pseudonym, ups, 6); err != nil {
			t.Fatal(err)
		}
	}
	for _, needle := range []string{"zelda", "u-zelda-7"} {
		if got := clickhousetest.TablesHolding(t, conn, needle, "app"); len(got) > 0 {
			t.Errorf("after the erasure, rows of %v name %q", got, needle)
		}
	}
	if got := clickhousetest.TablesHolding(t, conn, "Zelda Quux", "other"); len(got) == 0 {
		t.Error("the other app's namesake is gone")
	}
	if after := figures("app"); !slices.Equal(after, before) {
		t.Errorf("figures changed:\n%v\n%v", before, after)
	}
	if zoneAfter, err := zoneReports.Durations(t.Context(), zoneQuery); err != nil || !reflect.DeepEqual(zoneAfter, zoneBefore) {
		t.Errorf("durations in Kolkata changed (%v):\n%+v\n%+v", err, zoneBefore, zoneAfter)
	}
	rep, err := clickhouse.NewReports(conn).ParticipantAttendance(t.Context(), reports.ParticipantQuery{AppID: "other", Participant: zelda.UID,
		From: time.Unix(0, 0), To: time.Unix(testBase+86400, 0)})
	if err != nil || len(rep.Meetings) != 1 {
		t.Fatalf("the other app's namesake: %+v %v", rep, err)
	}
	rep, err = clickhouse.NewReports(conn).ParticipantAttendance(t.Context(), reports.ParticipantQuery{AppID: "app", Participant: pseudonym,
		From: time.Unix(0, 0), To: time.Unix(testBase+86400, 0)})
	if err != nil || len(rep.Meetings) != 2 {
		t.Fatalf("the pseudonym's rows: %+v %v", rep, err)
	}
}
