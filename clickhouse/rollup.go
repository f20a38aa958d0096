package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The report roll-up (migrations/0004_media_and_zone_rollups.sql, which
// replaced 0003's duration_rollups): one row per (app, width, bucket) with
// the sums of the duration and usage reports, recomputed from meetings
// FINAL for every bucket whose meetings rows a flush wrote or tombstoned.

// The roll-up tables: report_rollups (0004), and the day rows per UTC
// offset with the registry of offsets in use (0006).
const (
	tRollups     = "report_rollups"
	tZoneDays    = "zone_day_rollups"
	tZoneOffsets = "zone_offsets"
)

// rollupWidth is one width of roll-up rows.
type rollupWidth struct {
	seconds int64
	// uniq: the rows hold the bucket's count of distinct participants.
	uniq bool
	// sets: the rows hold the bucket's distinct participants and the quarter
	// hours of each (day rows: weeks are unions of them, and the buckets of
	// other zones are cut out of them).
	sets bool
	// zone: the rows are zone_day_rollups' rows of UTC offset offset, whose
	// buckets start at local midnight of that offset: bucket n covers
	// [n·seconds − shift, (n+1)·seconds − shift), shift = seconds + offset
	// (positive for every offset in use, so that the bucket numbers of
	// DateTimes are never negative).
	zone   bool
	offset int32
	shift  int64
}

// offsetDays is the width of the day rows of UTC offset o (seconds east).
func offsetDays(o int32) rollupWidth {
	return rollupWidth{seconds: 86400, zone: true, offset: o, shift: 86400 + int64(o)}
}

// quarter is the finest width: every zone in use has an offset of whole
// quarter hours, so every bucket boundary of any zone is a quarter hour.
const quarter = 900

var (
	quarterRows  = rollupWidth{seconds: quarter}
	hourRows     = rollupWidth{seconds: 3600, uniq: true}
	dayRows      = rollupWidth{seconds: 86400, uniq: true, sets: true}
	rollupWidths = []rollupWidth{quarterRows, hourRows, dayRows}
)

// hours is a set of quarter-hour numbers (Unix seconds / 900) per app: the
// buckets a flush touched, at the finest width.
type hours map[string]map[int64]struct{}

func (h hours) add(app string, startUnix int64) {
	set := h[app]
	if set == nil {
		set = map[int64]struct{}{}
		h[app] = set
	}
	set[floorDiv(startUnix, quarter)] = struct{}{}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// cluster is touched buckets of one app and width that one clause of a
// recompute reads: the started_at range [lo, hi) from the first to the last,
// and the buckets (numbers) themselves.
type cluster struct {
	app     string
	lo, hi  int64
	buckets []int64
}

// clusterGap is how many untouched buckets a cluster may span between two
// touched ones: a few more rows read, in exchange for fewer clauses.
const clusterGap = 8

// maxClusterBuckets bounds the bucket numbers of one clause (about 45 KB of
// SQL, under ClickHouse's default max_query_size of 256 KiB).
const maxClusterBuckets = 4096

// clusters returns, for width w, the touched buckets of h grouped into
// clusters of at most most seconds (0: unbounded), sorted by app and time.
func (h hours) clusters(w rollupWidth, most int64) []cluster {
	apps := make([]string, 0, len(h))
	for app := range h {
		apps = append(apps, app)
	}
	slices.Sort(apps)
	var out []cluster
	for _, app := range apps {
		buckets := make([]int64, 0, len(h[app]))
		for qn := range h[app] {
			buckets = append(buckets, floorDiv(qn*quarter+w.shift, w.seconds))
		}
		slices.Sort(buckets)
		buckets = slices.Compact(buckets)
		for i := 0; i < len(buckets); {
			j := i + 1
			for j < len(buckets) && j-i < maxClusterBuckets && buckets[j]-buckets[j-1] <= clusterGap+1 &&
				(most == 0 || (buckets[j]+1-buckets[i])*w.seconds <= most) {
				j++
			}
			out = append(out, cluster{app, buckets[i]*w.seconds - w.shift, (buckets[j-1]+1)*w.seconds - w.shift, buckets[i:j]})
			i = j
		}
	}
	return out
}

// listed reports whether c's clause names its buckets: when they are under
// half of its range. Otherwise every bucket of the range is recomputed (an
// untouched one gets the row it has), which is cheaper than a long list.
func (c cluster) listed(w rollupWidth) bool {
	return int64(2*len(c.buckets)) < (c.hi-c.lo)/w.seconds
}

// where is the clause that selects c's buckets: a primary-key range, and
// the bucket numbers when listed.
func (c cluster) where(w rollupWidth, sql *strings.Builder, args *[]any) {
	sql.WriteString("(app_id = ? AND started_at >= toDateTime(?) AND started_at < toDateTime(?)")
	*args = append(*args, c.app, max(c.lo, 0), min(c.hi, maxDateTime)) // (DateTime ends in 2106)
	if c.listed(w) {
		sql.WriteString(" AND intDiv(" + shifted(w) + ", " + strconv.FormatInt(w.seconds, 10) + ") IN (")
		for i, b := range c.buckets {
			if i > 0 {
				sql.WriteByte(',')
			}
			sql.WriteString(strconv.FormatInt(b, 10))
		}
		sql.WriteByte(')')
	}
	sql.WriteByte(')')
}

// size is about the bytes of c's clause.
func (c cluster) size(w rollupWidth) int {
	if c.listed(w) {
		return 160 + len(c.app) + 11*len(c.buckets)
	}
	return 100 + len(c.app)
}

// rollupColumns are the columns every recompute inserts.
const rollupColumns = `app_id, width, bucket_start, version, meetings, total_duration_seconds, max_duration_seconds,
	unique_participants, attendance_seconds, audio_seconds, video_seconds, billable_audio_minutes,
	billable_video_minutes, participants, participant_slots_lo, participant_slots_hi`

// counted is the condition of a meetings row that the reports count.
const counted = "deleted = 0 AND status IN ('ended', 'abandoned')"

// rollupSQL is the INSERT … SELECT that recomputes the w-wide buckets of
// the meetings rows matching where (conditions on the primary key only, so
// that every row of a bucket is read and collapsed by FINAL), with the
// arguments of where in args. Each bucket that has a meetings row,
// tombstones included, gets a row: meetings = 0 when none of them counts.
// Day rows read the meetings twice: once for the sums, once per
// participant for the quarter hours they attended in (a UNION ALL, grouped
// by bucket: the 18.16 subset has no JOIN).
func rollupSQL(w rollupWidth, where string, args []any) (string, []any) {
	if w.zone {
		return zoneDaySQL(w, where, args)
	}
	ws := strconv.FormatInt(w.seconds, 10)
	sums := `SELECT app_id, intDiv(toUInt32(started_at), ` + ws + `) AS b, version,
			` + counted + ` AS c, duration_seconds, total_attendance_seconds, audio_seconds, video_seconds,
			billable_audio_minutes, billable_video_minutes, participants
		FROM meetings FINAL WHERE ` + where
	head := `INSERT INTO ` + tRollups + ` (` + rollupColumns + `)
	SELECT app_id, toUInt32(` + ws + `), toDateTime(b * ` + ws + `, 'UTC'), max(version), `
	if !w.sets {
		uniq := "toUInt64(0)"
		if w.uniq {
			uniq = "uniqExactArray(if(c, participants, emptyArrayString()))"
		}
		return head + `toUInt64(countIf(c)),
		toUInt64(sumIf(duration_seconds, c)), toUInt64(maxIf(duration_seconds, c)), ` + uniq + `,
		toUInt64(sumIf(total_attendance_seconds, c)), toUInt64(sumIf(audio_seconds, c)), toUInt64(sumIf(video_seconds, c)),
		toUInt64(sumIf(billable_audio_minutes, c)), toUInt64(sumIf(billable_video_minutes, c)),
		emptyArrayString(), emptyArrayUInt64(), emptyArrayUInt64()
	FROM (` + sums + `)
	GROUP BY app_id, b`, args
	}
	// The rows of both halves: (app_id, b, version, n, d, a, au, vi, ba, bv, is_p, p, lo, hi),
	// constants materialised (18.16's UNION ALL wants the same constness in
	// every half).
	return head + `toUInt64(sum(n)), toUInt64(sum(d)), toUInt64(max(d)), toUInt64(length(ps)),
		toUInt64(sum(a)), toUInt64(sum(au)), toUInt64(sum(vi)), toUInt64(sum(ba)), toUInt64(sum(bv)),
		arrayMap(x -> x.1, groupArrayIf(tuple(p, lo, hi), is_p = 1) AS ps), arrayMap(x -> x.2, ps), arrayMap(x -> x.3, ps)
	FROM (
		SELECT app_id, b, version, toUInt64(c) AS n, if(c, duration_seconds, toUInt64(0)) AS d,
			if(c, total_attendance_seconds, toUInt64(0)) AS a, if(c, audio_seconds, toUInt64(0)) AS au,
			if(c, video_seconds, toUInt64(0)) AS vi, if(c, billable_audio_minutes, toUInt64(0)) AS ba,
			if(c, billable_video_minutes, toUInt64(0)) AS bv, materialize(toUInt8(0)) AS is_p, materialize('') AS p,
			materialize(toUInt64(0)) AS lo, materialize(toUInt64(0)) AS hi
		FROM (` + sums + `)
		UNION ALL
		SELECT app_id, b, materialize(toUInt64(0)), materialize(toUInt64(0)), materialize(toUInt64(0)),
			materialize(toUInt64(0)), materialize(toUInt64(0)), materialize(toUInt64(0)), materialize(toUInt64(0)),
			materialize(toUInt64(0)), materialize(toUInt8(1)), p, groupBitOr(if(s < 64, bitShiftLeft(toUInt64(1), s % 64), toUInt64(0))),
			groupBitOr(if(s >= 64, bitShiftLeft(toUInt64(1), s % 64), toUInt64(0)))
		FROM (SELECT app_id, intDiv(toUInt32(started_at), ` + ws + `) AS b,
				intDiv(toUInt32(started_at) % ` + ws + `, ` + strconv.Itoa(quarter) + `) AS s, participants
			FROM meetings FINAL WHERE (` + where + `) AND ` + counted + `)
		ARRAY JOIN participants AS p
		GROUP BY app_id, b, p
	)
	GROUP BY app_id, b`, append(append([]any{}, args...), args...)
}

// shifted is the expression of started_at's Unix seconds plus w's shift.
func shifted(w rollupWidth) string {
	if w.shift == 0 {
		return "toUInt32(started_at)"
	}
	return "(toUInt32(started_at) + " + strconv.FormatInt(w.shift, 10) + ")"
}

// zoneDaySQL is rollupSQL for the day rows of a UTC offset: the sums and
// the distinct participants of each local day (weeks and months in a zone
// of that offset are unions of them), in one pass over the meetings. The
// 1970 day that starts before the epoch is stored at 0.
func zoneDaySQL(w rollupWidth, where string, args []any) (string, []any) {
	ws := strconv.FormatInt(w.seconds, 10)
	return `INSERT INTO ` + tZoneDays + ` (` + zoneDayColumns + `)
	SELECT app_id, toInt32(` + strconv.FormatInt(int64(w.offset), 10) + `),
		toDateTime(greatest(toInt64(b) * ` + ws + ` - ` + strconv.FormatInt(w.shift, 10) + `, 0), 'UTC'), max(version),
		toUInt64(countIf(c)), toUInt64(sumIf(duration_seconds, c)), toUInt64(maxIf(duration_seconds, c)), toUInt64(length(ps)),
		toUInt64(sumIf(total_attendance_seconds, c)), toUInt64(sumIf(audio_seconds, c)), toUInt64(sumIf(video_seconds, c)),
		toUInt64(sumIf(billable_audio_minutes, c)), toUInt64(sumIf(billable_video_minutes, c)),
		groupUniqArrayArray(if(c, participants, emptyArrayString())) AS ps
	FROM (SELECT app_id, intDiv(` + shifted(w) + `, ` + ws + `) AS b, version,
			` + counted + ` AS c, duration_seconds, total_attendance_seconds, audio_seconds, video_seconds,
			billable_audio_minutes, billable_video_minutes, participants
		FROM meetings FINAL WHERE ` + where + `)
	GROUP BY app_id, b`, args
}

// zoneDayColumns are the columns of a zone_day_rollups recompute.
const zoneDayColumns = `app_id, offset_seconds, bucket_start, version, meetings, total_duration_seconds,
	max_duration_seconds, unique_participants, attendance_seconds, audio_seconds, video_seconds,
	billable_audio_minutes, billable_video_minutes, participants`

// maxClauses bounds the clusters one recompute statement names.
const maxClauses = 32

// recomputeRollups rewrites the roll-up rows of every bucket of every width
// that h touches, the day rows of every registered offset first (see
// offsetWidths): one statement per width, more when the touched buckets
// make more than maxClauses clusters or maxBytes of SQL. maxSeconds > 0
// bounds the time one statement covers (the memory of a backfill).
func recomputeRollups(ctx context.Context, conn Execer, h hours, maxBytes int, maxSeconds int64) (int, error) {
	if len(h) == 0 {
		return 0, nil
	}
	widths, err := offsetWidths(ctx, conn)
	if err != nil {
		return 0, err
	}
	return recompute(ctx, conn, h, append(widths, rollupWidths...), maxBytes, maxSeconds)
}

// offsetWidths returns the widths of the day rows of every registered
// offset, ready or not (a backfill in progress counts on the flushes to
// keep the days it has done up to date). A flush reads them after its
// meetings rows are in, and a backfill reads the meetings after its offset
// is registered, so every day of a registered offset is recomputed after
// every write to it by one or the other.
func offsetWidths(ctx context.Context, conn Execer) ([]rollupWidth, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT offset_seconds FROM "+tZoneOffsets+" ORDER BY offset_seconds")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tZoneOffsets, err)
	}
	defer rows.Close()
	var out []rollupWidth
	for rows.Next() {
		var o int32
		if err := rows.Scan(&o); err != nil {
			return nil, fmt.Errorf("read %s: %w", tZoneOffsets, err)
		}
		if o != 0 && validOffset(o) {
			out = append(out, offsetDays(o))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", tZoneOffsets, err)
	}
	return out, nil
}

// validOffset reports whether o (seconds east of UTC) is an offset day rows
// are kept for: whole quarter hours (every offset in use today; a flush
// knows the quarter hours it touched, not the seconds), within a day of UTC.
func validOffset(o int32) bool { return o%quarter == 0 && o > -86400 && o < 86400 }

// recompute rewrites the rows of the buckets of widths that h touches.
func recompute(ctx context.Context, conn Execer, h hours, widths []rollupWidth, maxBytes int, maxSeconds int64) (int, error) {
	statements := 0
	for _, w := range widths {
		cs := h.clusters(w, maxSeconds)
		for len(cs) > 0 {
			var where strings.Builder
			var args []any
			n, covered, size := 0, int64(0), 0
			for n < len(cs) {
				c := cs[n]
				if n > 0 && (n == maxClauses || size+c.size(w) > maxBytes || (maxSeconds > 0 && covered+c.hi-c.lo > maxSeconds)) {
					break
				}
				if n > 0 {
					where.WriteString(" OR ")
				}
				c.where(w, &where, &args)
				covered += c.hi - c.lo
				size += c.size(w)
				n++
			}
			sql, all := rollupSQL(w, where.String(), args)
			if err := conn.Exec(ctx, sql, all...); err != nil {
				if w.zone {
					return statements, fmt.Errorf("recompute %s (offset %ds): %w", tZoneDays, w.offset, err)
				}
				return statements, fmt.Errorf("recompute %s (width %ds): %w", tRollups, w.seconds, err)
			}
			statements++
			cs = cs[n:]
		}
	}
	return statements, nil
}

// backfillSeconds bounds the time one backfill statement covers (per app
// and width): about a month of buckets, so that a long history is not
// aggregated in one GROUP BY.
const backfillSeconds = 32 * 86400

// RepairRollups brings the report roll-up up to date with the meetings
// table: it recomputes every bucket holding a meetings row whose version is
// at least the newest version the roll-up has seen. On a database migrated
// from before the roll-up (empty roll-up) that is every bucket: the
// backfill. Otherwise it covers the rows that a flush cut off between its
// rows and its roll-ups wrote, and rows written by an older meetingd that
// does not maintain the roll-up; normally it is one batch's buckets. Migrate
// runs it (so `meetingd migrate` and `serve` do), after the migrations.
// It is idempotent and may run beside a Sink.
func RepairRollups(ctx context.Context, conn Execer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	var (
		rowsN  uint64
		newest uint64
	)
	rows, err := conn.Query(ctx, "SELECT count(), max(version) FROM "+tRollups)
	if err != nil {
		return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
	}
	if rows.Next() {
		if err := rows.Scan(&rowsN, &newest); err != nil {
			rows.Close()
			return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
	}
	q := "SELECT DISTINCT app_id, intDiv(toUInt32(started_at), " + strconv.Itoa(quarter) + ") FROM meetings"
	var args []any
	if rowsN > 0 {
		q += " WHERE version >= ?"
		args = append(args, newest)
	}
	rows, err = conn.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
	}
	h := hours{}
	n := 0
	for rows.Next() {
		var (
			app string
			qn  uint32
		)
		if err := rows.Scan(&app, &qn); err != nil {
			rows.Close()
			return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
		}
		h.add(app, int64(qn)*quarter)
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
	}
	if n == 0 {
		return nil
	}
	statements, err := recomputeRollups(ctx, conn, h, defaultQueryBytes, backfillSeconds)
	if err != nil {
		return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
	}
	log.Info("clickhouse report roll-ups recomputed", "quarter_hours", n, "statements", statements,
		"backfill", rowsN == 0, "took", time.Since(start))
	return nil
}
