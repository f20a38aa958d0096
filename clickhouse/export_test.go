package clickhouse

import (
	"context"
	"log/slog"
	"time"

	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// InsertsOf returns what a flush of b into empty tables inserts, in order:
// per INSERT, the table, its columns and its rows.
func InsertsOf(b projections.Batch) ([]Insert, error) {
	updates := make(map[reports.SessionKey]versioned, len(b.Sessions))
	keys := make([]reports.SessionKey, 0, len(b.Sessions))
	for _, u := range b.Sessions {
		updates[u.Key] = versioned{u, b.Version}
		keys = append(keys, u.Key)
	}
	intents, rs, commits, _, err := buildFlush(keys, updates, nil)
	if err != nil {
		return nil, err
	}
	out := []Insert{{tHeads.name, tHeads.columns, intents.rows[tHeads.name]}}
	for _, t := range rowTables {
		out = append(out, Insert{t.name, t.columns, rs.rows[t.name]})
	}
	return append(out, Insert{tHeads.name, tHeads.columns, commits.rows[tHeads.name]}), nil
}

// Insert is one INSERT of a flush.
type Insert struct {
	Table   string
	Columns []string
	Rows    [][]any
}

// MigrateTo applies the migrations up to version last, without the roll-up
// repair: a database as an older meetingd left it.
func MigrateTo(ctx context.Context, conn Migrator, last int) ([]int, error) {
	return migrateTo(ctx, conn, slog.New(slog.DiscardHandler), last)
}

// DurationPlan is how Durations splits a query's range: the roll-up rows of
// width Unit in [RollLo, RollHi) (to the end when RollOpen; none unless
// Roll) and the ranges of started_at read from the meetings table ([lo, hi);
// hi = -1: open).
type DurationPlan struct {
	Unit           int64
	Roll, RollOpen bool
	RollLo, RollHi int64
	Raw            [][2]int64
}

// PlanOf returns the plan of q (ok false when the range is empty).
func PlanOf(q reports.DurationQuery) (DurationPlan, bool) {
	_, _, unit, _ := bucketSQL(q.Bucket, "")
	rg := rangeOf(q.From, q.To)
	if rg.empty {
		return DurationPlan{}, false
	}
	p := planDurations(rg, unit.seconds)
	out := DurationPlan{Unit: unit.seconds, Roll: p.roll, RollOpen: p.rollOpen, RollLo: p.rollLo, RollHi: p.rollHi}
	for _, r := range p.raw {
		hi := r.hi
		if r.open {
			hi = -1
		}
		out.Raw = append(out.Raw, [2]int64{r.lo, hi})
	}
	return out, true
}

// WaitBackfills waits for the zone day-row backfills r has started.
func WaitBackfills(r *Reports) { r.wg.Wait() }

// FastDays returns the starts of the local days of loc in [from, to) that
// a report answers from day rows per offset (whole days, 24 hours long, of
// a ready offset); asking starts the backfill of offsets not yet ready.
func FastDays(ctx context.Context, r *Reports, loc *time.Location, from, to time.Time) ([]time.Time, error) {
	days, err := r.fastDays(ctx, loc, from.Unix(), to.Unix())
	var out []time.Time
	for _, d := range days {
		out = append(out, time.Unix(d.start, 0).In(loc))
	}
	return out, err
}
