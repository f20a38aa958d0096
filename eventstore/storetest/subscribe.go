package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// testSubscribeCatchUpThenLive starts subscriptions while appends race with
// them: each must see every event once, in position order, across the
// hand-over from catch-up to live.
func (s *suite) testSubscribeCatchUpThenLive(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	const writers, appends = 4, 30
	// Round r starts its subscription once the writers have made about
	// r/rounds of their appends.
	const rounds = 4
	for r := range rounds {
		t.Run(fmt.Sprintf("after %d of %d", r*writers*appends/rounds, writers*appends), func(t *testing.T) {
			p := prefix()
			sent := map[uuid.UUID]bool{}
			for _, e := range newEvents(10) {
				mustAppend(t, ctx, h.Store, p+"before", eventstore.Any, e)
				sent[e.ID] = true
			}
			var mu sync.Mutex
			var made atomic.Int32
			startSub := make(chan struct{})
			var once sync.Once
			var wg sync.WaitGroup
			defer wg.Wait() // also when the subscription fails the test
			for w := range writers {
				wg.Go(func() {
					for i := range appends {
						evs := newEvents(1 + i%2)
						if _, err := h.Store.Append(ctx, fmt.Sprintf("%sw%d", p, w), eventstore.Any, evs...); err != nil {
							t.Errorf("append: %v", err)
							return
						}
						mu.Lock()
						for _, e := range evs {
							sent[e.ID] = true
						}
						mu.Unlock()
						if int(made.Add(1)) >= r*writers*appends/rounds {
							once.Do(func() { close(startSub) })
						}
					}
				})
			}
			if r == 0 {
				once.Do(func() { close(startSub) })
			}
			<-startSub
			total := 10
			for i := range appends {
				total += writers * (1 + i%2)
			}
			got := s.subscribeN(t, ctx, h.Store, eventstore.Start, p, total)
			wg.Wait()
			if t.Failed() {
				return
			}
			seen := map[uuid.UUID]bool{}
			for _, e := range got {
				if seen[e.ID] {
					t.Errorf("event %s yielded twice", e.ID)
				}
				seen[e.ID] = true
				if !sent[e.ID] {
					t.Errorf("event %s yielded but not appended", e.ID)
				}
			}
			increasing(t, "subscription", got)
			streamRevisions(t, got)
		})
	}
}

// subscribeN subscribes to the events under prefix p after from and
// returns the first n, failing on any error.
func (s *suite) subscribeN(t *testing.T, ctx context.Context, st eventstore.Store, from eventstore.Position, p string, n int) []eventstore.RecordedEvent {
	t.Helper()
	var got []eventstore.RecordedEvent
	if n == 0 {
		return nil
	}
	for e, err := range st.SubscribeAll(ctx, from, eventstore.Filter{StreamPrefixes: []string{p}}) {
		if err != nil {
			t.Fatalf("subscribe after %d of %d events: %v", len(got), n, err)
		}
		got = append(got, e)
		if len(got) == n {
			break
		}
	}
	return got
}

// streamRevisions fails unless every stream's events come with revisions
// 0, 1, 2, … in order.
func streamRevisions(t *testing.T, evs []eventstore.RecordedEvent) {
	t.Helper()
	next := map[string]uint64{}
	for _, e := range evs {
		if e.Revision != next[e.Stream] {
			t.Errorf("%s: revision %d yielded where %d was due", e.Stream, e.Revision, next[e.Stream])
		}
		next[e.Stream] = e.Revision + 1
	}
}

func (s *suite) testSubscribeFromMiddle(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	evs := newEvents(11)
	var res []eventstore.AppendResult
	for _, e := range evs[:10] {
		res = append(res, mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, e))
	}
	got := s.subscribeN(t, ctx, h.Store, res[4].Position, p, 5)
	wantEvents(t, "catch-up from the middle", got, evs[5:10], p+"s", 5)

	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	var live []eventstore.RecordedEvent
	for e, err := range h.Store.SubscribeAll(sub, res[8].Position, eventstore.Filter{StreamPrefixes: []string{p}}) {
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		live = append(live, e)
		if len(live) == 1 {
			mustAppend(t, ctx, h.Store, p+"s", eventstore.Exact(9), evs[10])
		}
		if len(live) == 2 {
			break
		}
	}
	wantEvents(t, "catch-up then live", live, evs[9:], p+"s", 9)
}

func (s *suite) testSubscribeFilter(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	in, out := p+"in/", p+"out/"
	var want []eventstore.Event
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for i := range 20 {
			evs := newEvents(1)
			stream := out + "x"
			if i%3 == 0 {
				stream = in + fmt.Sprint(i%2)
				want = append(want, evs...)
			}
			if _, err := h.Store.Append(ctx, stream, eventstore.Any, evs...); err != nil {
				t.Errorf("append: %v", err)
				return
			}
		}
	})
	got := s.subscribeN(t, ctx, h.Store, eventstore.Start, in, 7)
	wg.Wait()
	if t.Failed() {
		return
	}
	wantEvents(t, "subscription", got, want, "", -1)
	streamRevisions(t, got)
}

func (s *suite) testSubscribeCancel(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()

	t.Run("cancel while live", func(t *testing.T) {
		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		evs := newEvents(1)
		mustAppend(t, ctx, h.Store, p+"a", eventstore.Any, evs...)
		var got []eventstore.RecordedEvent
		var errs []error
		within(t, s.f.Timeout, "subscription after cancel", func() {
			for e, err := range h.Store.SubscribeAll(sub, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}) {
				if err != nil {
					errs = append(errs, err)
					continue // the iterator must end by itself
				}
				got = append(got, e)
				go func() {
					time.Sleep(20 * time.Millisecond) // let the subscription go live
					cancel()
				}()
			}
		})
		wantEvents(t, "subscription", got, evs, p+"a", 0)
		if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Fatalf("errors after cancel: %v; want one context.Canceled", errs)
		}
	})

	t.Run("deadline with nothing to yield", func(t *testing.T) {
		sub, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		var items []error
		within(t, s.f.Timeout, "subscription past its deadline", func() {
			for _, err := range h.Store.SubscribeAll(sub, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p + "nothing"}}) {
				items = append(items, err)
			}
		})
		if len(items) != 1 || !errors.Is(items[0], context.DeadlineExceeded) {
			t.Fatalf("yielded %v; want one context.DeadlineExceeded", items)
		}
	})
}

func (s *suite) testSubscribeBreak(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	for _, e := range newEvents(5) {
		mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, e)
	}
	// Breaking out, during catch-up and once live, ends the iterator without
	// yielding again (the runtime panics if it does).
	for _, n := range []int{2, 5} {
		got := s.subscribeN(t, ctx, h.Store, eventstore.Start, p, n)
		if len(got) != n {
			t.Fatalf("got %d events, want %d", len(got), n)
		}
	}
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	for _, err := range h.Store.SubscribeAll(sub, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, newEvents(1)...)
		}
		if n == 6 {
			break
		}
	}
	if n != 6 {
		t.Fatalf("got %d events, want 6", n)
	}
}

func (s *suite) testSubscribeEndsOnClose(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, newEvents(1)...)
	var errs []error
	n := 0
	closed := make(chan error, 1)
	within(t, s.f.Timeout, "subscription after Close", func() {
		for _, err := range h.Store.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if n++; n == 1 {
				go func() {
					time.Sleep(20 * time.Millisecond) // let the subscription go live
					closed <- h.Store.Close()
				}()
			}
		}
	})
	if n > 0 {
		if err := <-closed; err != nil {
			t.Errorf("close: %v", err)
		}
	}
	if n != 1 || len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrClosed) {
		t.Fatalf("%d events and errors %v; want 1 event, then one ErrClosed", n, errs)
	}
}
