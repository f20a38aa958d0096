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

// The duration roll-up (migrations/0003_duration_rollups.sql): one row per
// (app, width, bucket) with the duration report's figures, recomputed from
// meetings FINAL for every bucket whose meetings rows a flush wrote or
// tombstoned.

// tRollups is the roll-up table.
const tRollups = "duration_rollups"

// rollupWidth is one width of roll-up rows.
type rollupWidth struct {
	seconds int64
	// sets: the rows hold the bucket's distinct participants (day rows, of
	// which weeks are unions).
	sets bool
}

var (
	hourRows     = rollupWidth{3600, false}
	dayRows      = rollupWidth{86400, true}
	rollupWidths = []rollupWidth{hourRows, dayRows}
)

// hours is a set of hour numbers (Unix seconds / 3600) per app: the buckets
// a flush touched, at the finest width.
type hours map[string]map[int64]struct{}

func (h hours) add(app string, startUnix int64) {
	set := h[app]
	if set == nil {
		set = map[int64]struct{}{}
		h[app] = set
	}
	set[floorDiv(startUnix, 3600)] = struct{}{}
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
		for hr := range h[app] {
			buckets = append(buckets, floorDiv(hr*3600, w.seconds))
		}
		slices.Sort(buckets)
		buckets = slices.Compact(buckets)
		for i := 0; i < len(buckets); {
			j := i + 1
			for j < len(buckets) && j-i < maxClusterBuckets && buckets[j]-buckets[j-1] <= clusterGap+1 &&
				(most == 0 || (buckets[j]+1-buckets[i])*w.seconds <= most) {
				j++
			}
			out = append(out, cluster{app, buckets[i] * w.seconds, (buckets[j-1] + 1) * w.seconds, buckets[i:j]})
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
		sql.WriteString(" AND intDiv(toUInt32(started_at), " + strconv.FormatInt(w.seconds, 10) + ") IN (")
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

// rollupSQL is the INSERT … SELECT that recomputes the w-wide buckets of
// the meetings rows matching where (conditions on the primary key only, so
// that every row of a bucket is read and collapsed by FINAL). Each bucket
// that has a meetings row, tombstones included, gets a row: meetings = 0
// when none of them counts.
func rollupSQL(w rollupWidth, where string) string {
	uniq := "uniqExactArray(if(c, participants, emptyArrayString()))"
	set := "emptyArrayString()"
	if w.sets {
		set = "groupUniqArrayArray(if(c, participants, emptyArrayString())) AS ps"
		uniq = "toUInt64(length(ps))"
	}
	ws := strconv.FormatInt(w.seconds, 10)
	return `INSERT INTO ` + tRollups + ` (app_id, width, bucket_start, version, meetings, total_duration_seconds,
		max_duration_seconds, unique_participants, attendance_seconds, participants)
	SELECT app_id, toUInt32(` + ws + `), toDateTime(b * ` + ws + `, 'UTC'), max(version), toUInt64(countIf(c)),
		toUInt64(sumIf(duration_seconds, c)), toUInt64(maxIf(duration_seconds, c)), ` + uniq + `,
		toUInt64(sumIf(total_attendance_seconds, c)), ` + set + `
	FROM (SELECT app_id, intDiv(toUInt32(started_at), ` + ws + `) AS b, version,
			deleted = 0 AND status IN ('ended', 'abandoned') AS c, duration_seconds, total_attendance_seconds, participants
		FROM meetings FINAL WHERE ` + where + `)
	GROUP BY app_id, b`
}

// maxClauses bounds the clusters one recompute statement names.
const maxClauses = 32

// recomputeRollups rewrites the roll-up rows of every bucket of every width
// that h touches: one statement per width, more when the touched buckets
// make more than maxClauses clusters or maxBytes of SQL. maxSeconds > 0
// bounds the time one statement covers (the memory of a backfill).
func recomputeRollups(ctx context.Context, conn Execer, h hours, maxBytes int, maxSeconds int64) (int, error) {
	statements := 0
	for _, w := range rollupWidths {
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
			if err := conn.Exec(ctx, rollupSQL(w, where.String()), args...); err != nil {
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

// RepairRollups brings the duration roll-up up to date with the meetings
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
	q := "SELECT DISTINCT app_id, intDiv(toUInt32(started_at), 3600) FROM meetings"
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
			hr  uint32
		)
		if err := rows.Scan(&app, &hr); err != nil {
			rows.Close()
			return fmt.Errorf("clickhouse: repair roll-ups: %w", err)
		}
		h.add(app, int64(hr)*3600)
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
	log.Info("clickhouse duration roll-ups recomputed", "hours", n, "statements", statements,
		"backfill", rowsN == 0, "took", time.Since(start))
	return nil
}
