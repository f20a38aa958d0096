package reportstest

import (
	"hash/fnv"
	"slices"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// The model's buckets in a zone are found by walking the local clock, not by
// the calendar arithmetic of reports.BucketStart: an instant's bucket is
// named by a key of its local wall clock (the hour with its offset, the date,
// the ISO week or the month), and its start is the earliest instant of the
// run of quarter hours (UTC-aligned: every offset in use is a whole quarter
// hour, so every bucket boundary is one) that share t's key. The walk costs
// up to 3,000 steps for a month, which is fine for the suite's few hundred
// meetings.

// wallKey names the bucket of width b holding t in loc.
type wallKey struct {
	year, a, b, off int
}

func keyOf(t time.Time, b reports.Bucket, loc *time.Location) wallKey {
	lt := t.In(loc)
	y, m, d := lt.Date()
	switch b {
	case reports.Hour:
		_, off := lt.Zone()
		return wallKey{y, int(m)*100 + d, lt.Hour(), off}
	case reports.Day:
		return wallKey{y, int(m), d, 0}
	case reports.Week:
		wy, w := lt.ISOWeek()
		return wallKey{wy, w, 0, 0}
	default: // month
		return wallKey{y, int(m), 0, 0}
	}
}

// zoneBucketOf returns the start, in loc, of the bucket of width b holding t.
func zoneBucketOf(t time.Time, b reports.Bucket, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	const step = 15 * 60
	k := keyOf(t, b, loc)
	q := t.Unix() - ((t.Unix()%step)+step)%step
	if t.Unix() != q || t.Nanosecond() != 0 {
		// t itself is inside the quarter hour that starts at q.
		if keyOf(time.Unix(q, 0), b, loc) != k {
			return t.In(loc) // cannot happen with quarter-hour offsets
		}
	}
	for keyOf(time.Unix(q-step, 0), b, loc) == k {
		q -= step
	}
	return time.Unix(q, 0).In(loc)
}

// wantZoneDurations is wantDurations for a query with a Location or a Month
// bucket: the same sums, grouped by the walked buckets.
func (md *model) wantZoneDurations(q reports.DurationQuery) []reports.DurationBucket {
	type acc struct {
		b     reports.DurationBucket
		users map[string]bool
	}
	byStart := map[int64]*acc{}
	for _, m := range md.reportable(q.AppID, q.From, q.To) {
		start := zoneBucketOf(m.StartedAt, q.Bucket, q.Location)
		a := byStart[start.Unix()]
		if a == nil {
			a = &acc{b: reports.DurationBucket{Start: start}, users: map[string]bool{}}
			byStart[start.Unix()] = a
		}
		a.b.Meetings++
		a.b.TotalDurationSeconds += m.DurationSeconds
		a.b.MaxDurationSeconds = max(a.b.MaxDurationSeconds, m.DurationSeconds)
		a.b.AttendanceSeconds += m.TotalAttendanceSeconds
		for _, r := range m.Participants {
			if r.JoinCount > 0 { // a roster member who never joined is no participant
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

// reportable returns app's ended and abandoned meetings started in [from, to).
func (md *model) reportable(app string, from, to time.Time) []domain.Meeting {
	var out []domain.Meeting
	for _, m := range md.meetings(app) {
		if (m.Status == domain.StatusEnded || m.Status == domain.StatusAbandoned) && inRange(m.StartedAt, from, to) {
			out = append(out, m)
		}
	}
	return out
}

// ceilMinutes is a row's billable minutes: whole minutes, rounded up.
func ceilMinutes(seconds int64) int64 {
	n := seconds / 60
	if seconds%60 != 0 {
		n++
	}
	return n
}

// wantUsage sums the rows of the bucket's meetings: seconds as they are,
// billable minutes rounded up per row.
func (md *model) wantUsage(q reports.UsageQuery) []reports.UsageBucket {
	type acc struct {
		b     reports.UsageBucket
		users map[string]bool
	}
	byStart := map[int64]*acc{}
	for _, m := range md.reportable(q.AppID, q.From, q.To) {
		start := zoneBucketOf(m.StartedAt, q.Bucket, q.Location)
		a := byStart[start.Unix()]
		if a == nil {
			a = &acc{b: reports.UsageBucket{Start: start}, users: map[string]bool{}}
			byStart[start.Unix()] = a
		}
		a.b.Meetings++
		for _, r := range m.Participants {
			if r.JoinCount > 0 { // a roster member who never joined is no participant
				a.users[r.Participant] = true
			}
			a.b.AttendanceSeconds += r.AttendedSeconds
			a.b.AudioSeconds += r.AudioSeconds
			a.b.VideoSeconds += r.VideoSeconds
			a.b.BillableAudioMinutes += ceilMinutes(r.AudioSeconds)
			a.b.BillableVideoMinutes += ceilMinutes(r.VideoSeconds)
		}
	}
	out := []reports.UsageBucket{}
	for _, a := range byStart {
		a.b.Participants = int64(len(a.users))
		out = append(out, a.b)
	}
	slices.SortFunc(out, func(a, b reports.UsageBucket) int { return a.Start.Compare(b.Start) })
	return out
}

// withMedia gives every attendance row of m a split of its attended seconds
// into audio and video, chosen by a hash of the session and the row (the
// fold of this branch may not compute one yet; the suite tests the stores,
// not the fold): all video, all audio, or a split that lands on either side
// of a whole minute. The meeting's sums follow its rows.
func withMedia(m domain.Meeting) domain.Meeting {
	rows := slices.Clone(m.Participants)
	m.AudioSeconds, m.VideoSeconds = 0, 0
	for i := range rows {
		r := &rows[i]
		h := fnv.New32a()
		h.Write([]byte(m.SessionID + "\x00" + r.Participant))
		att := max(r.AttendedSeconds, 0)
		var audio int64
		switch h.Sum32() % 5 {
		case 0: // video only
		case 1:
			audio = att
		case 2:
			audio = att / 3
		case 3: // audio a whole number of minutes
			audio = att / 60 * 60
		default: // audio a second over a whole minute, when it fits
			audio = min(att, 61)
		}
		r.AudioSeconds, r.VideoSeconds = audio, att-audio
		m.AudioSeconds += r.AudioSeconds
		m.VideoSeconds += r.VideoSeconds
	}
	if m.Participants != nil {
		m.Participants = rows
	}
	return m
}
