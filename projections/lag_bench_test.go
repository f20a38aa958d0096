package projections_test

import (
	"context"
	"flag"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
)

var (
	lagRate = flag.Int("projections.lagrate", 5000, "webhooks/s appended by BenchmarkLag")
	lagFor  = flag.Duration("projections.lagfor", 10*time.Second, "how long BenchmarkLag appends")
)

// timedStore records when each batch's checkpoint became durable.
type timedStore struct {
	projections.StateStore
	mu      sync.Mutex
	commits []commitAt
}

type commitAt struct {
	pos uint64
	at  time.Time
}

func (s *timedStore) Write(ctx context.Context, b projections.Batch) error {
	if err := s.StateStore.Write(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	s.commits = append(s.commits, commitAt{b.Checkpoint.Position.Commit, time.Now()})
	s.mu.Unlock()
	return nil
}

func (s *timedStore) committedAt(pos uint64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.commits, pos, func(c commitAt, p uint64) int {
		switch {
		case c.pos < p:
			return -1
		case c.pos > p:
			return 1
		}
		return 0
	})
	if i == len(s.commits) {
		return time.Time{}, false
	}
	return s.commits[i].at, true
}

// appenders is the number of concurrent appends of BenchmarkLag, as many
// webhook requests in flight as the intake would serve at that rate.
const appenders = 256

// BenchmarkLag measures the steady-state projection lag of `meetingd serve`'s
// pipeline: webhook events of a realistic corpus are appended to the
// embedded store at -projections.lagrate per second (default 5,000) by 256
// concurrent appenders for -projections.lagfor (default 10s), while the
// runner (default Config: batches of 2,000 events or 200 ms) folds them into
// the embedded read models. The lag of an event is the time from the end of
// its durable append to the durable commit of the first checkpoint that
// covers it; the benchmark reports its p50, p99 and max, the append rate
// achieved, the p99 from the event's scheduled arrival (which adds the
// append and any backlog of appends when the store falls behind the rate)
// and, as the baseline, the p99 of the durable append alone.
func BenchmarkLag(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		dir := b.TempDir()
		log, err := embedded.Open(ctx, embedded.Config{Dir: dir + "/eventstore"}, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		models, err := readmodel.Open(ctx, readmodel.Config{Dir: dir + "/readmodels"}, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		st := &timedStore{StateStore: models}
		r, err := projections.New(projections.Config{}, log, st, nil, nil, quietLog())
		if err != nil {
			b.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(runCtx) }()

		n := int(float64(*lagRate) * lagFor.Seconds())
		events, err := eventgen.Generate(eventgen.Config{Events: n, Seed: 9})
		if err != nil {
			b.Fatal(err)
		}
		type job struct {
			it  eventgen.Item
			due time.Time
		}
		jobs := make(chan job, 4096)
		type result struct {
			pos      uint64
			due      time.Time
			appended time.Duration
			done     time.Time
		}
		results := make([]result, n)
		var next atomic.Int64
		var failed atomic.Value
		var wg sync.WaitGroup
		for range appenders {
			wg.Go(func() {
				for j := range jobs {
					t := time.Now()
					res, err := log.Append(ctx, j.it.Stream, eventstore.Any, j.it.Stored)
					if err != nil {
						failed.Store(err)
						continue
					}
					now := time.Now()
					results[next.Add(1)-1] = result{res.Position.Commit, j.due, now.Sub(t), now}
				}
			})
		}
		start := time.Now()
		i := 0
		for it, err := range events {
			if err != nil {
				b.Fatal(err)
			}
			due := start.Add(time.Duration(float64(i) / float64(*lagRate) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			jobs <- job{it, due}
			i++
		}
		close(jobs)
		wg.Wait()
		sent := time.Since(start)
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		count := int(next.Load())
		var last uint64
		for _, res := range results[:count] {
			last = max(last, res.pos)
		}
		deadline := time.Now().Add(time.Minute)
		for r.Committed().Position.Commit < last {
			if time.Now().After(deadline) {
				b.Fatal("the runner did not catch up within a minute of the load's end")
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		lags := make([]time.Duration, 0, count)
		e2e := make([]time.Duration, 0, count)
		appends := make([]time.Duration, 0, count)
		for _, res := range results[:count] {
			at, ok := st.committedAt(res.pos)
			if !ok {
				b.Fatalf("position %d never committed", res.pos)
			}
			lags = append(lags, at.Sub(res.done))
			e2e = append(e2e, at.Sub(res.due))
			appends = append(appends, res.appended)
		}
		slices.Sort(lags)
		slices.Sort(e2e)
		slices.Sort(appends)
		pct := func(s []time.Duration, p float64) float64 {
			return float64(s[min(int(p*float64(len(s))), len(s)-1)]) / float64(time.Millisecond)
		}
		b.ReportMetric(float64(count)/sent.Seconds(), "appends/s")
		b.ReportMetric(pct(lags, 0.50), "lag-p50-ms")
		b.ReportMetric(pct(lags, 0.99), "lag-p99-ms")
		b.ReportMetric(pct(lags, 1), "lag-max-ms")
		b.ReportMetric(pct(appends, 0.99), "append-p99-ms")
		b.ReportMetric(pct(e2e, 0.99), "arrival-to-commit-p99-ms")
		_ = models.Close()
		_ = log.Close()
	}
}
