package api_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("answer\n%s\nwant\n%s", got, want)
	}
}

const (
	andrewJSON = `{"participant":"uid-1","name":"Andrew Joseph","first_joined_at":"2023-10-10T10:00:00Z",
		"last_left_at":"2023-10-10T10:50:00Z","attended_seconds":2700,"attendance_ratio":0.75,"join_count":2,
		"intervals":[{"joined_at":"2023-10-10T10:00:00Z","left_at":"2023-10-10T10:30:00Z"},
			{"joined_at":"2023-10-10T10:35:00Z","left_at":"2023-10-10T10:50:00Z"}],
		"audio_seconds":700,"video_seconds":2000,"audio_only":false,"platform":"web","sdk":"javascript","on_roster":false}`
	malloryJSON = `{"participant":"=cmd|' /C calc'!A0","name":"Mallory, \"the\" tester",
		"first_joined_at":"2023-10-10T10:10:00Z","last_left_at":null,"attended_seconds":1800,"attendance_ratio":0.5,
		"join_count":1,"intervals":[{"joined_at":"2023-10-10T10:10:00Z","left_at":null}],"audio_seconds":0,"video_seconds":1800,"on_roster":false}`
	meetingHead = `"app_id":"app-1","session_id":"s-1","kind":"meeting","status":"ended",
		"started_at":"2023-10-10T10:00:00Z","ended_at":"2023-10-10T11:00:00Z","duration_seconds":3600,
		"participant_count":2,"peak_concurrent":2,"total_attendance_seconds":4500,"audio_seconds":700,"video_seconds":3800,
		"provider_usage":{"participants":1,"audio_seconds":690,"video_seconds":2010,"audio_difference_seconds":10,"video_difference_seconds":-10},
		"recordings":[{"recording_url":"https://rec.example/1.mp4","started_at":"2023-10-10T10:05:00Z",
			"duration_seconds":120.5,"recording_date":"2023-10-10"}],
		"transcriptions":[],"last_event_at":"2023-10-10T11:00:00Z"` + noPlan
	callHead = `"app_id":"app-1","session_id":"call-1","kind":"call","status":"live",
		"started_at":"2023-10-11T09:00:00Z","ended_at":null,"duration_seconds":600,"participant_count":0,
		"peak_concurrent":0,"total_attendance_seconds":0,"audio_seconds":0,"video_seconds":0,"outcome":"answered","initiator":"uid-1",
		"initiator_name":"Andrew","receiver":"uid-2","receiver_type":"user","media":"video",
		"initiated_at":"2023-10-11T08:59:50Z","recordings":[],
		"transcriptions":[{"transcript_url":"https://t.example/1.txt","started_at":"2023-10-11T09:00:00Z","ended_at":null}],
		"last_event_at":"2023-10-11T09:10:00Z"` + noPlan
	// noPlan is the plan fields of a meeting without a plan.
	noPlan = `,"scheduled_start":null,"scheduled_end":null,"series_id":null,"roster_count":0,"absent_count":0`
)

// attendanceCSV is the golden CSV of s-1: rows sorted by first_joined_at, an
// open interval ending in "/", a formula-like text defused with ', and
// RFC 4180 quoting.
const attendanceCSV = "participant,name,first_joined_at,last_left_at,attended_seconds,attendance_ratio,join_count,intervals,audio_only,platform,sdk,audio_seconds,video_seconds\n" +
	"uid-1,Andrew Joseph,2023-10-10T10:00:00Z,2023-10-10T10:50:00Z,2700,0.75,2,2023-10-10T10:00:00Z/2023-10-10T10:30:00Z;2023-10-10T10:35:00Z/2023-10-10T10:50:00Z,false,web,javascript,700,2000\n" +
	`'=cmd|' /C calc'!A0,"Mallory, ""the"" tester",2023-10-10T10:10:00Z,,1800,0.5,1,2023-10-10T10:10:00Z/,,,,0,1800` + "\n"

// usageJSON is the usage answer of the fake's buckets in Asia/Kolkata with
// the default prices: 21 × 0.001 + 64 × 0.003 = 0.213.
const usageJSON = `{"tz":"Asia/Kolkata","currency":"USD","buckets":[
	{"start":"2023-10-10T00:00:00+05:30","meetings":2,"participants":3,"attendance_seconds":5000,"audio_seconds":1200,
		"video_seconds":3800,"billable_audio_minutes":21,"billable_video_minutes":64,"estimated_cost":0.213},
	{"start":"2023-10-11T00:00:00+05:30","meetings":1,"participants":1,"attendance_seconds":60,"audio_seconds":60,
		"video_seconds":0,"billable_audio_minutes":1,"billable_video_minutes":0,"estimated_cost":0.001}]}`

const usageCSV = "start,meetings,participants,attendance_seconds,audio_seconds,video_seconds,billable_audio_minutes,billable_video_minutes,estimated_cost,currency,tz\n" +
	"2023-10-10T00:00:00+05:30,2,3,5000,1200,3800,21,64,0.213,USD,Asia/Kolkata\n" +
	"2023-10-11T00:00:00+05:30,1,1,60,60,0,1,0,0.001,USD,Asia/Kolkata\n"

func TestReportEndpointsHappyPath(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		token  string
		header []string
		ctype  string // Content-Type prefix
		want   string // JSON (compared as values) or, for CSV, the exact body
	}{
		{name: "meeting", path: "/v1/meetings/s-1", token: tokenApp1,
			want: `{` + meetingHead + `,"participants":[` + andrewJSON + `,` + malloryJSON + `]}`},
		{name: "call", path: "/v1/meetings/call-1", token: tokenApp1, want: `{` + callHead + `,"participants":[]}`},
		{name: "meeting, escaped id, every-app token", path: "/v1/meetings/s%2D1?app_id=app-1", token: tokenAdmin,
			want: `{` + meetingHead + `,"participants":[` + andrewJSON + `,` + malloryJSON + `]}`},
		{name: "attendance", path: "/v1/meetings/s-1/attendance", token: tokenApp1,
			want: `{"session_id":"s-1","participants":[` + andrewJSON + `,` + malloryJSON + `]}`},
		{name: "attendance format=json beats Accept", path: "/v1/meetings/s-1/attendance?format=json", token: tokenApp1,
			header: []string{"Accept", "text/csv"}, want: `{"session_id":"s-1","participants":[` + andrewJSON + `,` + malloryJSON + `]}`},
		{name: "attendance Accept: text/html gets JSON", path: "/v1/meetings/s-1/attendance", token: tokenApp1,
			header: []string{"Accept", "text/html"}, want: `{"session_id":"s-1","participants":[` + andrewJSON + `,` + malloryJSON + `]}`},
		{name: "attendance csv", path: "/v1/meetings/s-1/attendance?format=csv", token: tokenApp1, ctype: "text/csv; charset=utf-8", want: attendanceCSV},
		{name: "attendance Accept csv", path: "/v1/meetings/s-1/attendance", token: tokenApp1,
			header: []string{"Accept", "application/json;q=0.5, text/csv"}, ctype: "text/csv", want: attendanceCSV},
		{name: "attendance, no participants", path: "/v1/meetings/call-1/attendance", token: tokenApp1, want: `{"session_id":"call-1","participants":[]}`},
		{name: "attendance csv, no participants", path: "/v1/meetings/call-1/attendance?format=csv", token: tokenApp1, ctype: "text/csv",
			want: "participant,name,first_joined_at,last_left_at,attended_seconds,attendance_ratio,join_count,intervals,audio_only,platform,sdk,audio_seconds,video_seconds\n"},
		{name: "meetings", path: "/v1/meetings", token: tokenApp1,
			want: `{"meetings":[{` + callHead + `},{` + meetingHead + `}],"next_cursor":"opaque-next"}`},
		{name: "participant", path: "/v1/participants/uid-1/attendance", token: tokenApp1,
			want: `{"participant":"uid-1","meetings":[{"session_id":"s-1","started_at":"2023-10-10T10:00:00Z",
				"attended_seconds":2700,"attendance_ratio":0.75,"join_count":2}],"total_attended_seconds":2700,"meetings_attended":1,"next_cursor":"opaque-participant"}`},
		{name: "durations", path: "/v1/reports/durations?from=2023-10-01&to=2023-11-01", token: tokenApp1,
			want: `{"buckets":[{"start":"2023-10-10T00:00:00Z","meetings":2,"total_duration_seconds":4200,"avg_duration_seconds":2100,
				"max_duration_seconds":3600,"unique_participants":3,"attendance_seconds":5000}]}`},
		{name: "durations in a zone", path: "/v1/reports/durations?from=2023-10-01&to=2023-11-01&tz=America/New_York&bucket=month", token: tokenApp1,
			want: `{"buckets":[{"start":"2023-10-09T20:00:00-04:00","meetings":2,"total_duration_seconds":4200,"avg_duration_seconds":2100,
				"max_duration_seconds":3600,"unique_participants":3,"attendance_seconds":5000}]}`},
		{name: "usage", path: "/v1/reports/usage?from=2023-10-01T00:00:00%2B05:30&to=2023-11-01T00:00:00%2B05:30&tz=Asia/Kolkata", token: tokenApp1, want: usageJSON},
		{name: "usage csv", path: "/v1/reports/usage?from=2023-10-01&to=2023-11-01&tz=Asia/Kolkata&format=csv", token: tokenApp1,
			ctype: "text/csv; charset=utf-8", want: usageCSV},
		{name: "status", path: "/v1/status", token: tokenApp1,
			want: `{"events":12,"projected_position":{"commit":10,"prepare":10},"projected_events":10,"lag_events":2}`},
		{name: "status, every-app token", path: "/v1/status", token: tokenAdmin,
			want: `{"events":12,"projected_position":{"commit":10,"prepare":10},"projected_events":10,"lag_events":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReportHarness(t)
			status, ctype, body := h.get(t, tc.path, tc.token, tc.header...)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			if tc.ctype == "" {
				if !strings.HasPrefix(ctype, "application/json") {
					t.Fatalf("Content-Type %q, want JSON", ctype)
				}
				sameJSON(t, body, tc.want)
				return
			}
			if !strings.HasPrefix(ctype, tc.ctype) {
				t.Fatalf("Content-Type %q, want %q", ctype, tc.ctype)
			}
			if body != tc.want {
				t.Fatalf("body\n%q\nwant\n%q", body, tc.want)
			}
		})
	}
}

// v1Paths has one request for every /v1 route; TestV1PathsCoverRoutes keeps
// it complete. needsApp: a * token must name ?app_id=.
var v1Paths = []struct {
	route    string // fiber's route path
	path     string
	needsApp bool
}{
	{"/v1/meetings", "/v1/meetings", true},
	{"/v1/meetings/:sessionId", "/v1/meetings/s-1", true},
	{"/v1/meetings/:sessionId/attendance", "/v1/meetings/s-1/attendance", true},
	{"/v1/meetings/:sessionId/events", "/v1/meetings/s-1/events", true},
	{"/v1/participants/:participant/attendance", "/v1/participants/uid-1/attendance", true},
	{"/v1/reports/durations", "/v1/reports/durations?from=2023-10-01&to=2023-10-31", true},
	{"/v1/reports/usage", "/v1/reports/usage?from=2023-10-01&to=2023-10-31", true},
	{"/v1/series/:seriesId/attendance", "/v1/series/maths-7b/attendance", true},
	{"/v1/meetings/:sessionId/plan", "/v1/meetings/class-0/plan", true},
	{"/v1/subscriptions", "/v1/subscriptions", true},
	{"/v1/subscriptions/:id/deliveries", "/v1/subscriptions/sub_none/deliveries", true},
	{"/v1/erasures/:id", "/v1/erasures/none", true},
	{"/v1/status", "/v1/status", false},
	{"/v1/quarantine", "/v1/quarantine", false},
}

func TestV1PathsCoverRoutes(t *testing.T) {
	h := newReportHarness(t)
	var routes, table []string
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/") {
			routes = append(routes, r.Path)
		} else if strings.HasPrefix(r.Path, "/v1") && r.Method != "HEAD" && !v1Writes[r.Method+" "+r.Path] {
			t.Errorf("%s %s: a /v1 route the auth table does not cover", r.Method, r.Path)
		}
	}
	for _, p := range v1Paths {
		table = append(table, p.route)
	}
	slices.Sort(routes)
	slices.Sort(table)
	if !slices.Equal(routes, slices.Compact(table)) {
		t.Fatalf("/v1 routes %v, auth table %v", routes, table)
	}
}

func TestV1AuthEveryEndpoint(t *testing.T) {
	h := newReportHarness(t)
	withQuery := func(path, q string) string {
		if strings.Contains(path, "?") {
			return path + "&" + q
		}
		return path + "?" + q
	}
	type authCase struct {
		name   string
		path   string
		token  string
		status int    // 0: success
		errHas string // substring of the error
	}
	for _, p := range v1Paths {
		ok := 200
		switch p.route {
		case "/v1/meetings/:sessionId/events":
			ok = 404 // past auth, it reads the harness's empty event log
		case "/v1/subscriptions/:id/deliveries":
			ok = 404 // past auth: the app has no such subscription
		case "/v1/erasures/:id":
			ok = 404 // past auth: the app has no such erasure
		}
		cases := []authCase{
			{name: "no token", path: p.path, status: 401, errHas: "bearer"},
			{name: "unknown token", path: p.path, token: "not-a-real-token-xxxxxxxx", status: 401, errHas: "bearer"},
			{name: "basic credentials", path: p.path, token: "", status: 401, errHas: "bearer"},
			{name: "other app named", path: withQuery(p.path, "app_id=app-2"), token: tokenApp1, status: 403, errHas: "app-2"},
			{name: "own app", path: p.path, token: tokenApp1, status: ok},
			{name: "own app named", path: withQuery(p.path, "app_id=app-1"), token: tokenApp1, status: ok},
			{name: "every-app token naming an app", path: withQuery(p.path, "app_id=app-1"), token: tokenAdmin, status: ok},
		}
		if p.needsApp {
			cases = append(cases, authCase{name: "every-app token without app_id", path: p.path, token: tokenAdmin, status: 400, errHas: "app_id: "})
		}
		for _, tc := range cases {
			t.Run(p.route+"/"+tc.name, func(t *testing.T) {
				req := getReq(tc.path, tc.token)
				if tc.name == "basic credentials" {
					req.SetBasicAuth(hookUser, hookPass)
				}
				status, ctype, body := h.roundTrip(t, req)
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, body)
				}
				if status == 200 {
					return
				}
				if !strings.HasPrefix(ctype, "application/json") {
					t.Fatalf("error Content-Type %q", ctype)
				}
				var ans struct{ Error string }
				if err := json.Unmarshal([]byte(body), &ans); err != nil || !strings.Contains(ans.Error, tc.errHas) {
					t.Fatalf("error %q, want it to contain %q (%s)", ans.Error, tc.errHas, body)
				}
			})
		}
	}
}

func TestReportBadParameters(t *testing.T) {
	long := strings.Repeat("x", domain.MaxIDLength+1)
	tests := []struct {
		path  string
		param string // the error must start with "param: "
	}{
		{"/v1/meetings?from=yesterday", "from"},
		{"/v1/meetings?from=2023-13-01", "from"},
		{"/v1/meetings?from=2023-10-10T25:00:00Z", "from"},
		{"/v1/meetings?from=1696937627", "from"},
		{"/v1/meetings?to=2023-10-10T10:00:00", "to"},
		{"/v1/meetings?from=2023-10-11&to=2023-10-10", "to"},
		{"/v1/meetings?from=2023-10-10&to=2023-10-10T00:00:00Z", "to"},
		{"/v1/meetings?from=1969-12-31", "from"},
		{"/v1/meetings?to=2100-01-02", "to"},
		{"/v1/meetings?status=done", "status"},
		{"/v1/meetings?status=LIVE", "status"},
		{"/v1/meetings?limit=0", "limit"},
		{"/v1/meetings?limit=1001", "limit"},
		{"/v1/meetings?limit=ten", "limit"},
		{"/v1/meetings?limit=-1", "limit"},
		{"/v1/meetings?limit=1e2", "limit"},
		{"/v1/meetings?cursor=%00", "cursor"},
		{"/v1/meetings?cursor=" + strings.Repeat("c", 1025), "cursor"},
		{"/v1/meetings?cursor=forged", "cursor"}, // the store answers ErrBadCursor
		{"/v1/meetings?participant=%01", "participant"},
		{"/v1/meetings?participant=" + long, "participant"},
		{"/v1/meetings/s%2F1", "sessionId"},
		{"/v1/meetings/..", "sessionId"},
		{"/v1/meetings/%2E%2E", "sessionId"},
		{"/v1/meetings/s%5C1", "sessionId"},
		{"/v1/meetings/s%0A1", "sessionId"},
		{"/v1/meetings/s%E2%80%AE1", "sessionId"},            // U+202E RIGHT-TO-LEFT OVERRIDE
		{"/v1/meetings/s%E2%80%8B1/attendance", "sessionId"}, // U+200B ZERO WIDTH SPACE
		{"/v1/meetings/%FF", "sessionId"},
		{"/v1/meetings/" + long, "sessionId"},
		{"/v1/meetings/%2F/attendance", "sessionId"},
		{"/v1/meetings/s-1/attendance?format=xml", "format"},
		{"/v1/participants/%01/attendance", "participant"},
		{"/v1/participants/" + long + "/attendance", "participant"},
		{"/v1/participants/uid-1/attendance?from=x", "from"},
		{"/v1/participants/uid-1/attendance?from=2023-10-10&to=2023-10-09", "to"},
		{"/v1/participants/uid-1/attendance?limit=0", "limit"},
		{"/v1/participants/uid-1/attendance?limit=1001", "limit"},
		{"/v1/participants/uid-1/attendance?limit=ten", "limit"},
		{"/v1/participants/uid-1/attendance?cursor=%00", "cursor"},
		{"/v1/participants/uid-1/attendance?cursor=forged", "cursor"}, // the store answers ErrBadCursor
		{"/v1/reports/durations", "from"},
		{"/v1/reports/durations?from=2023-10-01", "to"},
		{"/v1/reports/durations?to=2023-10-01", "from"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&bucket=minute", "bucket"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&bucket=Day", "bucket"},
		{"/v1/reports/durations?from=2023-01-01&to=2023-03-01&bucket=hour", "to"},
		{"/v1/reports/durations?from=2020-01-01&to=2023-01-01&bucket=day", "to"},
		{"/v1/reports/durations?from=2000-01-01&to=2023-01-01&bucket=week", "to"},
		{"/v1/reports/durations?from=2023-11-01&to=2023-10-01", "to"},
		{"/v1/reports/durations?from=2023-10-01&to=2024-11-05&bucket=day", "to"}, // 401 days
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01T00:00:01Z&bucket=hour", "to"},
		{"/v1/reports/durations?from=2000-01-01&to=2023-01-01&bucket=month", "to"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&tz=Mars/Olympus", "tz"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&tz=Local", "tz"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&tz=../../etc/passwd", "tz"},
		{"/v1/reports/durations?from=2023-10-01&to=2023-11-01&tz=%00", "tz"},
		{"/v1/reports/usage", "from"},
		{"/v1/reports/usage?from=2023-10-01", "to"},
		{"/v1/reports/usage?from=nope&to=2023-10-02", "from"},
		{"/v1/reports/usage?from=2023-10-01&to=2023-11-01&bucket=hour", "bucket"},
		{"/v1/reports/usage?from=2023-10-01&to=2023-11-01&bucket=year", "bucket"},
		{"/v1/reports/usage?from=2023-10-01&to=2024-11-05", "to"}, // 401 days by day
		{"/v1/reports/usage?from=2023-10-01&to=2023-11-01&tz=asia/kolkata", "tz"},
		{"/v1/reports/usage?from=2023-10-01&to=2023-11-01&format=xml", "format"},
	}
	h := newReportHarness(t)
	h.reports.badCursor = "forged"
	for _, tc := range tests {
		name := tc.path
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			status, _, body := h.get(t, tc.path, tokenApp1)
			if status != 400 {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			var ans struct{ Error string }
			if err := json.Unmarshal([]byte(body), &ans); err != nil || !strings.HasPrefix(ans.Error, tc.param+": ") {
				t.Fatalf("error %q does not start with %q", ans.Error, tc.param+": ")
			}
		})
	}
}

// seenQueries is what the fake querier received.
type seenQueries struct {
	key      reports.SessionKey
	meetings reports.MeetingQuery
	part     reports.ParticipantQuery
	dur      reports.DurationQuery
	usage    reports.UsageQuery
}

// TestReportAcceptedParameters checks what the handlers pass to the querier.
func TestReportAcceptedParameters(t *testing.T) {
	h := newReportHarness(t)
	tests := []struct {
		name  string
		path  string
		token string
		check func(t *testing.T, f seenQueries)
	}{
		{"meetings defaults", "/v1/meetings", tokenApp1, func(t *testing.T, f seenQueries) {
			want := reports.MeetingQuery{AppID: "app-1", Limit: 100}
			if !reflect.DeepEqual(f.meetings, want) {
				t.Fatalf("query %+v, want %+v", f.meetings, want)
			}
		}},
		{"meetings every parameter", "/v1/meetings?from=2023-10-10&to=2023-10-11T12:00:00%2B02:00&status=live&participant=uid%201&limit=2&cursor=abc%3D%3D", tokenApp1,
			func(t *testing.T, f seenQueries) {
				want := reports.MeetingQuery{AppID: "app-1", From: at("2023-10-10T00:00:00Z"), To: at("2023-10-11T10:00:00Z"),
					Status: domain.StatusLive, Participant: "uid 1", Limit: 2, Cursor: "abc=="}
				if !reflect.DeepEqual(f.meetings, want) {
					t.Fatalf("query %+v, want %+v", f.meetings, want)
				}
			}},
		{"unescaped + of an offset, fractional seconds", "/v1/meetings?from=2023-10-10T08:00:00.5+02:00&limit=1000", tokenApp1, func(t *testing.T, f seenQueries) {
			if want := at("2023-10-10T06:00:00.5Z"); !f.meetings.From.Equal(want) || f.meetings.From.Location() != time.UTC {
				t.Fatalf("from %v, want %v in UTC", f.meetings.From, want)
			}
			if f.meetings.Limit != 1000 {
				t.Fatalf("limit %d", f.meetings.Limit)
			}
		}},
		{"every-app token names the app", "/v1/meetings?app_id=app-2&status=abandoned", tokenAdmin, func(t *testing.T, f seenQueries) {
			if f.meetings.AppID != "app-2" || f.meetings.Status != domain.StatusAbandoned {
				t.Fatalf("query %+v", f.meetings)
			}
		}},
		{"participant path unescaped", "/v1/participants/a%2Fb%20c/attendance?to=2023-10-10", tokenApp1, func(t *testing.T, f seenQueries) {
			want := reports.ParticipantQuery{AppID: "app-1", Participant: "a/b c", To: at("2023-10-10T00:00:00Z"), Limit: 100}
			if !reflect.DeepEqual(f.part, want) {
				t.Fatalf("query %+v, want %+v", f.part, want)
			}
		}},
		{"participant page", "/v1/participants/uid-1/attendance?limit=1000&cursor=opaque-next", tokenApp1, func(t *testing.T, f seenQueries) {
			want := reports.ParticipantQuery{AppID: "app-1", Participant: "uid-1", Limit: 1000, Cursor: "opaque-next"}
			if !reflect.DeepEqual(f.part, want) {
				t.Fatalf("query %+v, want %+v", f.part, want)
			}
		}},
		{"durations default bucket, 400 days", "/v1/reports/durations?from=2023-01-01&to=2024-02-05", tokenApp1, func(t *testing.T, f seenQueries) {
			want := reports.DurationQuery{AppID: "app-1", From: at("2023-01-01T00:00:00Z"), To: at("2024-02-05T00:00:00Z"), Bucket: reports.Day, Location: time.UTC}
			if !reflect.DeepEqual(f.dur, want) {
				t.Fatalf("query %+v, want %+v", f.dur, want)
			}
		}},
		{"durations by hour, 31 days", "/v1/reports/durations?from=2023-10-01&to=2023-11-01&bucket=hour", tokenApp1, func(t *testing.T, f seenQueries) {
			if f.dur.Bucket != reports.Hour {
				t.Fatalf("query %+v", f.dur)
			}
		}},
		{"durations by week, 520 weeks", "/v1/reports/durations?from=2014-01-13&to=2024-01-01&bucket=week&app_id=app-1", tokenAdmin, func(t *testing.T, f seenQueries) {
			if f.dur.Bucket != reports.Week || f.dur.AppID != "app-1" {
				t.Fatalf("query %+v", f.dur)
			}
		}},
		{"durations by month in a zone", "/v1/reports/durations?from=2014-01-13&to=2024-01-01&bucket=month&tz=Asia/Kathmandu", tokenApp1, func(t *testing.T, f seenQueries) {
			if f.dur.Bucket != reports.Month || f.dur.Location.String() != "Asia/Kathmandu" {
				t.Fatalf("query %+v", f.dur)
			}
		}},
		{"usage default bucket and zone", "/v1/reports/usage?from=2023-01-01&to=2024-02-05", tokenApp1, func(t *testing.T, f seenQueries) {
			want := reports.UsageQuery{AppID: "app-1", From: at("2023-01-01T00:00:00Z"), To: at("2024-02-05T00:00:00Z"), Bucket: reports.Day, Location: time.UTC}
			if !reflect.DeepEqual(f.usage, want) {
				t.Fatalf("query %+v, want %+v", f.usage, want)
			}
		}},
		{"usage by week in a zone, from with an offset", "/v1/reports/usage?from=2023-10-02T00:00:00%2B05:30&to=2023-12-01&bucket=week&tz=Asia/Kolkata", tokenApp1, func(t *testing.T, f seenQueries) {
			if f.usage.Bucket != reports.Week || f.usage.Location.String() != "Asia/Kolkata" || !f.usage.From.Equal(at("2023-10-01T18:30:00Z")) {
				t.Fatalf("query %+v", f.usage)
			}
		}},
		{"session key", "/v1/meetings/s-1/attendance", tokenApp1, func(t *testing.T, f seenQueries) {
			if want := (reports.SessionKey{AppID: "app-1", SessionID: "s-1"}); f.key != want {
				t.Fatalf("key %+v", f.key)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, _, body := h.get(t, tc.path, tc.token); status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			h.reports.mu.Lock()
			got := seenQueries{key: h.reports.lastKey, meetings: h.reports.lastMeetings, part: h.reports.lastPart, dur: h.reports.lastDur, usage: h.reports.lastUsage}
			h.reports.mu.Unlock()
			// Later requests reuse fiber's buffers: what the querier received
			// must not change under it.
			h.get(t, "/v1/meetings?cursor=zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz&participant=yyyyyyyyyyyyyyyyyyyyyyyyyyyy&from=2001-01-01&app_id=app-3", tokenAdmin)
			h.get(t, "/v1/participants/qqqqqqqqqqqqqqqqqqqqqqqqq/attendance?app_id=app-3", tokenAdmin)
			h.get(t, "/v1/meetings/rrrrrrrrrrrrrrrrrrrr?app_id=app-3", tokenAdmin)
			tc.check(t, got)
		})
	}
}

func TestMeetingsPagination(t *testing.T) {
	h := newReportHarness(t)
	type page struct {
		Meetings   []map[string]any `json:"meetings"`
		NextCursor *string          `json:"next_cursor"`
	}
	get := func(path string) page {
		t.Helper()
		status, _, body := h.get(t, path, tokenApp1)
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var p page
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := get("/v1/meetings?limit=2")
	if p.NextCursor == nil || *p.NextCursor != "opaque-next" || len(p.Meetings) != 2 {
		t.Fatalf("first page: %+v", p)
	}
	for _, m := range p.Meetings {
		if _, ok := m["participants"]; ok {
			t.Fatalf("a listed meeting carries participants: %v", m)
		}
		if _, ok := m["unmatched_participants"]; ok {
			t.Fatalf("a listed meeting carries unmatched participants: %v", m)
		}
	}
	h.reports.mu.Lock()
	h.reports.page = reports.MeetingPage{Meetings: nil}
	h.reports.mu.Unlock()
	p = get("/v1/meetings?limit=2&cursor=" + *p.NextCursor)
	if p.NextCursor != nil || p.Meetings == nil || len(p.Meetings) != 0 {
		t.Fatalf("last page: %+v", p)
	}
	h.reports.mu.Lock()
	q := h.reports.lastMeetings
	h.reports.mu.Unlock()
	if q.Cursor != "opaque-next" || q.Limit != 2 {
		t.Fatalf("the cursor was not passed through: %+v", q)
	}
	// The raw answer says null, not "".
	_, _, body := h.get(t, "/v1/meetings", tokenApp1)
	if !strings.Contains(body, `"next_cursor":null`) || !strings.Contains(body, `"meetings":[]`) {
		t.Fatalf("last page: %s", body)
	}
}

func TestReportNotFound(t *testing.T) {
	h := newReportHarness(t)
	for _, tc := range []struct{ path, token string }{
		{"/v1/meetings/nope", tokenApp1},
		{"/v1/meetings/nope/attendance", tokenApp1},
		{"/v1/meetings/nope/attendance?format=csv", tokenApp1},
		{"/v1/meetings/s-1", tokenApp2},
		{"/v1/meetings/s-1/attendance", tokenApp2},
		{"/v1/meetings/s-1?app_id=app-2", tokenAdmin},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, ctype, body := h.get(t, tc.path, tc.token)
			if status != 404 || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(body, `"error"`) {
				t.Fatalf("got %d %q %s, want a JSON 404", status, ctype, body)
			}
		})
	}
}

func TestReportStoreErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"unavailable", fmt.Errorf("query: %w: connection refused to 10.0.0.7", eventstore.ErrUnavailable), 503},
		{"internal", errors.New("clickhouse: code 60, table meetings at 10.0.0.7 missing"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newReportHarness(t)
			h.reports.failWith = tc.err
			h.status.failWith = tc.err
			for _, p := range v1Paths {
				switch p.route {
				case "/v1/quarantine", "/v1/meetings/:sessionId/events", "/v1/meetings/:sessionId/plan",
					"/v1/subscriptions", "/v1/subscriptions/:id/deliveries", "/v1/erasures/:id":
					continue // served from the event log or the notifier, not the report store
				}
				status, _, body := h.get(t, p.path, tokenApp1)
				if status != tc.status || !strings.Contains(body, `"error"`) {
					t.Fatalf("%s: %d %s, want %d", p.path, status, body, tc.status)
				}
				if strings.Contains(body, "10.0.0.7") {
					t.Fatalf("%s: internal detail leaked: %s", p.path, body)
				}
			}
		})
	}
}
