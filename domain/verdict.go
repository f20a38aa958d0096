package domain

import (
	"cmp"
	"slices"
	"strings"
)

// The plan's part of Meeting, derived at read time from the facts like
// every other number: a late webhook or a replaced plan revises it, and any
// order of events and plans gives the same report. The rules (API.md
// "Attendance plans, rosters and series"), with S and E the plan's
// scheduled start and end and "the end" the meeting's ended_at (while live:
// its last_event_at, so the verdicts of a live meeting are provisional):
//
//   - scheduled_attended_seconds is the union of the participant's
//     intervals (open ones closed as for attended_seconds) clipped to
//     [S, min(E, the end)]; scheduled_attendance_ratio is that ÷ (E − S),
//     rounded half up to 4 decimals;
//   - late_seconds = max(0, first_joined_at − S); left_early_seconds =
//     max(0, min(E, the end) − last_left_at): a meeting that ends before E
//     makes nobody leave early by ending;
//   - late and left_early compare those with the plan's thresholds
//     (strictly greater); the verdict is the first that applies of absent
//     (never joined), partial (ratio below min_attendance_ratio),
//     late_and_left_early, late, left_early, present;
//   - roster members without an interval are rows with join_count 0, no
//     times, no intervals and verdict absent, after the rows of those who
//     joined (sorted by participant); they count in absent_count, not in
//     participant_count.
//
// A session with a plan and no provider fact at all is "scheduled": no
// times, no totals, the roster as absent rows.

// scheduled returns the Meeting of a session that has a plan and nothing
// else yet.
func (f *Facts) scheduled() (Meeting, bool) {
	if f.plan == nil || f.lastAt != 0 || f.firstAt != 0 || len(f.people) > 0 || len(f.unmatched) > 0 ||
		len(f.records) > 0 || len(f.scripts) > 0 || f.sawCall || f.abandoned || f.ring != (ringFacts{}) ||
		f.startedAt != 0 || f.destroyedAt != 0 || f.reconStarted != 0 || f.reconEnded != 0 || f.endCreatedAt != 0 {
		return Meeting{}, false
	}
	m := Meeting{
		AppID: f.appID, SessionID: f.sessionID, Kind: KindMeeting, Status: StatusScheduled,
		Recordings: []Recording{}, Transcriptions: []Transcription{}, Participants: []Attendance{},
	}
	f.applyPlan(&m, window{})
	return m, true
}

// applyPlan adds the plan's facts to m, whose rows w measured.
func (f *Facts) applyPlan(m *Meeting, w window) {
	p := f.plan
	if p == nil {
		return
	}
	s, e := unixUTC(p.ScheduledStart), unixUTC(p.ScheduledEnd)
	m.ScheduledStart, m.ScheduledEnd = &s, &e
	if p.SeriesID != "" {
		id := p.SeriesID
		m.SeriesID = &id
	}
	m.RosterCount = len(p.Roster)
	onRoster := make(map[string]int, len(p.Roster))
	for i, r := range p.Roster {
		onRoster[r.Participant] = i
	}
	clipEnd := min(p.ScheduledEnd, w.end)
	var scratch []interval
	for i := range m.Participants {
		r := &m.Participants[i]
		ri, listed := onRoster[r.Participant]
		if listed {
			r.OnRoster = true
			delete(onRoster, r.Participant)
			if r.Name == "" {
				r.Name = p.Roster[ri].Name
			}
		}
		ps := f.people[r.Participant]
		if ps == nil {
			continue
		}
		var pa *PlanAttendance
		pa, scratch = w.measure(ps, p, clipEnd, scratch)
		r.PlanAttendance = pa
	}
	if len(onRoster) == 0 {
		return
	}
	absent := make([]Attendance, 0, len(onRoster))
	for _, r := range p.Roster {
		if _, missing := onRoster[r.Participant]; !missing {
			continue
		}
		absent = append(absent, Attendance{
			Participant: r.Participant, Name: cmp.Or(r.Name, r.Participant), Intervals: []Interval{}, OnRoster: true,
			PlanAttendance: &PlanAttendance{Verdict: VerdictAbsent},
		})
	}
	slices.SortFunc(absent, func(a, b Attendance) int { return strings.Compare(a.Participant, b.Participant) })
	m.AbsentCount = len(absent)
	m.Participants = append(m.Participants, absent...)
}

// measure computes one participant's row against plan p.
func (w window) measure(ps *person, p *PlanSet, clipEnd int64, scratch []interval) (*PlanAttendance, []interval) {
	att := scratch[:0]
	var lastLeft int64
	for _, iv := range ps.ivs {
		l := iv.l
		switch {
		case l != 0:
		case w.live:
			l = w.end
		default:
			l = max(iv.j, w.openEnd)
		}
		lastLeft = max(lastLeft, l)
		if a, b := max(iv.j, p.ScheduledStart), min(l, clipEnd); b > a {
			att = append(att, interval{j: a, l: b})
		}
	}
	pa := &PlanAttendance{}
	for _, s := range union(att) {
		pa.ScheduledAttendedSeconds += s.l - s.j
	}
	pa.ScheduledAttendanceRatio = ratio(pa.ScheduledAttendedSeconds, p.ScheduledEnd-p.ScheduledStart)
	pa.LateSeconds = max(0, ps.ivs[0].j-p.ScheduledStart)
	pa.LeftEarlySeconds = max(0, clipEnd-lastLeft)
	pa.Late = pa.LateSeconds > p.LateAfterSeconds
	pa.LeftEarly = pa.LeftEarlySeconds > p.EarlyLeaveSeconds
	pa.Verdict = Verdict(true, pa.ScheduledAttendanceRatio < p.MinAttendanceRatio, pa.Late, pa.LeftEarly)
	return pa, att
}

// Verdict is the verdict of a row: the first that applies of absent (not
// joined), partial, late_and_left_early, late, left_early, present.
func Verdict(joined, partial, late, leftEarly bool) string {
	switch {
	case !joined:
		return VerdictAbsent
	case partial:
		return VerdictPartial
	case late && leftEarly:
		return VerdictLateAndLeftEarly
	case late:
		return VerdictLate
	case leftEarly:
		return VerdictLeftEarly
	}
	return VerdictPresent
}
