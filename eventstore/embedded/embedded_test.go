package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/eventstore/storetest"
)

// open opens a store on dir for the rest of the test.
func open(t testing.TB, cfg embedded.Config) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, storetest.Features{}, func(t *testing.T) storetest.Harness {
		// Small read batches, so that the suite's reads cross batch borders.
		cfg := embedded.Config{Dir: t.TempDir(), ReadBatchSize: 7}
		reopen := func(t *testing.T) eventstore.Store { return open(t, cfg) }
		return storetest.Harness{Store: open(t, cfg), Reopen: reopen}
	})
}

func TestContractDefaults(t *testing.T) {
	storetest.Run(t, storetest.Features{}, func(t *testing.T) storetest.Harness {
		cfg := embedded.Config{Dir: t.TempDir()}
		return storetest.Harness{Store: open(t, cfg), Reopen: func(t *testing.T) eventstore.Store { return open(t, cfg) }}
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  embedded.Config
		want []string
	}{
		{"ok", embedded.Config{Dir: "x"}, nil},
		{"everything wrong", embedded.Config{LockTimeout: -1, MaxBatchEvents: -1, ReadBatchSize: -1, MaxFileSize: -1},
			[]string{"Dir is required", "LockTimeout", "MaxBatchEvents", "ReadBatchSize", "MaxFileSize"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == nil) {
				t.Fatalf("Validate: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := embedded.Open(t.Context(), embedded.Config{}, nil); err == nil {
		t.Error("Open without Dir succeeded")
	}
}

// TestGroupCommit checks that concurrent appends share commits.
func TestGroupCommit(t *testing.T) {
	s := open(t, embedded.Config{Dir: t.TempDir()})
	ctx := t.Context()
	const writers, appends = 64, 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range appends {
				e := eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: []byte(`{}`)}
				if _, err := s.Append(ctx, fmt.Sprintf("s%d", w%8), eventstore.Any, e); err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.CommitStats()
	t.Logf("%+v: %.1f appends per commit", st, float64(st.Appends)/float64(st.Commits))
	if st.Appends != writers*appends || st.Events != writers*appends || st.Failures != 0 {
		t.Fatalf("stats %+v, want %d appends and events", st, writers*appends)
	}
	if st.Commits*2 > st.Appends {
		t.Errorf("%d commits for %d concurrent appends: appends are not sharing commits", st.Commits, st.Appends)
	}
}

// TestMaxBatchEvents checks the cap on events per commit.
func TestMaxBatchEvents(t *testing.T) {
	s := open(t, embedded.Config{Dir: t.TempDir(), MaxBatchEvents: 1})
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			e := eventstore.Event{ID: uuid.New(), Type: "test.v1"}
			if _, err := s.Append(ctx, "s", eventstore.Any, e); err != nil {
				t.Errorf("append: %v", err)
			}
		})
	}
	wg.Wait()
	if st := s.CommitStats(); st.Commits != 16 {
		t.Errorf("%d commits for 16 appends with MaxBatchEvents 1", st.Commits)
	}
}

// TestLocked checks that a second opener of the same directory gets a
// clear error instead of waiting forever.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	open(t, embedded.Config{Dir: dir})
	start := time.Now()
	s, err := embedded.Open(t.Context(), embedded.Config{Dir: dir, LockTimeout: 100 * time.Millisecond}, nil)
	if err == nil {
		_ = s.Close()
		t.Fatal("a second Open of the same directory succeeded")
	}
	if !strings.Contains(err.Error(), "locked by another process") || !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %q does not say the file is locked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the second Open took %s", d)
	}
}

// TestFileFull fills the file up to MaxFileSize, which fails appends as a
// full disk does: with ErrUnavailable, the cause kept, nothing half
// written, and the store usable for reads (and for appends once there is
// room again).
func TestFileFull(t *testing.T) {
	dir := t.TempDir()
	cfg := embedded.Config{Dir: dir, MaxFileSize: 1 << 20}
	s, err := embedded.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	data := []byte(`{"pad":"` + strings.Repeat("x", 4000) + `"}`)
	var acked []eventstore.Event
	var failure error
	for i := 0; i < 1000 && failure == nil; i++ {
		e := eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: data}
		if _, err := s.Append(ctx, "s", eventstore.Any, e); err != nil {
			failure = err
			break
		}
		acked = append(acked, e)
	}
	if failure == nil {
		t.Fatal("1000 appends of 4 KB fit in a 1 MiB file")
	}
	if !errors.Is(failure, eventstore.ErrUnavailable) || !errors.Is(failure, berrors.ErrMaxSizeReached) {
		t.Fatalf("append past the size cap: %v; want ErrUnavailable wrapping the cause", failure)
	}
	if st := s.CommitStats(); st.Failures == 0 {
		t.Errorf("no failed commit counted: %+v", st)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping with a full file: %v", err)
	}
	checkStream(t, s, "s", acked)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.MaxFileSize = 0
	s = open(t, cfg)
	checkStream(t, s, "s", acked)
	e := eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: data}
	res, err := s.Append(ctx, "s", eventstore.Exact(uint64(len(acked)-1)), e)
	if err != nil || res.Position.Commit != uint64(len(acked)+1) {
		t.Fatalf("append once there is room: %+v, %v", res, err)
	}
}

// checkStream fails unless stream holds exactly want, and the log holds
// nothing else.
func checkStream(t *testing.T, s *embedded.Store, stream string, want []eventstore.Event) {
	t.Helper()
	i := 0
	for e, err := range s.ReadAll(t.Context(), eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		if i >= len(want) || e.ID != want[i].ID || e.Stream != stream || e.Revision != uint64(i) || e.Position.Commit != uint64(i+1) {
			t.Fatalf("event %d: %s %s@%d at %s", i, e.ID, e.Stream, e.Revision, e.Position)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("read %d events, want %d", i, len(want))
	}
}

func TestPing(t *testing.T) {
	s, err := embedded.Open(t.Context(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("ping: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ping with a cancelled ctx: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("ping after close: %v", err)
	}
}

// TestFileLayout checks that the log keeps to its own file in Dir.
func TestFileLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "eventstore")
	open(t, embedded.Config{Dir: dir})
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != embedded.FileName {
		t.Errorf("files in Dir: %v, want only %s", entries, embedded.FileName)
	}
}
