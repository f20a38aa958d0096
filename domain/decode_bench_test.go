package domain_test

import (
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/domaintest"
)

// BenchmarkDecode decodes every CometChat fixture in turn (the intake's
// per-request decode cost).
func BenchmarkDecode(b *testing.B) {
	var bodies [][]byte
	for _, name := range domaintest.FixtureNames(b) {
		bodies = append(bodies, domaintest.Fixture(b, name, nil))
	}
	d := domain.Decoder{Now: time.Now}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := d.Decode(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
}
