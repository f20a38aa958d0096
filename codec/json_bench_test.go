package codec_test

import (
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// benchBytes runs encode in a loop.
func benchBytes(encode func() ([]byte, error)) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encode(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchDecode runs decode in a loop.
func benchDecode(decode func() error) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := decode(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkJSON encodes and decodes the stored forms of a 50-participant
// session that a rebuild writes per session: its facts, its meeting row
// (without participants, as the read models list it) and its participant
// rows; hand is the hand-written writer (for decode-meeting, the row
// scanner of UnmarshalMeeting), v2 encoding/json/v2 alone with the stored
// forms' options on the same value (the same bytes).
func BenchmarkJSON(b *testing.B) {
	f := foldtest.Fold(foldtest.BenchSession(50, 5))
	m := f.Meeting()
	list := m
	list.Participants, list.UnmatchedParticipants = nil, nil
	state := struct {
		V int `json:"v"`
		domain.FactsState
	}{1, f.State()}
	facts, err := codec.MarshalFacts(f)
	if err != nil {
		b.Fatal(err)
	}
	row, err := codec.MeetingRow(m)
	if err != nil {
		b.Fatal(err)
	}
	people, err := codec.Participants(&m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("facts/hand", benchBytes(func() ([]byte, error) { return codec.MarshalFacts(f) }))
	b.Run("facts/v2", benchBytes(func() ([]byte, error) {
		state.FactsState = f.State()
		return codec.MarshalV2(&state)
	}))
	b.Run("meeting/hand", benchBytes(func() ([]byte, error) { return codec.AppendMeeting(nil, &list) }))
	b.Run("meeting/v2", benchBytes(func() ([]byte, error) { return codec.MarshalV2(&list) }))
	b.Run("rows/hand", benchBytes(func() ([]byte, error) { return codec.AppendAttendance(nil, m.Participants) }))
	b.Run("rows/v2", benchBytes(func() ([]byte, error) { return codec.MarshalV2(m.Participants) }))
	b.Run("decode-facts/v2", benchDecode(func() error {
		var g domain.Facts
		return codec.UnmarshalFacts(facts, &g)
	}))
	b.Run("decode-meeting/hand", benchDecode(func() error {
		var g domain.Meeting
		return codec.UnmarshalMeeting(row, &g)
	}))
	b.Run("decode-meeting/v2", benchDecode(func() error {
		var g domain.Meeting
		return codec.UnmarshalV2(row, &g)
	}))
	b.Run("decode-rows/v2", benchDecode(func() error {
		var g domain.Meeting
		return codec.UnmarshalParticipants(people, &g)
	}))
}

// BenchmarkFoldStored is BenchmarkFold from the stored form: each event is
// codec.UnmarshalEvent'ed first, as the projection runner reads the log.
func BenchmarkFoldStored(b *testing.B) {
	events := foldtest.BenchSession(50, 5)
	types := make([]string, len(events))
	data := make([][]byte, len(events))
	for i, ev := range events {
		var err error
		types[i] = ev.Type()
		if data[i], err = codec.MarshalEvent(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		var f domain.Facts
		for i := range data {
			ev, err := codec.UnmarshalEvent(types[i], data[i])
			if err != nil {
				b.Fatal(err)
			}
			f.Apply(ev)
		}
		_ = f.Meeting()
	}
	b.ReportMetric(float64(b.N)*float64(len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFactsJSON round-trips the stored facts of a 50-participant
// session (the runner persists them per batch).
func BenchmarkFactsJSON(b *testing.B) {
	f := foldtest.Fold(foldtest.BenchSession(50, 5))
	b.ReportAllocs()
	for b.Loop() {
		data, err := codec.MarshalFacts(f)
		if err != nil {
			b.Fatal(err)
		}
		var g domain.Facts
		if err := codec.UnmarshalFacts(data, &g); err != nil {
			b.Fatal(err)
		}
	}
}
