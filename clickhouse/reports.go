package clickhouse

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// Reports is the ClickHouse implementation of reports.Store: it reads
// the tables the Sink writes, through FINAL and without tombstones
// (deleted = 0). It backfills the day rows of a UTC offset that a zone
// report needs in the background (offsets.go); Close stops that. Safe for
// concurrent use.
type Reports struct {
	conn Conn
	log  *slog.Logger
	bg   context.Context // the backfills'
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu          sync.Mutex
	ready       map[int32]bool // offsets whose day rows are complete
	backfilling map[int32]bool
	closed      bool
}

var _ reports.Store = (*Reports)(nil)

// ReportsOption configures NewReports.
type ReportsOption func(*Reports)

// ReportsLog sends the reports' log (the backfills of zone day rows) to
// log; without it, the log is discarded.
func ReportsLog(log *slog.Logger) ReportsOption {
	return func(r *Reports) {
		if log != nil {
			r.log = log
		}
	}
}

// NewReports returns the reports of the migrated database of conn. Close
// it: it stops the backfills of zone day rows it started.
func NewReports(conn Conn, opts ...ReportsOption) *Reports {
	bg, stop := context.WithCancel(context.Background())
	r := &Reports{conn: conn, log: slog.New(slog.DiscardHandler), bg: bg, stop: stop,
		ready: map[int32]bool{}, backfilling: map[int32]bool{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Ping reports whether ClickHouse answers.
func (r *Reports) Ping(ctx context.Context) error {
	if err := r.conn.Ping(ctx); err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	return nil
}

// Meeting returns a meeting with its participants, or reports.ErrNotFound:
// its head gives started_at, which with app and session is the meetings
// row's primary key.
func (r *Reports) Meeting(ctx context.Context, key reports.SessionKey) (domain.Meeting, error) {
	if err := key.Validate(); err != nil {
		return domain.Meeting{}, fmt.Errorf("clickhouse: meeting: %w", err)
	}
	started, found, err := r.headStarted(ctx, key)
	if err != nil {
		return domain.Meeting{}, fmt.Errorf("clickhouse: meeting %s/%s: %w", key.AppID, key.SessionID, err)
	}
	if !found {
		return domain.Meeting{}, fmt.Errorf("clickhouse: meeting %s/%s: %w", key.AppID, key.SessionID, reports.ErrNotFound)
	}
	q := `SELECT meeting, attendance FROM meetings FINAL
		WHERE app_id = ? AND started_at = toDateTime(?) AND session_id = ? AND deleted = 0`
	m, found, err := r.meetingRow(ctx, q, key.AppID, started, key.SessionID)
	if err == nil && !found {
		// Only after a flush cut off between the rows and the head (a crash):
		// the live row is elsewhere in the app until the session is rewritten.
		m, found, err = r.meetingRow(ctx, `SELECT meeting, attendance FROM meetings FINAL
			WHERE app_id = ? AND session_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1`, key.AppID, key.SessionID)
	}
	if err != nil {
		return domain.Meeting{}, fmt.Errorf("clickhouse: meeting %s/%s: %w", key.AppID, key.SessionID, err)
	}
	if !found {
		return domain.Meeting{}, fmt.Errorf("clickhouse: meeting %s/%s: %w", key.AppID, key.SessionID, reports.ErrNotFound)
	}
	return m, nil
}

// headStarted returns the started_at (Unix seconds) of the session's head.
func (r *Reports) headStarted(ctx context.Context, key reports.SessionKey) (int64, bool, error) {
	rows, err := r.conn.Query(ctx, `SELECT toUInt32(started_at) FROM session_versions FINAL
		WHERE app_id = ? AND session_id = ?`, key.AppID, key.SessionID)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, false, rows.Err()
	}
	var s uint32
	if err := rows.Scan(&s); err != nil {
		return 0, false, err
	}
	return int64(s), true, rows.Err()
}

func (r *Reports) meetingRow(ctx context.Context, q string, args ...any) (domain.Meeting, bool, error) {
	var m domain.Meeting
	rows, err := r.conn.Query(ctx, q, args...)
	if err != nil {
		return m, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return m, false, rows.Err()
	}
	var meetingJSON, peopleJSON string
	if err := rows.Scan(&meetingJSON, &peopleJSON); err != nil {
		return m, false, err
	}
	if err := json.Unmarshal([]byte(meetingJSON), &m); err != nil {
		return m, false, fmt.Errorf("decode meeting: %w", err)
	}
	var doc participantsDoc
	if err := json.Unmarshal([]byte(peopleJSON), &doc); err != nil {
		return m, false, fmt.Errorf("decode participants: %w", err)
	}
	m.Participants, m.UnmatchedParticipants = doc.Participants, doc.Unmatched
	return m, true, rows.Err()
}

// bounds are a [From, To) range of started_at in whole seconds: lo is
// inclusive, hi exclusive (hiOpen: no upper bound); empty when nothing fits.
type bounds struct {
	lo, hi int64
	hiOpen bool
	empty  bool
}

// maxDateTime is the largest DateTime (UInt32 seconds).
const maxDateTime = math.MaxUint32

func rangeOf(from, to time.Time) bounds {
	b := bounds{hiOpen: true}
	if !from.IsZero() {
		b.lo = max(ceilUnix(from), 0)
	}
	if !to.IsZero() {
		hi := ceilUnix(to)
		if hi <= maxDateTime {
			b.hi, b.hiOpen = hi, false
		}
	}
	if b.lo > maxDateTime || (!b.hiOpen && b.hi <= b.lo) {
		b.empty = true
	}
	return b
}

// ceilUnix is t in Unix seconds, rounded up: started_at ≥ t ⟺ started_at ≥ ceil(t).
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// where appends the range's conditions on col.
func (b bounds) where(col string, sql *strings.Builder, args *[]any) {
	if b.lo > 0 {
		sql.WriteString(" AND " + col + " >= toDateTime(?)")
		*args = append(*args, b.lo)
	}
	if !b.hiOpen {
		sql.WriteString(" AND " + col + " < toDateTime(?)")
		*args = append(*args, b.hi)
	}
}

// Meetings lists meetings newest first, in one query.
func (r *Reports) Meetings(ctx context.Context, q reports.MeetingQuery) (reports.MeetingPage, error) {
	page := reports.MeetingPage{Meetings: []domain.Meeting{}}
	q, err := q.Normalize()
	if err != nil {
		return page, fmt.Errorf("clickhouse: meetings: %w", err)
	}
	limit := q.Limit
	var cur *reports.Cursor
	if q.Cursor != "" {
		c, err := reports.ParseCursor(q.Cursor)
		if err != nil {
			return page, fmt.Errorf("clickhouse: meetings: %w", err)
		}
		cur = &c
	}
	if err := ctx.Err(); err != nil {
		return page, fmt.Errorf("clickhouse: meetings: %w", err)
	}
	rg := rangeOf(q.From, q.To)
	if rg.empty {
		return page, nil
	}
	// The page's keys come from a narrow scan of the range (the subquery);
	// the documents are read for those keys alone, through the primary key.
	var sub strings.Builder
	args := []any{q.AppID}
	sub.WriteString(`SELECT started_at, session_id FROM meetings FINAL WHERE app_id = ?`)
	rg.where("started_at", &sub, &args)
	if cur != nil {
		if cur.StartedUnix < 0 {
			return page, nil
		}
		sub.WriteString(" AND (started_at < toDateTime(?) OR (started_at = toDateTime(?) AND session_id < ?))")
		args = append(args, cur.StartedUnix, cur.StartedUnix, cur.SessionID)
	}
	sub.WriteString(" AND deleted = 0 AND status != 'scheduled'") // planned, not yet met: series reports only
	if q.Status != "" {
		sub.WriteString(" AND status = ?")
		args = append(args, string(q.Status))
	}
	if q.Participant != "" {
		sub.WriteString(" AND has(participants, ?)")
		args = append(args, q.Participant)
	}
	sub.WriteString(" ORDER BY started_at DESC, session_id DESC LIMIT ?")
	args = append(args, limit+1)
	sql := `SELECT session_id, toUInt32(started_at), meeting FROM meetings FINAL
		WHERE app_id = ? AND (started_at, session_id) IN (` + sub.String() + `) AND deleted = 0`
	args = append([]any{q.AppID}, args...)

	type listed struct {
		session string
		started int64
		doc     string
	}
	var keys []listed
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return page, fmt.Errorf("clickhouse: meetings: %w", err)
	}
	for rows.Next() {
		var l listed
		var s uint32
		if err := rows.Scan(&l.session, &s, &l.doc); err != nil {
			rows.Close()
			return page, fmt.Errorf("clickhouse: meetings: %w", err)
		}
		l.started = int64(s)
		keys = append(keys, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("clickhouse: meetings: %w", err)
	}
	slices.SortFunc(keys, func(a, b listed) int {
		return cmp.Or(cmp.Compare(b.started, a.started), cmp.Compare(b.session, a.session))
	})
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	for _, k := range keys {
		var m domain.Meeting
		if err := json.Unmarshal([]byte(k.doc), &m); err != nil {
			return page, fmt.Errorf("clickhouse: meetings: decode %s: %w", k.session, err)
		}
		page.Meetings = append(page.Meetings, m)
	}
	if more {
		last := keys[len(keys)-1]
		page.NextCursor = reports.Cursor{StartedUnix: last.started, SessionID: last.session}.String()
	}
	return page, nil
}

// ParticipantAttendance reports one participant across meetings from the
// attendance table, whose primary key starts with (app, participant,
// meeting_started_at): one aggregate over the range for the totals, and the
// page by keyset (the rows below the cursor, newest first, Limit + 1 of them
// to tell whether a next page exists).
func (r *Reports) ParticipantAttendance(ctx context.Context, q reports.ParticipantQuery) (reports.ParticipantReport, error) {
	rep := reports.ParticipantReport{Participant: q.Participant, Meetings: []reports.ParticipantMeeting{}}
	q, err := q.Normalize()
	if err != nil {
		return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
	}
	limit := q.Limit
	var cur *reports.Cursor
	if q.Cursor != "" {
		c, err := reports.ParseCursor(q.Cursor)
		if err != nil {
			return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
		}
		cur = &c
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
	}
	rg := rangeOf(q.From, q.To)
	if rg.empty {
		return rep, nil
	}
	var where strings.Builder
	args := []any{q.AppID, q.Participant}
	where.WriteString(` FROM attendance FINAL WHERE app_id = ? AND participant = ?`)
	rg.where("meeting_started_at", &where, &args)
	where.WriteString(" AND deleted = 0")

	if err := r.participantTotals(ctx, &rep, "SELECT sum(attended_seconds), count()"+where.String(), args...); err != nil {
		return rep, fmt.Errorf("clickhouse: participant attendance: totals: %w", err)
	}
	if cur != nil && cur.StartedUnix < 0 {
		return rep, nil // before every DateTime: nothing after it
	}

	sql := `SELECT session_id, toUInt32(meeting_started_at), attended_seconds, attendance_ratio, join_count` + where.String()
	if cur != nil {
		sql += " AND (meeting_started_at < toDateTime(?) OR (meeting_started_at = toDateTime(?) AND session_id < ?))"
		args = append(args, cur.StartedUnix, cur.StartedUnix, cur.SessionID)
	}
	sql += " ORDER BY meeting_started_at DESC, session_id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
	}
	defer rows.Close()
	var lastStarted int64
	for rows.Next() {
		var (
			pm       reports.ParticipantMeeting
			started  uint32
			attended uint64
			joins    uint32
		)
		if err := rows.Scan(&pm.SessionID, &started, &attended, &pm.AttendanceRatio, &joins); err != nil {
			return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
		}
		if len(rep.Meetings) == limit {
			rep.NextCursor = reports.Cursor{StartedUnix: lastStarted, SessionID: rep.Meetings[limit-1].SessionID}.String()
			break
		}
		pm.StartedAt = fromDT(time.Unix(int64(started), 0))
		pm.AttendedSeconds, pm.JoinCount = int64(attended), int(joins)
		rep.Meetings = append(rep.Meetings, pm)
		lastStarted = int64(started)
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("clickhouse: participant attendance: %w", err)
	}
	return rep, nil
}

// participantTotals reads the one row of the totals query into rep.
func (r *Reports) participantTotals(ctx context.Context, rep *reports.ParticipantReport, sql string, args ...any) error {
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var attended, meetings uint64
		if err := rows.Scan(&attended, &meetings); err != nil {
			return err
		}
		rep.TotalAttendedSeconds, rep.MeetingsAttended = int64(attended), int(meetings)
	}
	return rows.Err()
}

// bucketSQL is the expression of a bucket's number, computed from the
// DateTime column col, and the function from that number to the bucket's
// start (Unix seconds, UTC): integer arithmetic on the stored seconds, so
// the server's time zone does not matter. unit is the roll-up width whose
// rows make up whole buckets (weeks are unions of days).
func bucketSQL(b reports.Bucket, col string) (expr string, startOf func(n int64) int64, unit rollupWidth, ok bool) {
	switch b {
	case reports.Hour:
		return "intDiv(toUInt32(" + col + "), 3600)", func(n int64) int64 { return n * 3600 }, hourRows, true
	case reports.Day:
		return "intDiv(toUInt32(" + col + "), 86400)", func(n int64) int64 { return n * 86400 }, dayRows, true
	case reports.Week:
		// Weeks start on Monday; 1970-01-05 (345600) was one. Shifted by
		// +259200 so the dividend is never negative: floor((t-345600)/604800)
		// = intDiv(t+259200, 604800) - 1.
		return "intDiv(toUInt32(" + col + ") + 259200, 604800)", func(n int64) int64 { return (n-1)*604800 + 345600 }, dayRows, true
	}
	return "", nil, rollupWidth{}, false
}

// durationPlan splits a started_at range into the whole roll-up rows of
// width unit that it covers ([rollLo, rollHi), or to the end when rollOpen)
// and the partial units at its edges, read from the meetings table.
type durationPlan struct {
	roll           bool
	rollLo, rollHi int64
	rollOpen       bool
	raw            []rawRange
}

// rawRange is [lo, hi) of started_at, or [lo, ∞) when open.
type rawRange struct {
	lo, hi int64
	open   bool
}

func planDurations(rg bounds, unit int64) durationPlan {
	var p durationPlan
	a := (rg.lo + unit - 1) / unit * unit // the first unit start ≥ lo (lo ≥ 0)
	if rg.hiOpen {
		if a > maxDateTime {
			p.raw = append(p.raw, rawRange{lo: rg.lo, open: true})
			return p
		}
		p.roll, p.rollLo, p.rollOpen = true, a, true
		if rg.lo < a {
			p.raw = append(p.raw, rawRange{lo: rg.lo, hi: a})
		}
		return p
	}
	b := rg.hi / unit * unit // the last unit start ≤ hi
	if a >= b {
		p.raw = append(p.raw, rawRange{lo: rg.lo, hi: rg.hi})
		return p
	}
	p.roll, p.rollLo, p.rollHi = true, a, b
	if rg.lo < a {
		p.raw = append(p.raw, rawRange{lo: rg.lo, hi: a})
	}
	if b < rg.hi {
		p.raw = append(p.raw, rawRange{lo: b, hi: rg.hi})
	}
	return p
}

// Durations aggregates ended and abandoned meetings into buckets. Whole
// hours (hour buckets) or whole days (day and week buckets) inside the range
// are read from the roll-up rows (duration_rollups), which the sink keeps
// exact; only the partial hour or day at each end of an unaligned range is
// read from the meetings table. One query: both sources as rows of
// (bucket, meetings, durations, participants), summed per bucket; a week's
// distinct participants are the union of its days' sets and its edge
// meetings' participants.
func (r *Reports) Durations(ctx context.Context, q reports.DurationQuery) ([]reports.DurationBucket, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	if q.Bucket == reports.Month || !utc(q.Location) {
		return r.zoneDurations(ctx, q)
	}
	_, startOf, unit, ok := bucketSQL(q.Bucket, "")
	if !ok {
		return nil, fmt.Errorf("clickhouse: durations: bucket %q has no width", q.Bucket)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	out := []reports.DurationBucket{}
	rg := rangeOf(q.From, q.To)
	if rg.empty {
		return out, nil
	}
	plan := planDurations(rg, unit.seconds)
	var (
		parts []string
		args  []any
	)
	if plan.roll {
		expr, _, _, _ := bucketSQL(q.Bucket, "bucket_start")
		// Hour and day buckets are one roll-up row each, with its count of
		// distinct participants; week buckets union the day rows' sets.
		uniq, set := "unique_participants", "emptyArrayString()"
		if q.Bucket == reports.Week {
			uniq, set = "toUInt64(0)", "participants"
		}
		sql := `SELECT toInt64(` + expr + `) AS b, meetings AS m, total_duration_seconds AS t, max_duration_seconds AS mx,
			` + uniq + ` AS u, ` + set + ` AS p, attendance_seconds AS a
			FROM ` + tRollups + ` FINAL WHERE app_id = ? AND width = ? AND bucket_start >= toDateTime(?)`
		args = append(args, q.AppID, uint32(unit.seconds), plan.rollLo)
		if !plan.rollOpen {
			sql += " AND bucket_start < toDateTime(?)"
			args = append(args, plan.rollHi)
		}
		parts = append(parts, sql)
	}
	if len(plan.raw) > 0 {
		expr, _, _, _ := bucketSQL(q.Bucket, "started_at")
		var ranges []string
		args = append(args, q.AppID)
		for _, rr := range plan.raw {
			if rr.open {
				ranges = append(ranges, "started_at >= toDateTime(?)")
				args = append(args, rr.lo)
				continue
			}
			ranges = append(ranges, "(started_at >= toDateTime(?) AND started_at < toDateTime(?))")
			args = append(args, rr.lo, rr.hi)
		}
		parts = append(parts, `SELECT toInt64(`+expr+`) AS b, toUInt64(1) AS m, duration_seconds AS t, duration_seconds AS mx,
			toUInt64(0) AS u, participants AS p, total_attendance_seconds AS a
			FROM meetings FINAL WHERE app_id = ? AND (`+strings.Join(ranges, " OR ")+`)
			AND deleted = 0 AND status IN ('ended', 'abandoned')`)
	}
	sql := `SELECT b, sum(m) AS n, sum(t), max(mx), sum(u) + uniqExactArray(p), sum(a)
		FROM (` + strings.Join(parts, " UNION ALL ") + `)
		GROUP BY b HAVING n > 0 ORDER BY b`
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n                           int64
			count, total, maxD, uniq, a uint64
		)
		if err := rows.Scan(&n, &count, &total, &maxD, &uniq, &a); err != nil {
			return nil, fmt.Errorf("clickhouse: durations: %w", err)
		}
		out = append(out, reports.DurationBucket{
			Start: time.Unix(startOf(n), 0).In(q.Location), Meetings: int64(count), TotalDurationSeconds: int64(total),
			AvgDurationSeconds: float64(total) / float64(count), MaxDurationSeconds: int64(maxD),
			UniqueParticipants: int64(uniq), AttendanceSeconds: int64(a),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	return out, nil
}

// zoneDurations is Durations in a zone other than UTC, or by month: from
// zoneReport.
func (r *Reports) zoneDurations(ctx context.Context, q reports.DurationQuery) ([]reports.DurationBucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	rows, err := r.zoneReport(ctx, q.AppID, q.Bucket, q.Location, rangeOf(q.From, q.To))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: durations: %w", err)
	}
	out := make([]reports.DurationBucket, 0, len(rows))
	for _, zr := range rows {
		out = append(out, reports.DurationBucket{
			Start: time.Unix(zr.start, 0).In(q.Location), Meetings: int64(zr.meetings),
			TotalDurationSeconds: int64(zr.total), AvgDurationSeconds: float64(zr.total) / float64(zr.meetings),
			MaxDurationSeconds: int64(zr.maxDuration), UniqueParticipants: int64(zr.participants),
			AttendanceSeconds: int64(zr.attendance),
		})
	}
	return out, nil
}

// Usage sums the audio and video seconds and billable minutes of ended and
// abandoned meetings into buckets of q.Location: from zoneReport, whatever
// the zone (the meetings rows carry each meeting's billable minutes, the
// sums of its rows' rounded minutes).
func (r *Reports) Usage(ctx context.Context, q reports.UsageQuery) ([]reports.UsageBucket, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: usage: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: usage: %w", err)
	}
	rows, err := r.zoneReport(ctx, q.AppID, q.Bucket, q.Location, rangeOf(q.From, q.To))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: usage: %w", err)
	}
	out := make([]reports.UsageBucket, 0, len(rows))
	for _, zr := range rows {
		out = append(out, reports.UsageBucket{
			Start: time.Unix(zr.start, 0).In(q.Location), Meetings: int64(zr.meetings),
			Participants: int64(zr.participants), AttendanceSeconds: int64(zr.attendance),
			AudioSeconds: int64(zr.audio), VideoSeconds: int64(zr.video),
			BillableAudioMinutes: int64(zr.billAudio), BillableVideoMinutes: int64(zr.billVideo),
		})
	}
	return out, nil
}
