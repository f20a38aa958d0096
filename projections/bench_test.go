package projections_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
)

// The rebuild benchmarks fold a log of -projections.events events (default
// 100,000, quick enough for CI). The figure of the README:
//
//	go test -run '^$' -bench Rebuild -benchtime 1x ./projections \
//	    -projections.events 1000000 -projections.dir /tmp/log-1m
//
// -projections.dir keeps the generated log between runs (it is regenerated
// when its size differs); without it the log lives in a temporary directory.
var (
	benchEvents = flag.Int("projections.events", 100_000, "events in the rebuild benchmarks' log")
	benchDir    = flag.String("projections.dir", "", "directory that keeps the rebuild benchmarks' log between runs")
	benchCPU    = flag.String("projections.cpuprofile", "", "write a CPU profile of the rebuild benchmark's runs to this file")
)

// benchLog is the shared event log of the rebuild benchmarks.
var benchLog struct {
	once  sync.Once
	store *embedded.Store
	err   error
}

func openBenchLog(b *testing.B) *embedded.Store {
	b.Helper()
	benchLog.once.Do(func() { benchLog.store, benchLog.err = buildBenchLog(*benchEvents) })
	if benchLog.err != nil {
		b.Fatal(benchLog.err)
	}
	return benchLog.store
}

func buildBenchLog(n int) (*embedded.Store, error) {
	ctx := context.Background()
	dir := *benchDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "projections-bench-")
		if err != nil {
			return nil, err
		}
		dir = tmp // left for the OS: the benchmarks share it until exit
	}
	marker := filepath.Join(dir, "bench-events")
	if got, _ := os.ReadFile(marker); string(got) != strconv.Itoa(n) {
		if err := os.RemoveAll(filepath.Join(dir, embedded.FileName)); err != nil {
			return nil, err
		}
	}
	s, err := embedded.Open(ctx, embedded.Config{Dir: dir, MaxBatchEvents: 8192}, quietLog())
	if err != nil {
		return nil, err
	}
	if got, _ := os.ReadFile(marker); string(got) == strconv.Itoa(n) {
		return s, nil
	}
	start := time.Now()
	if _, err := eventgen.Fill(ctx, s, eventgen.Config{Events: n}, 8192); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "built a %d-event log in %s (%s)\n", n, time.Since(start).Round(time.Millisecond), dir)
	return s, os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600)
}

// BenchmarkRebuild drops and rebuilds the embedded read models from the whole
// log, as `meetingd rebuild` does, and reports events/s. Its baseline,
// readall, reads the same log without folding or writing (the ceiling set
// by the event store); the ratio of the two is the projection overhead.
func BenchmarkRebuild(b *testing.B) {
	log := openBenchLog(b)
	ctx := context.Background()
	b.Run("readall", func(b *testing.B) {
		n := 0
		cpu0 := cpuSeconds(b)
		for b.Loop() {
			for _, err := range log.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(cpuSeconds(b)-cpu0, "cpu-s")
	})
	b.Run("rebuild", func(b *testing.B) {
		models, err := readmodel.Open(ctx, readmodel.Config{Dir: b.TempDir()}, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		defer models.Close()
		r, err := projections.New(projections.Config{}, log, models, nil, nil, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		if *benchCPU != "" {
			f, err := os.Create(*benchCPU)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
			defer pprof.StopCPUProfile()
		}
		// As `meetingd rebuild` does (cmd/meetingd/rebuild.go), unless GOGC
		// or GOMEMLIMIT is set: collect only near a memory limit, here a
		// fixed 8 GiB (the command takes half of the memory it may use).
		_, gogc := os.LookupEnv("GOGC")
		_, memlimit := os.LookupEnv("GOMEMLIMIT")
		if !gogc && !memlimit {
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(8 << 30))
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
		}
		var events uint64
		var ms runtime.MemStats
		cpu0 := cpuSeconds(b)
		for b.Loop() {
			if err := r.Rebuild(ctx); err != nil {
				b.Fatal(err)
			}
			events += r.Committed().Events
		}
		cpu := cpuSeconds(b) - cpu0
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		// The machine is shared: the CPU time spent tells what the wall
		// time would be on two idle cores (about cpu-s / 2 at best).
		b.ReportMetric(cpu, "cpu-s")
		b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
	})
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
