package readmodel

import (
	gojson "github.com/goccy/go-json"

	"github.com/meetingd/meetingd/domain"
)

// The records' JSON sections (meetings and participant rows) are encoded
// and decoded with github.com/goccy/go-json: the same bytes as
// encoding/json (TestJSONCodecMatchesStdlib), several times faster, which
// BenchmarkRebuild (projections) and the report benchmarks measure.

func unmarshalJSON(data []byte, v any) error { return gojson.Unmarshal(data, v) }

// The hot encodings of a write — a meeting's row and its participants
// section — use domain's append encoders, which write encoding/json's bytes
// without reflection (TestJSONCodecMatchesStdlib checks both here).

// meetingRowJSON is the JSON of m as its row stores it: without participants.
func meetingRowJSON(m domain.Meeting) ([]byte, error) {
	m.Participants, m.UnmatchedParticipants = nil, nil
	return m.AppendJSON(nil)
}

// peopleJSON is the JSON of participantsRecord{m.Participants, m.UnmatchedParticipants}.
func peopleJSON(m *domain.Meeting) ([]byte, error) {
	b, err := domain.AppendAttendanceJSON(append(make([]byte, 0, 64), `{"p":`...), m.Participants)
	if err != nil {
		return nil, err
	}
	if len(m.UnmatchedParticipants) > 0 {
		if b, err = domain.AppendAttendanceJSON(append(b, `,"u":`...), m.UnmatchedParticipants); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}
