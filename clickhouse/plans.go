package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// tPlans is the plans table (migration 0005): one row per planned session,
// its gradebook rows as parallel arrays. A plan is only ever replaced, so
// the row needs no tombstone: the newest version is the current plan.
var tPlans = table{"plans", []string{"app_id", "session_id", "version", "deleted", "series_id", "scheduled_start",
	"scheduled_end", "status", "roster_count", "absent_count", "participants", "names", "on_roster", "verdicts",
	"scheduled_attended_seconds", "scheduled_attendance_ratios", "late_seconds", "left_early_seconds"}}

// addPlan appends the plans row of m at version v, when m has a plan.
func addPlan(rs *rowSet, app, session string, v uint64, m *domain.Meeting) {
	if m.ScheduledStart == nil || m.ScheduledEnd == nil {
		return
	}
	var series string
	if m.SeriesID != nil {
		series = *m.SeriesID
	}
	n := len(m.Participants)
	ids, names, verdicts := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	roster := make([]uint8, 0, n)
	secs, lates, earlies := make([]uint64, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
	ratios := make([]float64, 0, n)
	for _, r := range m.Participants {
		p := r.PlanAttendance
		if p == nil {
			continue
		}
		ids, names, verdicts = append(ids, r.Participant), append(names, r.Name), append(verdicts, p.Verdict)
		roster = append(roster, b2u(r.OnRoster))
		secs, ratios = append(secs, nonNeg(p.ScheduledAttendedSeconds)), append(ratios, p.ScheduledAttendanceRatio)
		lates, earlies = append(lates, nonNeg(p.LateSeconds)), append(earlies, nonNeg(p.LeftEarlySeconds))
	}
	rs.add(tPlans, app, session, v, uint8(0), series, dt(*m.ScheduledStart), dt(*m.ScheduledEnd), string(m.Status),
		uint32(m.RosterCount), uint32(m.AbsentCount), ids, names, roster, verdicts, secs, ratios, lates, earlies)
}

// Series reports one series from the plans table: the newest version of
// every session that ever named the series, kept when that version still
// names it (not FINAL with a filter on series_id, which ClickHouse may apply
// before replacing an older row).
func (r *Reports) Series(ctx context.Context, q reports.SeriesQuery) (reports.SeriesReport, error) {
	q, err := q.Normalize()
	if err != nil {
		return reports.SeriesReport{}, fmt.Errorf("clickhouse: series: %w", err)
	}
	// The newest version of each session that ever named the series (the
	// inner subqueries read two narrow columns), then those rows alone
	// through the primary key, kept when they still name it.
	rows, err := r.conn.Query(ctx, `SELECT session_id, series_id, toUInt32(scheduled_start), toUInt32(scheduled_end),
			status, participants, names, on_roster, verdicts, scheduled_attended_seconds, deleted
		FROM plans
		WHERE app_id = ? AND (session_id, version) IN (
			SELECT session_id, max(version) FROM plans
			WHERE app_id = ? AND session_id IN (SELECT session_id FROM plans WHERE app_id = ? AND series_id = ?)
			GROUP BY session_id)`, q.AppID, q.AppID, q.AppID, q.SeriesID)
	if err != nil {
		return reports.SeriesReport{}, fmt.Errorf("clickhouse: series: %w", err)
	}
	defer rows.Close()
	var entries []reports.SeriesEntry
	seen := map[string]bool{}
	for rows.Next() {
		var (
			session, series, status string
			start, end              uint32
			ids, names, verdicts    []string
			roster                  []uint8
			secs                    []uint64
			gone                    uint8
		)
		if err := rows.Scan(&session, &series, &start, &end, &status, &ids, &names, &roster, &verdicts, &secs, &gone); err != nil {
			return reports.SeriesReport{}, fmt.Errorf("clickhouse: series: %w", err)
		}
		// A re-flushed batch stores identical rows of one version: keep one.
		if series != q.SeriesID || gone != 0 || seen[session] {
			continue
		}
		seen[session] = true
		e := reports.SeriesEntry{Session: reports.SeriesSession{
			SessionID: session, ScheduledStart: time.Unix(int64(start), 0).UTC(), ScheduledEnd: time.Unix(int64(end), 0).UTC(),
			Status: domain.Status(status),
		}}
		if len(names) != len(ids) || len(roster) != len(ids) || len(verdicts) != len(ids) || len(secs) != len(ids) {
			return reports.SeriesReport{}, fmt.Errorf("clickhouse: series: session %s: arrays of unequal length", session)
		}
		e.Rows = make([]reports.SeriesRow, len(ids))
		for i := range ids {
			e.Rows[i] = reports.SeriesRow{Participant: ids[i], Name: names[i], OnRoster: roster[i] == 1,
				Verdict: verdicts[i], ScheduledAttendedSeconds: int64(secs[i])}
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return reports.SeriesReport{}, fmt.Errorf("clickhouse: series: %w", err)
	}
	rep, err := reports.BuildSeries(q.SeriesID, entries)
	if err != nil {
		return rep, fmt.Errorf("clickhouse: series %q: %w", q.SeriesID, err)
	}
	return rep, nil
}
