package readmodel_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/meetingd/meetingd/internal/plangen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// BenchmarkPlans measures the attendance-plan reads of the embedded store
// (make bench): series-40x200 is the gradebook of a series of 40 classes
// with rosters of 200 (plus guests), roster-10000 a meeting whose roster
// has 10,000 members (about a tenth absent); each reports its p99 beside
// the p99 of looking up an absent meeting in the same store (miss-p99-µs),
// the floor of any read.
func BenchmarkPlans(b *testing.B) {
	ctx := context.Background()
	s := open(b, b.TempDir())
	defer s.Close()
	r := rand.New(rand.NewPCG(7, 7))
	bt := projections.Batch{Version: 1}
	for i := range 40 {
		bt.Sessions = append(bt.Sessions, plangen.Class(r, benchApp, "series-a", i, 200, 5))
	}
	bt.Sessions = append(bt.Sessions, plangen.Class(r, benchApp, "big", 0, 10000, 0))
	if err := s.Write(ctx, bt); err != nil {
		b.Fatal(err)
	}
	miss := reports.SessionKey{AppID: benchApp, SessionID: "no-such-session"}
	run := func(b *testing.B, op func() error) {
		var lat, floor latencies
		b.ReportAllocs()
		for b.Loop() {
			lat.time(func() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			})
			floor.time(func() { _, _ = s.Meeting(ctx, miss) })
		}
		lat.report(b)
		floor.reportAs(b, "miss-")
	}
	b.Run("series-40x200", func(b *testing.B) {
		run(b, func() error {
			rep, err := s.Series(ctx, reports.SeriesQuery{AppID: benchApp, SeriesID: "series-a"})
			if err == nil && (len(rep.Sessions) != 40 || len(rep.Participants) < 200) {
				b.Fatalf("series of %d sessions, %d participants", len(rep.Sessions), len(rep.Participants))
			}
			return err
		})
	})
	b.Run("roster-10000", func(b *testing.B) {
		run(b, func() error {
			m, err := s.Meeting(ctx, reports.SessionKey{AppID: benchApp, SessionID: "big-000"})
			if err == nil && len(m.Participants) != 10000 {
				b.Fatalf("%d rows", len(m.Participants))
			}
			return err
		})
	})
}
