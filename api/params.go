package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// Query and path parameters of the /v1 reports. Every parser returns the
// value or a 400 *Error naming the parameter (badParam); none panics, whatever
// the input (FuzzReportParams).
//
// Handlers read path and query values only through param and query
// (TestHandlersReadValuesOnlyThroughParams), which return copies: fiber's
// own values alias the request buffer, which fasthttp reuses for the next
// request on the connection, so a value kept past the handler (in a query,
// a cursor, an error) would change under it (TestValuesOutliveTheRequest).

// param returns a copy of the path parameter key (still escaped, as fiber
// hands it over).
func param(c *fiber.Ctx, key string) string { return strings.Clone(c.Params(key)) }

// query returns a copy of the query value of key ("" when absent).
func query(c *fiber.Ctx, key string) string { return strings.Clone(c.Query(key)) }

// Accepted time range of from and to: ClickHouse's DateTime ends in 2106, and
// no CometChat meeting predates 1970.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// maxSpan bounds to − from of a bucketed report (durations, usage) by
// bucket width, which bounds the number of buckets: 31 days by hour (745
// buckets at most, with a DST fall-back), 400 days by day (API.md), 520
// weeks (10 years) by week, 3,660 days (10 years, 121 buckets) by month.
var maxSpan = map[reports.Bucket]time.Duration{
	reports.Hour:  31 * 24 * time.Hour,
	reports.Day:   400 * 24 * time.Hour,
	reports.Week:  520 * 7 * 24 * time.Hour,
	reports.Month: 3660 * 24 * time.Hour,
}

// maxCursorLength bounds an opaque page cursor.
const maxCursorLength = 1024

// parseTime parses a from/to value: RFC 3339 with any offset (fractional
// seconds allowed) or a date YYYY-MM-DD meaning 00:00:00 UTC. An unescaped
// '+' of the offset, which query decoding turns into a space, is accepted.
// The result is in UTC.
func parseTime(name, v string) (time.Time, error) {
	const want = "must be an RFC 3339 time (2023-10-10T10:44:52Z) or a date (2023-10-10)"
	if len(v) > 64 {
		return time.Time{}, badParam(name, want)
	}
	var t time.Time
	var err error
	if len(v) == len(time.DateOnly) {
		t, err = time.Parse(time.DateOnly, v)
	} else {
		if n := len(v); n > 6 && v[n-6] == ' ' {
			v = v[:n-6] + "+" + v[n-5:]
		}
		t, err = time.Parse(time.RFC3339, v)
	}
	if err != nil {
		return time.Time{}, badParam(name, want)
	}
	t = t.UTC()
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, badParam(name, "must be between %s and %s", minTime.Format(time.DateOnly), maxTime.Format(time.DateOnly))
	}
	return t, nil
}

// parseRange parses ?from= and ?to= (a half-open range [from, to)). Missing
// values are the zero time (an open side) unless required. When both are
// given, from must be before to.
func parseRange(from, to string, required bool) (time.Time, time.Time, error) {
	var f, t time.Time
	var err error
	switch {
	case from != "":
		if f, err = parseTime("from", from); err != nil {
			return time.Time{}, time.Time{}, err
		}
	case required:
		return time.Time{}, time.Time{}, badParam("from", "required")
	}
	switch {
	case to != "":
		if t, err = parseTime("to", to); err != nil {
			return time.Time{}, time.Time{}, err
		}
	case required:
		return time.Time{}, time.Time{}, badParam("to", "required")
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return time.Time{}, time.Time{}, badParam("to", "must be after from")
	}
	return f, t, nil
}

// checkSpan bounds the range of a duration report by its (normalised)
// bucket width.
func checkSpan(b reports.Bucket, from, to time.Time) error {
	span, ok := maxSpan[b]
	if !ok {
		return fmt.Errorf("api: no span for bucket %q", b)
	}
	if to.Sub(from) > span {
		return badParam("to", "a report by %s spans at most %d days", b, int(span/(24*time.Hour)))
	}
	return nil
}

// durationQuery reads the parameters of /v1/reports/durations into the
// normalised query of app: bucket is day when empty (else hour, day, week or
// month, checked by reports.DurationQuery.Normalize), the zone is loc (see
// zones.parse), from and to are required, the span is bounded by the bucket
// width.
func durationQuery(app, from, to, bucket string, loc *time.Location) (reports.DurationQuery, error) {
	b := reports.Bucket(bucket)
	if b == "" {
		b = reports.Day
	}
	q, err := reports.DurationQuery{AppID: app, Bucket: b, Location: loc}.Normalize()
	if err != nil {
		return reports.DurationQuery{}, err // a *reports.QueryError: a 400 (statusOf)
	}
	if q.From, q.To, err = parseRange(from, to, true); err != nil {
		return reports.DurationQuery{}, err
	}
	if err := checkSpan(q.Bucket, q.From, q.To); err != nil {
		return reports.DurationQuery{}, err
	}
	return q, nil
}

// parseLimit parses ?limit= of a report page (1..reports.MaxLimit,
// reports.DefaultLimit when empty). Unlike the store, which clamps, the API
// refuses a limit out of range.
func parseLimit(v string) (int, error) {
	if v == "" {
		return reports.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > reports.MaxLimit {
		return 0, badParam("limit", "must be a whole number from 1 to %d", reports.MaxLimit)
	}
	return n, nil
}

// parseCursor checks an opaque ?cursor= ("" for the first page). Only the
// report store knows its cursors; it answers reports.ErrBadCursor for one
// it did not give out, which statusOf maps to the same 400.
func parseCursor(v string) (string, error) {
	if len(v) > maxCursorLength || !printable(v) {
		return "", badParam("cursor", "not a cursor this server gave out")
	}
	return v, nil
}

// parseFormat chooses CSV or JSON: ?format=csv|json wins, else an Accept
// header that prefers text/csv.
func parseFormat(v string, acceptsCSV bool) (csv bool, err error) {
	switch v {
	case "":
		return acceptsCSV, nil
	case "csv":
		return true, nil
	case "json":
		return false, nil
	}
	return false, badParam("format", "must be json or csv")
}

// wantsCSV reads a report request's format: ?format, else its Accept header
// (parseFormat).
func wantsCSV(c *fiber.Ctx) (bool, error) {
	return parseFormat(query(c, "format"), c.Accepts(fiber.MIMEApplicationJSON, mimeCSV) == mimeCSV)
}

// parseID validates an identifier with the rules the webhook decoder uses
// (domain.CheckID): a stream identifier (app or session id) follows
// domain.StreamIDRules (no control or format characters, no path
// separators), anything else (a participant: a uid or a display name)
// domain.NameRules. optional allows "".
func parseID(name, v string, stream, optional bool) (string, error) {
	switch {
	case v == "" && optional:
		return "", nil
	case v == "":
		return "", badParam(name, "required")
	}
	rules := domain.NameRules
	if stream {
		rules = domain.StreamIDRules
	}
	if reason := domain.CheckID(v, rules); reason != "" {
		return "", badParam(name, "%s", reason)
	}
	return v, nil
}

// parsePathID unescapes a path parameter (fiber hands it over escaped: a
// session id "a b" arrives as "a%20b") and validates it with parseID.
func parsePathID(name, raw string, stream bool) (string, error) {
	v, err := url.PathUnescape(raw)
	if err != nil {
		return "", badParam(name, "not a valid path segment")
	}
	return parseID(name, v, stream, false)
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
