package reports_test

import (
	"testing"
	"time"

	"github.com/meetingd/meetingd/reports"
)

func TestUsageQueryNormalize(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	for _, tc := range []struct {
		name      string
		in        reports.UsageQuery
		wantParam string
		wantLoc   *time.Location
	}{
		{"day", reports.UsageQuery{AppID: "a", Bucket: "day"}, "", time.UTC},
		{"week in a zone", reports.UsageQuery{AppID: "a", Bucket: "week", Location: kolkata}, "", kolkata},
		{"month", reports.UsageQuery{AppID: "a", Bucket: "month"}, "", time.UTC},
		{"hour is not a usage bucket", reports.UsageQuery{AppID: "a", Bucket: "hour"}, "bucket", nil},
		{"no bucket", reports.UsageQuery{AppID: "a"}, "bucket", nil},
		{"no app", reports.UsageQuery{Bucket: reports.Day}, "app", nil},
	} {
		got, err := tc.in.Normalize()
		checkQueryErr(t, tc.name, err, tc.wantParam)
		if err != nil {
			continue
		}
		if got.Bucket != tc.in.Bucket || got.Location != tc.wantLoc {
			t.Errorf("%s: bucket %q, location %v", tc.name, got.Bucket, got.Location)
		}
		if again, _ := got.Normalize(); again != got {
			t.Errorf("%s: Normalize is not idempotent", tc.name)
		}
	}
}
