package clickhouse

import (
	"slices"
	"testing"
	"time"
)

// TestOffsetDayBuckets: the day rows of offset o are local days from
// midnight at o; a touched quarter hour recomputes the local day it is in,
// and the clause reads exactly that day's started_at range.
func TestOffsetDayBuckets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		offset int32
		at     string // a touched instant
		day    string // the local day's start, in UTC
	}{
		{"Kolkata, just after local midnight", 19800, "2026-01-31T18:30:00Z", "2026-01-31T18:30:00Z"},
		{"Kolkata, just before local midnight", 19800, "2026-01-31T18:29:59Z", "2026-01-30T18:30:00Z"},
		{"Kathmandu +05:45", 20700, "2026-01-31T18:15:00Z", "2026-01-31T18:15:00Z"},
		{"New York -05:00, UTC's next day", -18000, "2026-03-08T04:59:59Z", "2026-03-07T05:00:00Z"},
		{"New York -04:00", -14400, "2026-03-09T04:00:00Z", "2026-03-09T04:00:00Z"},
		{"Kiribati +14:00", 50400, "2026-01-01T09:59:59Z", "2025-12-31T10:00:00Z"},
		{"Baker Island -12:00", -43200, "2026-01-01T11:59:59Z", "2025-12-31T12:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, c.at)
			day, _ := time.Parse(time.RFC3339, c.day)
			h := hours{}
			h.add("app", at.Unix())
			cs := h.clusters(offsetDays(c.offset), 0)
			if len(cs) != 1 || cs[0].lo != day.Unix() || cs[0].hi != day.Unix()+86400 {
				t.Fatalf("clusters %+v, want the day [%d, %d)", cs, day.Unix(), day.Unix()+86400)
			}
			if n := cs[0].buckets[0]; n*86400-offsetDays(c.offset).shift != day.Unix() {
				t.Errorf("bucket %d starts at %d, want %d", n, n*86400-offsetDays(c.offset).shift, day.Unix())
			}
		})
	}
}

// TestSlowSpans: a chunk's range without its whole days of ready offsets.
func TestSlowSpans(t *testing.T) {
	t.Parallel()
	const d = 86400
	cases := []struct {
		name   string
		lo, hi int64
		days   []int64
		want   []span
	}{
		{"no days", 10, 5 * d, nil, []span{{10, 5 * d}}},
		{"every day", d, 3 * d, []int64{d, 2 * d}, nil},
		{"edges", 10, 3*d + 7, []int64{d, 2 * d}, []span{{10, d}, {3 * d, 3*d + 7}}},
		{"a DST day between", 0, 4 * d, []int64{0, d, 3*d - 3600}, []span{{2 * d, 3*d - 3600}, {4*d - 3600, 4 * d}}},
	}
	for _, c := range cases {
		var days []fastDay
		for _, s := range c.days {
			days = append(days, fastDay{start: s})
		}
		if got := slowSpans(c.lo, c.hi, days); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestValidOffset: day rows are kept for offsets of whole quarter hours
// within a day; others (historical LMT offsets) stay on the quarter-hour path.
func TestValidOffset(t *testing.T) {
	t.Parallel()
	for o, want := range map[int32]bool{
		0: true, 19800: true, 20700: true, -18000: true, 50400: true, -43200: true,
		19800 + 60: false, 4075: false, 86400: false, -86400: false,
	} {
		if got := validOffset(o); got != want {
			t.Errorf("validOffset(%d) = %v, want %v", o, got, want)
		}
	}
}
