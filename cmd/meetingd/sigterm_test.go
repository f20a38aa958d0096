package main_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/projections/readmodel"
)

// TestGracefulShutdownUnderLoad sends SIGTERM to `meetingd serve` while
// webhooks pour in, round after round, and checks after each that
//
//   - the process exits 0 within its shutdown bound;
//   - the read models' checkpoint, read from the files the process left,
//     covers exactly every session event of the log (the shutdown drained
//     the projections to the head: lag 0, no event counted twice);
//   - after a restart, every webhook that got a 200 is in the log once,
//     /v1/status reaches lag 0, and every report equals what a fresh
//     `meetingd rebuild` of the same log serves.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	var env []string
	if dsn := clickhouseForCrash(t); dsn != "" {
		env = append(env, "MEETINGD_CLICKHOUSE_DSN="+dsn)
	}
	dataDir := t.TempDir()
	addr := freeAddr(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	acked := &ackSet{ids: map[string]map[string]bool{}}
	const rounds, workers = 3, 12
	for round := range rounds {
		srv := startServe(t, dataDir, addr, env...)
		stopLoad := startLoad(srv.base, fmt.Sprintf("term%d", round), workers, acked)
		time.Sleep(time.Duration(300+rng.IntN(900)) * time.Millisecond)
		before, _ := acked.count()
		start := time.Now()
		srv.stop(t) // SIGTERM; fails unless the exit status is 0 within 30s
		took := time.Since(start)
		stopLoad()
		after, _ := acked.count()
		t.Logf("round %d: SIGTERM after %d acknowledged webhooks (%d in all once the load stopped); exited in %s",
			round, before, after, took.Round(time.Millisecond))

		checkCheckpoint(t, dataDir)

		checkRecovery(t, dataDir, addr, env, acked, round)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
	if n, _ := acked.count(); n < rounds*workers {
		t.Fatalf("only %d webhooks were acknowledged; the load did not run", n)
	}
}

// checkCheckpoint opens the stores a stopped `meetingd serve` left in
// dataDir and checks that the read models' checkpoint is exactly the head
// of the log's session events.
func checkCheckpoint(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	lg := slog.New(slog.DiscardHandler)
	store, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dataDir, "eventstore")}, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := store.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}})
	if err != nil {
		t.Fatal(err)
	}
	models, err := readmodel.Open(ctx, readmodel.Config{Dir: filepath.Join(dataDir, "readmodels")}, lg)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close()
	cp, err := models.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Events != st.Events || cp.Position != st.Head {
		t.Fatalf("after SIGTERM the checkpoint is %d events at %s, the log holds %d session events up to %s",
			cp.Events, cp.Position, st.Events, st.Head)
	}
}
