package domain_test

import (
	"testing"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
)

// BenchmarkMarshal encodes the event of every CometChat fixture in turn
// (the intake's per-webhook Marshal): std is the encoding/json
// implementation Marshal replaced (the baseline) and fast is Marshal.
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
	b.Run("std", run(domain.MarshalStd))
	b.Run("fast", run(domain.Event.Marshal))
}
