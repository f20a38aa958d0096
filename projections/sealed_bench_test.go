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

// privacyLogs are the rebuild benchmarks' corpus twice, in directories of
// their own (the shared log of BenchmarkRebuild is sealed in place by the
// first `meetingd rebuild` of cmd/meetingd's benchmark): as meetingd wrote
// it before issue 21 (plain), and with the personal data of every event
// sealed under its subject's key, the keyring beside it (sealed).
var privacyLogs struct {
	once          sync.Once
	plain, sealed *embedded.Store
	env           *envelope.Envelope
	err           error
}

func openPrivacyLogs(b *testing.B) (plain, sealed *embedded.Store, env *envelope.Envelope) {
	b.Helper()
	privacyLogs.once.Do(func() {
		base := *benchDir
		if base == "" {
			tmp, err := os.MkdirTemp("", "projections-bench-")
			if err != nil {
				privacyLogs.err = err
				return
			}
			base = tmp
		}
		base += "-privacy"
		privacyLogs.plain, _, privacyLogs.err = buildPrivacyLog(filepath.Join(base, "plain"), *benchEvents, false)
		if privacyLogs.err == nil {
			privacyLogs.sealed, privacyLogs.env, privacyLogs.err = buildPrivacyLog(filepath.Join(base, "sealed"), *benchEvents, true)
		}
	})
	if privacyLogs.err != nil {
		b.Fatal(privacyLogs.err)
	}
	return privacyLogs.plain, privacyLogs.sealed, privacyLogs.env
}

func buildPrivacyLog(dir string, n int, sealed bool) (*embedded.Store, *envelope.Envelope, error) {
	ctx := context.Background()
	marker := filepath.Join(dir, "bench-events")
	if got, _ := os.ReadFile(marker); string(got) != strconv.Itoa(n) {
		if err := os.RemoveAll(dir); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, err
	}
	var env *envelope.Envelope
	if sealed {
		ring, err := privacy.OpenEmbedded(dir)
		if err != nil {
			return nil, nil, err
		}
		env = envelope.New(ring)
	}
	s, err := embedded.Open(ctx, embedded.Config{Dir: dir, MaxBatchEvents: 8192}, quietLog())
	if err != nil {
		return nil, nil, err
	}
	if got, _ := os.ReadFile(marker); string(got) == strconv.Itoa(n) {
		return s, env, nil
	}
	start := time.Now()
	var dst eventgen.Appender = s
	if sealed {
		dst = envelope.NewLog(s, env)
	}
	if _, err := eventgen.Fill(ctx, dst, eventgen.Config{Events: n}, 8192); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "built a %d-event log (sealed: %v) in %s (%s)\n", n, sealed, time.Since(start).Round(time.Millisecond), dir)
	return s, env, os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600)
}

// BenchmarkRebuildSealed is BenchmarkRebuild's rebuild with and without
// sealed personal data, in one run: plain rebuilds the plaintext corpus as
// meetingd did before issue 21 (the baseline), sealed the same corpus
// written sealed, every event opened through the keyring.
func BenchmarkRebuildSealed(b *testing.B) {
	ctx := context.Background()
	plainLog, sealed, env := openPrivacyLogs(b)
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
