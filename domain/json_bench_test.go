package domain_test

import (
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/meetingd/meetingd/domain"
)

// BenchmarkJSON encodes the facts, the meeting (without its rows, as the
// read models list it) and the participant rows of a 50-participant
// session, with the hand-written writers and, as the baseline, goccy/go-json
// (the reflective encoder they replace, which writes the same bytes).
func BenchmarkJSON(b *testing.B) {
	f := foldFacts(benchSession(50, 5))
	m := f.Meeting()
	list := m
	list.Participants, list.UnmatchedParticipants = nil, nil
	b.Run("facts/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("facts/stdlib-form", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := domain.FactsJSONByStdlib(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("meeting/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := list.AppendJSON(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("meeting/goccy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gojson.Marshal(list); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rows/hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := domain.AppendAttendanceJSON(nil, m.Participants); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rows/goccy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gojson.Marshal(m.Participants); err != nil {
				b.Fatal(err)
			}
		}
	})
}
