package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
)

// sealedLog is the rebuild benchmarks' corpus written as meetingd writes it
// since issue 21: the personal data of every event sealed under its
// subject's key, with the keyring beside it.
var sealedLog struct {
	once  sync.Once
	store *embedded.Store
	env   *envelope.Envelope
	err   error
}

func openSealedLog(b *testing.B) (*embedded.Store, *envelope.Envelope) {
	b.Helper()
	sealedLog.once.Do(func() {
		sealedLog.store, sealedLog.env, sealedLog.err = buildSealedLog(*benchEvents)
	})
	if sealedLog.err != nil {
		b.Fatal(sealedLog.err)
	}
	return sealedLog.store, sealedLog.env
}

func buildSealedLog(n int) (*embedded.Store, *envelope.Envelope, error) {
	ctx := context.Background()
	dir := *benchDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "projections-bench-")
		if err != nil {
			return nil, nil, err
		}
		dir = tmp
	}
	dir += "-sealed"
	marker := filepath.Join(dir, "bench-events")
	if got, _ := os.ReadFile(marker); string(got) != strconv.Itoa(n) {
		if err := os.RemoveAll(dir); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	ring, err := privacy.OpenEmbedded(dir)
	if err != nil {
		return nil, nil, err
	}
	env := envelope.New(ring)
	s, err := embedded.Open(ctx, embedded.Config{Dir: dir, MaxBatchEvents: 8192}, quietLog())
	if err != nil {
		return nil, nil, err
	}
	if got, _ := os.ReadFile(marker); string(got) == strconv.Itoa(n) {
		return s, env, nil
	}
	start := time.Now()
	if _, err := eventgen.Fill(ctx, envelope.NewLog(s, env), eventgen.Config{Events: n}, 8192); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "built a sealed %d-event log in %s (%s)\n", n, time.Since(start).Round(time.Millisecond), dir)
	return s, env, os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600)
}

// BenchmarkRebuildSealed is BenchmarkRebuild's rebuild with and without
// sealed personal data, in one run: plain rebuilds the plaintext log as
// meetingd did before issue 21 (the baseline), sealed the same corpus
// written sealed, every event opened through the keyring.
func BenchmarkRebuildSealed(b *testing.B) {
	ctx := context.Background()
	plainLog := openBenchLog(b)
	sealed, env := openSealedLog(b)
	for _, tc := range []struct {
		name string
		log  projections.Log
		open projections.Opener
	}{
		{"plain", plainLog, nil},
		{"sealed", sealed, env},
	} {
		b.Run(tc.name, func(b *testing.B) {
			models, err := readmodel.Open(ctx, readmodel.Config{Dir: b.TempDir()}, quietLog())
			if err != nil {
				b.Fatal(err)
			}
			defer models.Close()
			r, err := projections.New(projections.Config{Opener: tc.open}, tc.log, models, nil, nil, quietLog())
			if err != nil {
				b.Fatal(err)
			}
			_, gogc := os.LookupEnv("GOGC")
			_, memlimit := os.LookupEnv("GOMEMLIMIT")
			if !gogc && !memlimit {
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(8 << 30))
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
			}
			var events uint64
			cpu0 := cpuSeconds(b)
			for b.Loop() {
				if err := r.Rebuild(ctx); err != nil {
					b.Fatal(err)
				}
				events += r.Committed().Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(cpuSeconds(b)-cpu0, "cpu-s")
		})
	}
}
