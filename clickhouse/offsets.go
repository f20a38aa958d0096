package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/meetingd/meetingd/reports"
)

// Day rows per UTC offset in use (migrations/0006, docs/adr/0022): a zone's
// local day that has one offset o all day long and lasts 86,400 s is the
// day row of o that starts at its midnight. The reports find the offsets a
// query's whole days need; an offset not yet ready is registered in
// zone_offsets and backfilled in the background while the query (and those
// after it, until the backfill is done) take the quarter-hour path of
// zones.go. From then on every flush keeps its rows up to date
// (recomputeRollups). Offset 0 reads report_rollups' UTC day rows.

// readyOffsets returns which of want have complete day rows (0 always has),
// and starts the backfill of each that is neither ready nor being
// backfilled by r. A ready offset is remembered: it never stops being ready
// (Reset empties the rows, but the replay that follows rebuilds them).
func (r *Reports) readyOffsets(ctx context.Context, want []int32) (map[int32]bool, error) {
	out := map[int32]bool{0: true}
	var unknown []int32
	r.mu.Lock()
	for _, o := range want {
		switch {
		case o == 0:
		case r.ready[o]:
			out[o] = true
		case !r.backfilling[o]:
			unknown = append(unknown, o)
		}
	}
	r.mu.Unlock()
	if len(unknown) == 0 {
		return out, nil
	}
	registered, err := registeredOffsets(ctx, r.conn)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range unknown {
		if registered[o] {
			r.ready[o] = true
			out[o] = true
			continue
		}
		if r.backfilling[o] || r.closed {
			continue
		}
		r.backfilling[o] = true
		r.wg.Add(1)
		go r.backfill(o)
	}
	return out, nil
}

// backfill fills the day rows of offset o and marks it ready.
func (r *Reports) backfill(o int32) {
	defer r.wg.Done()
	start := time.Now()
	days, err := backfillOffset(r.bg, r.conn, o)
	r.mu.Lock()
	delete(r.backfilling, o)
	if err == nil {
		r.ready[o] = true
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Error("clickhouse zone day rows: backfill failed; the next query of the offset retries",
			"offset_seconds", o, "err", err)
		return
	}
	r.log.Info("clickhouse zone day rows ready", "offset_seconds", o, "days", days, "took", time.Since(start))
}

// backfillOffset registers offset o (not ready), recomputes the day rows of
// o of every day that has a meetings row, and marks o ready. From the
// registration on, every flush recomputes the days of o it touches, so the
// rows are complete once this is done (see offsetWidths).
func backfillOffset(ctx context.Context, conn Execer, o int32) (int, error) {
	if o == 0 || !validOffset(o) {
		return 0, fmt.Errorf("clickhouse: offset %d s has no day rows", o)
	}
	lit := strconv.FormatInt(int64(o), 10)
	if err := conn.Exec(ctx, "INSERT INTO "+tZoneOffsets+" (offset_seconds, ready) SELECT toInt32("+lit+"), toUInt8(0)"); err != nil {
		return 0, fmt.Errorf("clickhouse: register offset %d: %w", o, err)
	}
	w := offsetDays(o)
	rows, err := conn.Query(ctx, "SELECT DISTINCT app_id, intDiv("+shifted(w)+", 86400) FROM meetings")
	if err != nil {
		return 0, fmt.Errorf("clickhouse: backfill offset %d: %w", o, err)
	}
	h := hours{}
	n := 0
	for rows.Next() {
		var (
			app string
			day uint64
		)
		if err := rows.Scan(&app, &day); err != nil {
			rows.Close()
			return 0, fmt.Errorf("clickhouse: backfill offset %d: %w", o, err)
		}
		h.add(app, int64(day)*86400-w.shift)
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("clickhouse: backfill offset %d: %w", o, err)
	}
	if _, err := recompute(ctx, conn, h, []rollupWidth{w}, defaultQueryBytes, backfillSeconds); err != nil {
		return 0, fmt.Errorf("clickhouse: backfill offset %d: %w", o, err)
	}
	if err := conn.Exec(ctx, "INSERT INTO "+tZoneOffsets+" (offset_seconds, ready) SELECT toInt32("+lit+"), toUInt8(1)"); err != nil {
		return 0, fmt.Errorf("clickhouse: mark offset %d ready: %w", o, err)
	}
	return n, nil
}

// registeredOffsets returns the registered offsets: true when ready.
func registeredOffsets(ctx context.Context, conn Execer) (map[int32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT offset_seconds, max(ready) FROM "+tZoneOffsets+" GROUP BY offset_seconds")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tZoneOffsets, err)
	}
	defer rows.Close()
	out := map[int32]bool{}
	for rows.Next() {
		var (
			o     int32
			ready uint8
		)
		if err := rows.Scan(&o, &ready); err != nil {
			return nil, fmt.Errorf("read %s: %w", tZoneOffsets, err)
		}
		out[o] = ready == 1
	}
	return out, rows.Err()
}

// Close stops the backfills r runs and waits for them (a stopped backfill
// leaves its offset registered but not ready: the next query of it starts
// over).
func (r *Reports) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.stop()
	r.wg.Wait()
	return nil
}

// fastDay is a whole local day of a query's range that the day rows of its
// offset answer.
type fastDay struct {
	start  int64
	offset int32
}

// fastDays returns the local days of loc in [lo, hi) that are whole (in the
// range), 86,400 s long with one offset o, and whose o is ready, in
// ascending order. Hour buckets have none.
func (r *Reports) fastDays(ctx context.Context, loc *time.Location, lo, hi int64) ([]fastDay, error) {
	var cands []fastDay
	var offsets []int32
	s, _ := reports.BucketStart(reports.Day, time.Unix(lo, 0), loc)
	for s.Unix() < hi {
		e, _ := reports.NextBucket(reports.Day, s)
		su, eu := s.Unix(), e.Unix()
		_, o1 := s.Zone()
		_, o2 := e.Add(-time.Second).Zone()
		if su >= lo && eu <= hi && eu-su == 86400 && o1 == o2 && validOffset(int32(o1)) && (su+int64(o1))%86400 == 0 {
			cands = append(cands, fastDay{su, int32(o1)})
			if !slices.Contains(offsets, int32(o1)) {
				offsets = append(offsets, int32(o1))
			}
		}
		s = e
	}
	if len(cands) == 0 {
		return nil, nil
	}
	ready, err := r.readyOffsets(ctx, offsets)
	if err != nil {
		return nil, err
	}
	out := cands[:0]
	for _, d := range cands {
		if ready[d.offset] {
			out = append(out, d)
		}
	}
	return out, nil
}
