package api

import (
	"context"
	"encoding/csv"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/reports"
)

// maxZoneName bounds a ?tz= value (the longest IANA name has 32 bytes).
const maxZoneName = 64

// zones parses ?tz= values and caches the zones loaded: the IANA names are a
// few hundred, and only names that load are cached, so the cache is bounded.
// The zero value is ready; safe for concurrent use.
type zones struct{ cache sync.Map } // name → *time.Location

// parse returns the zone named v: an IANA name (Asia/Kolkata), "" or "UTC"
// being UTC. "Local" (the server's zone) and anything time.LoadLocation does
// not find — the binary embeds the zone database (time/tzdata), so this does
// not depend on the host — is a 400 naming tz.
func (z *zones) parse(v string) (*time.Location, error) {
	if v == "" || v == "UTC" {
		return time.UTC, nil
	}
	if l, ok := z.cache.Load(v); ok {
		return l.(*time.Location), nil
	}
	if len(v) > maxZoneName || v == "Local" || !printable(v) {
		return nil, badParam("tz", "must be an IANA time zone name such as Asia/Kolkata")
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, badParam("tz", "unknown time zone %q: must be an IANA name such as Asia/Kolkata", v)
	}
	z.cache.Store(v, loc)
	return loc, nil
}

// usageQuery reads the parameters of /v1/reports/usage into the normalised
// query of app: bucket is day when empty (else week or month), from and to
// are required, the span is bounded by the bucket width like the duration
// report's.
func usageQuery(app, from, to, bucket string, loc *time.Location) (reports.UsageQuery, error) {
	b := reports.Bucket(bucket)
	if b == "" {
		b = reports.Day
	}
	q, err := reports.UsageQuery{AppID: app, Bucket: b, Location: loc}.Normalize()
	if err != nil {
		return reports.UsageQuery{}, err // a *reports.QueryError: a 400 (statusOf)
	}
	if q.From, q.To, err = parseRange(from, to, true); err != nil {
		return reports.UsageQuery{}, err
	}
	if err := checkSpan(q.Bucket, q.From, q.To); err != nil {
		return reports.UsageQuery{}, err
	}
	return q, nil
}

// usageBucket is a bucket of the usage answer: the store's sums and the
// estimated cost of its billable minutes.
type usageBucket struct {
	reports.UsageBucket
	EstimatedCost float64 `json:"estimated_cost"`
}

type usageAnswer struct {
	TZ       string        `json:"tz"`
	Currency string        `json:"currency"`
	Buckets  []usageBucket `json:"buckets"`
}

func (r *Reports) usage(c *fiber.Ctx) error {
	app, err := appScope(c, true)
	if err != nil {
		return err
	}
	asCSV, err := wantsCSV(c)
	if err != nil {
		return err
	}
	loc, err := r.zones.parse(query(c, "tz"))
	if err != nil {
		return err
	}
	q, err := usageQuery(app, query(c, "from"), query(c, "to"), query(c, "bucket"), loc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), queryTimeout)
	defer cancel()
	buckets, err := r.store.Usage(ctx, q)
	if err != nil {
		return err
	}
	out := usageAnswer{TZ: q.Location.String(), Currency: r.prices.Currency, Buckets: make([]usageBucket, len(buckets))}
	for i, b := range buckets {
		b.Start = b.Start.In(q.Location) // RFC 3339 with the zone's offset, Z for UTC
		out.Buckets[i] = usageBucket{UsageBucket: b, EstimatedCost: r.prices.EstimatedCost(b.BillableAudioMinutes, b.BillableVideoMinutes)}
	}
	if asCSV {
		return writeUsageCSV(c, out)
	}
	return c.JSON(out)
}

// usageCSVHeader is the header line of the usage CSV.
var usageCSVHeader = []string{
	"start", "meetings", "participants", "attendance_seconds", "audio_seconds", "video_seconds",
	"billable_audio_minutes", "billable_video_minutes", "estimated_cost", "currency", "tz",
}

// writeUsageCSV writes the usage buckets as CSV, one line per bucket after
// the header: start in RFC 3339 with the zone's offset, the cost as a
// decimal, currency and zone repeated on every line (a spreadsheet keeps
// them with the figures).
func writeUsageCSV(c *fiber.Ctx, a usageAnswer) error {
	c.Set(fiber.HeaderContentType, mimeCSV+"; charset=utf-8")
	w := csv.NewWriter(c)
	if err := w.Write(usageCSVHeader); err != nil {
		return err
	}
	for _, b := range a.Buckets {
		i := func(v int64) string { return strconv.FormatInt(v, 10) }
		rec := []string{
			b.Start.Format(time.RFC3339), i(b.Meetings), i(b.Participants), i(b.AttendanceSeconds),
			i(b.AudioSeconds), i(b.VideoSeconds), i(b.BillableAudioMinutes), i(b.BillableVideoMinutes),
			strconv.FormatFloat(b.EstimatedCost, 'f', -1, 64), csvText(a.Currency), csvText(a.TZ),
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
