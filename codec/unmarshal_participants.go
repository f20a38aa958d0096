package codec

import (
	"time"

	"github.com/meetingd/meetingd/domain"
)

// A scanner of the exact form Participants writes (a meeting's participant
// rows, read by every GET of a meeting: 10,000 rows for a class with a
// 10,000-member roster), like unmarshal_meeting.go's for meeting rows. It
// reads nothing the general decoder would read differently: on any
// mismatch UnmarshalParticipants falls back to the general decoder
// (TestUnmarshalParticipantsFastPath, FuzzUnmarshalParticipantsFastPath).

// unmarshalParticipantsFast reads a participants section as Participants
// writes it, and reports whether it could.
func unmarshalParticipantsFast(data []byte) (participants, bool) {
	var p participants
	s := scanner{data: data}
	o := s.object()
	o.field(`"p":`)
	p.Participants = s.rows()
	if o.optional(`"u":`) {
		p.Unmatched = s.rows()
	}
	o.end()
	if s.bad || s.pos != len(data) {
		return participants{}, false
	}
	return p, true
}

// rows reads null or an array of attendance rows.
func (s *scanner) rows() []domain.Attendance {
	var out []domain.Attendance
	if !array(s, &out) {
		return out
	}
	// Rows are about 300 bytes: allocate once for the common case, and
	// their times and plan measures from slabs.
	n := max(1, (len(s.data)-s.pos)/256)
	out = make([]domain.Attendance, 0, n)
	a := &slabs{}
	for !s.bad {
		out = append(out, domain.Attendance{})
		s.row(&out[len(out)-1], a)
		if !s.next(',') {
			break
		}
	}
	s.expect(']')
	return out
}

// slabs hand out the pointers of the rows from shared allocations.
type slabs struct {
	day   dayCache
	times []time.Time
	plans []domain.PlanAttendance
}

const slabSize = 256

func (a *slabs) time(t time.Time) *time.Time {
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, slabSize)
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}

func (a *slabs) plan() *domain.PlanAttendance {
	if len(a.plans) == cap(a.plans) {
		a.plans = make([]domain.PlanAttendance, 0, slabSize)
	}
	a.plans = append(a.plans, domain.PlanAttendance{})
	return &a.plans[len(a.plans)-1]
}

// row reads one attendance row into r.
func (s *scanner) row(r *domain.Attendance, a *slabs) {
	o := s.object()
	o.field(`"participant":`)
	r.Participant = s.text()
	o.field(`"name":`)
	r.Name = s.text()
	o.field(`"first_joined_at":`)
	r.FirstJoinedAt = s.timeZ(&a.day)
	o.field(`"last_left_at":`)
	if !s.bad && !s.prefix("null") {
		r.LastLeftAt = a.time(s.timeZ(&a.day))
	}
	o.field(`"attended_seconds":`)
	r.AttendedSeconds = s.int()
	o.field(`"attendance_ratio":`)
	r.AttendanceRatio = s.float()
	o.field(`"join_count":`)
	r.JoinCount = int(s.int())
	o.field(`"intervals":`)
	if array(s, &r.Intervals) {
		for !s.bad {
			var iv domain.Interval
			io := s.object()
			io.field(`"joined_at":`)
			iv.JoinedAt = s.timeZ(&a.day)
			io.field(`"left_at":`)
			if !s.bad && !s.prefix("null") {
				iv.LeftAt = a.time(s.timeZ(&a.day))
			}
			io.end()
			r.Intervals = append(r.Intervals, iv)
			if !s.next(',') {
				break
			}
		}
		s.expect(']')
	}
	o.field(`"audio_seconds":`)
	r.AudioSeconds = s.int()
	o.field(`"video_seconds":`)
	r.VideoSeconds = s.int()
	if o.optional(`"audio_only":`) {
		r.AudioOnly = s.boolPtr()
	}
	if o.optional(`"platform":`) {
		r.Platform = s.text()
	}
	if o.optional(`"sdk":`) {
		r.SDK = s.text()
	}
	o.field(`"on_roster":`)
	r.OnRoster = s.bool()
	if o.optional(`"scheduled_attended_seconds":`) {
		p := a.plan()
		p.ScheduledAttendedSeconds = s.int()
		o.field(`"scheduled_attendance_ratio":`)
		p.ScheduledAttendanceRatio = s.float()
		o.field(`"late_seconds":`)
		p.LateSeconds = s.int()
		o.field(`"left_early_seconds":`)
		p.LeftEarlySeconds = s.int()
		o.field(`"late":`)
		p.Late = s.bool()
		o.field(`"left_early":`)
		p.LeftEarly = s.bool()
		o.field(`"verdict":`)
		p.Verdict = verdictOf(s.textBytes())
		r.PlanAttendance = p
	}
	o.end()
}

// bool reads true or false.
func (s *scanner) bool() bool {
	switch {
	case s.prefix("true"):
		return true
	case s.prefix("false"):
		return false
	}
	s.bad = true
	return false
}

// verdictOf returns the verdict named raw, without allocating for the
// known ones.
func verdictOf(raw []byte) string {
	for _, v := range [...]string{domain.VerdictPresent, domain.VerdictAbsent, domain.VerdictPartial, domain.VerdictLate,
		domain.VerdictLeftEarly, domain.VerdictLateAndLeftEarly} {
		if string(raw) == v {
			return v
		}
	}
	return string(raw)
}

// timeZ reads a time; the whole-second UTC form that the fold writes
// ("2006-01-02T15:04:05Z") without time.Parse (the day of the previous
// such time is kept: a meeting's times share a few days), anything else as
// time does.
func (s *scanner) timeZ(day *dayCache) time.Time {
	const n = len(`"2006-01-02T15:04:05Z"`)
	d := s.data[s.pos:]
	if s.bad || len(d) < n || d[0] != '"' || d[11] != 'T' || d[14] != ':' || d[17] != ':' || d[20] != 'Z' || d[21] != '"' {
		return s.time()
	}
	h, ok1 := digits2(d[12], d[13])
	mi, ok2 := digits2(d[15], d[16])
	sec, ok3 := digits2(d[18], d[19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return s.time()
	}
	if !day.ok || string(day.date[:]) != string(d[1:11]) {
		t, err := time.Parse(time.DateOnly, string(d[1:11]))
		if err != nil || t.Year() < 1 {
			return s.time()
		}
		copy(day.date[:], d[1:11])
		day.unix, day.ok = t.Unix(), true
	}
	s.pos += n
	return time.Unix(day.unix+int64(h*3600+mi*60+sec), 0).UTC()
}

// dayCache is the day of the last time timeZ read.
type dayCache struct {
	date [10]byte
	unix int64
	ok   bool
}

func digits2(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}
