package codec

import (
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/meetingd/meetingd/domain"
)

// unmarshalMeetingFast decodes a meeting's row in exactly the form
// MeetingRow writes (AppendMeeting without participants: the fields in
// declaration order, omitempty ones left out, "participants":null, no
// whitespace), into a zero Meeting. Strings may hold the escapes
// encoding/json writes (\" \\ \n ... \u0026, \u2028, surrogate pairs);
// times must be UTC in the form time.Time.AppendText writes; numbers as
// JSON writes them. It reports false for anything else — reordered,
// unknown or case-folded keys, whitespace, raw control characters or
// invalid UTF-8, lone surrogates, non-canonical times or numbers,
// participants, trailing bytes — and UnmarshalMeeting then uses the general
// decoder. Whatever it accepts, the general decoder decodes to an equal
// Meeting (TestUnmarshalMeetingFastPath, FuzzUnmarshalMeetingFastPath).
func unmarshalMeetingFast(data []byte) (domain.Meeting, bool) {
	var m domain.Meeting
	s := scanner{data: data}
	o := s.object()
	o.field(`"app_id":`)
	m.AppID = s.text()
	o.field(`"session_id":`)
	m.SessionID = s.text()
	o.field(`"kind":`)
	m.Kind = kindOf(s.textBytes())
	o.field(`"status":`)
	m.Status = statusOf(s.textBytes())
	o.field(`"started_at":`)
	m.StartedAt = s.time()
	o.field(`"ended_at":`)
	m.EndedAt = s.timeOrNull()
	o.field(`"duration_seconds":`)
	m.DurationSeconds = s.int()
	o.field(`"participant_count":`)
	m.ParticipantCount = int(s.int())
	o.field(`"peak_concurrent":`)
	m.PeakConcurrent = int(s.int())
	o.field(`"total_attendance_seconds":`)
	m.TotalAttendanceSeconds = s.int()
	o.field(`"audio_seconds":`)
	m.AudioSeconds = s.int()
	o.field(`"video_seconds":`)
	m.VideoSeconds = s.int()
	if o.optional(`"outcome":`) {
		m.Outcome = domain.Outcome(s.text())
	}
	for _, f := range [...]struct {
		key string
		dst *string
	}{
		{`"initiator":`, &m.Initiator},
		{`"initiator_name":`, &m.InitiatorName},
		{`"receiver":`, &m.Receiver},
		{`"receiver_type":`, &m.ReceiverType},
		{`"media":`, &m.Media},
	} {
		if o.optional(f.key) {
			*f.dst = s.text()
		}
	}
	if o.optional(`"initiated_at":`) {
		m.InitiatedAt = s.timeOrNull()
	}
	o.field(`"recordings":`)
	if array(&s, &m.Recordings) {
		for !s.bad {
			m.Recordings = append(m.Recordings, s.recording())
			if !s.next(',') {
				break
			}
		}
		s.expect(']')
	}
	o.field(`"transcriptions":`)
	if array(&s, &m.Transcriptions) {
		for !s.bad {
			m.Transcriptions = append(m.Transcriptions, s.transcription())
			if !s.next(',') {
				break
			}
		}
		s.expect(']')
	}
	// A row has no participants (the record's other section holds them).
	o.field(`"participants":`)
	if !s.prefix("null") {
		s.bad = true
	}
	if o.optional(`"provider_usage":`) {
		pu := &domain.ProviderUsage{}
		po := s.object()
		po.field(`"participants":`)
		pu.Participants = int(s.int())
		po.field(`"audio_seconds":`)
		pu.AudioSeconds = s.int()
		po.field(`"video_seconds":`)
		pu.VideoSeconds = s.int()
		po.field(`"audio_difference_seconds":`)
		pu.AudioDifferenceSeconds = s.int()
		po.field(`"video_difference_seconds":`)
		pu.VideoDifferenceSeconds = s.int()
		po.end()
		m.ProviderUsage = pu
	}
	o.field(`"last_event_at":`)
	m.LastEventAt = s.time()
	s.planMeeting(&o, &m)
	o.end()
	if s.bad || s.pos != len(data) {
		return domain.Meeting{}, false
	}
	return m, true
}

// zeroMeeting reports whether m is the zero Meeting, the only one the fast
// path decodes into: the general decoder merges into the others (it keeps
// fields the row leaves out, and decodes into the pointers and slice
// elements that m already holds).
func zeroMeeting(m *domain.Meeting) bool {
	return m.AppID == "" && m.SessionID == "" && m.Kind == "" && m.Status == "" && m.StartedAt == time.Time{} &&
		m.EndedAt == nil && m.DurationSeconds == 0 && m.ParticipantCount == 0 && m.PeakConcurrent == 0 &&
		m.TotalAttendanceSeconds == 0 && m.Outcome == "" && m.Initiator == "" && m.InitiatorName == "" &&
		m.Receiver == "" && m.ReceiverType == "" && m.Media == "" && m.InitiatedAt == nil &&
		m.Recordings == nil && m.Transcriptions == nil && m.Participants == nil &&
		m.UnmatchedParticipants == nil && m.LastEventAt == time.Time{} &&
		m.ScheduledStart == nil && m.ScheduledEnd == nil && m.SeriesID == nil && m.RosterCount == 0 && m.AbsentCount == 0
}

// statusOf returns the status named raw, without allocating for the known
// ones.
func statusOf(raw []byte) domain.Status {
	switch string(raw) {
	case string(domain.StatusLive):
		return domain.StatusLive
	case string(domain.StatusEnded):
		return domain.StatusEnded
	case string(domain.StatusAbandoned):
		return domain.StatusAbandoned
	case string(domain.StatusScheduled):
		return domain.StatusScheduled
	}
	return domain.Status(raw)
}

// array reads null (leaving *dst nil), [] (an empty slice, not nil, as
// the general decoder makes it) or the opening bracket of a non-empty
// array, whose elements the caller then reads: it reports that case.
func array[T any](s *scanner, dst *[]T) bool {
	if s.bad || s.prefix("null") || !s.expect('[') {
		return false
	}
	*dst = []T{}
	return !s.next(']')
}

func (s *scanner) recording() domain.Recording {
	var r domain.Recording
	o := s.object()
	o.field(`"recording_url":`)
	r.URL = s.text()
	o.field(`"started_at":`)
	r.StartedAt = s.timeOrNull()
	o.field(`"duration_seconds":`)
	r.DurationSeconds = s.float()
	o.field(`"recording_date":`)
	r.RecordingDate = s.text()
	o.end()
	return r
}

func (s *scanner) transcription() domain.Transcription {
	var t domain.Transcription
	o := s.object()
	o.field(`"transcript_url":`)
	t.URL = s.text()
	o.field(`"started_at":`)
	t.StartedAt = s.timeOrNull()
	o.field(`"ended_at":`)
	t.EndedAt = s.timeOrNull()
	o.end()
	return t
}

// text reads a string as textBytes does.
func (s *scanner) text() string { return string(s.textBytes()) }

// textBytes reads a string: plain (as raw reads it, then a part of s.data)
// or with the escapes encoding/json writes, which it decodes into a new
// slice. Raw control characters, invalid UTF-8 and lone surrogates mark
// the input bad.
func (s *scanner) textBytes() []byte {
	if s.bad {
		return nil
	}
	at := s.pos
	if raw := s.raw(); !s.bad {
		return raw
	}
	s.bad, s.pos = false, at
	return s.unescape()
}

// unescape reads a string that may hold escapes.
func (s *scanner) unescape() []byte {
	if !s.expect('"') {
		return nil
	}
	d := s.data
	out := make([]byte, 0, 32)
	for i := s.pos; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			if !utf8.Valid(out) { // escapes decode to valid UTF-8: raw bytes are checked here
				break
			}
			s.pos = i + 1
			return out
		case c < ' ':
			// A raw control character: invalid JSON.
		case c != '\\':
			out = append(out, c)
			i++
			continue
		case i+1 < len(d):
			i += 2
			switch d[i-1] {
			case '"', '\\', '/':
				out = append(out, d[i-1])
				continue
			case 'b':
				out = append(out, '\b')
				continue
			case 'f':
				out = append(out, '\f')
				continue
			case 'n':
				out = append(out, '\n')
				continue
			case 'r':
				out = append(out, '\r')
				continue
			case 't':
				out = append(out, '\t')
				continue
			case 'u':
				r, ok := hex4(d[i:])
				i += 4
				switch {
				case !ok:
				case utf16.IsSurrogate(r):
					if r >= 0xDC00 || i+6 > len(d) || d[i] != '\\' || d[i+1] != 'u' {
						break
					}
					lo, ok := hex4(d[i+2:])
					if r = utf16.DecodeRune(r, lo); !ok || r == utf8.RuneError {
						break
					}
					i += 6
					out = utf8.AppendRune(out, r)
					continue
				default:
					out = utf8.AppendRune(out, r)
					continue
				}
			}
		}
		break
	}
	s.bad = true
	return nil
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// time reads a time in UTC as time.Time.AppendText writes it, and only
// that (the general decoder reads every form it writes the same way).
func (s *scanner) time() time.Time {
	raw := s.raw()
	if s.bad {
		return time.Time{}
	}
	if len(raw) < len("2006-01-02T15:04:05Z") || raw[len(raw)-1] != 'Z' {
		s.bad = true
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(raw))
	var buf [40]byte
	if b, err2 := t.AppendText(buf[:0]); err != nil || err2 != nil || string(b) != string(raw) {
		s.bad = true
		return time.Time{}
	}
	return t
}

// timeOrNull reads null (nil) or a time as time does.
func (s *scanner) timeOrNull() *time.Time {
	if s.bad || s.prefix("null") {
		return nil
	}
	t := s.time()
	if s.bad {
		return nil
	}
	return &t
}

// float reads a number in JSON's grammar that a float64 holds (no
// overflow).
func (s *scanner) float() float64 {
	if s.bad {
		return 0
	}
	d, start := s.data, s.pos
	i := start
	digits := func() int {
		n := 0
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	intStart := i
	if n := digits(); n == 0 || (n > 1 && d[intStart] == '0') {
		s.bad = true
		return 0
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			s.bad = true
			return 0
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.bad = true
			return 0
		}
	}
	f, err := strconv.ParseFloat(string(d[start:i]), 64)
	if err != nil {
		s.bad = true
		return 0
	}
	s.pos = i
	return f
}
