package domain_test

import (
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/domaintest"
)

// BenchmarkMarshal encodes the event of every CometChat fixture in turn
// (the intake's per-webhook Marshal): std is the encoding/json
// implementation Marshal replaced (the baseline) and fast is Marshal.
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
	b.Run("std", run(domain.MarshalStd))
	b.Run("fast", run(domain.Event.Marshal))
}
