package embedded_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

var deleteStreams = flag.Int("embedded.deletestreams", 20_000, "sessions (10 events each) in BenchmarkDeleteStreams' log")

// BenchmarkDeleteStreams deletes a tenth of the sessions of a log of
// -embedded.deletestreams sessions of 10 ~600-byte events, as the
// retention job does with the embedded log: DeleteStreams in chunks of
// 5,000 streams, then Scrub. The same run's compact-alone-s copies the
// same log into a compacted file (bbolt's Compact, what Rewrite does): the
// other way to drop the deleted records' bytes. One iteration.
func BenchmarkDeleteStreams(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration (-benchtime=1x)")
	}
	ctx := context.Background()
	dir := b.TempDir()
	s, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := *deleteStreams
	for i := 0; i < n; i += 100 {
		errs := make(chan error, 100)
		for j := i; j < min(i+100, n); j++ {
			go func() {
				evs := make([]eventstore.Event, 10)
				for k := range evs {
					evs[k] = benchEvent()
				}
				_, err := s.Append(ctx, fmt.Sprintf("session-app/%08d", j), eventstore.NoStream, evs...)
				errs <- err
			}()
		}
		for j := i; j < min(i+100, n); j++ {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	src, err := bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	dst, err := bolt.Open(filepath.Join(b.TempDir(), "compact.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		b.Fatal(err)
	}
	if err := dst.Sync(); err != nil {
		b.Fatal(err)
	}
	compactAlone := time.Since(start)
	dst.Close()
	src.Close()
	if s, err = embedded.Open(ctx, embedded.Config{Dir: dir}, nil); err != nil {
		b.Fatal(err)
	}
	var streams []string
	for j := 0; j < n; j += 10 {
		streams = append(streams, fmt.Sprintf("session-app/%08d", j))
	}
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < len(streams); i += 5000 {
		if err := s.DeleteStreams(ctx, streams[i:min(i+5000, len(streams))]...); err != nil {
			b.Fatal(err)
		}
	}
	t1 := time.Now()
	if err := s.Scrub(ctx); err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	b.StopTimer()
	b.ReportMetric(float64(len(streams)), "sessions-deleted")
	b.ReportMetric(t2.Sub(t0).Seconds(), "retention-s")
	b.ReportMetric(t1.Sub(t0).Seconds(), "delete-s")
	b.ReportMetric(t2.Sub(t1).Seconds(), "scrub-s")
	b.ReportMetric(compactAlone.Seconds(), "compact-alone-s")
}
