package main_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/internal/corpus/expect"
)

// The prices the end-to-end server runs with (not the defaults, so that the
// variables are seen to take effect).
const (
	e2eAudioPrice = "0.0015"
	e2eVideoPrice = "0.004"
)

// e2eZones are the zones of the bucketed reports: a :30 and a :45 offset,
// and New York, whose 2024-03-10 (inside the corpus's default span) has 23
// hours.
var e2eZones = []string{"Asia/Kolkata", "Asia/Kathmandu", "America/New_York"}

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// corpusRange is the corpus's start and span (its defaults when unset).
func corpusRange(cfg corpus.Config) (time.Time, time.Duration) {
	if cfg.Start.IsZero() {
		return time.Date(2024, 3, 6, 7, 0, 0, 0, time.UTC), 14 * 24 * time.Hour
	}
	return cfg.Start, cfg.Span
}

// checkZoneDurations: GET /v1/reports/durations?tz= by hour, day, week and
// month against the model's calendar arithmetic on the zone's wall clock;
// bucket starts must carry the zone's offset.
func (e *e2e) checkZoneDurations(t *testing.T, md *expect.Model, cfg corpus.Config) {
	start, span := corpusRange(cfg)
	from, to := start.Add(-24*time.Hour), start.Add(span+48*time.Hour)
	for _, zone := range e2eZones {
		loc := loadZone(t, zone)
		for _, app := range e.apps {
			for _, bucket := range []string{"hour", "day", "week", "month"} {
				q := url.Values{"from": {from.In(loc).Format(time.RFC3339)}, "to": {rfc(to)}, "bucket": {bucket}, "tz": {zone}}
				var got struct {
					Buckets []expect.Bucket `json:"buckets"`
				}
				status, body := e.get(t, "/v1/reports/durations?"+q.Encode(), e.tokens[app], "")
				if status != 200 {
					t.Errorf("durations %v: %d %s", q, status, body)
					continue
				}
				if !e.getJSONAs(t, "/v1/reports/durations?"+q.Encode(), e.tokens[app], &got) {
					continue
				}
				want := md.Durations(app, from, to, bucket, loc)
				if len(want) == 0 {
					t.Fatalf("app %s: no expected bucket for %v", app, q)
				}
				if d := diff(want, got.Buckets, cmpopts.EquateApprox(0, 1e-9)); d != "" {
					t.Errorf("GET /v1/reports/durations?%s (-want +got):\n%s", q.Encode(), d)
				}
				if err := offsetsShown(body, want[0].Start); err != nil {
					t.Errorf("durations %v: %v", q, err)
				}
			}
		}
	}
}

// offsetsShown checks that the answer spells the first bucket's start with
// its zone's offset (the JSON comparison above compares instants only).
func offsetsShown(body []byte, first time.Time) error {
	if want := `"start":"` + first.Format(time.RFC3339) + `"`; !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("answer lacks %s: %s", want, body[:min(len(body), 300)])
	}
	return nil
}

// checkUsage: GET /v1/reports/usage by day, week and month in UTC and each
// zone, as JSON (tz, currency, buckets with the estimated cost from the
// configured prices) and as CSV.
func (e *e2e) checkUsage(t *testing.T, md *expect.Model, cfg corpus.Config) {
	start, span := corpusRange(cfg)
	from, to := start.Add(-24*time.Hour), start.Add(span+48*time.Hour)
	var audioSeen, videoSeen bool
	for _, zone := range append([]string{"UTC"}, e2eZones...) {
		loc := loadZone(t, zone)
		for _, app := range e.apps {
			for _, bucket := range []string{"day", "week", "month"} {
				q := url.Values{"from": {rfc(from)}, "to": {rfc(to)}, "bucket": {bucket}}
				if zone != "UTC" {
					q.Set("tz", zone)
				}
				path := "/v1/reports/usage?" + q.Encode()
				want := md.Usage(app, from, to, bucket, loc, e2eAudioPrice, e2eVideoPrice)
				if len(want) == 0 {
					t.Fatalf("app %s: no expected usage bucket for %v", app, q)
				}
				for _, b := range want {
					audioSeen = audioSeen || b.AudioSeconds > 0
					videoSeen = videoSeen || b.VideoSeconds > 0
				}
				var got struct {
					TZ       string               `json:"tz"`
					Currency string               `json:"currency"`
					Buckets  []expect.UsageBucket `json:"buckets"`
				}
				status, body := e.get(t, path, e.tokens[app], "")
				if status != 200 {
					t.Errorf("%s: %d %s", path, status, body)
					continue
				}
				if !e.getJSONAs(t, path, e.tokens[app], &got) {
					continue
				}
				if got.TZ != zone || got.Currency != "INR" {
					t.Errorf("%s: tz %q currency %q, want %q INR", path, got.TZ, got.Currency, zone)
				}
				if d := diff(want, got.Buckets, cmpopts.EquateApprox(0, 1e-9)); d != "" {
					t.Errorf("GET %s (-want +got):\n%s", path, d)
				}
				if err := offsetsShown(body, want[0].Start); err != nil {
					t.Errorf("%s: %v", path, err)
				}
				status, csvBody := e.get(t, path+"&format=csv", e.tokens[app], "")
				if status != 200 {
					t.Errorf("%s csv: %d %s", path, status, csvBody)
					continue
				}
				if err := checkUsageCSV(csvBody, want, zone); err != nil {
					t.Errorf("%s csv: %v", path, err)
				}
			}
		}
	}
	if !audioSeen || !videoSeen {
		t.Errorf("the corpus has no audio (%v) or no video (%v) minutes: usage is not tested", audioSeen, videoSeen)
	}
}

func checkUsageCSV(body []byte, want []expect.UsageBucket, zone string) error {
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		return err
	}
	if len(recs) != len(want)+1 {
		return fmt.Errorf("%d lines, want a header and %d buckets", len(recs), len(want))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, b := range want {
		rec := recs[i+1]
		i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
		for name, w := range map[string]string{
			"start": b.Start.Format(time.RFC3339), "meetings": i64(b.Meetings), "participants": i64(b.Participants),
			"attendance_seconds": i64(b.AttendanceSeconds), "audio_seconds": i64(b.AudioSeconds), "video_seconds": i64(b.VideoSeconds),
			"billable_audio_minutes": i64(b.BillableAudioMinutes), "billable_video_minutes": i64(b.BillableVideoMinutes),
			"currency": "INR", "tz": zone,
		} {
			j, ok := col[name]
			if !ok {
				return fmt.Errorf("header %v lacks %s", recs[0], name)
			}
			if rec[j] != w {
				return fmt.Errorf("line %d %s = %q, want %q", i+2, name, rec[j], w)
			}
		}
		cost, err := strconv.ParseFloat(rec[col["estimated_cost"]], 64)
		if err != nil || cost < b.EstimatedCost-1e-9 || cost > b.EstimatedCost+1e-9 {
			return fmt.Errorf("line %d estimated_cost %q, want %v", i+2, rec[col["estimated_cost"]], b.EstimatedCost)
		}
	}
	return nil
}
