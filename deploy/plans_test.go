package deploy_test

import (
	"slices"
	"strings"
	"testing"
)

// The attendance-plan views (clickhouse migration 0005) join the view
// contract, the fixture and the expected panel rows here, apart from the
// issue-4 tables they extend.
func init() {
	contract["series_attendance_v"] = []column{
		{"app_id", "String"}, {"series_id", "String"}, {"session_id", "String"}, {"scheduled_start", "DateTime"},
		{"scheduled_end", "DateTime"}, {"status", "String"}, {"participant", "String"}, {"name", "String"},
		{"on_roster", "UInt8"}, {"verdict", "String"}, {"scheduled_attended_seconds", "UInt64"},
		{"scheduled_attendance_ratio", "Float64"}, {"late_seconds", "UInt64"}, {"left_early_seconds", "UInt64"},
	}
	contract["absences_v"] = []column{
		{"app_id", "String"}, {"series_id", "String"}, {"session_id", "String"}, {"scheduled_start", "DateTime"},
		{"scheduled_end", "DateTime"}, {"status", "String"}, {"participant", "String"}, {"name", "String"},
	}
	fixture["series_attendance_v"] = []string{
		`'app-1','maths','p1','2023-10-02 09:00:00','2023-10-02 10:00:00','ended','alice','Alice',1,'present',3600,1,0,0`,
		`'app-1','maths','p1','2023-10-02 09:00:00','2023-10-02 10:00:00','ended','bob','Bob',1,'absent',0,0,0,0`,
	}
	fixture["absences_v"] = []string{
		// app_id, series_id, session_id, scheduled_start, scheduled_end, status, participant, name
		`'app-1','maths','p1','2023-10-02 09:00:00','2023-10-02 10:00:00','ended','bob','Bob'`,
		`'app-1','maths','p2','2023-10-09 09:00:00','2023-10-09 10:00:00','ended','bob','Bob'`,
		`'app-1','maths','p2','2023-10-09 09:00:00','2023-10-09 10:00:00','ended','carol','Carol'`,
		`'app-1','art','p3','2023-10-03 14:00:00','2023-10-03 15:00:00','scheduled','dave','Dave'`,
		`'app-1','','p4','2023-10-04 14:00:00','2023-10-04 15:00:00','ended','erin','Erin'`,    // no series
		`'app-1','maths','p0','2023-09-25 09:00:00','2023-09-25 10:00:00','ended','bob','Bob'`, // before the range
		`'app-2','maths','q1','2023-10-02 09:00:00','2023-10-02 10:00:00','ended','zed','Zed'`, // another app
	}
	expected["Absences per series/A"] = []string{"maths\t3", "art\t1"}
}

// TestDashboardShowsAbsencesPerSeries: the attendance plans' panel reads
// absences_v and counts per series.
func TestDashboardShowsAbsencesPerSeries(t *testing.T) {
	for _, q := range dashboardQueries(t) {
		if q.panel.Title != "Absences per series" {
			continue
		}
		r := lintSQL(q.target.RawSQL, lintOptions{timeFilter: true, appFilter: true})
		if len(r.problems) > 0 || !slices.Contains(r.views, "absences_v") || !strings.Contains(q.target.RawSQL, "series_id") ||
			q.panel.Type != "barchart" {
			t.Fatalf("panel %s over %v (%v): want a barchart of absences_v by series_id", q.panel.Type, r.views, r.problems)
		}
		return
	}
	t.Fatal("no panel \"Absences per series\"")
}
