package api_test

import (
	"context"

	"github.com/meetingd/meetingd/reports"
)

// Series answers from the fake's meetings, by the contract's rules
// (reports.BuildSeries over the meetings whose plan names the series).
func (f *fakeReports) Series(ctx context.Context, q reports.SeriesQuery) (reports.SeriesReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != nil {
		return reports.SeriesReport{}, f.failWith
	}
	var entries []reports.SeriesEntry
	for k, m := range f.meetings {
		if k.AppID != q.AppID || m.SeriesID == nil || *m.SeriesID != q.SeriesID {
			continue
		}
		entries = append(entries, reports.SeriesEntry{
			Session: reports.SeriesSession{SessionID: m.SessionID, ScheduledStart: *m.ScheduledStart,
				ScheduledEnd: *m.ScheduledEnd, Status: m.Status},
			Rows: reports.SeriesRows(&m),
		})
	}
	return reports.BuildSeries(q.SeriesID, entries)
}
