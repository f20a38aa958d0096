package plangen

import (
	"fmt"
	"math/rand/v2"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// Start is the scheduled start of the first class (2026-09-07T09:00:00Z).
const Start = int64(1788771600)

// Class returns class i of series (weekly, an hour long) of app: a roster
// of roster members of whom about nine in ten join (some late, some
// leaving early, some twice), and guests who join without being on it.
func Class(r *rand.Rand, app, series string, i, roster, guests int) projections.SessionUpdate {
	session := fmt.Sprintf("%s-%03d", series, i)
	s := Start + int64(i)*7*86400
	ev := func(p domain.Payload) domain.Event {
		return domain.Event{AppID: app, SessionID: session, Kind: domain.KindMeeting, Payload: p}
	}
	plan := domain.PlanSet{ScheduledStart: s, ScheduledEnd: s + 3600, SeriesID: series,
		LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}
	for k := range roster {
		plan.Roster = append(plan.Roster, domain.RosterEntry{Participant: fmt.Sprintf("student-%05d", k), Name: fmt.Sprintf("Student %d", k)})
	}
	evs := []domain.Event{ev(plan), ev(domain.SessionStarted{CreatedAt: s}), ev(domain.SessionEnded{CreatedAt: s, DestroyedAt: s + 3600})}
	join := func(uid, name string, j, l int64) {
		evs = append(evs, ev(domain.ParticipantLeft{Occupant: domain.Occupant{UID: uid, Name: name, JoinedAt: j, LeftAt: l}}))
	}
	for k, m := range plan.Roster {
		if r.IntN(10) == 0 {
			continue // absent
		}
		j, l := s+r.Int64N(600), s+3600-r.Int64N(600)
		if k%7 == 0 {
			join(m.Participant, m.Name, j, j+900)
			j += 1200
		}
		join(m.Participant, m.Name, j, l)
	}
	for g := range guests {
		join("", fmt.Sprintf("Guest %d", g), s+r.Int64N(1800), s+3600)
	}
	f := domain.NewFacts(app, session)
	for _, e := range evs {
		f.Apply(e)
	}
	return projections.SessionUpdate{Key: reports.SessionKey{AppID: app, SessionID: session}, Facts: f, Meeting: f.Meeting()}
}
