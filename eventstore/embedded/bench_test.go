package embedded_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// benchEvent returns an event of about 600 bytes, the size of a CometChat
// webhook with its metadata.
func benchEvent() eventstore.Event {
	id := uuid.New()
	return eventstore.Event{
		ID:       id,
		Type:     "meeting.participant_joined.v1",
		Data:     fmt.Appendf(nil, `{"id":%q,"pad":%q}`, id, strings.Repeat("x", 450)),
		Metadata: []byte(`{"webhook":"wh-1234567890","received_at":"2026-01-01T00:00:00Z"}`),
	}
}

// BenchmarkAppendParallel appends single ~600-byte events from 64
// goroutines to 1000 streams, each append durable (fsync) before it
// returns. Compare ns/op with BenchmarkRawSequentialWriteFsync.
func BenchmarkAppendParallel(b *testing.B) {
	s := open(b, embedded.Config{Dir: b.TempDir()})
	const goroutines = 64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((goroutines + procs - 1) / procs)
	b.SetBytes(int64(len(benchEvent().Data) + len(benchEvent().Metadata)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		for pb.Next() {
			stream := fmt.Sprintf("app/session-%d", rand.IntN(1000))
			if _, err := s.Append(ctx, stream, eventstore.Any, benchEvent()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := s.CommitStats()
	if st.Commits > 0 {
		b.ReportMetric(float64(st.Events)/float64(st.Commits), "events/commit")
	}
}

// BenchmarkRawSequentialWriteFsync is the baseline: one writer appending
// ~600-byte records to a plain file with an fsync after each, the policy a
// store without group commit would need for the same durability.
func BenchmarkRawSequentialWriteFsync(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	e := benchEvent()
	rec := append(append([]byte(nil), e.Data...), e.Metadata...)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAll reads a log of 20,000 ~600-byte events in position
// order (ns/op is per event).
func BenchmarkReadAll(b *testing.B) {
	s := open(b, embedded.Config{Dir: b.TempDir()})
	ctx := b.Context()
	const total = 20000
	for i := 0; i < total; i += 200 {
		evs := make([]eventstore.Event, 200)
		for j := range evs {
			evs[j] = benchEvent()
		}
		if _, err := s.Append(ctx, fmt.Sprintf("app/session-%d", i%1000), eventstore.Any, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(benchEvent().Data) + len(benchEvent().Metadata)))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		for _, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n == b.N {
				break
			}
		}
	}
}
