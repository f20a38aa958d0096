package reportstest

import (
	"cmp"
	"slices"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// model is what the suite expects the store to hold: per session, the
// meeting of the newest version written (an equal version replaces).
type model struct {
	sessions map[reports.SessionKey]modelEntry
}

type modelEntry struct {
	version uint64
	m       domain.Meeting
}

func newModel() *model { return &model{sessions: make(map[reports.SessionKey]modelEntry)} }

func (md *model) write(b projections.Batch) {
	for _, u := range b.Sessions {
		if cur, ok := md.sessions[u.Key]; ok && cur.version > b.Version {
			continue
		}
		md.sessions[u.Key] = modelEntry{version: b.Version, m: u.Meeting}
	}
}

// meetings returns the app's meetings in list order: started_at, then session
// id, descending.
func (md *model) meetings(app string) []domain.Meeting {
	var out []domain.Meeting
	for k, e := range md.sessions {
		if k.AppID == app {
			out = append(out, e.m)
		}
	}
	slices.SortFunc(out, func(a, b domain.Meeting) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.SessionID, a.SessionID))
	})
	return out
}

// apps lists the apps the model holds.
func (md *model) apps() []string {
	seen := map[string]bool{}
	var out []string
	for k := range md.sessions {
		if !seen[k.AppID] {
			seen[k.AppID] = true
			out = append(out, k.AppID)
		}
	}
	slices.Sort(out)
	return out
}

func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// row is the participant's attendance row of m; absent roster rows (never
// joined) are no attendance of the participant's.
func row(m domain.Meeting, participant string) (domain.Attendance, bool) {
	for _, r := range m.Participants {
		if r.Participant == participant && r.JoinCount > 0 {
			return r, true
		}
	}
	return domain.Attendance{}, false
}

// listed is m as the meeting list shows it.
func listed(m domain.Meeting) domain.Meeting {
	m.Participants, m.UnmatchedParticipants = nil, nil
	return m
}

// wantMeetings is the whole (unpaged) meeting list of q.
func (md *model) wantMeetings(q reports.MeetingQuery) []domain.Meeting {
	out := []domain.Meeting{}
	for _, m := range md.meetings(q.AppID) {
		if m.Status == domain.StatusScheduled || !inRange(m.StartedAt, q.From, q.To) || (q.Status != "" && m.Status != q.Status) {
			continue
		}
		if q.Participant != "" {
			if _, ok := row(m, q.Participant); !ok {
				continue
			}
		}
		out = append(out, listed(m))
	}
	return out
}

func (md *model) wantParticipant(q reports.ParticipantQuery) reports.ParticipantReport {
	rep := reports.ParticipantReport{Participant: q.Participant, Meetings: []reports.ParticipantMeeting{}}
	for _, m := range md.meetings(q.AppID) {
		r, ok := row(m, q.Participant)
		if !ok || m.Status == domain.StatusScheduled || !inRange(m.StartedAt, q.From, q.To) {
			continue
		}
		rep.Meetings = append(rep.Meetings, reports.ParticipantMeeting{
			SessionID: m.SessionID, StartedAt: m.StartedAt, AttendedSeconds: r.AttendedSeconds,
			AttendanceRatio: r.AttendanceRatio, JoinCount: r.JoinCount,
		})
		rep.TotalAttendedSeconds += r.AttendedSeconds
		rep.MeetingsAttended++
	}
	return rep
}

// bucketOf computes a bucket's start with calendar arithmetic (not the
// division a store would use).
func bucketOf(t time.Time, b reports.Bucket) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	switch b {
	case reports.Hour:
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, time.UTC)
	case reports.Day:
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	default: // week, from Monday
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-back, 0, 0, 0, 0, time.UTC)
	}
}

func (md *model) wantDurations(q reports.DurationQuery) []reports.DurationBucket {
	if q.Location != nil || q.Bucket == reports.Month {
		return md.wantZoneDurations(q)
	}
	type acc struct {
		b     reports.DurationBucket
		users map[string]bool
	}
	byStart := map[time.Time]*acc{}
	for _, m := range md.meetings(q.AppID) {
		if m.Status != domain.StatusEnded && m.Status != domain.StatusAbandoned {
			continue
		}
		if !inRange(m.StartedAt, q.From, q.To) {
			continue
		}
		start := bucketOf(m.StartedAt, q.Bucket)
		a := byStart[start]
		if a == nil {
			a = &acc{b: reports.DurationBucket{Start: start}, users: map[string]bool{}}
			byStart[start] = a
		}
		a.b.Meetings++
		a.b.TotalDurationSeconds += m.DurationSeconds
		a.b.MaxDurationSeconds = max(a.b.MaxDurationSeconds, m.DurationSeconds)
		a.b.AttendanceSeconds += m.TotalAttendanceSeconds
		for _, r := range m.Participants {
			if r.JoinCount > 0 {
				a.users[r.Participant] = true
			}
		}
	}
	out := []reports.DurationBucket{}
	for _, a := range byStart {
		a.b.AvgDurationSeconds = float64(a.b.TotalDurationSeconds) / float64(a.b.Meetings)
		a.b.UniqueParticipants = int64(len(a.users))
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b reports.DurationBucket) int { return a.Start.Compare(b.Start) })
	return out
}
