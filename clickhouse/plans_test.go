package clickhouse_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// TestPlanViews: the BI views of migration 0005 have the documented
// columns, and show the gradebook cells and the absences of the current
// plan only (a replaced plan's series and roster are gone).
func TestPlanViews(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	dt := "DateTime('UTC')"
	want := map[string][]string{
		"series_attendance_v": {"app_id String", "series_id String", "session_id String", "scheduled_start " + dt,
			"scheduled_end " + dt, "status String", "participant String", "name String", "on_roster UInt8",
			"verdict String", "scheduled_attended_seconds UInt64", "scheduled_attendance_ratio Float64",
			"late_seconds UInt64", "left_early_seconds UInt64"},
		"absences_v": {"app_id String", "series_id String", "session_id String", "scheduled_start " + dt,
			"scheduled_end " + dt, "status String", "participant String", "name String"},
	}
	for view, cols := range want {
		rows, err := conn.Query(t.Context(), `SELECT name, type FROM system.columns
			WHERE database = currentDatabase() AND table = ?`, view)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var n, ty string
			if err := rows.Scan(&n, &ty); err != nil {
				t.Fatal(err)
			}
			got = append(got, n+" "+strings.ReplaceAll(ty, `\'`, "'"))
		}
		rows.Close()
		slices.Sort(got)
		if cols = slices.Sorted(slices.Values(cols)); !slices.Equal(got, cols) {
			t.Errorf("%s:\n got %v\nwant %v", view, got, cols)
		}
	}

	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := testBase
	ev := func(session string, p domain.Payload) domain.Event {
		return domain.Event{AppID: "app", SessionID: session, Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantLeft, Payload: p}
	}
	plan := func(rev uint64, series string, roster ...string) domain.PlanSet {
		p := domain.PlanSet{Revision: rev, ScheduledStart: s, ScheduledEnd: s + 3600, SeriesID: series,
			LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}
		for _, r := range roster {
			p.Roster = append(p.Roster, domain.RosterEntry{Participant: r})
		}
		return p
	}
	v1 := []domain.Event{
		ev("c1", plan(0, "maths", "ann", "bob", "cy")),
		ev("c1", domain.ParticipantLeft{Occupant: domain.Occupant{Name: "ann", JoinedAt: s, LeftAt: s + 3600}}),
		ev("c2", plan(0, "", "dee")), // no series: in absences_v only
	}
	if err := sink.Write(t.Context(), batchOf(1, v1)); err != nil {
		t.Fatal(err)
	}
	query := func(sql string) []string {
		t.Helper()
		rows, err := conn.Query(t.Context(), sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b, c string
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, a+"/"+b+"/"+c)
		}
		return out
	}
	cells := `SELECT series_id, session_id, participant || ':' || verdict FROM series_attendance_v ORDER BY session_id, participant`
	absences := `SELECT series_id, session_id, participant FROM absences_v ORDER BY session_id, participant`
	if got, want := query(cells), []string{"maths/c1/ann:present", "maths/c1/bob:absent", "maths/c1/cy:absent"}; !slices.Equal(got, want) {
		t.Errorf("series_attendance_v %v, want %v", got, want)
	}
	if got, want := query(absences), []string{"maths/c1/bob", "maths/c1/cy", "/c2/dee"}; !slices.Equal(got, want) {
		t.Errorf("absences_v %v, want %v", got, want)
	}
	// A later plan moves c1 to physics with Bob alone on the roster.
	if err := sink.Write(t.Context(), batchOf(2, append(v1, ev("c1", plan(5, "physics", "bob"))))); err != nil {
		t.Fatal(err)
	}
	if got, want := query(cells), []string{"physics/c1/ann:present", "physics/c1/bob:absent"}; !slices.Equal(got, want) {
		t.Errorf("after the plan was replaced, series_attendance_v %v, want %v", got, want)
	}
	if got, want := query(absences), []string{"physics/c1/bob", "/c2/dee"}; !slices.Equal(got, want) {
		t.Errorf("after the plan was replaced, absences_v %v, want %v", got, want)
	}
}
