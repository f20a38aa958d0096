package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/meetingd/meetingd/reports"
)

// Buckets of any zone (docs/adr/0018). The bucket starts of the range are
// computed in Go with reports.BucketStart/NextBucket and handed to
// ClickHouse as a sorted array; since every zone in use has an offset of
// whole quarter hours, every bucket is a union of quarter hours, so:
//   - the sums come from the quarter-hour roll-up rows (each row falls in the
//     bucket of its start) and, for the partial quarter hours at the range's
//     edges, from the meetings table;
//   - the distinct participants come from the day rows, which hold each
//     participant's quarter hours of that UTC day as a 96-bit mask: the day's
//     quarter hours are cut into the buckets they fall in (masks computed in
//     Go), and a participant counts in every bucket whose mask meets theirs;
//     the edge meetings add their participants directly.

// zoneRow is one bucket of a zone report: the sums of both reports.
type zoneRow struct {
	start                              int64
	index                              uint32 // in the chunk's starts, from 1
	meetings, total, maxDuration       uint64
	participants, attendance           uint64
	audio, video, billAudio, billVideo uint64
}

// Chunks bound the SQL of one query: the bucket starts and the day masks
// are literals.
const (
	chunkBuckets = 800
	chunkDays    = 400
)

// zoneReport aggregates app's ended and abandoned meetings started in rg
// into the buckets of width b in loc, in ascending order, empty buckets
// left out.
func (r *Reports) zoneReport(ctx context.Context, app string, b reports.Bucket, loc *time.Location, rg bounds) ([]zoneRow, error) {
	if rg.empty {
		return nil, nil
	}
	if rg.lo == 0 || rg.hiOpen {
		// An open end: bound the range by the app's meetings, so that the
		// buckets to name are those of the data.
		lo, hi, ok, err := r.dataBounds(ctx, app, rg)
		if err != nil || !ok {
			return nil, err
		}
		rg.lo, rg.hi, rg.hiOpen = lo, hi, false
	}
	var starts []int64
	first, ok := reports.BucketStart(b, time.Unix(rg.lo, 0), loc)
	if !ok {
		return nil, fmt.Errorf("bucket %q has no width", b)
	}
	for s := first; s.Unix() < rg.hi; s, _ = reports.NextBucket(b, s) {
		starts = append(starts, s.Unix())
	}
	var fast []fastDay
	if b != reports.Hour {
		var err error
		if fast, err = r.fastDays(ctx, loc, rg.lo, rg.hi); err != nil {
			return nil, err
		}
	}
	var out []zoneRow
	for i := 0; i < len(starts); {
		j := i + 1
		for j < len(starts) && j-i < chunkBuckets && starts[j]-starts[i] < chunkDays*86400 {
			j++
		}
		lo, hi := max(rg.lo, starts[i]), rg.hi
		if j < len(starts) {
			hi = starts[j]
		}
		// The chunk's whole days of ready offsets (bucket starts are local
		// midnights, so no day straddles two chunks), and the rest.
		var days []fastDay
		for len(fast) > 0 && fast[0].start < hi {
			days = append(days, fast[0])
			fast = fast[1:]
		}
		rows, err := r.zoneChunk(ctx, app, starts[i:j], slowSpans(lo, hi, days), days)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		i = j
	}
	return out, nil
}

// span is [lo, hi) of started_at.
type span struct{ lo, hi int64 }

// slowSpans is [lo, hi) without the days (ascending, inside it).
func slowSpans(lo, hi int64, days []fastDay) []span {
	var out []span
	at := lo
	for _, d := range days {
		if at < d.start {
			out = append(out, span{at, d.start})
		}
		at = d.start + 86400
	}
	if at < hi {
		out = append(out, span{at, hi})
	}
	return out
}

// dataBounds narrows rg to [the first, the last + 1 s] started_at of app's
// ended and abandoned meetings rows in it (without FINAL: a bound that older
// versions of a row may widen, not a count).
func (r *Reports) dataBounds(ctx context.Context, app string, rg bounds) (lo, hi int64, ok bool, err error) {
	var sql strings.Builder
	args := []any{app}
	sql.WriteString("SELECT count(), toUInt32(min(started_at)), toUInt32(max(started_at)) FROM meetings WHERE app_id = ? AND " + counted)
	rg.where("started_at", &sql, &args)
	var (
		n           uint64
		first, last uint32
	)
	rows, err := r.conn.Query(ctx, sql.String(), args...)
	if err != nil {
		return 0, 0, false, fmt.Errorf("range of %s: %w", app, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&n, &first, &last); err != nil {
			return 0, 0, false, fmt.Errorf("range of %s: %w", app, err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, false, fmt.Errorf("range of %s: %w", app, err)
	}
	if n == 0 {
		return 0, 0, false, nil
	}
	return int64(first), int64(last) + 1, true, nil
}

// zoneQuery is the parts of a chunk's two queries: sums parts yield (k, m,
// t, mx, at, au, vi, ba, bv, u, p) — bucket, meetings, the sums, and the
// bucket's distinct participants as a count u or a set p —, people parts
// (p, k) rows whose distinct p per bucket add to them.
type zoneQuery struct {
	sums, people        []string
	sumArgs, peopleArgs []any
	key                 func(col string) string
}

// zoneChunk answers the buckets starts (ascending, the last one ending at or
// after the last span or day) over started_at in the spans (by the
// quarter-hour path) and the whole days (by their offset's day rows).
func (r *Reports) zoneChunk(ctx context.Context, app string, starts []int64, spans []span, days []fastDay) ([]zoneRow, error) {
	// A row's bucket is its 1-based index in starts: the count of starts at
	// or before its time (the literal clamps a start before 1970 to 0, which
	// no started_at precedes).
	arr := clampedStarts(starts)
	q := zoneQuery{key: func(col string) string {
		return "toUInt32(arrayCount(x -> x <= toUInt32(" + col + "), " + arr + "))"
	}}
	for _, sp := range spans {
		q.slowParts(app, starts, sp.lo, sp.hi)
	}
	q.fastParts(app, starts, spans, days)
	if len(q.sums) == 0 {
		return nil, nil
	}

	// The two queries run side by side (the pool has a connection for
	// each): the report waits for the slower, not for both.
	var (
		sumRows []zoneRow
		counts  map[uint32]uint64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		sumRows, err = r.zoneSums(gctx, `SELECT k, sum(m) AS n, sum(t), max(mx), sum(at), sum(au), sum(vi), sum(ba), sum(bv),
			sum(u) + uniqExactArray(p)
			FROM (`+strings.Join(q.sums, " UNION ALL ")+`) GROUP BY k HAVING n > 0 ORDER BY k`, q.sumArgs, starts)
		return err
	})
	if len(q.people) > 0 {
		g.Go(func() error {
			var err error
			counts, err = r.zoneCounts(gctx, `SELECT k, uniqExact(p) FROM (`+strings.Join(q.people, " UNION ALL ")+`) GROUP BY k`, q.peopleArgs)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range sumRows {
		sumRows[i].participants += counts[sumRows[i].index]
	}
	return sumRows, nil
}

// Constant columns of the sums parts (materialised: 18.16's UNION ALL
// wants the same constness in every part).
const (
	zeroCount = "materialize(toUInt64(0))"
	emptySet  = "materialize(emptyArrayString())"
)

// slowParts adds the parts of [lo, hi) by the quarter-hour path: the sums
// of its whole quarter hours from their roll-up rows, its participants from
// the day rows' masks, and the partial quarter hours at its edges from the
// meetings table.
func (q *zoneQuery) slowParts(app string, starts []int64, lo, hi int64) {
	if lo >= hi {
		return
	}
	// [a, z): the whole quarter hours of [lo, hi), read from the roll-up;
	// the rest from the meetings table.
	a := ceilTo(lo, quarter)
	z := floorDiv(hi, quarter) * quarter
	var raw []span
	if a >= z {
		raw = append(raw, span{lo, hi})
	} else {
		if lo < a {
			raw = append(raw, span{lo, a})
		}
		if z < hi {
			raw = append(raw, span{z, hi})
		}
	}
	if a < z {
		q.sums = append(q.sums, `SELECT `+q.key("bucket_start")+` AS k, meetings AS m, total_duration_seconds AS t,
			max_duration_seconds AS mx, attendance_seconds AS at, audio_seconds AS au, video_seconds AS vi,
			billable_audio_minutes AS ba, billable_video_minutes AS bv, `+zeroCount+` AS u, `+emptySet+` AS p
			FROM `+tRollups+` FINAL WHERE app_id = ? AND width = `+strconv.Itoa(quarter)+`
			AND bucket_start >= toDateTime(?) AND bucket_start < toDateTime(?)`)
		q.sumArgs = append(q.sumArgs, app, a, z)
		d0 := floorDiv(a, 86400)
		keys, los, his := dayMasks(starts, a, z)
		q.people = append(q.people, `SELECT p, toUInt32(arrayJoin(arrayFilter((k, l, h) -> bitAnd(ml, l) != 0 OR bitAnd(mh, h) != 0,
				kk, kl, kh))) AS k
			FROM (SELECT arrayElement(`+keys+`, i) AS kk, arrayElement(`+los+`, i) AS kl, arrayElement(`+his+`, i) AS kh,
					participants, participant_slots_lo, participant_slots_hi
				FROM (SELECT toUInt32(intDiv(toUInt32(bucket_start), 86400) - `+strconv.FormatInt(d0, 10)+` + 1) AS i,
						participants, participant_slots_lo, participant_slots_hi
					FROM `+tRollups+` FINAL WHERE app_id = ? AND width = 86400
					AND bucket_start >= toDateTime(?) AND bucket_start < toDateTime(?) AND meetings > 0))
			ARRAY JOIN participants AS p, participant_slots_lo AS ml, participant_slots_hi AS mh`)
		q.peopleArgs = append(q.peopleArgs, app, d0*86400, ceilTo(z, 86400))
	}
	if len(raw) > 0 {
		var where []string
		var args []any
		for _, s := range raw {
			where = append(where, "(started_at >= toDateTime(?) AND started_at < toDateTime(?))")
			args = append(args, s.lo, s.hi)
		}
		from := ` FROM meetings FINAL WHERE app_id = ? AND (` + strings.Join(where, " OR ") + `) AND ` + counted
		q.sums = append(q.sums, `SELECT `+q.key("started_at")+` AS k, materialize(toUInt64(1)) AS m, duration_seconds AS t,
			duration_seconds AS mx, total_attendance_seconds AS at, audio_seconds AS au, video_seconds AS vi,
			billable_audio_minutes AS ba, billable_video_minutes AS bv, `+zeroCount+` AS u, `+emptySet+` AS p`+from)
		q.sumArgs = append(append(q.sumArgs, app), args...)
		q.people = append(q.people, `SELECT arrayJoin(participants) AS p, `+q.key("started_at")+` AS k`+from)
		q.peopleArgs = append(append(q.peopleArgs, app), args...)
	}
}

// fastParts adds the parts of the whole days read from their offset's day
// rows. A bucket made of one such day alone takes the row's count of
// distinct participants; one made of several takes the union of their sets
// (uniqExactArray); one that also has spans of the quarter-hour path adds
// its days' participants to the people query, to be counted with the
// spans'.
func (q *zoneQuery) fastParts(app string, starts []int64, spans []span, days []fastDay) {
	if len(days) == 0 {
		return
	}
	bucket := func(t int64) int { // 1-based, as the key expression
		n, _ := slices.BinarySearch(starts, t+1)
		return n
	}
	mixed := map[int]bool{}
	for _, sp := range spans {
		for k := bucket(sp.lo); k <= bucket(sp.hi-1); k++ {
			mixed[k] = true
		}
	}
	perBucket := map[int]int{}
	for _, d := range days {
		perBucket[bucket(d.start)]++
	}
	var single, several, shared []fastDay
	for _, d := range days {
		switch k := bucket(d.start); {
		case mixed[k]:
			shared = append(shared, d)
		case perBucket[k] == 1:
			single = append(single, d)
		default:
			several = append(several, d)
		}
	}
	sums := func(ds []fastDay, u, p string) {
		for _, part := range dayRowParts(app, ds) {
			q.sums = append(q.sums, `SELECT `+q.key("bucket_start")+` AS k, meetings AS m, total_duration_seconds AS t,
				max_duration_seconds AS mx, attendance_seconds AS at, audio_seconds AS au, video_seconds AS vi,
				billable_audio_minutes AS ba, billable_video_minutes AS bv, `+u+` AS u, `+p+` AS p`+part.from)
			q.sumArgs = append(q.sumArgs, part.args...)
		}
	}
	sums(single, "unique_participants", emptySet)
	sums(several, zeroCount, "participants")
	sums(shared, zeroCount, emptySet)
	for _, part := range dayRowParts(app, shared) {
		q.people = append(q.people, `SELECT arrayJoin(participants) AS p, `+q.key("bucket_start")+` AS k`+part.from)
		q.peopleArgs = append(q.peopleArgs, part.args...)
	}
}

// rowsPart is the FROM … WHERE of a query part and its arguments.
type rowsPart struct {
	from string
	args []any
}

// dayRowParts selects the day rows of days (ascending), one part per
// offset, each a primary-key range per run of consecutive days. Offset 0
// reads report_rollups' UTC day rows.
func dayRowParts(app string, days []fastDay) []rowsPart {
	var offsets []int32
	for _, d := range days {
		if !slices.Contains(offsets, d.offset) {
			offsets = append(offsets, d.offset)
		}
	}
	var out []rowsPart
	for _, o := range offsets {
		from := ` FROM ` + tZoneDays + ` FINAL WHERE app_id = ? AND offset_seconds = ` + strconv.FormatInt(int64(o), 10)
		if o == 0 {
			from = ` FROM ` + tRollups + ` FINAL WHERE app_id = ? AND width = 86400`
		}
		args := []any{app}
		var runs []string
		for i := 0; i < len(days); {
			if days[i].offset != o {
				i++
				continue
			}
			j := i + 1
			for j < len(days) && days[j].offset == o && days[j].start == days[j-1].start+86400 {
				j++
			}
			runs = append(runs, "(bucket_start >= toDateTime(?) AND bucket_start < toDateTime(?))")
			args = append(args, days[i].start, days[j-1].start+86400)
			i = j
		}
		out = append(out, rowsPart{from + ` AND (` + strings.Join(runs, " OR ") + `)`, args})
	}
	return out
}

// zoneSums reads the sums of sql's buckets (k: 1-based indexes into starts).
func (r *Reports) zoneSums(ctx context.Context, sql string, args []any, starts []int64) ([]zoneRow, error) {
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []zoneRow
	for rows.Next() {
		var zr zoneRow
		if err := rows.Scan(&zr.index, &zr.meetings, &zr.total, &zr.maxDuration, &zr.attendance,
			&zr.audio, &zr.video, &zr.billAudio, &zr.billVideo, &zr.participants); err != nil {
			return nil, err
		}
		if zr.index == 0 || int(zr.index) > len(starts) {
			return nil, fmt.Errorf("bucket %d of %d", zr.index, len(starts))
		}
		zr.start = starts[zr.index-1]
		out = append(out, zr)
	}
	return out, rows.Err()
}

// zoneCounts reads the distinct participants of sql's buckets.
func (r *Reports) zoneCounts(ctx context.Context, sql string, args []any) (map[uint32]uint64, error) {
	rows, err := r.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]uint64{}
	for rows.Next() {
		var (
			k uint32
			n uint64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// dayMasks cuts the quarter hours of [a, z) into the buckets that starts
// name, per UTC day from a's: for day i (1-based), the bucket starts it
// meets (1-based indexes into starts) and, for each, the mask of its quarter hours (bits 0–63 in lo, 64–95
// in hi). The three are ClickHouse array literals indexed by the day.
func dayMasks(starts []int64, a, z int64) (keys, los, his string) {
	var kb, lb, hb strings.Builder
	kb.WriteByte('[')
	lb.WriteByte('[')
	hb.WriteByte('[')
	bi := 0
	for d := floorDiv(a, 86400); d*86400 < z; d++ {
		if d > floorDiv(a, 86400) {
			kb.WriteByte(',')
			lb.WriteByte(',')
			hb.WriteByte(',')
		}
		var ks []int
		var ls, hs []uint64
		for s := range 86400 / quarter {
			t := d*86400 + int64(s)*quarter
			if t < a || t >= z {
				continue
			}
			for bi+1 < len(starts) && starts[bi+1] <= t {
				bi++
			}
			if len(ks) == 0 || ks[len(ks)-1] != bi+1 {
				ks = append(ks, bi+1)
				ls, hs = append(ls, 0), append(hs, 0)
			}
			if s < 64 {
				ls[len(ls)-1] |= 1 << s
			} else {
				hs[len(hs)-1] |= 1 << (s - 64)
			}
		}
		if len(ks) == 0 { // a day outside [a, z): a key no mask meets
			ks, ls, hs = []int{0}, []uint64{0}, []uint64{0}
		}
		kb.WriteString(ints(ks))
		lb.WriteString(uint64s(ls))
		hb.WriteString(uint64s(hs))
	}
	kb.WriteByte(']')
	lb.WriteByte(']')
	hb.WriteByte(']')
	return kb.String(), lb.String(), hb.String()
}

func ceilTo(n, unit int64) int64 { return -floorDiv(-n, unit) * unit }

// clampedStarts is the ClickHouse array literal of starts, each at least 0.
func clampedStarts(starts []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range starts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(max(x, 0), 10))
	}
	b.WriteByte(']')
	return b.String()
}

// ints is a ClickHouse array literal of small non-negative integers.
func ints(xs []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	b.WriteByte(']')
	return b.String()
}

// uint64s is a ClickHouse array literal of UInt64 values.
func uint64s(xs []uint64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(x, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// utc reports whether loc is UTC by name: the duration report of UTC reads
// the hour and day rows directly (any other zone takes zoneReport, which
// is correct for UTC too).
func utc(loc *time.Location) bool {
	if loc == nil || loc == time.UTC {
		return true
	}
	switch loc.String() {
	case "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu":
		return true
	}
	return false
}
