package codec

import (
	"fmt"
	"slices"
	"time"

	"github.com/meetingd/meetingd/domain"
)

// AppendMeeting appends the JSON of m: the bytes encoding/json writes for a
// Meeting (TestMeetingJSONMatchesStdlib, FuzzMeetingJSONMatchesStdlib),
// written without reflection. A rebuild encodes a Meeting per session.
func AppendMeeting(dst []byte, m *domain.Meeting) ([]byte, error) {
	n := 512 + 160*(len(m.Recordings)+len(m.Transcriptions)) + attendanceSizeHint(m.Participants) +
		attendanceSizeHint(m.UnmatchedParticipants)
	o := beginObject(slices.Grow(dst, n))
	o.str("app_id", m.AppID)
	o.str("session_id", m.SessionID)
	o.str("kind", string(m.Kind))
	o.str("status", string(m.Status))
	o.time("started_at", m.StartedAt)
	o.timePtr("ended_at", m.EndedAt)
	o.int("duration_seconds", m.DurationSeconds)
	o.int("participant_count", int64(m.ParticipantCount))
	o.int("peak_concurrent", int64(m.PeakConcurrent))
	o.int("total_attendance_seconds", m.TotalAttendanceSeconds)
	o.int("audio_seconds", m.AudioSeconds)
	o.int("video_seconds", m.VideoSeconds)
	o.strOmitEmpty("outcome", string(m.Outcome))
	o.strOmitEmpty("initiator", m.Initiator)
	o.strOmitEmpty("initiator_name", m.InitiatorName)
	o.strOmitEmpty("receiver", m.Receiver)
	o.strOmitEmpty("receiver_type", m.ReceiverType)
	o.strOmitEmpty("media", m.Media)
	if m.InitiatedAt != nil {
		o.timePtr("initiated_at", m.InitiatedAt)
	}
	appendArray(&o, "recordings", m.Recordings, func(ro *jsonObject, r domain.Recording) {
		ro.str("recording_url", r.URL)
		ro.timePtr("started_at", r.StartedAt)
		ro.float("duration_seconds", r.DurationSeconds)
		ro.str("recording_date", r.RecordingDate)
	})
	appendArray(&o, "transcriptions", m.Transcriptions, func(to *jsonObject, t domain.Transcription) {
		to.str("transcript_url", t.URL)
		to.timePtr("started_at", t.StartedAt)
		to.timePtr("ended_at", t.EndedAt)
	})
	o.key("participants")
	o.attendance(m.Participants)
	if len(m.UnmatchedParticipants) > 0 {
		o.key("unmatched_participants")
		o.attendance(m.UnmatchedParticipants)
	}
	if pu := m.ProviderUsage; pu != nil {
		o.key("provider_usage")
		po := beginObject(o.buf)
		po.int("participants", int64(pu.Participants))
		po.int("audio_seconds", pu.AudioSeconds)
		po.int("video_seconds", pu.VideoSeconds)
		po.int("audio_difference_seconds", pu.AudioDifferenceSeconds)
		po.int("video_difference_seconds", pu.VideoDifferenceSeconds)
		o.buf = po.end()
	}
	o.time("last_event_at", m.LastEventAt)
	o.planMeeting(m)
	b, err := o.result()
	if err != nil {
		return dst, fmt.Errorf("marshal meeting: %w", err)
	}
	return b, nil
}

// AppendAttendance appends rows as encoding/json writes a
// []Attendance (a meeting's participant rows): null when rows is nil, else
// an array. Like encoding/json it refuses a time outside the years 0–9999
// and a NaN or infinite ratio, which JSON cannot hold (Meeting derives
// neither).
func AppendAttendance(dst []byte, rows []domain.Attendance) ([]byte, error) {
	o := jsonObject{buf: slices.Grow(dst, attendanceSizeHint(rows))}
	o.attendance(rows)
	if o.err != nil {
		return dst, fmt.Errorf("marshal attendance: %w", o.err)
	}
	return o.buf, nil
}

// attendanceSizeHint estimates the length of rows' JSON, so that it is
// written without growing the buffer in the common case.
func attendanceSizeHint(rows []domain.Attendance) int {
	n := 2
	for i := range rows {
		n += 240 + len(rows[i].Participant) + len(rows[i].Name) + 64*len(rows[i].Intervals)
	}
	return n
}

// attendance writes rows as encoding/json writes a []Attendance.
func (o *jsonObject) attendance(rows []domain.Attendance) {
	if rows == nil {
		o.null()
		return
	}
	o.buf = append(o.buf, '[')
	for i := range rows {
		r := &rows[i]
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		ro := beginObject(o.buf)
		ro.str("participant", r.Participant)
		ro.str("name", r.Name)
		ro.time("first_joined_at", r.FirstJoinedAt)
		ro.timePtr("last_left_at", r.LastLeftAt)
		ro.int("attended_seconds", r.AttendedSeconds)
		ro.float("attendance_ratio", r.AttendanceRatio)
		ro.int("join_count", int64(r.JoinCount))
		ro.key("intervals")
		if r.Intervals == nil {
			ro.null()
		} else {
			ro.buf = append(ro.buf, '[')
			for k, iv := range r.Intervals {
				if k > 0 {
					ro.buf = append(ro.buf, ',')
				}
				io := beginObject(ro.buf)
				io.time("joined_at", iv.JoinedAt)
				io.timePtr("left_at", iv.LeftAt)
				ro.buf, ro.err = io.end(), cmpErr(ro.err, io.err)
			}
			ro.buf = append(ro.buf, ']')
		}
		ro.int("audio_seconds", r.AudioSeconds)
		ro.int("video_seconds", r.VideoSeconds)
		if r.AudioOnly != nil {
			ro.key("audio_only")
			if *r.AudioOnly {
				ro.buf = append(ro.buf, "true"...)
			} else {
				ro.buf = append(ro.buf, "false"...)
			}
		}
		ro.strOmitEmpty("platform", r.Platform)
		ro.strOmitEmpty("sdk", r.SDK)
		ro.planAttendance(r)
		o.buf, o.err = ro.end(), cmpErr(o.err, ro.err)
	}
	o.buf = append(o.buf, ']')
}

func (o *jsonObject) null() { o.buf = append(o.buf, "null"...) }

// time writes t as time.Time.MarshalJSON does (RFC 3339 with nanoseconds).
func (o *jsonObject) time(name string, t time.Time) {
	o.key(name)
	o.timeValue(t)
}

func (o *jsonObject) timeValue(t time.Time) {
	o.buf = append(o.buf, '"')
	b, err := t.AppendText(o.buf)
	if err != nil {
		o.fail(fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err))
		o.buf = append(o.buf[:len(o.buf)-1], "null"...)
		return
	}
	o.buf = append(b, '"')
}

// timePtr writes t, or null when nil.
func (o *jsonObject) timePtr(name string, t *time.Time) {
	o.key(name)
	if t == nil {
		o.null()
		return
	}
	o.timeValue(*t)
}

// cmpErr returns the first of two errors that is not nil.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fail records the first error of the object.
func (o *jsonObject) fail(err error) {
	if o.err == nil {
		o.err = err
	}
}

// result ends the object and returns it with the first error met.
func (o *jsonObject) result() ([]byte, error) {
	b := o.end()
	if o.err != nil {
		return nil, o.err
	}
	return b, nil
}

// appendArray appends key and the JSON array of items, each an object that
// one writes; a nil slice is null, as encoding/json writes it.
func appendArray[T any](o *jsonObject, key string, items []T, one func(*jsonObject, T)) {
	o.key(key)
	if items == nil {
		o.null()
		return
	}
	o.buf = append(o.buf, '[')
	for i, it := range items {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		io := beginObject(o.buf)
		one(&io, it)
		o.buf, o.err = io.end(), cmpErr(o.err, io.err)
	}
	o.buf = append(o.buf, ']')
}
