package reports

import (
	"testing"
	"time"
)

func TestBucketStart(t *testing.T) {
	tests := []struct {
		name   string
		zone   string
		b      Bucket
		at     string // an instant, RFC 3339
		start  string // its bucket's start, RFC 3339 with the zone's offset
		next   string // the next bucket's start
		length time.Duration
	}{
		{"utc day keeps Z", "UTC", Day, "2026-03-09T10:44:52Z", "2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z", 24 * time.Hour},
		{"kolkata day", "Asia/Kolkata", Day, "2026-03-09T20:00:00Z", "2026-03-10T00:00:00+05:30", "2026-03-11T00:00:00+05:30", 24 * time.Hour},
		{"kolkata hour at :30 UTC", "Asia/Kolkata", Hour, "2026-03-09T20:29:59Z", "2026-03-10T01:00:00+05:30", "2026-03-10T02:00:00+05:30", time.Hour},
		{"kathmandu hour at :45", "Asia/Kathmandu", Hour, "2026-03-09T20:14:00Z", "2026-03-10T01:00:00+05:45", "2026-03-10T02:00:00+05:45", time.Hour},
		{"meeting at local midnight", "Asia/Kolkata", Day, "2026-03-09T18:30:00Z", "2026-03-10T00:00:00+05:30", "2026-03-11T00:00:00+05:30", 24 * time.Hour},
		{"a second before local midnight", "Asia/Kolkata", Day, "2026-03-09T18:29:59Z", "2026-03-09T00:00:00+05:30", "2026-03-10T00:00:00+05:30", 24 * time.Hour},
		{"23-hour day (spring forward)", "America/New_York", Day, "2026-03-08T12:00:00Z", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23 * time.Hour},
		{"25-hour day (fall back)", "America/New_York", Day, "2026-11-01T12:00:00Z", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25 * time.Hour},
		{"first 1 a.m. of a fall back", "America/New_York", Hour, "2026-11-01T05:30:00Z", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", time.Hour},
		{"second 1 a.m. of a fall back", "America/New_York", Hour, "2026-11-01T06:30:00Z", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00", time.Hour},
		{"iso week from monday", "Asia/Kolkata", Week, "2026-03-15T19:00:00Z", "2026-03-16T00:00:00+05:30", "2026-03-23T00:00:00+05:30", 7 * 24 * time.Hour},
		{"sunday is the week's last day", "UTC", Week, "2026-03-15T23:59:59Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z", 7 * 24 * time.Hour},
		{"month end in kolkata is next month", "Asia/Kolkata", Month, "2026-01-31T19:00:00Z", "2026-02-01T00:00:00+05:30", "2026-03-01T00:00:00+05:30", 28 * 24 * time.Hour},
		{"month with a DST change", "America/New_York", Month, "2026-03-20T00:00:00Z", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", 31*24*time.Hour - time.Hour},
		{"december to january", "UTC", Month, "2026-12-31T23:59:59Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 31 * 24 * time.Hour},
		// Chile moves its clocks at 24:00: 2026-09-06 has no midnight and
		// begins at 01:00 -03:00.
		{"day without a midnight", "America/Santiago", Day, "2026-09-06T12:00:00Z", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00", 23 * time.Hour},
		{"day before it", "America/Santiago", Day, "2026-09-05T12:00:00Z", "2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			at, _ := time.Parse(time.RFC3339, tc.at)
			start, ok := BucketStart(tc.b, at, loc)
			if !ok {
				t.Fatalf("BucketStart(%s) not ok", tc.b)
			}
			if got := start.Format(time.RFC3339); got != tc.start {
				t.Errorf("BucketStart(%s, %s) = %s, want %s", tc.b, tc.at, got, tc.start)
			}
			if start.After(at) {
				t.Errorf("start %s after the instant %s", start, at)
			}
			next, _ := NextBucket(tc.b, start)
			if got := next.Format(time.RFC3339); got != tc.next {
				t.Errorf("NextBucket = %s, want %s", got, tc.next)
			}
			if !at.Before(next) {
				t.Errorf("instant %s not before the next bucket %s", at, next)
			}
			if got := next.Sub(start); got != tc.length {
				t.Errorf("bucket length %s, want %s", got, tc.length)
			}
			if again, _ := BucketStart(tc.b, start, loc); !again.Equal(start) {
				t.Errorf("BucketStart of a start %s = %s: not idempotent", start, again)
			}
		})
	}
	if _, ok := BucketStart("fortnight", time.Now(), time.UTC); ok {
		t.Error("a bucket without a width is ok")
	}
}

// TestBucketsTile checks over two years in zones with DST, :30 and :45
// offsets that consecutive buckets tile time: every hour's instant falls in
// exactly the bucket BucketStart names, and NextBucket of a start is the
// BucketStart of the first instant after the bucket.
func TestBucketsTile(t *testing.T) {
	for _, zone := range []string{"UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Europe/London"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []Bucket{Hour, Day, Week, Month} {
			from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			start, _ := BucketStart(b, from, loc)
			for start.Before(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
				next, _ := NextBucket(b, start)
				if !next.After(start) {
					t.Fatalf("%s %s: next %s not after %s", zone, b, next, start)
				}
				if got, _ := BucketStart(b, next.Add(-time.Second), loc); !got.Equal(start) {
					t.Fatalf("%s %s: the last second of [%s, %s) is in the bucket of %s", zone, b, start, next, got)
				}
				if got, _ := BucketStart(b, next, loc); !got.Equal(next) {
					t.Fatalf("%s %s: BucketStart(%s) = %s", zone, b, next, got)
				}
				start = next
			}
		}
	}
}
