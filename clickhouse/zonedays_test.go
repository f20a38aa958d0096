package clickhouse_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// wantZoneDurations is the duration report of q over the meetings, computed
// here from API.md's definition in q's zone.
func wantZoneDurations(ms map[reports.SessionKey]domain.Meeting, q reports.DurationQuery) []reports.DurationBucket {
	type acc struct {
		b     reports.DurationBucket
		users map[string]bool
	}
	by := map[int64]*acc{}
	for k, m := range ms {
		if k.AppID != q.AppID || (m.Status != domain.StatusEnded && m.Status != domain.StatusAbandoned) ||
			(!q.From.IsZero() && m.StartedAt.Before(q.From)) || (!q.To.IsZero() && !m.StartedAt.Before(q.To)) {
			continue
		}
		start, _ := reports.BucketStart(q.Bucket, m.StartedAt, q.Location)
		a := by[start.Unix()]
		if a == nil {
			a = &acc{b: reports.DurationBucket{Start: start}, users: map[string]bool{}}
			by[start.Unix()] = a
		}
		a.b.Meetings++
		a.b.TotalDurationSeconds += m.DurationSeconds
		a.b.MaxDurationSeconds = max(a.b.MaxDurationSeconds, m.DurationSeconds)
		a.b.AttendanceSeconds += m.TotalAttendanceSeconds
		for _, p := range m.Participants {
			a.users[p.Participant] = true
		}
	}
	out := []reports.DurationBucket{}
	for _, a := range by {
		a.b.UniqueParticipants = int64(len(a.users))
		a.b.AvgDurationSeconds = float64(a.b.TotalDurationSeconds) / float64(a.b.Meetings)
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b reports.DurationBucket) int { return a.Start.Compare(b.Start) })
	return out
}

// zoneDayZones are the zones of TestZoneDayRows: +05:30, +05:45, a zone
// with both DST changes in the data (-05:00/-04:00), and one whose winter
// offset is 0 (read from the UTC day rows) and summer +01:00.
var zoneDayZones = []string{"Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Europe/London"}

// zoneDayMeetings returns the events of meetings every 3 h 13 min (so they
// start at every quarter and minute of the clock, local midnights and DST
// days included) in four windows: a month end (Kolkata, Kathmandu), New
// York's spring and fall DST days, London's spring DST day; two to four
// participants each, out of eight.
func zoneDayMeetings(seed uint64, prefix string) []domain.Event {
	r := rand.New(rand.NewPCG(seed, 7))
	var evs []domain.Event
	n := 0
	for _, w := range []string{"2026-01-29T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-27T00:00:00Z", "2026-10-30T00:00:00Z"} {
		from, _ := time.Parse(time.RFC3339, w)
		for t := from.Unix(); t < from.AddDate(0, 0, 5).Unix(); t += 3*3600 + 13*60 {
			var people []domain.Occupant
			for _, p := range r.Perm(8)[:2+r.IntN(3)] {
				people = append(people, domain.Occupant{UID: fmt.Sprintf("u-%d", p), Name: fmt.Sprintf("P%d", p)})
			}
			evs = append(evs, sessionEvents(fmt.Sprintf("%s%03d", prefix, n), t, t+60, t+1800+int64(r.IntN(3600)), r.IntN(5) == 0, people...)...)
			n++
		}
	}
	return evs
}

// checkZoneReports compares the duration and usage reports by day, week and
// month in every zone of zoneDayZones, over ranges aligned and unaligned
// to local midnight, with the reports computed from the meetings.
func checkZoneReports(t *testing.T, step string, rep reports.Store, ms map[reports.SessionKey]domain.Meeting) {
	t.Helper()
	for _, name := range zoneDayZones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		ranges := [][2]time.Time{
			{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
			{time.Date(2026, 1, 30, 0, 0, 0, 0, loc), time.Date(2026, 11, 3, 0, 0, 0, 0, loc)},
			{time.Date(2026, 3, 7, 13, 17, 0, 0, loc), time.Date(2026, 11, 1, 5, 0, 0, 0, loc)},
		}
		for _, b := range []reports.Bucket{reports.Day, reports.Week, reports.Month} {
			for _, rg := range ranges {
				dq := reports.DurationQuery{AppID: "app", From: rg[0], To: rg[1], Bucket: b, Location: loc}
				d, err := rep.Durations(t.Context(), dq)
				if err != nil {
					t.Fatalf("%s: durations %s by %s: %v", step, name, b, err)
				}
				same(t, fmt.Sprintf("%s: durations in %s by %s from %s", step, name, b, rg[0]), d, wantZoneDurations(ms, dq))
				uq := reports.UsageQuery{AppID: "app", From: rg[0], To: rg[1], Bucket: b, Location: loc}
				u, err := rep.Usage(t.Context(), uq)
				if err != nil {
					t.Fatalf("%s: usage %s by %s: %v", step, name, b, err)
				}
				same(t, fmt.Sprintf("%s: usage in %s by %s from %s", step, name, b, rg[0]), u, wantUsage(ms, uq))
			}
		}
	}
}

func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// offsetsIn returns the registered offsets: seconds → ready.
func offsetsIn(t *testing.T, conn driver.Conn) map[int32]uint8 {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT offset_seconds, max(ready) FROM zone_offsets GROUP BY offset_seconds")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int32]uint8{}
	for rows.Next() {
		var (
			o int32
			r uint8
		)
		if err := rows.Scan(&o, &r); err != nil {
			t.Fatal(err)
		}
		out[o] = r
	}
	return out
}

// TestZoneDayRows: reports in zones answer exactly as computed from the
// meetings on a zone's first query (quarter-hour path, backfill started),
// once the offsets' day rows are backfilled (whole days from them, DST days
// and range edges by the quarter-hour path), and after flushes that add,
// move and abandon meetings once the offsets are registered.
func TestZoneDayRows(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := clickhouse.NewReports(conn)
	t.Cleanup(func() { _ = rep.Close() })
	ms, vs := map[reports.SessionKey]domain.Meeting{}, map[reports.SessionKey]uint64{}
	applyStep(t, sink, batchStep{"first meetings", 1, zoneDayMeetings(1, "a")}, ms, vs)
	if got := offsetsIn(t, conn); len(got) != 0 {
		t.Fatalf("offsets registered before any zone query: %v", got)
	}

	checkZoneReports(t, "first queries", rep, ms)
	clickhouse.WaitBackfills(rep)
	wantOffsets := map[int32]uint8{19800: 1, 20700: 1, -18000: 1, -14400: 1, 3600: 1} // 0: the UTC day rows
	if got := offsetsIn(t, conn); !maps(got, wantOffsets) {
		t.Fatalf("registered offsets %v, want %v", got, wantOffsets)
	}

	// Which days the day rows answer: whole days of one offset, 24 h long.
	ny, _ := time.LoadLocation("America/New_York")
	london, _ := time.LoadLocation("Europe/London")
	kathmandu, _ := time.LoadLocation("Asia/Kathmandu")
	for _, c := range []struct {
		loc      *time.Location
		from, to time.Time
		want     []string
	}{
		{ny, time.Date(2026, 3, 6, 0, 0, 0, 0, ny), time.Date(2026, 3, 11, 0, 0, 0, 0, ny),
			[]string{"2026-03-06T00:00:00-05:00", "2026-03-07T00:00:00-05:00", "2026-03-09T00:00:00-04:00", "2026-03-10T00:00:00-04:00"}},
		{ny, time.Date(2026, 10, 31, 0, 0, 0, 0, ny), time.Date(2026, 11, 3, 0, 0, 0, 0, ny),
			[]string{"2026-10-31T00:00:00-04:00", "2026-11-02T00:00:00-05:00"}},
		{london, time.Date(2026, 3, 28, 0, 0, 0, 0, london), time.Date(2026, 3, 31, 0, 0, 0, 0, london),
			[]string{"2026-03-28T00:00:00Z", "2026-03-30T00:00:00+01:00"}},
		{kathmandu, time.Date(2026, 1, 30, 6, 0, 0, 0, kathmandu), time.Date(2026, 2, 2, 0, 0, 0, 0, kathmandu), // an unaligned start
			[]string{"2026-01-31T00:00:00+05:45", "2026-02-01T00:00:00+05:45"}},
	} {
		days, err := clickhouse.FastDays(t.Context(), rep, c.loc, c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range days {
			got = append(got, d.Format(time.RFC3339))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("day rows of %s from %s: %q, want %q", c.loc, c.from, got, c.want)
		}
	}
	checkZoneReports(t, "from the day rows", rep, ms)

	// Flushes after the registration: new meetings (some of new people),
	// meetings moved across local midnights, an ended meeting abandoned.
	more := zoneDayMeetings(2, "b")
	for i := range more {
		if o, ok := more[i].Payload.(domain.ParticipantJoined); ok && i%3 == 0 {
			o.Occupant.UID = "u-new"
			more[i].Payload = o
		}
	}
	applyStep(t, sink, batchStep{"more meetings", 2, more}, ms, vs)
	checkZoneReports(t, "after a flush", rep, ms)
	moved := []domain.Event{}
	moved = append(moved, sessionEvents("a001", time.Date(2026, 1, 31, 18, 29, 59, 0, time.UTC).Unix(), 0, 0, false)...)
	moved = append(moved, sessionEvents("a002", time.Date(2026, 1, 31, 18, 15, 0, 0, time.UTC).Unix(), 0, 0, false)...)
	moved = append(moved, sessionEvents("a020", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC).Unix(), 0, 0, false)...)
	var again []domain.Event
	for _, e := range zoneDayMeetings(1, "a") {
		switch e.SessionID {
		case "a001", "a002", "a020":
			if _, ok := e.Payload.(domain.SessionStarted); ok {
				continue // moved
			}
		}
		again = append(again, e)
	}
	applyStep(t, sink, batchStep{"meetings moved", 3, append(moved, again...)}, ms, vs)
	checkZoneReports(t, "after meetings moved", rep, ms)
}

func maps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestZoneDayRowsBackfillBesideFlushes: flushes that run while offsets are
// registered and backfilled leave the day rows exact (a flush either reads
// the offset as registered and recomputes its days, or wrote its meetings
// before the backfill read them).
func TestZoneDayRowsBackfillBesideFlushes(t *testing.T) {
	t.Parallel()
	conn, _ := clickhousetest.Migrated(t)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := clickhouse.NewReports(conn)
	t.Cleanup(func() { _ = rep.Close() })
	ms, vs := map[reports.SessionKey]domain.Meeting{}, map[reports.SessionKey]uint64{}
	applyStep(t, sink, batchStep{"first meetings", 1, zoneDayMeetings(1, "a")}, ms, vs)

	batches := make([]projections.Batch, 0, 6)
	for v := range uint64(6) {
		batches = append(batches, batchOf(v+2, zoneDayMeetings(v+10, fmt.Sprintf("c%d-", v))))
	}
	done := make(chan error, 1)
	go func() {
		for _, b := range batches {
			if err := sink.Write(t.Context(), b); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for _, name := range zoneDayZones { // the first queries: registrations and backfills
		loc, _ := time.LoadLocation(name)
		if _, err := clickhouse.FastDays(t.Context(), rep, loc, time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 1, 0, 0, 0, 0, loc)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	clickhouse.WaitBackfills(rep)
	for _, b := range batches {
		for _, u := range b.Sessions {
			ms[u.Key], vs[u.Key] = u.Meeting, b.Version
		}
	}
	if got := offsetsIn(t, conn); len(got) != 5 {
		t.Fatalf("registered offsets %v, want 5", got)
	}
	checkZoneReports(t, "after backfills beside flushes", rep, ms)
}
