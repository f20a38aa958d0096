package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/meetingd/meetingd/reports"
)

// DeleteSessions deletes every row of the sessions (retention, package
// retention) from meetingd's tables and recomputes the duration roll-up
// buckets they were counted in, so that totals drop them:
//
//  1. the rows of every row table, by ALTER TABLE … DELETE mutations (which
//     rewrite the parts; a lightweight DELETE would only mark the rows),
//     awaited;
//  2. the roll-up rows of every bucket the sessions' heads name (quarter-hour,
//     hour and day rows; hour and day rows list participants), by a mutation,
//     awaited, then those buckets recomputed from meetings FINAL (a bucket
//     left without meetings gets no row);
//  3. the sessions' heads (session_versions) last, so that a run cut off
//     before the end finds the buckets again when it is repeated.
//
// Idempotent: a repeated call deletes nothing more and recomputes the same
// buckets. Between 2 and its recompute the report reads a bucket without
// its roll-up row (lower totals, for the seconds the statements take).
func (s *Sink) DeleteSessions(ctx context.Context, keys []reports.SessionKey) error {
	if len(keys) == 0 {
		return nil
	}
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	heads, err := s.readHeads(ctx, keys)
	if err != nil {
		return fmt.Errorf("clickhouse: delete sessions: %w", err)
	}
	touched := hours{}
	byApp := map[string][]string{}
	for _, k := range keys {
		byApp[k.AppID] = append(byApp[k.AppID], k.SessionID)
		if h := heads[k]; h != nil {
			if !h.startedAt.IsZero() {
				touched.add(k.AppID, h.startedAt.Unix())
			}
			for _, st := range h.keys.starts {
				touched.add(k.AppID, st.Unix())
			}
		}
	}
	apps := make([]string, 0, len(byApp))
	for app := range byApp {
		apps = append(apps, app)
	}
	slices.Sort(apps)
	rowNames := make([]string, 0, len(rowTables))
	for _, t := range rowTables {
		rowNames = append(rowNames, t.name)
	}
	for _, app := range apps {
		if err := s.deleteSessionRows(ctx, app, byApp[app], rowNames); err != nil {
			return fmt.Errorf("clickhouse: delete sessions: %w", err)
		}
	}
	if err := s.deleteRollups(ctx, touched); err != nil {
		return fmt.Errorf("clickhouse: delete sessions: %w", err)
	}
	if _, err := recomputeRollups(ctx, s.conn, touched, s.cfg.QueryBytes, 0); err != nil {
		return fmt.Errorf("clickhouse: delete sessions: %w", err)
	}
	for _, app := range apps {
		if err := s.deleteSessionRows(ctx, app, byApp[app], []string{tHeads.name}); err != nil {
			return fmt.Errorf("clickhouse: delete sessions: %w", err)
		}
	}
	return nil
}

// rollupDeleteBuckets bounds the bucket numbers of one roll-up DELETE.
const rollupDeleteBuckets = 2048

// deleteRollups deletes the roll-up rows of the buckets of h: every width
// of report_rollups, and the day rows of every registered offset in
// zone_day_rollups (recomputeRollups writes no row for a bucket left
// without meetings, so a row that lost its last meeting must go first).
func (s *Sink) deleteRollups(ctx context.Context, h hours) error {
	offsets, err := offsetWidths(ctx, s.conn)
	if err != nil {
		return err
	}
	for app, set := range h {
		for _, w := range append(offsets, rollupWidths...) {
			var buckets []int64
			seen := map[int64]bool{}
			for q := range set { // quarter-hour numbers
				b := floorDiv(q*quarter+w.shift, w.seconds)*w.seconds - w.shift
				if !seen[b] {
					seen[b] = true
					buckets = append(buckets, b)
				}
			}
			slices.Sort(buckets)
			table, which := tRollups, "width = "+strconv.FormatInt(w.seconds, 10)
			if w.zone {
				table, which = tZoneDays, "offset_seconds = "+strconv.FormatInt(int64(w.offset), 10)
			}
			for chunk := range slices.Chunk(buckets, rollupDeleteBuckets) {
				var list strings.Builder
				for i, b := range chunk {
					if i > 0 {
						list.WriteByte(',')
					}
					list.WriteString(strconv.FormatInt(max(b, 0), 10))
				}
				q := "ALTER TABLE " + table + " DELETE WHERE app_id = ? AND " + which +
					" AND toUInt32(bucket_start) IN (" + list.String() + ")"
				if err := s.conn.Exec(ctx, q, app); err != nil {
					return fmt.Errorf("delete from %s: %w", table, err)
				}
				if err := s.awaitMutations(ctx, table); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
