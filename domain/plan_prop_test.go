package domain_test

import (
	"testing"

	"github.com/meetingd/meetingd/domain"
)

// checkPlan verifies the plan invariants of a Meeting against the plan that
// must have won (plan nil: no plan fields at all): the rows of those who
// joined come first and carry a measure, then the absent roster members,
// sorted; counts, roster membership, thresholds and the verdict's
// precedence agree with the plan.
func checkPlan(t *testing.T, m domain.Meeting, plan *domain.PlanSet) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: "+format+"\nmeeting: %s", append(append([]any{m.SessionID}, args...), mustJSON(t, m))...)
	}
	if plan == nil {
		if m.ScheduledStart != nil || m.ScheduledEnd != nil || m.SeriesID != nil || m.RosterCount != 0 || m.AbsentCount != 0 {
			fail("plan fields without a plan")
		}
		for _, r := range m.Participants {
			if r.OnRoster || r.PlanAttendance != nil {
				fail("%s: a plan measure without a plan", r.Participant)
			}
		}
		return
	}
	if m.ScheduledStart.Unix() != plan.ScheduledStart || m.ScheduledEnd.Unix() != plan.ScheduledEnd ||
		m.RosterCount != len(plan.Roster) || (plan.SeriesID == "") != (m.SeriesID == nil) {
		fail("meeting plan fields differ from the plan")
	}
	roster := map[string]bool{}
	for _, r := range plan.Roster {
		roster[r.Participant] = true
	}
	span := plan.ScheduledEnd - plan.ScheduledStart
	absent := 0
	for i, r := range m.Participants {
		p := r.PlanAttendance
		if p == nil {
			fail("%s: no measure", r.Participant)
		}
		if r.OnRoster != roster[r.Participant] {
			fail("%s: on_roster %v", r.Participant, r.OnRoster)
		}
		if r.JoinCount == 0 {
			absent++
			if !r.OnRoster || p.Verdict != domain.VerdictAbsent || !r.FirstJoinedAt.IsZero() || r.LastLeftAt != nil {
				fail("%s: an absent row must be a roster member without times", r.Participant)
			}
			if i < m.ParticipantCount || (i > m.ParticipantCount && m.Participants[i-1].Participant >= r.Participant) {
				fail("%s: absent rows come last, sorted", r.Participant)
			}
			continue
		}
		if p.ScheduledAttendedSeconds < 0 || p.ScheduledAttendedSeconds > span || p.ScheduledAttendedSeconds > r.AttendedSeconds+span {
			fail("%s: scheduled attended %d of %d", r.Participant, p.ScheduledAttendedSeconds, span)
		}
		if p.LateSeconds != max(0, r.FirstJoinedAt.Unix()-plan.ScheduledStart) {
			fail("%s: late_seconds %d", r.Participant, p.LateSeconds)
		}
		if p.Late != (p.LateSeconds > plan.LateAfterSeconds) || p.LeftEarly != (p.LeftEarlySeconds > plan.EarlyLeaveSeconds) {
			fail("%s: late/left_early disagree with the thresholds", r.Participant)
		}
		want := domain.VerdictPresent
		switch {
		case p.ScheduledAttendanceRatio < plan.MinAttendanceRatio:
			want = domain.VerdictPartial
		case p.Late && p.LeftEarly:
			want = domain.VerdictLateAndLeftEarly
		case p.Late:
			want = domain.VerdictLate
		case p.LeftEarly:
			want = domain.VerdictLeftEarly
		}
		if p.Verdict != want {
			fail("%s: verdict %s, want %s", r.Participant, p.Verdict, want)
		}
	}
	if absent != m.AbsentCount {
		fail("absent_count %d, absent rows %d", m.AbsentCount, absent)
	}
}

// TestPlanLatestRevisionWins: of several plans the greatest revision wins in
// any order, and a plan replaced drops the old roster and series.
func TestPlanLatestRevisionWins(t *testing.T) {
	ev := func(p domain.PlanSet) domain.Event {
		return domain.Event{AppID: "a", SessionID: "s", Payload: p}
	}
	first := domain.PlanSet{Revision: 0, ScheduledStart: 1000, ScheduledEnd: 4600, SeriesID: "old",
		Roster: []domain.RosterEntry{{Participant: "ann"}}, LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}
	second := domain.PlanSet{Revision: 7, ScheduledStart: 2000, ScheduledEnd: 5600,
		Roster: []domain.RosterEntry{{Participant: "ben", Name: "Ben"}}, LateAfterSeconds: 60, MinAttendanceRatio: 0.5}
	for _, order := range [][]domain.PlanSet{{first, second}, {second, first}, {second, first, second, first}} {
		var evs []domain.Event
		for _, p := range order {
			evs = append(evs, ev(p))
		}
		m := domain.Fold(evs)
		if m.Status != domain.StatusScheduled || m.SeriesID != nil || m.ScheduledStart.Unix() != 2000 ||
			m.RosterCount != 1 || m.AbsentCount != 1 || m.Participants[0].Participant != "ben" || m.Participants[0].Name != "Ben" {
			t.Fatalf("the later plan must win whole: %s", mustJSON(t, m))
		}
	}
}
