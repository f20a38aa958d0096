package codec_test

import (
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
)

// BenchmarkMarshal encodes the event of every CometChat fixture in turn
// (the intake's per-webhook MarshalEvent): std is encoding/json (v1), v2
// the general encoder alone (encoding/json/v2 with the stored forms'
// options) and fast is MarshalEvent (the hand-written writer).
func BenchmarkMarshal(b *testing.B) {
	var events []domain.Event
	for _, name := range cometchattest.FixtureNames(b) {
		wh, err := cometchat.Decoder{}.Decode(cometchattest.Fixture(b, name, nil))
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
