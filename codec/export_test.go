package codec

import "github.com/meetingd/meetingd/domain"

// Test-only hooks of package codec: the two halves of MarshalEvent and of
// UnmarshalEvent, compared by the differential tests and the benchmarks.

// MarshalFast is the hand-written stored form alone, without the fallback:
// it reports false where MarshalEvent falls back to the general encoder.
func MarshalFast(e domain.Event) ([]byte, bool) { return appendEventJSON(nil, e) }

// MarshalGeneral is the stored form written by the general encoder alone.
var MarshalGeneral = marshalGeneral

var (
	// UnmarshalFast is the scanner of the frequent stored forms alone.
	UnmarshalFast = unmarshalFast
	// UnmarshalGeneral is the general decoder alone.
	UnmarshalGeneral = unmarshalGeneral
	// UnmarshalMeetingFast is the scanner of meeting rows alone.
	UnmarshalMeetingFast = unmarshalMeetingFast
)

// UnmarshalParticipantsFast is the scanner of participants sections alone:
// the rows and the unmatched rows.
func UnmarshalParticipantsFast(data []byte) ([]domain.Attendance, []domain.Attendance, bool) {
	p, ok := unmarshalParticipantsFast(data)
	return p.Participants, p.Unmatched, ok
}

// MarshalV2 and UnmarshalV2 are the general engine (encoding/json/v2 with
// the stored forms' options) on any value: the benchmarks' baseline for a
// hand-written path.
var (
	MarshalV2   = marshal
	UnmarshalV2 = unmarshal
)
