package intake_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/internal/corpus"
)

// countingLog counts the calls intake makes to its log.
type countingLog struct {
	intake.Log
	reads, plain, conditional, events, conflicts atomic.Int64
}

func (c *countingLog) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	if expected == eventstore.Any {
		c.plain.Add(1)
	} else {
		c.conditional.Add(1)
	}
	c.events.Add(int64(len(events)))
	res, err := c.Log.Append(ctx, stream, expected, events...)
	if errors.Is(err, eventstore.ErrConcurrency) {
		c.conflicts.Add(1)
	}
	return res, err
}

func (c *countingLog) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	c.reads.Add(1)
	return c.Log.ReadStream(ctx, stream, from)
}

// BenchmarkIngestTraffic is Service.Ingest without HTTP under the load
// generator's traffic (cmd/meetingd's BenchmarkServeLoadgen: 500 sessions,
// windows of 200 shuffled, 10% delivered twice) from 64 goroutines on the
// embedded store: webhooks/s, and per webhook the stream reads and the
// appends (plain and conditional) that the session limit costs.
func BenchmarkIngestTraffic(b *testing.B) {
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
	var webhooks, elapsed time.Duration
	var reads, plain, conditional, events, conflicts int64
	for b.Loop() {
		store, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(b.TempDir(), "events")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		log := &countingLog{Log: store}
		svc, err := intake.New(intake.Config{}, log, nil)
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
		webhooks += time.Duration(len(bodies))
		reads, plain, conditional, events = reads+log.reads.Load(), plain+log.plain.Load(), conditional+log.conditional.Load(), events+log.events.Load()
		conflicts += log.conflicts.Load()
		_ = store.Close()
	}
	n := float64(webhooks)
	b.ReportMetric(n/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(float64(reads)/n, "reads/webhook")
	b.ReportMetric(float64(plain)/n, "plain-appends/webhook")
	b.ReportMetric(float64(conditional)/n, "conditional-appends/webhook")
	b.ReportMetric(float64(conflicts)/n, "conflicts/webhook")
	b.ReportMetric(float64(events)/float64(max(conditional, 1)+plain), "events/append")
}

// BenchmarkIngestBusySession is 64 goroutines joining one session at once
// (a new session every 5,000 joins), each join a new person (a large meeting
// starting), far below the limit:
// the joins of the session that wait together share a conditional append.
func BenchmarkIngestBusySession(b *testing.B) {
	store := openStore(b)
	log := &countingLog{Log: store}
	svc, err := intake.New(intake.Config{Now: now}, log, nil)
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				// 5,000 people a session, half the limit.
				body := joined(fmt.Sprintf("v1.us.busy-%d", i/5000), fmt.Sprintf("p-%d", i%5000), t0)
				if _, err := svc.Ingest(context.Background(), []byte(body), "bench"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "webhooks/s")
	b.ReportMetric(float64(log.events.Load())/float64(max(log.conditional.Load()+log.plain.Load(), 1)), "events/append")
}
