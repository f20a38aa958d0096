package retention_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/reports"
	"github.com/meetingd/meetingd/retention"
)

// fakeModels plays the read models: sessions with their retention time,
// deleted by DeleteSessions (the read models are the last deleter).
type fakeModels struct {
	mu sync.Mutex
	at map[reports.SessionKey]time.Time
}

func (f *fakeModels) Expired(_ context.Context, cutoff time.Time, limit int) ([]reports.SessionKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []reports.SessionKey
	for k, t := range f.at {
		if t.Before(cutoff) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b reports.SessionKey) int { return compareKeys(a, b) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fakeModels) DeleteSessions(_ context.Context, keys []reports.SessionKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		delete(f.at, k)
	}
	return nil
}

func compareKeys(a, b reports.SessionKey) int {
	if a.AppID != b.AppID {
		if a.AppID < b.AppID {
			return -1
		}
		return 1
	}
	switch {
	case a.SessionID < b.SessionID:
		return -1
	case a.SessionID > b.SessionID:
		return 1
	}
	return 0
}

// recorder is a deleter (ClickHouse, say) that records what it deleted and
// fails its first failN calls (a crash in the middle of a run).
type recorder struct {
	mu      sync.Mutex
	failN   int
	deleted map[reports.SessionKey]int
}

var errCrash = errors.New("crash")

func (r *recorder) DeleteSessions(_ context.Context, keys []reports.SessionKey) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failN > 0 {
		r.failN--
		return errCrash
	}
	if r.deleted == nil {
		r.deleted = map[reports.SessionKey]int{}
	}
	for _, k := range keys {
		r.deleted[k]++
	}
	return nil
}

type scrubs struct{ n int }

func (s *scrubs) Scrub(context.Context) error { s.n++; return nil }

func key(s string) reports.SessionKey { return reports.SessionKey{AppID: "app", SessionID: s} }

func TestRun(t *testing.T) {
	day := 24 * time.Hour
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		ages      map[string]time.Duration // session → age of its newest timestamp
		batch     int
		failN     int // the ClickHouse deleter's first failures
		want      []string
		wantRuns  int // retention.done.v1 events after the runs
		wantFirst error
	}{
		{name: "nothing expired", ages: map[string]time.Duration{"a": day, "b": 399 * day}, want: nil},
		{name: "older than the window", ages: map[string]time.Duration{"a": day, "b": 401 * day, "c": 500 * day},
			want: []string{"b", "c"}, wantRuns: 1},
		{name: "exactly the window is kept", ages: map[string]time.Duration{"a": 400 * day, "b": 400*day + time.Second},
			want: []string{"b"}, wantRuns: 1},
		{name: "rounds of Batch", batch: 2, ages: map[string]time.Duration{"a": 401 * day, "b": 402 * day, "c": 403 * day, "d": 1},
			want: []string{"a", "b", "c"}, wantRuns: 2},
		{name: "a crash resumes with the recorded sessions", failN: 1,
			ages: map[string]time.Duration{"a": 401 * day, "b": 1}, want: []string{"a"}, wantRuns: 1, wantFirst: errCrash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			store, err := embedded.Open(ctx, embedded.Config{Dir: t.TempDir()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			models := &fakeModels{at: map[reports.SessionKey]time.Time{}}
			for s, age := range tc.ages {
				models.at[key(s)] = now.Add(-age)
			}
			ch := &recorder{failN: tc.failN}
			var log recorder
			sc := &scrubs{}
			clock := now
			job, err := retention.New(retention.Config{Window: 400 * day, Batch: tc.batch, Now: func() time.Time { return clock }},
				store, models, []retention.Deleter{&log, ch, models}, []retention.Scrubber{sc}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = job.Run(ctx)
			if !errors.Is(err, tc.wantFirst) {
				t.Fatalf("first run: %v, want %v", err, tc.wantFirst)
			}
			if err != nil {
				// The read models were not reached: the sessions must come
				// from the recorded run, which the next run finishes even
				// if the finder no longer lists them.
				clear(models.at)
				clock = clock.Add(time.Minute)
				if _, err := job.Run(ctx); err != nil {
					t.Fatalf("second run: %v", err)
				}
			}
			var got []string
			for k := range ch.deleted {
				got = append(got, k.SessionID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("deleted from the store %v, want %v", got, tc.want)
			}
			for k, n := range log.deleted {
				if ch.deleted[k] == 0 {
					t.Errorf("%v deleted from the log (%d times) but not from the other store", k, n)
				}
			}
			for _, s := range tc.want {
				if _, ok := models.at[key(s)]; ok {
					t.Errorf("%s is still in the read models", s)
				}
			}
			runs := 0
			for ev, err := range store.ReadStream(ctx, retention.Stream, 0) {
				if errors.Is(err, eventstore.ErrStreamNotFound) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if ev.Type == retention.TypeDone {
					runs++
				}
			}
			if runs != tc.wantRuns {
				t.Errorf("%d runs recorded as done, want %d", runs, tc.wantRuns)
			}
			if tc.wantRuns > 0 && sc.n < tc.wantRuns {
				t.Errorf("scrubbed %d times, want at least %d", sc.n, tc.wantRuns)
			}
			// Another run with nothing new deletes nothing and records nothing.
			if _, err := job.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(ch.deleted); n != len(tc.want) {
				t.Errorf("after an idle run: %d deleted, want %d", n, len(tc.want))
			}
		})
	}
}

func TestNewRefusesNoWindow(t *testing.T) {
	if _, err := retention.New(retention.Config{}, nil, nil, nil, nil, nil, nil); err == nil {
		t.Fatal("New accepted a zero window")
	}
}
