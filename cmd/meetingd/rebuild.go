package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
)

// rebuildGCPercent is the garbage collector's GOGC during a rebuild, unless
// the environment sets GOGC: a rebuild holds the folded log in memory until
// it writes it (projections.Config.RebuildBatchSize), so every collection
// marks that growing live heap again, and collecting at 5× the live heap
// instead of 2× saves about a fifth of the CPU time of a 1,000,000-event
// rebuild (BenchmarkRebuild, README "Performance") for ~15% more peak heap.
const rebuildGCPercent = 400

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
	if _, set := os.LookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(rebuildGCPercent))
	}
	log := newLogger(stderr, cfg.LogLevel)
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
