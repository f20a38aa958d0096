package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// testConcurrentManyStreams appends from many goroutines, each to its own
// stream with exact expected revisions: nothing may conflict, be lost or be
// stored twice.
func (s *suite) testConcurrentManyStreams(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	const writers, appends = 16, 8
	sent := make([][]eventstore.Event, writers)
	results := make([][]eventstore.AppendResult, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("%ss%02d", p, w)
			for i := range appends {
				exp := eventstore.NoStream
				if i > 0 {
					exp = eventstore.Exact(uint64(i - 1))
				}
				evs := newEvents(1)
				res, err := h.Store.Append(ctx, stream, exp, evs...)
				if err != nil {
					t.Errorf("append %d to %s: %v", i, stream, err)
					return
				}
				if res.Duplicate || res.NextRevision != uint64(i) {
					t.Errorf("append %d to %s: %+v", i, stream, res)
				}
				sent[w] = append(sent[w], evs...)
				results[w] = append(results[w], res)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := readAll(t, ctx, h.Store, eventstore.Start, p)
	if len(all) != writers*appends {
		t.Fatalf("read all: %d events, want %d", len(all), writers*appends)
	}
	increasing(t, "read all", all)
	byStream := map[string][]eventstore.RecordedEvent{}
	for _, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], e)
	}
	for w := range writers {
		stream := fmt.Sprintf("%ss%02d", p, w)
		got := byStream[stream]
		wantEvents(t, "stream "+stream+" in read all", got, sent[w], stream, 0)
		for i, res := range results[w] {
			if i < len(got) && got[i].Position != res.Position {
				t.Errorf("%s@%d at %s, its append returned %s", stream, i, got[i].Position, res.Position)
			}
		}
	}
}

// testConcurrentOneStream appends pairs of events to one stream from many
// goroutines: every pair is stored once, contiguously, and the results
// describe where.
func (s *suite) testConcurrentOneStream(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := prefix() + "shared"
	const writers, appends = 16, 6
	var mu sync.Mutex
	sent := map[uuid.UUID]eventstore.AppendResult{} // second ID of a pair → result
	pairs := map[uuid.UUID]uuid.UUID{}              // first ID → second
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range appends {
				evs := newEvents(2)
				res, err := h.Store.Append(ctx, stream, eventstore.Any, evs...)
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				sent[evs[1].ID] = res
				pairs[evs[0].ID] = evs[1].ID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := readStream(t, ctx, h.Store, stream)
	if len(got) != 2*writers*appends {
		t.Fatalf("stream holds %d events, want %d", len(got), 2*writers*appends)
	}
	increasing(t, "read stream", got)
	for i := 0; i+1 < len(got); i += 2 {
		first, second := got[i], got[i+1]
		if first.Revision != uint64(i) || second.Revision != uint64(i+1) {
			t.Fatalf("revisions %d, %d at index %d", first.Revision, second.Revision, i)
		}
		if pairs[first.ID] != second.ID {
			t.Fatalf("revisions %d and %d are not the two events of one append", i, i+1)
		}
		res := sent[second.ID]
		if res.Duplicate || res.NextRevision != second.Revision || res.Position != second.Position {
			t.Errorf("append stored at %d/%s returned %+v", second.Revision, second.Position, res)
		}
	}
}

// testConcurrentNoStream races appends that each expect to create the
// stream: exactly one wins, the others get ErrConcurrency.
func (s *suite) testConcurrentNoStream(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := prefix() + "race"
	const racers = 20
	var wins, conflicts atomic.Int32
	var winner atomic.Value
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			evs := newEvents(1)
			<-start
			_, err := h.Store.Append(ctx, stream, eventstore.NoStream, evs...)
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(evs[0])
			case errors.Is(err, eventstore.ErrConcurrency):
				conflicts.Add(1)
			default:
				t.Errorf("append: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != racers-1 {
		t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins.Load(), conflicts.Load(), racers-1)
	}
	wantEvents(t, "stream", readStream(t, ctx, h.Store, stream), []eventstore.Event{winner.Load().(eventstore.Event)}, stream, 0)
}

// testOptimisticConcurrency runs read-then-append-exact loops from several
// goroutines: conflicts are ErrConcurrency, and retries converge.
func (s *suite) testOptimisticConcurrency(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := prefix() + "counter"
	const workers, increments = 8, 5
	var conflicts atomic.Int32
	var mu sync.Mutex
	revs := map[uint64]uuid.UUID{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for done := 0; done < increments; {
				exp := eventstore.NoStream
				evs, err := collect(h.Store.ReadStream(ctx, stream, 0))
				switch {
				case errors.Is(err, eventstore.ErrStreamNotFound):
				case err != nil:
					t.Errorf("read: %v", err)
					return
				default:
					exp = eventstore.Exact(evs[len(evs)-1].Revision)
				}
				e := newEvents(1)
				res, err := h.Store.Append(ctx, stream, exp, e...)
				switch {
				case errors.Is(err, eventstore.ErrConcurrency):
					conflicts.Add(1)
					continue
				case err != nil:
					t.Errorf("append expecting %s: %v", exp, err)
					return
				}
				mu.Lock()
				if prev, dup := revs[res.NextRevision]; dup {
					t.Errorf("two appends got revision %d (%s and %s)", res.NextRevision, prev, e[0].ID)
				}
				revs[res.NextRevision] = e[0].ID
				mu.Unlock()
				done++
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	got := readStream(t, ctx, h.Store, stream)
	if len(got) != workers*increments {
		t.Fatalf("stream holds %d events, want %d", len(got), workers*increments)
	}
	for i, e := range got {
		if e.Revision != uint64(i) || revs[e.Revision] != e.ID {
			t.Errorf("revision %d holds %s, its append got %s", e.Revision, e.ID, revs[e.Revision])
		}
	}
	t.Logf("%d conflicts for %d appends", conflicts.Load(), workers*increments)
}

// testDuplicateStorm appends the same events from many goroutines at once:
// they are stored once, and every caller is told success.
func (s *suite) testDuplicateStorm(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	tests := []struct {
		name     string
		callers  int
		events   int
		expected eventstore.ExpectedRevision
	}{
		{"one event, any", 150, 1, eventstore.Any},
		{"two events, no stream", 50, 2, eventstore.NoStream},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := fmt.Sprintf("%sstorm%d", p, i)
			evs := newEvents(tc.events)
			results := make([]eventstore.AppendResult, tc.callers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for c := range tc.callers {
				wg.Go(func() {
					<-start
					res, err := h.Store.Append(ctx, stream, tc.expected, evs...)
					if err != nil {
						t.Errorf("caller %d: %v", c, err)
					}
					results[c] = res
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
			got := readStream(t, ctx, h.Store, stream)
			wantEvents(t, "stream", got, evs, stream, 0)
			want := eventstore.AppendResult{NextRevision: uint64(tc.events - 1), Position: got[len(got)-1].Position}
			writers := 0
			for c, res := range results {
				if !res.Duplicate {
					writers++
				}
				res.Duplicate = false
				if res != want {
					t.Errorf("caller %d: %+v, want %+v", c, res, want)
				}
			}
			if writers != 1 {
				t.Errorf("%d callers were told they wrote the events, want 1", writers)
			}
		})
	}
}
