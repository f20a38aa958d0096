package reports

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/meetingd/meetingd/domain"
)

// SeriesQuery selects one series of an app (GET /v1/series/{id}/attendance).
type SeriesQuery struct {
	AppID    string
	SeriesID string
}

// Normalize checks q: an empty AppID or SeriesID, or a series id that no
// plan can carry (domain.CheckSeriesID), is a *QueryError.
func (q SeriesQuery) Normalize() (SeriesQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	if q.SeriesID == "" {
		return q, &QueryError{Param: "seriesId", Reason: "required"}
	}
	if reason := domain.CheckSeriesID(q.SeriesID); reason != "" {
		return q, &QueryError{Param: "seriesId", Value: q.SeriesID, Reason: reason}
	}
	return q, nil
}

// SeriesSession is one session of a series report.
type SeriesSession struct {
	SessionID      string        `json:"session_id"`
	ScheduledStart time.Time     `json:"scheduled_start"`
	ScheduledEnd   time.Time     `json:"scheduled_end"`
	Status         domain.Status `json:"status"`
}

// SeriesParticipant is one participant's line of the gradebook.
type SeriesParticipant struct {
	Participant      string `json:"participant"`
	Name             string `json:"name"`
	OnRoster         bool   `json:"on_roster"`
	SessionsAttended int    `json:"sessions_attended"`
	SessionsAbsent   int    `json:"sessions_absent"`
	LateCount        int    `json:"late_count"`
	LeftEarlyCount   int    `json:"left_early_count"`
	PartialCount     int    `json:"partial_count"`
	// AttendedSeconds sums scheduled_attended_seconds.
	AttendedSeconds int64 `json:"attended_seconds"`
	// AttendanceRate is SessionsAttended ÷ the sessions where the
	// participant was on the roster or joined, rounded to 4 decimals.
	AttendanceRate float64 `json:"attendance_rate"`
	// Verdicts has one entry per session of the report, in its order: nil
	// where the participant was neither on the roster nor joined.
	Verdicts []*string `json:"verdicts"`
}

// SeriesReport is the gradebook of a series: its sessions by
// scheduled_start then session id, its participants by identity.
type SeriesReport struct {
	SeriesID     string              `json:"series_id"`
	Sessions     []SeriesSession     `json:"sessions"`
	Participants []SeriesParticipant `json:"participants"`
}

// SeriesRow is what a store keeps of one attendance row of a session of a
// series: enough for the gradebook.
type SeriesRow struct {
	Participant              string
	Name                     string
	OnRoster                 bool
	Verdict                  string
	ScheduledAttendedSeconds int64
}

// SeriesEntry is one session of a series as a store reads it.
type SeriesEntry struct {
	Session SeriesSession
	Rows    []SeriesRow
}

// SeriesRows returns the gradebook rows of a meeting that has a plan (its
// rows with a verdict), or nil.
func SeriesRows(m *domain.Meeting) []SeriesRow {
	if m.ScheduledStart == nil {
		return nil
	}
	out := make([]SeriesRow, 0, len(m.Participants))
	for _, r := range m.Participants {
		if r.PlanAttendance == nil {
			continue
		}
		out = append(out, SeriesRow{
			Participant: r.Participant, Name: r.Name, OnRoster: r.OnRoster, Verdict: r.Verdict,
			ScheduledAttendedSeconds: r.ScheduledAttendedSeconds,
		})
	}
	return out
}

// BuildSeries computes the report of a series from its sessions (in any
// order), so that every store answers by the same rules: sessions sorted
// by scheduled_start then session id; a participant's name is the one of
// their latest session (in that order) with a name; sessions_attended
// counts verdicts other than absent, late_count late and
// late_and_left_early, left_early_count left_early and
// late_and_left_early, partial_count partial. No entry is ErrNotFound.
func BuildSeries(seriesID string, entries []SeriesEntry) (SeriesReport, error) {
	if len(entries) == 0 {
		return SeriesReport{}, ErrNotFound
	}
	slices.SortFunc(entries, func(a, b SeriesEntry) int {
		return cmp.Or(a.Session.ScheduledStart.Compare(b.Session.ScheduledStart),
			strings.Compare(a.Session.SessionID, b.Session.SessionID))
	})
	rep := SeriesReport{SeriesID: seriesID, Sessions: make([]SeriesSession, len(entries))}
	type acc struct {
		p    SeriesParticipant
		seen int
	}
	people := map[string]*acc{}
	verdicts := map[string]*string{} // one string per verdict name
	for i, e := range entries {
		s := e.Session
		s.ScheduledStart, s.ScheduledEnd = s.ScheduledStart.UTC(), s.ScheduledEnd.UTC()
		rep.Sessions[i] = s
		for _, r := range e.Rows {
			a := people[r.Participant]
			if a == nil {
				a = &acc{p: SeriesParticipant{Participant: r.Participant, Verdicts: make([]*string, len(entries))}}
				people[r.Participant] = a
			}
			if r.Name != "" {
				a.p.Name = r.Name
			}
			a.p.OnRoster = a.p.OnRoster || r.OnRoster
			v := verdicts[r.Verdict]
			if v == nil {
				v = &r.Verdict
				verdicts[r.Verdict] = v
			}
			a.p.Verdicts[i] = v
			a.seen++
			a.p.AttendedSeconds += r.ScheduledAttendedSeconds
			switch r.Verdict {
			case domain.VerdictAbsent:
				a.p.SessionsAbsent++
			case domain.VerdictPartial:
				a.p.PartialCount++
			case domain.VerdictLateAndLeftEarly:
				a.p.LateCount++
				a.p.LeftEarlyCount++
			case domain.VerdictLate:
				a.p.LateCount++
			case domain.VerdictLeftEarly:
				a.p.LeftEarlyCount++
			}
			if r.Verdict != domain.VerdictAbsent {
				a.p.SessionsAttended++
			}
		}
	}
	rep.Participants = make([]SeriesParticipant, 0, len(people))
	for _, a := range people {
		a.p.AttendanceRate = rate(a.p.SessionsAttended, a.seen)
		rep.Participants = append(rep.Participants, a.p)
	}
	slices.SortFunc(rep.Participants, func(a, b SeriesParticipant) int { return strings.Compare(a.Participant, b.Participant) })
	return rep, nil
}

// rate is n/d rounded half up to 4 decimals, in integers (0 when d is 0).
func rate(n, d int) float64 {
	if d <= 0 || n <= 0 {
		return 0
	}
	return float64((int64(n)*20000+int64(d))/(2*int64(d))) / 10000
}
