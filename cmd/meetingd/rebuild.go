package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// rebuildGCPercent is the garbage collector's GOGC during a rebuild when no
// memory limit is known (see rebuildGC).
const rebuildGCPercent = 400

// rebuildMemoryRatio is the share of the process's memory limit (its
// cgroup's, else the machine's) that a rebuild's heap may reach before the
// collector runs.
const rebuildMemoryRatio = 0.5

// rebuildGC tunes the garbage collector for a rebuild and returns what
// restores it. A rebuild holds the folded log in memory until it writes it
// (projections.Config.RebuildBatchSize), so every collection marks that
// growing live heap again: with GOGC 100 collection cost a third of its CPU
// time, with GOGC 400 about a sixth. Unless the environment sets GOGC, the
// collector runs only near a memory limit: GOMEMLIMIT when set, else
// rebuildMemoryRatio of the memory available to the process
// (github.com/KimMachineGun/automemlimit reads the cgroup limit, else the
// machine's memory); GOGC 400 when no limit is known.
func rebuildGC(lookupEnv func(string) (string, bool), log *slog.Logger) (restore func()) {
	if _, set := lookupEnv("GOGC"); set {
		return func() {}
	}
	prevLimit := debug.SetMemoryLimit(-1)
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		limit, err := memlimit.SetGoMemLimitWithOpts(memlimit.WithRatio(rebuildMemoryRatio),
			memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)))
		if err != nil || limit <= 0 {
			log.Info("rebuild: no memory limit found; collecting garbage at GOGC 400", "err", err)
			prev := debug.SetGCPercent(rebuildGCPercent)
			return func() { debug.SetGCPercent(prev) }
		}
		log.Info("rebuild: collecting garbage only near a memory limit", "limit_mib", limit>>20)
	}
	prev := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(prev)
		debug.SetMemoryLimit(prevLimit)
	}
}

// rebuildCmd drops every read model and folds the whole log again. It needs
// the read models to itself: run it while serve is stopped (the embedded
// store's file lock refuses a second process).
func rebuildCmd(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) error {
	cfg, err := loadConfig("rebuild", false, args, stderr, lookupEnv)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	defer rebuildGC(lookupEnv, log)()
	p, err := openPipeline(ctx, cfg, nil, log)
	if err != nil {
		return err
	}
	start := time.Now()
	err = p.runner.Rebuild(ctx)
	elapsed := time.Since(start)
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	n := p.runner.Committed().Events
	fmt.Fprintf(stdout, "rebuilt read models from %d events in %s (%.0f events/s)\n",
		n, elapsed.Round(time.Millisecond), float64(n)/max(elapsed.Seconds(), 1e-9))
	return nil
}
