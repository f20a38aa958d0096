package domain_test

import (
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// benchSession is a realistic large meeting: participants who each join and
// leave several times (join and leave webhooks), a start, an end with
// all_occupants, two recordings and a transcript.
func reportEventRate(b *testing.B, events int) {
	b.ReportMetric(float64(b.N)*float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFold folds a 50-participant session (≈500 events) from scratch
// and derives its Meeting once, as a rebuild does per session.
func BenchmarkFold(b *testing.B) {
	events := foldtest.BenchSession(50, 5)
	b.ReportAllocs()
	for b.Loop() {
		var f domain.Facts
		for _, ev := range events {
			f.Apply(ev)
		}
		_ = f.Meeting()
	}
	reportEventRate(b, len(events))
}

// BenchmarkApplyDuplicate applies an event the facts already hold (the
// at-least-once replay case).
func BenchmarkApplyDuplicate(b *testing.B) {
	events := foldtest.BenchSession(50, 5)
	f := foldtest.Fold(events)
	ev := events[len(events)/2]
	b.ReportAllocs()
	for b.Loop() {
		if f.Apply(ev) {
			b.Fatal("duplicate reported as new")
		}
	}
}

// BenchmarkMeeting derives the Meeting of a 200-participant session (done
// once per changed session per batch).
func BenchmarkMeeting(b *testing.B) {
	f := foldtest.Fold(foldtest.BenchSession(200, 5))
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Meeting()
	}
}
