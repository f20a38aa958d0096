package domain

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// TypePlanSet is the event of an organiser's attendance plan (API.md
// "Attendance plans, rosters and series"), appended by meetingd to the
// session's own stream.
const TypePlanSet = "session.plan_set.v1"

// Plan limits and defaults (API.md).
const (
	// MaxRoster is the most roster entries a plan may hold.
	MaxRoster = 10000
	// MaxSeriesIDBytes bounds series_id.
	MaxSeriesIDBytes = 256
	// MaxPlanSpanSeconds bounds scheduled_end − scheduled_start (7 days).
	MaxPlanSpanSeconds = 7 * 24 * 3600
	// DefaultLateAfterSeconds, DefaultEarlyLeaveSeconds and
	// DefaultMinAttendanceRatio are the thresholds a plan gets when it
	// names none.
	DefaultLateAfterSeconds   = 300
	DefaultEarlyLeaveSeconds  = 300
	DefaultMinAttendanceRatio = 0.75
)

// Verdicts of an attendance row under a plan, in the order of precedence
// (the first that applies): absent, partial, late_and_left_early, late,
// left_early, present.
const (
	VerdictAbsent           = "absent"
	VerdictPartial          = "partial"
	VerdictLateAndLeftEarly = "late_and_left_early"
	VerdictLate             = "late"
	VerdictLeftEarly        = "left_early"
	VerdictPresent          = "present"
)

// RosterEntry is one expected participant: Participant is an identity as
// the reports have it (a uid, or a display name for people without one);
// Name is the display name shown while they have never joined (their
// identity when empty).
type RosterEntry struct {
	Participant string `json:"participant"`
	Name        string `json:"name,omitempty"`
}

// PlanSet is the organiser's whole plan for one session: its schedule,
// series, roster and thresholds. A later PlanSet replaces the plan whole.
//
// Revision is the revision of the session stream that the event occupies:
// whoever appends it appends on condition of that revision, so that of two
// plans of one session the one later in the log has the greater Revision.
// The fold, which sees no log positions, keeps the plan with the greatest
// Revision; that is exactly "the plan with the greatest log position wins",
// whatever order the events are folded in (docs/adr/0020).
type PlanSet struct {
	Revision uint64 `json:"revision"`
	// ScheduledStart and ScheduledEnd are Unix seconds.
	ScheduledStart     int64         `json:"scheduled_start"`
	ScheduledEnd       int64         `json:"scheduled_end"`
	SeriesID           string        `json:"series_id,omitempty"`
	Roster             []RosterEntry `json:"roster,omitempty"`
	LateAfterSeconds   int64         `json:"late_after_seconds"`
	EarlyLeaveSeconds  int64         `json:"early_leave_seconds"`
	MinAttendanceRatio float64       `json:"min_attendance_ratio"`
	// SetAt is when meetingd accepted the plan (Unix seconds); shown in
	// the audit trail, never used by the fold.
	SetAt int64 `json:"set_at,omitempty"`
}

func (PlanSet) EventType() string { return TypePlanSet }

// PlanError is a plan that breaks a rule: Field names the offending field
// as the API body spells it (roster[3].participant), Reason says what it
// must be.
type PlanError struct {
	Field, Reason string
}

func (e *PlanError) Error() string { return e.Field + ": " + e.Reason }

func planErr(field, format string, args ...any) error {
	return &PlanError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every rule of API.md on p (Revision and SetAt aside) and
// returns a *PlanError naming the first field that breaks one.
func (p PlanSet) Validate() error {
	switch {
	case p.ScheduledStart <= 0:
		return planErr("scheduled_start", "required (RFC 3339)")
	case p.ScheduledEnd <= 0:
		return planErr("scheduled_end", "required (RFC 3339)")
	case p.ScheduledEnd <= p.ScheduledStart:
		return planErr("scheduled_end", "must be after scheduled_start")
	case p.ScheduledEnd-p.ScheduledStart > MaxPlanSpanSeconds:
		return planErr("scheduled_end", "must be at most 7 days after scheduled_start")
	}
	if p.SeriesID != "" {
		if reason := CheckSeriesID(p.SeriesID); reason != "" {
			return planErr("series_id", "%s", reason)
		}
	}
	if len(p.Roster) > MaxRoster {
		return planErr("roster", "at most %d entries (it has %d)", MaxRoster, len(p.Roster))
	}
	seen := make(map[string]int, len(p.Roster))
	for i, r := range p.Roster {
		field := fmt.Sprintf("roster[%d].participant", i)
		if r.Participant == "" {
			return planErr(field, "required")
		}
		if reason := CheckID(r.Participant, NameRules); reason != "" {
			return planErr(field, "%s", reason)
		}
		if j, dup := seen[r.Participant]; dup {
			return planErr(field, "duplicate of roster[%d].participant", j)
		}
		seen[r.Participant] = i
		if reason := CheckID(r.Name, NameRules); r.Name != "" && reason != "" {
			return planErr(fmt.Sprintf("roster[%d].name", i), "%s", reason)
		}
	}
	switch {
	case p.LateAfterSeconds < 0 || p.LateAfterSeconds > MaxPlanSpanSeconds:
		return planErr("late_after_seconds", "must be a whole number of seconds from 0 to %d", MaxPlanSpanSeconds)
	case p.EarlyLeaveSeconds < 0 || p.EarlyLeaveSeconds > MaxPlanSpanSeconds:
		return planErr("early_leave_seconds", "must be a whole number of seconds from 0 to %d", MaxPlanSpanSeconds)
	case math.IsNaN(p.MinAttendanceRatio) || p.MinAttendanceRatio < 0 || p.MinAttendanceRatio > 1:
		return planErr("min_attendance_ratio", "must be a number from 0 to 1")
	}
	return nil
}

// CheckSeriesID returns why the non-empty id is not a series id (printable,
// at most MaxSeriesIDBytes bytes, no / or \), or "".
func CheckSeriesID(id string) string {
	if len(id) > MaxSeriesIDBytes {
		return fmt.Sprintf("longer than %d bytes", MaxSeriesIDBytes)
	}
	if strings.ContainsAny(id, `/\`) {
		return `must not contain / or \`
	}
	if reason := CheckID(id, UIDRules); reason != "" {
		return reason
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return "must be printable"
		}
	}
	return ""
}

// beats orders two plans of one session: the greater Revision wins; equal
// revisions (two events cannot share one, but hand-made input can) are
// ordered by content, so that the choice never depends on arrival order.
func (p *PlanSet) beats(o *PlanSet) bool {
	if p.Revision != o.Revision {
		return p.Revision > o.Revision
	}
	return comparePlans(p, o) > 0
}

func comparePlans(a, b *PlanSet) int {
	type key struct {
		s, e, late, early int64
		ratio             float64
		series            string
		set               int64
	}
	ka := key{a.ScheduledStart, a.ScheduledEnd, a.LateAfterSeconds, a.EarlyLeaveSeconds, a.MinAttendanceRatio, a.SeriesID, a.SetAt}
	kb := key{b.ScheduledStart, b.ScheduledEnd, b.LateAfterSeconds, b.EarlyLeaveSeconds, b.MinAttendanceRatio, b.SeriesID, b.SetAt}
	if ka != kb {
		switch {
		case ka.s != kb.s:
			return cmpInt(ka.s, kb.s)
		case ka.e != kb.e:
			return cmpInt(ka.e, kb.e)
		case ka.late != kb.late:
			return cmpInt(ka.late, kb.late)
		case ka.early != kb.early:
			return cmpInt(ka.early, kb.early)
		case ka.ratio != kb.ratio:
			if ka.ratio < kb.ratio {
				return -1
			}
			return 1
		case ka.series != kb.series:
			return strings.Compare(ka.series, kb.series)
		default:
			return cmpInt(ka.set, kb.set)
		}
	}
	if len(a.Roster) != len(b.Roster) {
		return cmpInt(int64(len(a.Roster)), int64(len(b.Roster)))
	}
	for i := range a.Roster {
		if c := strings.Compare(a.Roster[i].Participant, b.Roster[i].Participant); c != 0 {
			return c
		}
		if c := strings.Compare(a.Roster[i].Name, b.Roster[i].Name); c != 0 {
			return c
		}
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// clonePlan returns a copy of p that shares nothing with it.
func clonePlan(p *PlanSet) *PlanSet {
	c := *p
	c.Roster = append([]RosterEntry(nil), p.Roster...)
	return &c
}

// setPlan keeps p if it beats the plan known.
func (f *Facts) setPlan(p *PlanSet) {
	if p == nil {
		return
	}
	if f.plan == nil || p.beats(f.plan) {
		f.plan = clonePlan(p)
		f.dirty = true
	}
}

// Plan returns the plan that wins, or nil without one.
func (f *Facts) Plan() *PlanSet {
	if f.plan == nil {
		return nil
	}
	return clonePlan(f.plan)
}
