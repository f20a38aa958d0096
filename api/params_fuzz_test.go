package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// checkParamErr fails unless err is nil or an error that the API answers
// with a 400 whose message starts with one of names.
func checkParamErr(t *testing.T, err error, names ...string) bool {
	t.Helper()
	if err == nil {
		return true
	}
	status, msg := api.StatusOf(err)
	if status != 400 {
		t.Fatalf("error %v (%T) is answered %d, not 400", err, err, status)
	}
	for _, n := range names {
		if strings.HasPrefix(msg, n+": ") {
			return false
		}
	}
	t.Fatalf("error %q names none of %v", msg, names)
	return false
}

// FuzzReportParams feeds the query and path parameter parsers arbitrary
// strings: they never panic, and either succeed with a value inside the
// documented bounds or return a 400 naming the parameter.
func FuzzReportParams(f *testing.F) {
	seeds := [][6]string{
		{"2023-10-10", "2023-10-11", "day", "100", "abc", "s-1"},
		{"2023-10-10T10:44:52Z", "2023-10-10T11:44:52+02:00", "hour", "1", "", "a%2Fb"},
		{"2023-10-10T10:44:52.123456789-07:00", "2023-10-10T10:44:52 07:00", "week", "1000", "%00", "%ZZ"},
		{"", "", "", "", "", ""},
		{"1969-12-31", "2100-01-02", "minute", "0", strings.Repeat("c", 2000), ".."},
		{"2023-02-30", "9999-12-31T23:59:60Z", "Day", "-1", "\xff", "\x00"},
		{"2023-10-10T24:00:00Z", "2023-10-10t10:00:00z", "hour", "99999999999999999999", "next", "%C3%A9t%C3%A9"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5])
	}
	f.Fuzz(func(t *testing.T, from, to, bucket, limit, cursor, id string) {
		for _, required := range []bool{false, true} {
			fr, tt, err := api.ParseRange(from, to, required)
			if checkParamErr(t, err, "from", "to") {
				for _, v := range []time.Time{fr, tt} {
					if !v.IsZero() && (v.Location() != time.UTC || v.Year() < 1970 || v.After(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))) {
						t.Fatalf("ParseRange(%q, %q) = %v outside the bounds", from, to, v)
					}
				}
				if required && (fr.IsZero() || tt.IsZero()) {
					t.Fatalf("ParseRange(%q, %q, required) left a side open", from, to)
				}
				if !fr.IsZero() && !tt.IsZero() && !fr.Before(tt) {
					t.Fatalf("ParseRange(%q, %q) = [%v, %v)", from, to, fr, tt)
				}
			}
		}
		loc, err := api.ParseZone(cursor)
		if !checkParamErr(t, err, "tz") {
			loc = time.UTC
		} else if loc == nil || (cursor == "" && loc != time.UTC) {
			t.Fatalf("ParseZone(%q) = %v", cursor, loc)
		}
		q, err := api.DurationQuery("app-1", from, to, bucket, loc)
		if checkParamErr(t, err, "from", "to", "bucket") {
			if b := q.Bucket; b != "hour" && b != "day" && b != "week" && b != "month" {
				t.Fatalf("bucket %q", b)
			}
			if q.Bucket == "hour" && q.To.Sub(q.From) > 31*24*time.Hour {
				t.Fatalf("an hourly report of %v", q.To.Sub(q.From))
			}
			if q.Bucket == "day" && q.To.Sub(q.From) > 400*24*time.Hour {
				t.Fatalf("a daily report of %v", q.To.Sub(q.From))
			}
			if q.Location != loc {
				t.Fatalf("location %v, want %v", q.Location, loc)
			}
		}
		u, err := api.UsageQuery("app-1", from, to, bucket, loc)
		if checkParamErr(t, err, "from", "to", "bucket") {
			if b := u.Bucket; b != "day" && b != "week" && b != "month" {
				t.Fatalf("usage bucket %q", b)
			}
			if u.Bucket == "day" && u.To.Sub(u.From) > 400*24*time.Hour {
				t.Fatalf("a daily usage report of %v", u.To.Sub(u.From))
			}
		}
		if n, err := api.ParseLimit(limit); checkParamErr(t, err, "limit") && (n < 1 || n > 1000) {
			t.Fatalf("ParseLimit(%q) = %d", limit, n)
		}
		if c, err := api.ParseCursor(cursor); checkParamErr(t, err, "cursor") && c != cursor {
			t.Fatalf("ParseCursor(%q) = %q", cursor, c)
		}
		// ?status= is checked by the query's Normalize and answered by statusOf.
		if q, err := (reports.MeetingQuery{AppID: "app-1", Status: domain.Status(bucket)}).Normalize(); checkParamErr(t, err, "status") &&
			q.Status != "" && q.Status != "live" && q.Status != "ended" && q.Status != "abandoned" {
			t.Fatalf("status %q normalised to %q", bucket, q.Status)
		}
		_, err = api.ParseFormat(bucket, len(limit)%2 == 0)
		checkParamErr(t, err, "format")
		for _, stream := range []bool{false, true} {
			v, err := api.ParsePathID("sessionId", id, stream)
			if checkParamErr(t, err, "sessionId") && (v == "" || len(v) > 512 || (stream && strings.ContainsAny(v, `/\`))) {
				t.Fatalf("ParsePathID(%q) = %q", id, v)
			}
		}
	})
}
