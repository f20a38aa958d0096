package intake_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

// BenchmarkIngestSealing is BenchmarkIngestTraffic's load (500 sessions,
// 64 goroutines, the embedded store) without sealing (plain: the intake as
// it was before issue 21, the baseline) and with it (sealed: every
// personal field sealed under its subject's key in an embedded keyring,
// each new subject's key fsynced, keyed ids), alternated in one run.
func BenchmarkIngestSealing(b *testing.B) {
	gen, err := corpus.New(corpus.Config{Sessions: 500, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for d, err := range gen.Stream(500, 200, 0.1, 3) {
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, d.Body)
	}
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			var webhooks int
			var elapsed time.Duration
			for b.Loop() {
				dir := b.TempDir()
				store, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(dir, "events")}, nil)
				if err != nil {
					b.Fatal(err)
				}
				cfg := intake.Config{}
				var ring *privacy.Embedded
				if sealed {
					if ring, err = privacy.OpenEmbedded(dir); err != nil {
						b.Fatal(err)
					}
					cfg.Sealer = envelope.New(ring)
				}
				svc, err := intake.New(cfg, store, nil)
				if err != nil {
					b.Fatal(err)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for range 64 {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
							if _, err := svc.Ingest(context.Background(), bodies[i], "bench"); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				webhooks += len(bodies)
				_ = store.Close()
				if ring != nil {
					_ = ring.Close()
				}
			}
			b.ReportMetric(float64(webhooks)/elapsed.Seconds(), "webhooks/s")
		})
	}
}
