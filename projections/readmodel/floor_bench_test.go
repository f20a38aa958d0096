package readmodel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/meetingd/meetingd/reports"
)

// BenchmarkMeetingMiss is the baseline of the read benchmarks (make bench
// reports them beside it): a lookup of a session that is not stored, in the
// same large store. It costs a read transaction and one B-tree descent with
// nothing to decode, the floor under any query of the store.
func BenchmarkMeetingMiss(b *testing.B) {
	s := openLarge(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	var lat latencies
	b.ReportAllocs()
	for b.Loop() {
		key := reports.SessionKey{AppID: benchApp, SessionID: fmt.Sprintf("v1.us.absent.%08d", r.IntN(*benchMeetings))}
		lat.time(func() {
			if _, err := s.Meeting(ctx, key); !errors.Is(err, reports.ErrNotFound) {
				b.Fatalf("Meeting(%s) = %v, want ErrNotFound", key.SessionID, err)
			}
		})
	}
	lat.report(b)
}
