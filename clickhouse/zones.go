package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/meetingd/meetingd/reports"
)

// Buckets of any zone (docs/adr/0016). The bucket starts of the range are
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
	var out []zoneRow
	for i := 0; i < len(starts); {
		j := i + 1
		for j < len(starts) && j-i < chunkBuckets && starts[j]-starts[i] < chunkDays*86400 {
			j++
		}
		end := rg.hi
		if j < len(starts) {
			end = starts[j]
		}
		rows, err := r.zoneChunk(ctx, app, starts[i:j], max(rg.lo, starts[i]), end)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		i = j
	}
	return out, nil
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

// zoneChunk answers the buckets starts (ascending, the last one ending at or
// after hi) over started_at in [lo, hi).
func (r *Reports) zoneChunk(ctx context.Context, app string, starts []int64, lo, hi int64) ([]zoneRow, error) {
	if lo >= hi {
		return nil, nil
	}
	// A row's bucket is its 1-based index in starts: the count of starts at
	// or before its time (the literal clamps a start before 1970 to 0, which
	// no started_at precedes).
	arr := clampedStarts(starts)
	key := func(col string) string {
		return "toUInt32(arrayCount(x -> x <= toUInt32(" + col + "), " + arr + "))"
	}
	// [a, z): the whole quarter hours of [lo, hi), read from the roll-up;
	// the rest from the meetings table.
	a := ceilTo(lo, quarter)
	z := floorDiv(hi, quarter) * quarter
	type span struct{ lo, hi int64 }
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
	var sums, people []string
	var sumArgs, peopleArgs []any
	if a < z {
		sums = append(sums, `SELECT `+key("bucket_start")+` AS k, meetings AS m, total_duration_seconds AS t,
			max_duration_seconds AS mx, attendance_seconds AS at, audio_seconds AS au, video_seconds AS vi,
			billable_audio_minutes AS ba, billable_video_minutes AS bv
			FROM `+tRollups+` FINAL WHERE app_id = ? AND width = `+strconv.Itoa(quarter)+`
			AND bucket_start >= toDateTime(?) AND bucket_start < toDateTime(?)`)
		sumArgs = append(sumArgs, app, a, z)
		d0 := floorDiv(a, 86400)
		keys, los, his := dayMasks(starts, a, z)
		people = append(people, `SELECT p, toUInt32(arrayJoin(arrayFilter((k, l, h) -> bitAnd(ml, l) != 0 OR bitAnd(mh, h) != 0,
				kk, kl, kh))) AS k
			FROM (SELECT arrayElement(`+keys+`, i) AS kk, arrayElement(`+los+`, i) AS kl, arrayElement(`+his+`, i) AS kh,
					participants, participant_slots_lo, participant_slots_hi
				FROM (SELECT toUInt32(intDiv(toUInt32(bucket_start), 86400) - `+strconv.FormatInt(d0, 10)+` + 1) AS i,
						participants, participant_slots_lo, participant_slots_hi
					FROM `+tRollups+` FINAL WHERE app_id = ? AND width = 86400
					AND bucket_start >= toDateTime(?) AND bucket_start < toDateTime(?) AND meetings > 0))
			ARRAY JOIN participants AS p, participant_slots_lo AS ml, participant_slots_hi AS mh`)
		peopleArgs = append(peopleArgs, app, d0*86400, ceilTo(z, 86400))
	}
	if len(raw) > 0 {
		var where []string
		var args []any
		for _, s := range raw {
			where = append(where, "(started_at >= toDateTime(?) AND started_at < toDateTime(?))")
			args = append(args, s.lo, s.hi)
		}
		from := ` FROM meetings FINAL WHERE app_id = ? AND (` + strings.Join(where, " OR ") + `) AND ` + counted
		sums = append(sums, `SELECT `+key("started_at")+` AS k, materialize(toUInt64(1)) AS m, duration_seconds AS t,
			duration_seconds AS mx, total_attendance_seconds AS at, audio_seconds AS au, video_seconds AS vi,
			billable_audio_minutes AS ba, billable_video_minutes AS bv`+from)
		sumArgs = append(append(sumArgs, app), args...)
		people = append(people, `SELECT arrayJoin(participants) AS p, `+key("started_at")+` AS k`+from)
		peopleArgs = append(append(peopleArgs, app), args...)
	}

	byStart := map[uint32]*zoneRow{}
	var order []uint32
	rows, err := r.conn.Query(ctx, `SELECT k, sum(m) AS n, sum(t), max(mx), sum(at), sum(au), sum(vi), sum(ba), sum(bv)
		FROM (`+strings.Join(sums, " UNION ALL ")+`) GROUP BY k HAVING n > 0 ORDER BY k`, sumArgs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			zr zoneRow
			k  uint32
		)
		if err := rows.Scan(&k, &zr.meetings, &zr.total, &zr.maxDuration, &zr.attendance,
			&zr.audio, &zr.video, &zr.billAudio, &zr.billVideo); err != nil {
			rows.Close()
			return nil, err
		}
		if k == 0 || int(k) > len(starts) {
			rows.Close()
			return nil, fmt.Errorf("bucket %d of %d", k, len(starts))
		}
		zr.start = starts[k-1]
		byStart[k] = &zr
		order = append(order, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return nil, nil
	}
	rows, err = r.conn.Query(ctx, `SELECT k, uniqExact(p) FROM (`+strings.Join(people, " UNION ALL ")+`) GROUP BY k`, peopleArgs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k uint32
			n uint64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		if zr := byStart[k]; zr != nil {
			zr.participants = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]zoneRow, len(order))
	for i, k := range order {
		out[i] = *byStart[k]
	}
	return out, nil
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
