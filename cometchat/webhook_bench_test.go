package cometchat_test

import (
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
)

// BenchmarkDecode decodes every CometChat fixture in turn (the intake's
// per-request decode cost).
func BenchmarkDecode(b *testing.B) {
	var bodies [][]byte
	for _, name := range cometchattest.FixtureNames(b) {
		bodies = append(bodies, cometchattest.Fixture(b, name, nil))
	}
	d := cometchat.Decoder{Now: time.Now}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := d.Decode(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
	}
}
