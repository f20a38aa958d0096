package readmodel_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// planUpdate folds a session that has only a plan (status scheduled).
func planUpdate(app, id string, start, end int64, series string, roster ...string) projections.SessionUpdate {
	f := domain.NewFacts(app, id)
	p := domain.PlanSet{Revision: 1, ScheduledStart: start, ScheduledEnd: end, SeriesID: series}
	for _, r := range roster {
		p.Roster = append(p.Roster, domain.RosterEntry{Participant: r, Name: r})
	}
	f.Apply(domain.Event{AppID: app, SessionID: id, Kind: domain.KindMeeting, Payload: p})
	return projections.SessionUpdate{Key: reports.SessionKey{AppID: app, SessionID: id}, Facts: f, Meeting: f.Meeting()}
}

func TestExpiredAndDeleteSessions(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	const day = 86400
	now := int64(1_780_000_000)
	cutoff := time.Unix(now-400*day, 0)
	writeBatch(t, s, 5,
		update("app1", "old-ended", now-500*day, "retention-gone-uid", "ann"),
		update("app1", "new-ended", now-day, "ann"),
		openUpdate("app1", "old-live", now-450*day, now-449*day, false, false),
		openUpdate("app1", "old-start-new-last", now-450*day, now-day, false, false),
		openUpdate("app1", "old-abandoned", now-450*day, now-449*day, false, true),
		update("app2", "old-ended", now-401*day, "ann"),
		planUpdate("app1", "plan-old", now-420*day, now-410*day, "course-1", "retention-roster-uid"),
		planUpdate("app1", "plan-future", now+day, now+day+3600, "course-1", "ann"),
		update("app1", "edge", now-400*day-900, "ann"), // ended exactly at the cutoff: kept
	)
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{100, []string{"app1/old-abandoned", "app1/old-ended", "app1/old-live", "app1/plan-old", "app2/old-ended"}},
		{2, nil}, // any two of them
	} {
		got, err := s.Expired(ctx, cutoff, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(got))
		for i, k := range got {
			ids[i] = k.AppID + "/" + k.SessionID
		}
		slices.Sort(ids)
		if tc.want == nil {
			if len(ids) != tc.limit {
				t.Errorf("limit %d: got %v", tc.limit, ids)
			}
			continue
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("limit %d: expired %v, want %v", tc.limit, ids, tc.want)
		}
	}
	expired, err := s.Expired(ctx, cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	for round, want := range []int{len(expired), 0} {
		n, err := s.DeleteSessions(ctx, expired)
		if err != nil || n != want {
			t.Fatalf("delete round %d: %d, %v; want %d", round, n, err, want)
		}
	}
	for _, k := range expired {
		if _, err := s.Meeting(ctx, k); !errors.Is(err, reports.ErrNotFound) {
			t.Errorf("%v after delete: %v, want not found", k, err)
		}
	}
	page, err := s.Meetings(ctx, reports.MeetingQuery{AppID: "app1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, m := range page.Meetings {
		left = append(left, m.SessionID)
	}
	slices.Sort(left)
	if want := []string{"edge", "new-ended", "old-start-new-last"}; !slices.Equal(left, want) {
		t.Errorf("meetings left %v, want %v", left, want)
	}
	if _, err := s.Meeting(ctx, reports.SessionKey{AppID: "app1", SessionID: "plan-future"}); err != nil {
		t.Errorf("the future plan: %v", err)
	}
	for _, q := range []reports.OpenQuery{{Status: domain.StatusLive}, {Status: domain.StatusAbandoned}} {
		for _, id := range openIDs(t, s, q) {
			if !strings.HasPrefix(id, "app1/old-start-new-last@") {
				t.Errorf("open index (%s) still lists %s", q.Status, id)
			}
		}
	}
	rep, err := s.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: "app1", Participant: "retention-gone-uid"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Meetings) != 0 || rep.MeetingsAttended != 0 {
		t.Errorf("attendance of a deleted meeting's participant: %+v", rep)
	}
	series, err := s.Series(ctx, reports.SeriesQuery{AppID: "app1", SeriesID: "course-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range series.Sessions {
		if e.SessionID != "plan-future" {
			t.Errorf("series still lists %s", e.SessionID)
		}
	}
	if got, err := s.Expired(ctx, cutoff, 100); err != nil || len(got) != 0 {
		t.Errorf("expired after delete: %v, %v", got, err)
	}
	if err := s.Scrub(ctx); err != nil {
		t.Fatal(err)
	}
	bytescan.None(t, dir, "retention-gone-uid", "retention-roster-uid", "old-ended", "old-live", "plan-old")
	_ = readmodel.FileName
}
