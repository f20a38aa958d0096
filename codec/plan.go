package codec

import "github.com/meetingd/meetingd/domain"

// The plan's parts of the hand-written meeting and attendance writers and
// of the meeting-row scanner (domain.Meeting's plan block and
// domain.Attendance's OnRoster and *PlanAttendance), in the order of
// their declaration, as encoding/json writes them.

// planMeeting writes the plan fields of m.
func (o *jsonObject) planMeeting(m *domain.Meeting) {
	o.timePtr("scheduled_start", m.ScheduledStart)
	o.timePtr("scheduled_end", m.ScheduledEnd)
	o.key("series_id")
	if m.SeriesID == nil {
		o.null()
	} else {
		o.buf = appendJSONString(o.buf, *m.SeriesID)
	}
	o.int("roster_count", int64(m.RosterCount))
	o.int("absent_count", int64(m.AbsentCount))
}

// planAttendance writes on_roster and, with a plan, the row's measure.
func (o *jsonObject) planAttendance(r *domain.Attendance) {
	o.bool("on_roster", r.OnRoster)
	p := r.PlanAttendance
	if p == nil {
		return
	}
	o.int("scheduled_attended_seconds", p.ScheduledAttendedSeconds)
	o.float("scheduled_attendance_ratio", p.ScheduledAttendanceRatio)
	o.int("late_seconds", p.LateSeconds)
	o.int("left_early_seconds", p.LeftEarlySeconds)
	o.bool("late", p.Late)
	o.bool("left_early", p.LeftEarly)
	o.str("verdict", p.Verdict)
}

func (o *jsonObject) bool(name string, v bool) {
	o.key(name)
	if v {
		o.buf = append(o.buf, "true"...)
	} else {
		o.buf = append(o.buf, "false"...)
	}
}

// planMeeting reads the plan fields that planMeeting writes.
func (s *scanner) planMeeting(o *object, m *domain.Meeting) {
	o.field(`"scheduled_start":`)
	m.ScheduledStart = s.timeOrNull()
	o.field(`"scheduled_end":`)
	m.ScheduledEnd = s.timeOrNull()
	o.field(`"series_id":`)
	if !s.bad && !s.prefix("null") {
		id := s.text()
		m.SeriesID = &id
	}
	o.field(`"roster_count":`)
	m.RosterCount = int(s.int())
	o.field(`"absent_count":`)
	m.AbsentCount = int(s.int())
}
