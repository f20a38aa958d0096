package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/plans"
	"github.com/meetingd/meetingd/reports"
)

// newPlanRoutes is the plan endpoints over the real plans.Service on the
// harness's in-memory log.
func newPlanRoutes(t testing.TB, store plans.Log, reg prometheus.Registerer) *api.PlanRoutes {
	t.Helper()
	svc, err := plans.New(plans.Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, store,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := api.NewPlanRoutes(svc, reg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (h *reportHarness) put(t testing.TB, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	status, _, out := h.roundTrip(t, req)
	return status, out
}

const validPlan = `{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","series_id":"maths-7b",
	"roster":[{"participant":"uid-ravi","name":"Ravi"},{"participant":"Asha"}]}`

func TestPlanPutGet(t *testing.T) {
	h := newReportHarness(t)
	status, body := h.put(t, "/v1/meetings/class-1/plan", tokenApp1, validPlan)
	if status != 200 || !strings.Contains(body, `"status":"accepted"`) {
		t.Fatalf("PUT: %d %s", status, body)
	}
	var acc struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal([]byte(body), &acc); err != nil || acc.EventID == "" {
		t.Fatalf("PUT answer %s: %v", body, err)
	}
	status, _, got := h.get(t, "/v1/meetings/class-1/plan", tokenApp1)
	if status != 200 {
		t.Fatalf("GET: %d %s", status, got)
	}
	sameJSON(t, got, `{"session_id":"class-1","event_id":"`+acc.EventID+`","revision":0,
		"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","series_id":"maths-7b",
		"roster":[{"participant":"uid-ravi","name":"Ravi"},{"participant":"Asha"}],
		"late_after_seconds":300,"early_leave_seconds":300,"min_attendance_ratio":0.75}`)

	// A later PUT replaces the whole plan: no series, no roster, its own thresholds.
	status, body = h.put(t, "/v1/meetings/class-1/plan", tokenApp1,
		`{"scheduled_start":"2026-09-01T09:30:00Z","scheduled_end":"2026-09-01T10:00:00Z","late_after_seconds":0,"min_attendance_ratio":1}`)
	if status != 200 {
		t.Fatalf("second PUT: %d %s", status, body)
	}
	_, _, got = h.get(t, "/v1/meetings/class-1/plan", tokenApp1)
	var p map[string]any
	if err := json.Unmarshal([]byte(got), &p); err != nil {
		t.Fatal(err)
	}
	if p["revision"] != float64(1) || p["series_id"] != nil || len(p["roster"].([]any)) != 0 ||
		p["late_after_seconds"] != float64(0) || p["early_leave_seconds"] != float64(300) || p["min_attendance_ratio"] != float64(1) {
		t.Fatalf("the later plan must replace the whole plan: %s", got)
	}
}

func TestPlanNotFoundAndTenancy(t *testing.T) {
	h := newReportHarness(t)
	if status, body := h.put(t, "/v1/meetings/class-1/plan", tokenApp1, validPlan); status != 200 {
		t.Fatalf("PUT: %d %s", status, body)
	}
	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"no plan", "GET", "/v1/meetings/class-2/plan", tokenApp1, 404},
		{"another app's token reads its own app", "GET", "/v1/meetings/class-1/plan", tokenApp2, 404},
		{"another app's token naming the app", "GET", "/v1/meetings/class-1/plan?app_id=app-1", tokenApp2, 403},
		{"another app's token cannot write it", "PUT", "/v1/meetings/class-1/plan?app_id=app-1", tokenApp2, 403},
		{"no token", "GET", "/v1/meetings/class-1/plan", "", 401},
		{"every-app token without app_id", "GET", "/v1/meetings/class-1/plan", tokenAdmin, 400},
		{"every-app token with app_id", "GET", "/v1/meetings/class-1/plan?app_id=app-1", tokenAdmin, 200},
		{"bad session id", "GET", "/v1/meetings/a%2Fb/plan", tokenApp1, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var body string
			if tc.method == "PUT" {
				status, body = h.put(t, tc.path, tc.token, validPlan)
			} else {
				status, _, body = h.get(t, tc.path, tc.token)
			}
			if status != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, status, body, tc.want)
			}
		})
	}
	// app-2's token wrote nothing into app-1's stream.
	if _, _, got := h.get(t, "/v1/meetings/class-1/plan", tokenApp1); !strings.Contains(got, `"revision":0`) {
		t.Fatalf("app-1's plan changed: %s", got)
	}
}

func TestPlanBadInput(t *testing.T) {
	roster := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"participant":"p%d"}`, i)
		}
		return b.String()
	}
	const times = `"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z"`
	tests := []struct {
		name, body, field string
	}{
		{"not JSON", `{"scheduled_start":`, "body"},
		{"not an object", `[1]`, "body"},
		{"typo in a threshold", `{` + times + `,"lat_after_seconds":60}`, "lat_after_seconds"},
		{"unknown roster field", `{` + times + `,"roster":[{"participant":"a","email":"a@b"}]}`, "roster[0].email"},
		{"duplicate key", `{` + times + `,"series_id":"a","series_id":"b"}`, "series_id"},
		{"no start", `{"scheduled_end":"2026-09-01T10:00:00Z"}`, "scheduled_start"},
		{"no end", `{"scheduled_start":"2026-09-01T10:00:00Z"}`, "scheduled_end"},
		{"start not RFC 3339", `{"scheduled_start":"2026-09-01 09:00","scheduled_end":"2026-09-01T10:00:00Z"}`, "scheduled_start"},
		{"fractional second", `{"scheduled_start":"2026-09-01T09:00:00.5Z","scheduled_end":"2026-09-01T10:00:00Z"}`, "scheduled_start"},
		{"end before start", `{"scheduled_start":"2026-09-01T10:00:00Z","scheduled_end":"2026-09-01T09:00:00Z"}`, "scheduled_end"},
		{"end equal to start", `{"scheduled_start":"2026-09-01T10:00:00Z","scheduled_end":"2026-09-01T10:00:00Z"}`, "scheduled_end"},
		{"over 7 days", `{"scheduled_start":"2026-09-01T10:00:00Z","scheduled_end":"2026-09-08T10:00:01Z"}`, "scheduled_end"},
		{"series with a slash", `{` + times + `,"series_id":"a/b"}`, "series_id"},
		{"series with a backslash", `{` + times + `,"series_id":"a\\b"}`, "series_id"},
		{"series not printable", `{` + times + `,"series_id":"a\u0007"}`, "series_id"},
		{"series too long", `{` + times + `,"series_id":"` + strings.Repeat("s", 257) + `"}`, "series_id"},
		{"series a number", `{` + times + `,"series_id":7}`, "series_id"},
		{"roster not an array", `{` + times + `,"roster":{}}`, "roster"},
		{"roster entry without participant", `{` + times + `,"roster":[{"name":"A"}]}`, "roster[0].participant"},
		{"duplicate identity", `{` + times + `,"roster":[{"participant":"a"},{"participant":"b"},{"participant":"a"}]}`, "roster[2].participant"},
		{"name with a control character", `{` + times + `,"roster":[{"participant":"a","name":"x\u0000"}]}`, "roster[0].name"},
		{"roster over the limit", `{` + times + `,"roster":[` + roster(domain.MaxRoster+1) + `]}`, "roster"},
		{"negative late", `{` + times + `,"late_after_seconds":-1}`, "late_after_seconds"},
		{"fractional late", `{` + times + `,"late_after_seconds":1.5}`, "late_after_seconds"},
		{"late as a string", `{` + times + `,"late_after_seconds":"60"}`, "late_after_seconds"},
		{"early over 7 days", `{` + times + `,"early_leave_seconds":604801}`, "early_leave_seconds"},
		{"ratio over 1", `{` + times + `,"min_attendance_ratio":1.5}`, "min_attendance_ratio"},
		{"ratio negative", `{` + times + `,"min_attendance_ratio":-0.1}`, "min_attendance_ratio"},
	}
	h := newReportHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.put(t, "/v1/meetings/class-1/plan", tokenApp1, tc.body)
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if status != 400 || !strings.HasPrefix(e.Error, tc.field+": ") {
				t.Fatalf("%d %s, want 400 naming %s", status, body, tc.field)
			}
		})
	}
	if status, _, _ := h.get(t, "/v1/meetings/class-1/plan", tokenApp1); status != 404 {
		t.Fatalf("a refused plan must store nothing: GET %d", status)
	}
	// The roster at the limit is accepted.
	if status, body := h.put(t, "/v1/meetings/class-1/plan", tokenApp1, `{`+times+`,"roster":[`+roster(domain.MaxRoster)+`]}`); status != 200 {
		t.Fatalf("a roster of %d: %d %s", domain.MaxRoster, status, body)
	}
	metrics := func() string { _, _, b := h.get(t, "/metrics", ""); return b }()
	if !strings.Contains(metrics, fmt.Sprintf(`meetingd_plans_total{outcome="invalid"} %d`, len(tests))) ||
		!strings.Contains(metrics, `meetingd_plans_total{outcome="accepted"} 1`) {
		t.Fatalf("bad plans are counted by outcome:\n%s", metrics)
	}
}

// plannedMeeting is a meeting of series maths-7b folded from a plan and
// webhook facts, as the stores hold it.
func plannedMeeting(session string, start int64, joins map[string][2]int64) domain.Meeting {
	evs := []domain.Event{{AppID: "app-1", SessionID: session, Payload: domain.PlanSet{
		ScheduledStart: start, ScheduledEnd: start + 3600, SeriesID: "maths-7b",
		Roster:           []domain.RosterEntry{{Participant: "uid-ravi", Name: "Ravi"}, {Participant: "Asha"}},
		LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}}}
	if len(joins) > 0 {
		evs = append(evs, domain.Event{AppID: "app-1", SessionID: session, Payload: domain.SessionStarted{CreatedAt: start}},
			domain.Event{AppID: "app-1", SessionID: session, Payload: domain.SessionEnded{DestroyedAt: start + 3600}})
	}
	for id, iv := range joins {
		evs = append(evs, domain.Event{AppID: "app-1", SessionID: session, Payload: domain.ParticipantLeft{
			Occupant: domain.Occupant{UID: id, Name: strings.TrimPrefix(id, "uid-"), JoinedAt: iv[0], LeftAt: iv[1]}}})
	}
	return domain.Fold(evs)
}

func TestSeriesEndpoint(t *testing.T) {
	h := newReportHarness(t)
	const w1, w2 = int64(1788253200), int64(1788858000) // 2026-09-01T09:00Z, a week later
	h.reports.meetings[reports.SessionKey{AppID: "app-1", SessionID: "week-1"}] = plannedMeeting("week-1", w1,
		map[string][2]int64{"uid-ravi": {w1 + 360, w1 + 3600}})
	h.reports.meetings[reports.SessionKey{AppID: "app-1", SessionID: "week-2"}] = plannedMeeting("week-2", w2, nil)

	status, ctype, body := h.get(t, "/v1/series/maths-7b/attendance", tokenApp1)
	if status != 200 || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("%d %s %s", status, ctype, body)
	}
	sameJSON(t, body, `{"series_id":"maths-7b",
		"sessions":[{"session_id":"week-0","scheduled_start":"2026-08-25T09:00:00Z","scheduled_end":"2026-08-25T10:00:00Z","status":"scheduled"},{"session_id":"week-1","scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","status":"ended"},
			{"session_id":"week-2","scheduled_start":"2026-09-08T09:00:00Z","scheduled_end":"2026-09-08T10:00:00Z","status":"scheduled"}],
		"participants":[
			{"participant":"Asha","name":"Asha","on_roster":true,"sessions_attended":0,"sessions_absent":3,"late_count":0,
			 "left_early_count":0,"partial_count":0,"attended_seconds":0,"attendance_rate":0,"verdicts":["absent","absent","absent"]},
			{"participant":"uid-ravi","name":"Ravi","on_roster":true,"sessions_attended":1,"sessions_absent":2,"late_count":1,
			 "left_early_count":0,"partial_count":0,"attended_seconds":3240,"attendance_rate":0.3333,"verdicts":["absent","late","absent"]}]}`)

	status, ctype, body = h.get(t, "/v1/series/maths-7b/attendance?format=csv", tokenApp1)
	want := "participant,name,sessions_attended,sessions_absent,late_count,left_early_count,partial_count,attended_seconds,attendance_rate,week-0,week-1,week-2\n" +
		"Asha,Asha,0,3,0,0,0,0,0,absent,absent,absent\n" +
		"uid-ravi,Ravi,1,2,1,0,0,3240,0.3333,absent,late,absent\n"
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || body != want {
		t.Fatalf("CSV: %d %s\n%q\nwant\n%q", status, ctype, body, want)
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v1/series/maths-7b/attendance", tokenApp2, 404},
		{"/v1/series/maths-7b/attendance?app_id=app-1", tokenApp2, 403},
		{"/v1/series/physics/attendance", tokenApp1, 404},
		{"/v1/series/a%5Cb/attendance", tokenApp1, 400},
		{"/v1/series/maths-7b/attendance?format=xml", tokenApp1, 400},
	} {
		if status, _, body := h.get(t, tc.path, tc.token); status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.path, status, body, tc.want)
		}
	}
}

// seedPlans gives the harness a plan for app-1's class-0 (in the log) and a
// planned meeting of series maths-7b (in the fake report store), so that
// every /v1 GET has something to answer.
func seedPlans(t testing.TB, store plans.Log, fr *fakeReports) {
	t.Helper()
	svc, err := plans.New(plans.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plans.Decode([]byte(validPlan))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Set(t.Context(), "app-1", "class-0", p); err != nil {
		t.Fatal(err)
	}
	fr.meetings[reports.SessionKey{AppID: "app-1", SessionID: "week-0"}] = plannedMeeting("week-0", 1787648400, nil)
}
