package codec_test

import (
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/domaintest"
)

// BenchmarkMarshal encodes the event of every CometChat fixture in turn
// (the intake's per-webhook MarshalEvent): std is encoding/json (v1), v2
// the general encoder alone (encoding/json/v2 with the stored forms'
// options) and fast is MarshalEvent (the hand-written writer).
func BenchmarkMarshal(b *testing.B) {
	var events []domain.Event
	for _, name := range domaintest.FixtureNames(b) {
		wh, err := domain.Decoder{}.Decode(domaintest.Fixture(b, name, nil))
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		events = append(events, wh.Event)
	}
	run := func(marshal func(domain.Event) ([]byte, error)) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := marshal(events[i%len(events)]); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("std", run(stdMarshal))
	b.Run("v2", run(codec.MarshalGeneral))
	b.Run("fast", run(codec.MarshalEvent))
}
