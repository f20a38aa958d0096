package expect

import (
	"cmp"
	"math/big"
	"slices"
	"time"

	"github.com/meetingd/meetingd/internal/corpus"
)

// Model holds the expected meetings of a corpus and answers the report
// queries of API.md from them.
type Model struct {
	byApp map[string][]Meeting // newest first
	byKey map[[2]string]int    // (app, session) → index in byApp[app]
}

// New computes every session's meeting.
func New(sessions []corpus.Session) *Model {
	md := &Model{byApp: map[string][]Meeting{}, byKey: map[[2]string]int{}}
	for _, s := range sessions {
		md.byApp[s.AppID] = append(md.byApp[s.AppID], Compute(s))
	}
	for app, ms := range md.byApp {
		slices.SortFunc(ms, newestFirst)
		for i, m := range ms {
			md.byKey[[2]string{app, m.SessionID}] = i
		}
	}
	return md
}

func newestFirst(a, b Meeting) int {
	return cmp.Or(b.StartedAt.Compare(a.StartedAt), cmp.Compare(b.SessionID, a.SessionID))
}

// Meeting returns a session's meeting with its participants.
func (md *Model) Meeting(app, session string) (Meeting, bool) {
	i, ok := md.byKey[[2]string{app, session}]
	if !ok {
		return Meeting{}, false
	}
	return md.byApp[app][i], true
}

// Meetings returns every meeting of app, newest first.
func (md *Model) Meetings(app string) []Meeting { return md.byApp[app] }

// Participants returns the identities with an attendance row in app's
// meetings, sorted.
func (md *Model) Participants(app string) []string {
	set := map[string]bool{}
	for _, m := range md.byApp[app] {
		for _, r := range m.Participants {
			set[r.Participant] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ListQuery is GET /v1/meetings's filter; zero fields do not filter.
type ListQuery struct {
	From, To    time.Time
	Status      string
	Participant string
}

// List returns the whole list (all pages) that GET /v1/meetings answers for
// q: meetings without participants, newest first.
func (md *Model) List(app string, q ListQuery) []Meeting {
	out := []Meeting{}
	for _, m := range md.byApp[app] {
		if !in(m.StartedAt, q.From, q.To) || (q.Status != "" && m.Status != q.Status) {
			continue
		}
		if _, ok := row(m, q.Participant); q.Participant != "" && !ok {
			continue
		}
		m.Participants = nil
		out = append(out, m)
	}
	return out
}

// ParticipantMeeting is one meeting of a participant's report.
type ParticipantMeeting struct {
	SessionID       string    `json:"session_id"`
	StartedAt       time.Time `json:"started_at"`
	AttendedSeconds int64     `json:"attended_seconds"`
	AttendanceRatio float64   `json:"attendance_ratio"`
	JoinCount       int       `json:"join_count"`
}

// ParticipantReport is GET /v1/participants/{participant}/attendance: the
// whole report, all pages' meetings (the totals are the same on every page).
type ParticipantReport struct {
	Participant          string               `json:"participant"`
	Meetings             []ParticipantMeeting `json:"meetings"`
	TotalAttendedSeconds int64                `json:"total_attended_seconds"`
	MeetingsAttended     int                  `json:"meetings_attended"`
	// NextCursor is the last page's next_cursor: nil.
	NextCursor *string `json:"-"`
}

// Participant returns participant's attendance across app's meetings that
// started in [from, to) (zero: open), newest first.
func (md *Model) Participant(app, participant string, from, to time.Time) ParticipantReport {
	rep := ParticipantReport{Participant: participant, Meetings: []ParticipantMeeting{}}
	for _, m := range md.byApp[app] {
		r, ok := row(m, participant)
		if !ok || !in(m.StartedAt, from, to) {
			continue
		}
		rep.Meetings = append(rep.Meetings, ParticipantMeeting{
			SessionID: m.SessionID, StartedAt: m.StartedAt, AttendedSeconds: r.AttendedSeconds,
			AttendanceRatio: r.AttendanceRatio, JoinCount: r.JoinCount,
		})
		rep.TotalAttendedSeconds += r.AttendedSeconds
		rep.MeetingsAttended++
	}
	return rep
}

// Bucket is one bucket of GET /v1/reports/durations.
type Bucket struct {
	Start                time.Time `json:"start"`
	Meetings             int64     `json:"meetings"`
	TotalDurationSeconds int64     `json:"total_duration_seconds"`
	AvgDurationSeconds   float64   `json:"avg_duration_seconds"`
	MaxDurationSeconds   int64     `json:"max_duration_seconds"`
	UniqueParticipants   int64     `json:"unique_participants"`
	AttendanceSeconds    int64     `json:"attendance_seconds"`
}

// Durations aggregates app's ended and abandoned meetings that started in
// [from, to) by the hour, day, week (from Monday) or month of started_at in
// loc (nil: UTC); empty buckets are left out, the rest ascend.
func (md *Model) Durations(app string, from, to time.Time, width string, loc *time.Location) []Bucket {
	type acc struct {
		b      Bucket
		people map[string]bool
	}
	byStart := map[time.Time]*acc{}
	for _, m := range md.byApp[app] {
		if (m.Status != "ended" && m.Status != "abandoned") || !in(m.StartedAt, from, to) {
			continue
		}
		start := bucketStart(m.StartedAt, width, loc)
		a := byStart[start]
		if a == nil {
			a = &acc{b: Bucket{Start: start}, people: map[string]bool{}}
			byStart[start] = a
		}
		a.b.Meetings++
		a.b.TotalDurationSeconds += m.DurationSeconds
		a.b.MaxDurationSeconds = max(a.b.MaxDurationSeconds, m.DurationSeconds)
		a.b.AttendanceSeconds += m.TotalAttendanceSeconds
		for _, r := range m.Participants {
			a.people[r.Participant] = true
		}
	}
	out := []Bucket{}
	for _, a := range byStart {
		a.b.AvgDurationSeconds = float64(a.b.TotalDurationSeconds) / float64(a.b.Meetings)
		a.b.UniqueParticipants = int64(len(a.people))
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b Bucket) int { return a.Start.Compare(b.Start) })
	return out
}

// bucketStart is the start of t's hour, day, week (Monday) or month on
// the wall clock of loc (nil: UTC), by calendar arithmetic: the local date
// and hour of t with the smaller fields zeroed. (It assumes the local
// midnight and hour exist and are not repeated, which holds for the
// corpus's zones and dates.)
func bucketStart(t time.Time, width string, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	y, mo, d := t.Date()
	switch width {
	case "hour":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc)
	case "week":
		return time.Date(y, mo, d-(int(t.Weekday())+6)%7, 0, 0, 0, 0, loc)
	case "month":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, mo, d, 0, 0, 0, 0, loc)
	}
}

// UsageBucket is one bucket of GET /v1/reports/usage.
type UsageBucket struct {
	Start                time.Time `json:"start"`
	Meetings             int64     `json:"meetings"`
	Participants         int64     `json:"participants"`
	AttendanceSeconds    int64     `json:"attendance_seconds"`
	AudioSeconds         int64     `json:"audio_seconds"`
	VideoSeconds         int64     `json:"video_seconds"`
	BillableAudioMinutes int64     `json:"billable_audio_minutes"`
	BillableVideoMinutes int64     `json:"billable_video_minutes"`
	EstimatedCost        float64   `json:"estimated_cost"`
}

// Usage sums app's ended and abandoned meetings that started in [from, to)
// by the day, week or month of started_at in loc: billable minutes are each
// row's seconds rounded up to whole minutes; the cost is audio minutes ×
// audioPrice + video minutes × videoPrice (prices as decimals, exact
// rational arithmetic, rounded half up to 6 decimals).
func (md *Model) Usage(app string, from, to time.Time, width string, loc *time.Location, audioPrice, videoPrice string) []UsageBucket {
	type acc struct {
		b      UsageBucket
		people map[string]bool
	}
	byStart := map[time.Time]*acc{}
	for _, m := range md.byApp[app] {
		if (m.Status != "ended" && m.Status != "abandoned") || !in(m.StartedAt, from, to) {
			continue
		}
		start := bucketStart(m.StartedAt, width, loc)
		a := byStart[start]
		if a == nil {
			a = &acc{b: UsageBucket{Start: start}, people: map[string]bool{}}
			byStart[start] = a
		}
		a.b.Meetings++
		for _, r := range m.Participants {
			a.people[r.Participant] = true
			a.b.AttendanceSeconds += r.AttendedSeconds
			a.b.AudioSeconds += r.AudioSeconds
			a.b.VideoSeconds += r.VideoSeconds
			a.b.BillableAudioMinutes += (r.AudioSeconds + 59) / 60
			a.b.BillableVideoMinutes += (r.VideoSeconds + 59) / 60
		}
	}
	pa, _ := new(big.Rat).SetString(audioPrice)
	pv, _ := new(big.Rat).SetString(videoPrice)
	out := []UsageBucket{}
	for _, a := range byStart {
		a.b.Participants = int64(len(a.people))
		cost := new(big.Rat).Mul(pa, big.NewRat(a.b.BillableAudioMinutes, 1))
		cost.Add(cost, new(big.Rat).Mul(pv, big.NewRat(a.b.BillableVideoMinutes, 1)))
		// Half up to 6 decimals: floor(cost × 10^6 + 1/2) / 10^6.
		micro := new(big.Rat).Add(new(big.Rat).Mul(cost, big.NewRat(1_000_000, 1)), big.NewRat(1, 2))
		q := new(big.Int).Quo(micro.Num(), micro.Denom())
		a.b.EstimatedCost, _ = new(big.Rat).SetFrac(q, big.NewInt(1_000_000)).Float64()
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b UsageBucket) int { return a.Start.Compare(b.Start) })
	return out
}

func in(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

func row(m Meeting, participant string) (Row, bool) {
	for _, r := range m.Participants {
		if r.Participant == participant {
			return r, true
		}
	}
	return Row{}, false
}
