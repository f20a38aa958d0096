package codec

import "github.com/meetingd/meetingd/domain"

// The embedded read models' JSON sections (package projections/readmodel):
// a meeting's row (the meeting without its participants) and its
// participants section. Both are written by the hand-written encoders of
// meeting.go (the bytes encoding/json writes, TestRowsMatchStdlib); a
// meeting's row is read by a scanner of exactly that form
// (unmarshal_meeting.go), the rest by the general decoder.

// participants is the participants section of a record.
type participants struct {
	Participants []domain.Attendance `json:"p"`
	Unmatched    []domain.Attendance `json:"u,omitempty"`
}

// MeetingRow returns the JSON of m as its row stores it: without
// participants.
func MeetingRow(m domain.Meeting) ([]byte, error) {
	m.Participants, m.UnmatchedParticipants = nil, nil
	return AppendMeeting(nil, &m)
}

// UnmarshalMeeting reads a meeting's row (or any JSON of a Meeting) into m:
// a row as MeetingRow writes it into a zero m with the scanner of that
// form, anything else with the general decoder (the same result).
func UnmarshalMeeting(data []byte, m *domain.Meeting) error {
	if zeroMeeting(m) {
		if fast, ok := unmarshalMeetingFast(data); ok {
			*m = fast
			return nil
		}
	}
	return unmarshal(data, m)
}

// Participants returns the participants section of m's record: its
// participant rows and its unmatched participants.
func Participants(m *domain.Meeting) ([]byte, error) {
	b, err := AppendAttendance(append(make([]byte, 0, 64), `{"p":`...), m.Participants)
	if err != nil {
		return nil, err
	}
	if len(m.UnmatchedParticipants) > 0 {
		if b, err = AppendAttendance(append(b, `,"u":`...), m.UnmatchedParticipants); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// UnmarshalParticipants reads a participants section into m's Participants
// and UnmatchedParticipants.
func UnmarshalParticipants(data []byte, m *domain.Meeting) error {
	if fast, ok := unmarshalParticipantsFast(data); ok {
		m.Participants, m.UnmatchedParticipants = fast.Participants, fast.Unmatched
		return nil
	}
	var p participants
	if err := unmarshal(data, &p); err != nil {
		return err
	}
	m.Participants, m.UnmatchedParticipants = p.Participants, p.Unmatched
	return nil
}
