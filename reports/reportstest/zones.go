package reportstest

import (
	"fmt"
	"testing"
	"time"

	"github.com/meetingd/meetingd/reports"
)

// at parses one of the suite's RFC 3339 constants.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("the suite's instant %q: %v", s, err)
	}
	return v
}

// zoneMeetings are the instants of testTimeZones, each a meeting's
// started_at, named for the checks below.
var zoneMeetings = []struct{ id, start string }{
	// America/New_York springs forward on 2026-03-08 (a 23-hour day).
	{"ny-a0", "2026-03-08T04:59:59Z"}, // 03-07 23:59:59 -05:00
	{"ny-a1", "2026-03-08T05:00:00Z"}, // 03-08 00:00 -05:00: local midnight
	{"ny-a2", "2026-03-08T06:59:59Z"}, // 01:59:59 -05:00
	{"ny-a3", "2026-03-08T07:00:00Z"}, // 03:00 -04:00
	{"ny-a4", "2026-03-09T03:59:59Z"}, // 03-08 23:59:59 -04:00
	{"ny-a5", "2026-03-09T04:00:00Z"}, // 03-09 00:00 -04:00
	// … and falls back on 2026-11-01 (a 25-hour day, 1 a.m. twice).
	{"ny-b0", "2026-11-01T03:59:59Z"}, // 10-31 23:59:59 -04:00
	{"ny-b1", "2026-11-01T04:00:00Z"}, // 11-01 00:00 -04:00
	{"ny-b2", "2026-11-01T05:30:00Z"}, // 01:30 -04:00
	{"ny-b3", "2026-11-01T06:30:00Z"}, // 01:30 -05:00
	{"ny-b4", "2026-11-02T04:59:59Z"}, // 11-01 23:59:59 -05:00
	{"ny-b5", "2026-11-02T05:00:00Z"}, // 11-02 00:00 -05:00
	// A month end: the 31st in UTC, the 1st in Kolkata (+05:30) and
	// Kathmandu (+05:45).
	{"kt-d1", "2026-01-31T18:14:59Z"}, // Kathmandu 01-31 23:59:59, Kolkata 23:44:59
	{"kt-d2", "2026-01-31T18:15:00Z"}, // Kathmandu 02-01 00:00: local midnight
	{"in-c1", "2026-01-31T18:29:59Z"}, // Kolkata 01-31 23:59:59
	{"in-c2", "2026-01-31T18:30:00Z"}, // Kolkata 02-01 00:00: local midnight
	{"in-c3", "2026-01-31T20:00:00Z"}, // Kolkata 02-01 01:30
	// ISO weeks: 2027-01-03 is the Sunday of 2026's week 53.
	{"wk-e0", "2026-12-28T00:00:00Z"},
	{"wk-e1", "2027-01-03T23:59:59Z"},
	{"wk-e2", "2027-01-04T00:00:00Z"},
}

// zoneCase is a query with the buckets it must answer, written out by hand
// (the model is checked against these too).
type zoneCase struct {
	zone     string
	bucket   reports.Bucket
	from, to string
	want     []zoneBucket
}

type zoneBucket struct {
	Start    string // RFC 3339, the zone's offset
	Meetings int64
}

var zoneCases = []zoneCase{
	{"America/New_York", reports.Day, "2026-03-07T00:00:00-05:00", "2026-03-10T00:00:00-04:00", []zoneBucket{
		{"2026-03-07T00:00:00-05:00", 1}, {"2026-03-08T00:00:00-05:00", 4}, {"2026-03-09T00:00:00-04:00", 1}}},
	{"America/New_York", reports.Hour, "2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z", []zoneBucket{
		{"2026-03-08T01:00:00-05:00", 1}, {"2026-03-08T03:00:00-04:00", 1}}},
	{"America/New_York", reports.Day, "2026-10-31T00:00:00-04:00", "2026-11-03T00:00:00-05:00", []zoneBucket{
		{"2026-10-31T00:00:00-04:00", 1}, {"2026-11-01T00:00:00-04:00", 4}, {"2026-11-02T00:00:00-05:00", 1}}},
	{"America/New_York", reports.Hour, "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", []zoneBucket{
		{"2026-11-01T01:00:00-04:00", 1}, {"2026-11-01T01:00:00-05:00", 1}}},
	{"America/New_York", reports.Month, "2026-10-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00", []zoneBucket{
		{"2026-10-01T00:00:00-04:00", 1}, {"2026-11-01T00:00:00-04:00", 5}}},
	{"America/New_York", reports.Week, "2026-10-26T00:00:00-04:00", "2026-11-09T00:00:00-05:00", []zoneBucket{
		{"2026-10-26T00:00:00-04:00", 5}, {"2026-11-02T00:00:00-05:00", 1}}},
	{"Asia/Kolkata", reports.Day, "2026-01-31T00:00:00+05:30", "2026-02-02T00:00:00+05:30", []zoneBucket{
		{"2026-01-31T00:00:00+05:30", 3}, {"2026-02-01T00:00:00+05:30", 2}}},
	{"Asia/Kolkata", reports.Month, "2026-01-01T00:00:00+05:30", "2026-03-01T00:00:00+05:30", []zoneBucket{
		{"2026-01-01T00:00:00+05:30", 3}, {"2026-02-01T00:00:00+05:30", 2}}},
	{"UTC", reports.Month, "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", []zoneBucket{
		{"2026-01-01T00:00:00Z", 5}}},
	{"Asia/Kolkata", reports.Hour, "2026-01-31T18:00:00Z", "2026-01-31T19:00:00Z", []zoneBucket{
		{"2026-01-31T23:00:00+05:30", 3}, {"2026-02-01T00:00:00+05:30", 1}}},
	{"Asia/Kathmandu", reports.Day, "2026-01-31T00:00:00+05:45", "2026-02-02T00:00:00+05:45", []zoneBucket{
		{"2026-01-31T00:00:00+05:45", 1}, {"2026-02-01T00:00:00+05:45", 4}}},
	{"Asia/Kathmandu", reports.Hour, "2026-01-31T18:00:00Z", "2026-01-31T19:00:00Z", []zoneBucket{
		{"2026-01-31T23:00:00+05:45", 1}, {"2026-02-01T00:00:00+05:45", 3}}},
	{"UTC", reports.Week, "2026-12-21T00:00:00Z", "2027-01-11T00:00:00Z", []zoneBucket{
		{"2026-12-28T00:00:00Z", 2}, {"2027-01-04T00:00:00Z", 1}}},
	{"Asia/Kolkata", reports.Week, "2026-12-21T00:00:00Z", "2027-01-11T00:00:00Z", []zoneBucket{
		{"2026-12-28T00:00:00+05:30", 1}, {"2027-01-04T00:00:00+05:30", 2}}},
	{"UTC", reports.Month, "2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", []zoneBucket{
		{"2026-12-01T00:00:00Z", 1}, {"2027-01-01T00:00:00Z", 2}}},
	// A range that starts a second after a local midnight and ends a second
	// before the next: the partial bucket is still named by its start.
	{"Asia/Kolkata", reports.Day, "2026-01-31T18:30:01Z", "2026-02-01T18:29:59Z", []zoneBucket{
		{"2026-02-01T00:00:00+05:30", 1}}},
}

// testTimeZones writes meetings on the instants where zones disagree and
// checks the duration and usage buckets of every zone, by hand (zoneCases)
// and against the model.
func testTimeZones(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("zones")
	var vs []version
	for i, zm := range zoneMeetings {
		s := unix(at(t, zm.start))
		b := newSession(app, zm.id).started(s)
		for j := range i % 4 {
			p := pool[(i+j)%len(pool)]
			b = b.join(p, s+int64(j)).leave(p, s+int64(j), s+int64(59+j*37+i*13))
		}
		vs = append(vs, b.ended(s, s+int64(60+i*97)).final())
	}
	// Live meetings at local midnights count in no bucket.
	for i, s := range []string{"2026-01-31T18:30:00Z", "2026-03-08T05:00:00Z"} {
		vs = append(vs, newSession(app, fmt.Sprintf("live-%d", i)).started(unix(at(t, s))).join(pool[0], unix(at(t, s))).final())
	}
	h.next(vs...)

	for _, c := range zoneCases {
		loc := mustZone(t, c.zone)
		from, to := at(t, c.from), at(t, c.to)
		what := fmt.Sprintf("Durations(tz=%s bucket=%s %s…%s)", c.zone, c.bucket, c.from, c.to)
		dq := reports.DurationQuery{AppID: app, From: from, To: to, Bucket: c.bucket, Location: loc}
		got, err := tg.Reports.Durations(t.Context(), dq)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		var gotB []zoneBucket
		for _, b := range got {
			gotB = append(gotB, zoneBucket{b.Start.Format(time.RFC3339), b.Meetings})
		}
		sameJSON(t, what, c.want, gotB)
		var modelB []zoneBucket
		for _, b := range h.md.wantDurations(dq) {
			modelB = append(modelB, zoneBucket{b.Start.Format(time.RFC3339), b.Meetings})
		}
		sameJSON(t, what+" (the model)", c.want, modelB)
		h.checkDuration(what, dq)
		if c.bucket == reports.Hour {
			continue // usage has no hour buckets
		}
		uq := reports.UsageQuery{AppID: app, From: from, To: to, Bucket: c.bucket, Location: loc}
		gotU := h.checkUsageQuery("Usage"+what[len("Durations"):], uq)
		gotB = nil
		for _, b := range gotU {
			gotB = append(gotB, zoneBucket{b.Start.Format(time.RFC3339), b.Meetings})
		}
		sameJSON(t, "Usage"+what[len("Durations"):], c.want, gotB)
	}

	// Every zone, bucket and range against the model.
	tzRanges := []struct{ from, to string }{
		{"", ""},
		{"2026-03-07T00:00:00Z", "2026-03-11T00:00:00Z"},
		{"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"}, // New York's 23-hour day
		{"2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"}, // its 25-hour day
		{"2026-11-01T05:29:00Z", "2026-11-02T04:59:59Z"},
		{"2026-01-31T18:29:59Z", "2026-01-31T18:30:01Z"},
		{"2026-01-31T18:15:00Z", ""},
		{"", "2026-02-01T00:00:00Z"},
	}
	for _, loc := range zones(t) {
		for _, rg := range tzRanges {
			var from, to time.Time
			if rg.from != "" {
				from = at(t, rg.from)
			}
			if rg.to != "" {
				to = at(t, rg.to)
			}
			for _, b := range []reports.Bucket{reports.Hour, reports.Day, reports.Week, reports.Month} {
				h.checkDuration(fmt.Sprintf("Durations(tz=%s bucket=%s %s…%s)", loc, b, rg.from, rg.to),
					reports.DurationQuery{AppID: app, From: from, To: to, Bucket: b, Location: loc})
				if b != reports.Hour {
					h.checkUsageQuery(fmt.Sprintf("Usage(tz=%s bucket=%s %s…%s)", loc, b, rg.from, rg.to),
						reports.UsageQuery{AppID: app, From: from, To: to, Bucket: b, Location: loc})
				}
			}
		}
	}
}

// testUsageBilling checks the usage sums by hand: billable minutes rounded
// up per attendance row (not per bucket or meeting), distinct participants
// across a bucket's meetings, live meetings left out, abandoned ones in.
func testUsageBilling(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("billing")
	ann, bob, zoe := pool[0], pool[2], pool[4]
	t1 := unix(at(t, "2026-05-04T09:00:00Z"))
	t2 := unix(at(t, "2026-05-04T15:00:00Z"))
	t3 := unix(at(t, "2026-05-04T20:00:00Z"))
	type split struct{ audio, video int64 }
	media := func(v version, by map[string]split) version {
		t.Helper()
		v.m.AudioSeconds, v.m.VideoSeconds = 0, 0
		for i := range v.m.Participants {
			r := &v.m.Participants[i]
			s, ok := by[r.Participant]
			if !ok || s.audio+s.video != r.AttendedSeconds {
				t.Fatalf("%s: row %s attended %d s, split %+v", v.key.SessionID, r.Participant, r.AttendedSeconds, s)
			}
			r.AudioSeconds, r.VideoSeconds = s.audio, s.video
			v.m.AudioSeconds += s.audio
			v.m.VideoSeconds += s.video
		}
		return v
	}
	m1 := newSession(app, "m1").started(t1).
		join(ann, t1).leave(ann, t1, t1+121).
		join(bob, t1).leave(bob, t1, t1+1).
		join(zoe, t1+10).leave(zoe, t1+10, t1+70).ended(t1, t1+3600).final()
	m1 = media(m1, map[string]split{"u-ann": {61, 60}, "u-bob": {0, 1}, zoe.identity(): {60, 0}})
	m2 := newSession(app, "m2").started(t2).
		join(ann, t2).leave(ann, t2, t2+1).
		join(bob, t2).leave(bob, t2, t2+600).abandoned(t2 + 600).final()
	m2 = media(m2, map[string]split{"u-ann": {1, 0}, "u-bob": {599, 1}})
	live := newSession(app, "live").started(t3).join(ann, t3).final()
	live = media(live, map[string]split{"u-ann": {live.m.Participants[0].AttendedSeconds, 0}})
	// A meeting of the next day in UTC that is the same day in New York.
	m3 := newSession(app, "m3").started(t3+5*3600).join(zoe, t3+5*3600).leave(zoe, t3+5*3600, t3+5*3600+59).
		ended(t3+5*3600, t3+5*3600+100).final()
	m3 = media(m3, map[string]split{zoe.identity(): {0, 59}})
	h.next(m1, m2, live, m3)

	day := at(t, "2026-05-04T00:00:00Z")
	q := reports.UsageQuery{AppID: app, From: day, To: day.AddDate(0, 0, 2), Bucket: reports.Day}
	got := h.checkUsageQuery("Usage(day, UTC)", q)
	want := []reports.UsageBucket{
		{Start: day, Meetings: 2, Participants: 3, AttendanceSeconds: 121 + 1 + 60 + 1 + 600, AudioSeconds: 61 + 60 + 1 + 599,
			VideoSeconds: 60 + 1 + 1, BillableAudioMinutes: 2 + 1 + 1 + 10, BillableVideoMinutes: 1 + 1 + 1},
		{Start: day.AddDate(0, 0, 1), Meetings: 1, Participants: 1, AttendanceSeconds: 59, VideoSeconds: 59, BillableVideoMinutes: 1},
	}
	sameJSON(t, "Usage(day, UTC) by hand", want, got)
	sameJSON(t, "Usage(day, UTC) by hand (the model)", want, h.md.wantUsage(q))

	ny := mustZone(t, "America/New_York")
	q = reports.UsageQuery{AppID: app, Bucket: reports.Month, Location: ny}
	got = h.checkUsageQuery("Usage(month, New York)", q)
	want = []reports.UsageBucket{{Start: time.Date(2026, 5, 1, 0, 0, 0, 0, ny), Meetings: 3, Participants: 3,
		AttendanceSeconds: 783 + 59, AudioSeconds: 721, VideoSeconds: 62 + 59, BillableAudioMinutes: 14, BillableVideoMinutes: 4}}
	sameJSON(t, "Usage(month, New York) by hand", want, got)
	sameJSON(t, "Usage(month, New York) by hand (the model)", want, h.md.wantUsage(q))
	if len(got) == 1 && got[0].Start.Format(time.RFC3339) != "2026-05-01T00:00:00-04:00" {
		t.Errorf("month bucket start %s, want 2026-05-01T00:00:00-04:00", got[0].Start.Format(time.RFC3339))
	}
	h.checkAll()
}
