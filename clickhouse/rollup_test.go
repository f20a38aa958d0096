package clickhouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// monday0 is a Monday 00:00 UTC: day, week and hour buckets all start there.
var monday0 = time.Unix(testBase, 0).UTC().Truncate(24 * time.Hour)

// at is monday0 plus d, in Unix seconds.
func at(d time.Duration) int64 { return monday0.Add(d).Unix() }

// sessionEvents builds one meeting's events: a meeting_started at started
// (none when 0), joins of people at join, a meeting_ended at end (none when
// 0) and a meetingd abandonment (when abandoned).
func sessionEvents(session string, started, join, end int64, abandoned bool, people ...domain.Occupant) []domain.Event {
	ev := func(trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: "app", SessionID: session, Kind: domain.KindMeeting, Trigger: trig, Payload: p}
	}
	var out []domain.Event
	if started > 0 {
		out = append(out, ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: started}))
	}
	for i, o := range people {
		o.JoinedAt = join + int64(i)
		out = append(out, ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: o}))
		if end > 0 || abandoned {
			o.LeftAt = join + 300 + int64(i)*60
			out = append(out, ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: o}))
		}
	}
	if abandoned {
		out = append(out, domain.Event{AppID: "app", SessionID: session, Payload: domain.SessionAbandoned{
			LastEventAt: join + 600, DecidedAt: join + 7*3600}})
	}
	if end > 0 {
		out = append(out, ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{DestroyedAt: end}))
	}
	return out
}

// wantDurations is the duration report of q over the meetings, computed here
// from API.md's definition.
func wantDurations(ms map[reports.SessionKey]domain.Meeting, q reports.DurationQuery) []reports.DurationBucket {
	type acc struct {
		b     reports.DurationBucket
		uniqs map[string]bool
	}
	buckets := map[int64]*acc{}
	for k, m := range ms {
		if k.AppID != q.AppID || (m.Status != domain.StatusEnded && m.Status != domain.StatusAbandoned) {
			continue
		}
		s := m.StartedAt.Unix()
		if (!q.From.IsZero() && m.StartedAt.Before(q.From)) || (!q.To.IsZero() && !m.StartedAt.Before(q.To)) {
			continue
		}
		var start int64
		switch q.Bucket {
		case reports.Hour:
			start = s - s%3600
		case reports.Day:
			start = s - s%86400
		case reports.Week:
			start = s - (s-345600)%604800
		}
		a := buckets[start]
		if a == nil {
			a = &acc{b: reports.DurationBucket{Start: time.Unix(start, 0).UTC()}, uniqs: map[string]bool{}}
			buckets[start] = a
		}
		a.b.Meetings++
		a.b.TotalDurationSeconds += m.DurationSeconds
		a.b.MaxDurationSeconds = max(a.b.MaxDurationSeconds, m.DurationSeconds)
		a.b.AttendanceSeconds += m.TotalAttendanceSeconds
		for _, p := range m.Participants {
			a.uniqs[p.Participant] = true
		}
	}
	out := []reports.DurationBucket{}
	for _, a := range buckets {
		a.b.UniqueParticipants = int64(len(a.uniqs))
		a.b.AvgDurationSeconds = float64(a.b.TotalDurationSeconds) / float64(a.b.Meetings)
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b reports.DurationBucket) int { return a.Start.Compare(b.Start) })
	return out
}

// rollupRanges are aligned, unaligned and single-bucket ranges around
// monday0 (the buckets the cases use).
var rollupRanges = []struct {
	name     string
	from, to time.Time
}{
	{"open", time.Time{}, time.Time{}},
	{"aligned days", monday0.AddDate(0, 0, -7), monday0.AddDate(0, 0, 7)},
	{"aligned week", monday0, monday0.AddDate(0, 0, 7)},
	{"unaligned both ends", monday0.Add(-25*time.Minute - 17*time.Second), monday0.Add(26*time.Hour + 5*time.Second)},
	{"unaligned from, open to", monday0.Add(-3*time.Hour - 30*time.Minute), time.Time{}},
	{"open from, unaligned to", time.Time{}, monday0.Add(90 * time.Minute)},
	{"inside one hour", monday0.Add(5 * time.Minute), monday0.Add(20 * time.Minute)},
	{"midweek to midweek", monday0.AddDate(0, 0, -4).Add(7 * time.Hour), monday0.AddDate(0, 0, 3).Add(time.Hour)},
	{"subsecond", monday0.Add(-500 * time.Millisecond), monday0.Add(30*time.Minute + 500*time.Millisecond)},
}

// checkDurations compares every bucketing of every range with wantDurations.
func checkDurations(t *testing.T, step string, rep reports.Store, ms map[reports.SessionKey]domain.Meeting) {
	t.Helper()
	for _, b := range []reports.Bucket{reports.Hour, reports.Day, reports.Week} {
		for _, rg := range rollupRanges {
			q := reports.DurationQuery{AppID: "app", From: rg.from, To: rg.to, Bucket: b}
			got, err := rep.Durations(t.Context(), q)
			if err != nil {
				t.Fatalf("%s: Durations(%s, %s): %v", step, b, rg.name, err)
			}
			want := wantDurations(ms, q)
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Errorf("%s: Durations(%s, %s):\n got %s\nwant %s", step, b, rg.name, gj, wj)
			}
		}
	}
	// The quarter-hour rows and the day rows' masks follow too: usage in a
	// +05:30 zone reads them.
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []reports.Bucket{reports.Day, reports.Week, reports.Month} {
		for _, rg := range rollupRanges {
			q := reports.UsageQuery{AppID: "app", From: rg.from, To: rg.to, Bucket: b, Location: kolkata}
			got, err := rep.Usage(t.Context(), q)
			if err != nil {
				t.Fatalf("%s: Usage(%s, %s): %v", step, b, rg.name, err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(wantUsage(ms, q))
			if string(gj) != string(wj) {
				t.Errorf("%s: Usage(%s, Kolkata, %s):\n got %s\nwant %s", step, b, rg.name, gj, wj)
			}
		}
	}
}

// checkDailyView compares daily_durations_v with the open day report.
func checkDailyView(t *testing.T, step string, conn driver.Conn, ms map[reports.SessionKey]domain.Meeting) {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT toString(day), meetings, total_duration_seconds, avg_duration_seconds
		FROM daily_durations_v WHERE app_id = 'app' ORDER BY day`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var (
			day      string
			n, total uint64
			avg      float64
		)
		if err := rows.Scan(&day, &n, &total, &avg); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %d %d %.3f", day, n, total, avg))
	}
	var want []string
	for _, b := range wantDurations(ms, reports.DurationQuery{AppID: "app", Bucket: reports.Day}) {
		want = append(want, fmt.Sprintf("%s %d %d %.3f", b.Start.Format(time.DateOnly), b.Meetings, b.TotalDurationSeconds, b.AvgDurationSeconds))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: daily_durations_v\n got %q\nwant %q", step, got, want)
	}
}

// emptyRollups counts the roll-up rows with meetings = 0 (buckets that hold
// meetings rows but none that counts).
func emptyRollups(t *testing.T, conn driver.Conn) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM report_rollups FINAL WHERE meetings = 0").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// batchStep is one Write of a case: the sessions' events so far, at version v.
type batchStep struct {
	name string
	v    uint64
	evs  []domain.Event
}

// stepStatus is what s1 must be after the steps named (so that the cases
// test what they say).
var stepStatus = map[string]domain.Status{
	"abandoned": domain.StatusAbandoned, "ended": domain.StatusEnded, "live": domain.StatusLive,
}

// applyStep writes the step and records the meetings the step's version
// holds into ms (an older version leaves ms as it is, as the sink does).
func applyStep(t *testing.T, sink projections.Sink, st batchStep, ms map[reports.SessionKey]domain.Meeting, vs map[reports.SessionKey]uint64) {
	t.Helper()
	b := batchOf(st.v, st.evs)
	if err := sink.Write(t.Context(), b); err != nil {
		t.Fatalf("%s: %v", st.name, err)
	}
	for _, u := range b.Sessions {
		if vs[u.Key] <= st.v {
			ms[u.Key], vs[u.Key] = u.Meeting, st.v
		}
		if want, ok := stepStatus[st.name]; ok && u.Key.SessionID == "s1" && ms[u.Key].Status != want {
			t.Fatalf("%s: s1 is %s, want %s", st.name, ms[u.Key].Status, want)
		}
	}
}

var (
	ann    = domain.Occupant{Name: "Ann"}
	bob    = domain.Occupant{Name: "Bob"}
	bobUID = domain.Occupant{UID: "u-bob", Name: "Bob"}
	cy     = domain.Occupant{UID: "u-cy", Name: "Cy"}
)

// TestRollupFollowsMeetings: after every write, each bucketing of aligned,
// unaligned and open ranges equals the report computed from the meetings
// themselves, as meetings move between buckets, change status, lose
// participant identities, and leave buckets empty.
func TestRollupFollowsMeetings(t *testing.T) {
	t.Parallel()
	h := time.Hour
	cases := []struct {
		name  string
		steps []batchStep
		// emptyAfter: roll-up rows with meetings = 0 after the last step.
		emptyAfter uint64
	}{
		{"started_at moves to the previous hour, day and week", []batchStep{
			{"joins only", 1, sessionEvents("s1", 0, at(10*time.Minute), at(40*time.Minute), false, ann, bob)},
			{"meeting_started earlier", 2, sessionEvents("s1", at(-10*time.Minute), at(10*time.Minute), at(40*time.Minute), false, ann, bob)},
		}, 3}, // the quarter hour, hour and day it left (weeks are unions of days)
		{"a meeting moves out of a bucket that keeps others", []batchStep{
			{"two meetings", 1, append(sessionEvents("s1", 0, at(2*h+10*time.Minute), at(3*h), false, ann),
				sessionEvents("s2", 0, at(2*h+20*time.Minute), at(3*h), false, bob, cy)...)},
			{"s1 moves back two days", 2, append(sessionEvents("s1", at(-46*h), at(2*h+10*time.Minute), at(3*h), false, ann),
				sessionEvents("s2", 0, at(2*h+20*time.Minute), at(3*h), false, bob, cy)...)},
		}, 1}, // s1's quarter hour (02:00–02:15); its hour and day keep s2
		{"abandoned, then ended", []batchStep{
			{"abandoned", 1, sessionEvents("s1", at(h), at(h), 0, true, ann, cy)},
			{"ended", 2, sessionEvents("s1", at(h), at(h), at(3*h), true, ann, cy)},
		}, 0},
		{"live, then ended", []batchStep{
			{"live", 1, sessionEvents("s1", at(30*time.Minute), at(31*time.Minute), 0, false, ann)},
			{"ended", 2, sessionEvents("s1", at(30*time.Minute), at(31*time.Minute), at(2*h), false, ann)},
		}, 0},
		{"a bucket stays empty while its meeting is live", []batchStep{
			{"live", 1, sessionEvents("s1", at(30*time.Minute), at(31*time.Minute), 0, false, ann)},
		}, 3},
		{"a participant's identity changes (tombstoned attendance)", []batchStep{
			{"Bob without uid", 1, append(sessionEvents("s1", at(h), at(h), at(2*h), false, ann, bob),
				sessionEvents("s2", at(4*h), at(4*h), at(5*h), false, bobUID)...)},
			{"Bob's uid arrives", 2, append(sessionEvents("s1", at(h), at(h), at(2*h), false, ann, bobUID),
				sessionEvents("s2", at(4*h), at(4*h), at(5*h), false, bobUID)...)},
		}, 0},
		{"an older version after a newer one changes nothing", []batchStep{
			{"v2", 2, sessionEvents("s1", at(-10*time.Minute), at(10*time.Minute), at(40*time.Minute), false, ann)},
			{"v1 after v2", 1, sessionEvents("s1", 0, at(10*time.Minute), at(40*time.Minute), false, ann)},
			{"v2 again", 2, sessionEvents("s1", at(-10*time.Minute), at(10*time.Minute), at(40*time.Minute), false, ann)},
		}, 0},
		{"a meeting moves out and back", []batchStep{
			{"Monday", 1, sessionEvents("s1", 0, at(26*h), at(27*h), false, cy)},
			{"Sunday", 2, sessionEvents("s1", at(-h), at(26*h), at(27*h), false, cy)},
			{"Monday again (a later version)", 3, sessionEvents("s1", 0, at(26*h), at(27*h), false, cy)},
		}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn, _ := clickhousetest.Migrated(t)
			sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep := clickhouse.NewReports(conn)
			ms, vs := map[reports.SessionKey]domain.Meeting{}, map[reports.SessionKey]uint64{}
			for _, st := range c.steps {
				applyStep(t, sink, st, ms, vs)
				checkDurations(t, st.name, rep, ms)
				checkDailyView(t, st.name, conn, ms)
			}
			if got := emptyRollups(t, conn); got != c.emptyAfter {
				t.Errorf("%d roll-up rows with meetings = 0, want %d", got, c.emptyAfter)
			}
		})
	}
}

// TestDurationPlan: whole hours (hour buckets) or whole days (day and week
// buckets) come from the roll-up; the meetings table is read only for the
// partial unit at each edge, never for a whole one.
func TestDurationPlan(t *testing.T) {
	t.Parallel()
	m := monday0.Unix()
	cases := []struct {
		name     string
		q        reports.DurationQuery
		want     clickhouse.DurationPlan
		nonEmpty bool
	}{
		{"open", reports.DurationQuery{Bucket: reports.Day},
			clickhouse.DurationPlan{Unit: 86400, Roll: true, RollOpen: true}, true},
		{"aligned days", reports.DurationQuery{Bucket: reports.Day, From: monday0, To: monday0.AddDate(0, 0, 30)},
			clickhouse.DurationPlan{Unit: 86400, Roll: true, RollLo: m, RollHi: m + 30*86400}, true},
		{"weeks from whole days, edges from meetings", reports.DurationQuery{Bucket: reports.Week,
			From: monday0.Add(36 * time.Hour), To: monday0.Add(10*24*time.Hour + time.Hour)},
			clickhouse.DurationPlan{Unit: 86400, Roll: true, RollLo: m + 2*86400, RollHi: m + 10*86400,
				Raw: [][2]int64{{m + 36*3600, m + 2*86400}, {m + 10*86400, m + 10*86400 + 3600}}}, true},
		{"hours, unaligned", reports.DurationQuery{Bucket: reports.Hour,
			From: monday0.Add(90 * time.Minute), To: monday0.Add(5*time.Hour + time.Second)},
			clickhouse.DurationPlan{Unit: 3600, Roll: true, RollLo: m + 2*3600, RollHi: m + 5*3600,
				Raw: [][2]int64{{m + 5400, m + 7200}, {m + 5*3600, m + 5*3600 + 1}}}, true},
		{"inside one day", reports.DurationQuery{Bucket: reports.Day, From: monday0.Add(time.Hour), To: monday0.Add(2 * time.Hour)},
			clickhouse.DurationPlan{Unit: 86400, Raw: [][2]int64{{m + 3600, m + 7200}}}, true},
		{"unaligned from, open to", reports.DurationQuery{Bucket: reports.Day, From: monday0.Add(time.Hour)},
			clickhouse.DurationPlan{Unit: 86400, Roll: true, RollOpen: true, RollLo: m + 86400, Raw: [][2]int64{{m + 3600, m + 86400}}}, true},
		{"past the last DateTime", reports.DurationQuery{Bucket: reports.Hour, From: time.Unix(1<<32-10, 0)},
			clickhouse.DurationPlan{Unit: 3600, Raw: [][2]int64{{1<<32 - 10, -1}}}, true},
		{"empty", reports.DurationQuery{Bucket: reports.Day, From: monday0, To: monday0}, clickhouse.DurationPlan{}, false},
	}
	for _, c := range cases {
		got, ok := clickhouse.PlanOf(c.q)
		if ok != c.nonEmpty {
			t.Errorf("%s: non-empty %v, want %v", c.name, ok, c.nonEmpty)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(c.want)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, gj, wj)
		}
		for _, r := range got.Raw {
			if r[1] >= 0 && r[1]-r[0] >= got.Unit {
				t.Errorf("%s: reads a whole unit [%d, %d) from the meetings table", c.name, r[0], r[1])
			}
		}
	}
}

// dieBeforeRollups is a connection on which the process "dies" when the
// n-th flush has inserted its rows but not yet recomputed the roll-ups.
type dieBeforeRollups struct {
	driver.Conn
	n    int32
	die  context.CancelFunc
	rows atomic.Int32
	dead atomic.Bool
}

func (d *dieBeforeRollups) PrepareBatch(ctx context.Context, q string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	if d.dead.Load() {
		return nil, errors.New("process is dead")
	}
	if strings.HasPrefix(q, "INSERT INTO meetings ") {
		d.rows.Add(1)
	}
	return d.Conn.PrepareBatch(ctx, q, opts...)
}

func (d *dieBeforeRollups) Exec(ctx context.Context, q string, args ...any) error {
	if d.dead.Load() {
		return errors.New("process is dead")
	}
	if strings.HasPrefix(q, "INSERT INTO report_rollups ") && d.rows.Load() == d.n {
		d.dead.Store(true)
		if d.die != nil {
			d.die()
		}
		return errors.New("process died between the rows and the roll-ups")
	}
	return d.Conn.Exec(ctx, q, args...)
}

// TestRollupCrashBeforeRecompute: the process dies after a flush stored its
// meetings rows (a meeting moved to another day and week, another ended)
// and before it recomputed the roll-ups. The reports are stale then; they
// are exact again once the runner re-delivers the batch (the checkpoint did
// not pass it), even when it first re-delivers an older one, or once
// Migrate (serve's start) repairs the roll-ups without any re-delivery.
func TestRollupCrashBeforeRecompute(t *testing.T) {
	t.Parallel()
	v1 := append(sessionEvents("s1", 0, at(10*time.Minute), at(40*time.Minute), false, ann, bob),
		sessionEvents("s2", at(3*time.Hour), at(3*time.Hour), 0, false, cy)...)
	v2 := append(sessionEvents("s1", at(-30*time.Hour), at(10*time.Minute), at(40*time.Minute), false, ann, bob),
		sessionEvents("s2", at(3*time.Hour), at(3*time.Hour), at(4*time.Hour), false, cy)...)
	cases := []struct {
		name    string
		recover func(t *testing.T, conn driver.Conn, sink projections.Sink)
	}{
		{"re-delivery", func(t *testing.T, _ driver.Conn, sink projections.Sink) {
			if err := sink.Write(t.Context(), batchOf(2, v2)); err != nil {
				t.Fatal(err)
			}
		}},
		{"older batch, then the batch", func(t *testing.T, _ driver.Conn, sink projections.Sink) {
			for _, b := range []projections.Batch{batchOf(1, v1), batchOf(2, v2)} {
				if err := sink.Write(t.Context(), b); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"Migrate at restart", func(t *testing.T, conn driver.Conn, _ projections.Sink) {
			if _, err := clickhouse.Migrate(t.Context(), conn, nil); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn, _ := clickhousetest.Migrated(t)
			cfg := clickhouse.SinkConfig{FlushAge: time.Millisecond}
			rep := clickhouse.NewReports(conn)
			dying := &dieBeforeRollups{Conn: conn, n: 2}
			first, err := clickhouse.NewSink(cfg, dying, nil)
			if err != nil {
				t.Fatal(err)
			}
			ms, vs := map[reports.SessionKey]domain.Meeting{}, map[reports.SessionKey]uint64{}
			applyStep(t, first, batchStep{"v1", 1, v1}, ms, vs)
			checkDurations(t, "v1", rep, ms)
			if err := first.Write(t.Context(), batchOf(2, v2)); err == nil {
				t.Fatal("the flush of v2 did not die")
			}
			stale := map[reports.SessionKey]domain.Meeting{}
			for k, m := range ms {
				stale[k] = m
			}
			for _, u := range batchOf(2, v2).Sessions {
				ms[u.Key] = u.Meeting
			}
			// The meetings rows are v2's, the roll-ups still v1's.
			q := reports.DurationQuery{AppID: "app", Bucket: reports.Day}
			got, err := rep.Durations(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			sj, _ := json.Marshal(wantDurations(stale, q))
			if string(gj) != string(sj) {
				t.Fatalf("after the crash the day report is\n %s\nwant v1's (stale) roll-ups\n %s", gj, sj)
			}

			second, err := clickhouse.NewSink(cfg, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.recover(t, conn, second)
			checkDurations(t, "recovered", rep, ms)
			checkDailyView(t, "recovered", conn, ms)
		})
	}
}

// insertRaw inserts the rows of a flush of b into empty tables directly, as
// a meetingd from before the roll-up did (no roll-up), naming only the
// columns the tables have (an older schema has fewer).
func insertRaw(t *testing.T, conn driver.Conn, b projections.Batch) {
	t.Helper()
	inserts, err := clickhouse.InsertsOf(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inserts {
		if len(in.Rows) == 0 {
			continue
		}
		var cols []string
		var keep []int
		for i, c := range in.Columns {
			var n uint64
			if err := conn.QueryRow(t.Context(), `SELECT count() FROM system.columns
				WHERE database = currentDatabase() AND table = ? AND name = ?`, in.Table, c).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				cols = append(cols, c)
				keep = append(keep, i)
			}
		}
		batch, err := conn.PrepareBatch(t.Context(), "INSERT INTO "+in.Table+" ("+strings.Join(cols, ", ")+")")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range in.Rows {
			vals := make([]any, len(keep))
			for j, i := range keep {
				vals[j] = r[i]
			}
			if err := batch.Append(vals...); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
}

// migrationsAfter lists the versions of the embedded migrations after last.
func migrationsAfter(t *testing.T, last int) []int {
	t.Helper()
	all, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, m := range all {
		if m.Version > last {
			out = append(out, m.Version)
		}
	}
	return out
}

// TestRollupBackfill: Migrate on a database that an older meetingd filled
// (schema up to 0002, no roll-up) applies 0003 on and fills the roll-up from
// the meetings; rows that an older meetingd writes after the migration are
// picked up by the next Migrate (serve's start); the sink then keeps it.
func TestRollupBackfill(t *testing.T) {
	t.Parallel()
	evs, keys := corpus(21, 120)
	var first, later []domain.Event
	half := map[string]bool{}
	for _, k := range keys[:60] {
		half[k.SessionID] = true
	}
	for _, e := range evs {
		if half[e.SessionID] {
			first = append(first, e)
		} else {
			later = append(later, e)
		}
	}
	dsn := clickhousetest.DSN(t)
	conn, err := clickhouse.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := clickhouse.MigrateTo(t.Context(), conn, 2); err != nil {
		t.Fatal(err)
	}
	ms := map[reports.SessionKey]domain.Meeting{}
	record := func(b projections.Batch) {
		for _, u := range b.Sessions {
			ms[u.Key] = u.Meeting
		}
	}
	old := batchOf(1, first)
	insertRaw(t, conn, old)
	record(old)

	steps := []struct {
		name    string
		do      func(t *testing.T)
		applied []int
	}{
		{"Migrate on the old database", func(t *testing.T) {}, migrationsAfter(t, 2)},
		{"an older meetingd wrote after the migration", func(t *testing.T) {
			b := batchOf(2, later)
			insertRaw(t, conn, b)
			record(b)
		}, nil},
		{"the sink takes over", func(t *testing.T) {
			sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
			if err != nil {
				t.Fatal(err)
			}
			b := batchOf(3, evs)
			if err := sink.Write(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			record(b)
		}, nil},
	}
	rep := clickhouse.NewReports(conn)
	for _, st := range steps {
		st.do(t)
		applied, err := clickhouse.Migrate(t.Context(), conn, nil)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !slices.Equal(applied, st.applied) {
			t.Errorf("%s: Migrate applied %v, want %v", st.name, applied, st.applied)
		}
		for _, app := range []string{"app-a", "app-b"} {
			for _, b := range []reports.Bucket{reports.Hour, reports.Day, reports.Week} {
				for _, rg := range []struct{ from, to time.Time }{
					{}, {time.Unix(testBase, 0).Add(49*time.Hour + 7*time.Minute), time.Unix(testBase, 0).AddDate(0, 0, 40).Add(-3 * time.Hour)},
				} {
					q := reports.DurationQuery{AppID: app, Bucket: b, From: rg.from, To: rg.to}
					got, err := rep.Durations(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(wantDurations(ms, q))
					if string(gj) != string(wj) {
						t.Errorf("%s: Durations(%s %s %v):\n got %s\nwant %s", st.name, app, b, rg.from, gj, wj)
					}
				}
			}
		}
	}
}
