package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
)

func (s *suite) testStats(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p, other := prefix(), prefix()
	stats := func(prefixes ...string) eventstore.Stats {
		t.Helper()
		st, err := h.Store.Stats(ctx, eventstore.Filter{StreamPrefixes: prefixes})
		if err != nil {
			t.Fatalf("stats %q: %v", prefixes, err)
		}
		return st
	}
	if st := stats(p); st != (eventstore.Stats{}) {
		t.Errorf("stats of an empty prefix: %+v, want zero", st)
	}
	mustAppend(t, ctx, h.Store, p+"a", eventstore.Any, newEvents(2)...)
	b := mustAppend(t, ctx, h.Store, p+"b", eventstore.Any, newEvents(2)...)
	a2 := mustAppend(t, ctx, h.Store, p+"a", eventstore.Any, newEvents(1)...)
	o := mustAppend(t, ctx, h.Store, other+"x", eventstore.Any, newEvents(1)...)
	tests := []struct {
		name     string
		prefixes []string
		want     eventstore.Stats
	}{
		{"prefix", []string{p}, eventstore.Stats{Events: 5, Head: a2.Position}},
		{"one stream", []string{p + "b"}, eventstore.Stats{Events: 2, Head: b.Position}},
		{"two prefixes", []string{p + "b", other}, eventstore.Stats{Events: 3, Head: o.Position}},
		{"overlapping prefixes", []string{p, p + "a", p + "b"}, eventstore.Stats{Events: 5, Head: a2.Position}},
		{"no match", []string{p + "c"}, eventstore.Stats{}},
	}
	for _, tc := range tests {
		if got := stats(tc.prefixes...); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	all := stats()
	if s.f.SharedLog {
		if all.Events < 6 || all.Head.Compare(o.Position) < 0 {
			t.Errorf("unfiltered: %+v, want at least 6 events and a head at or after %s", all, o.Position)
		}
	} else if want := (eventstore.Stats{Events: 6, Head: o.Position}); all != want {
		t.Errorf("unfiltered: %+v, want %+v", all, want)
	}
}

func (s *suite) testRestart(t *testing.T) {
	h := s.open(t)
	if h.Reopen == nil {
		t.Skip("the implementation cannot reopen its data")
	}
	ctx := s.ctx(t)
	p := prefix()
	evs := newEvents(5)
	mustAppend(t, ctx, h.Store, p+"a", eventstore.NoStream, evs[:2]...)
	mustAppend(t, ctx, h.Store, p+"b", eventstore.NoStream, evs[2])
	last := mustAppend(t, ctx, h.Store, p+"a", eventstore.Exact(1), evs[3:]...)
	before := readAll(t, ctx, h.Store, eventstore.Start, p)
	statsBefore, err := h.Store.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	st := h.Reopen(t)
	after := readAll(t, ctx, st, eventstore.Start, p)
	if len(after) != len(before) {
		t.Fatalf("after reopening: %d events, before: %d", len(after), len(before))
	}
	for i := range after {
		a, b := after[i], before[i]
		if a.ID != b.ID || a.Stream != b.Stream || a.Revision != b.Revision || a.Position != b.Position || !a.RecordedAt.Equal(b.RecordedAt) {
			t.Errorf("event %d: after reopening %+v, before %+v", i, a, b)
		}
		sameEvent(t, "after reopening", a.Event, b.Event)
	}
	if got, err := st.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{p}}); err != nil || got != statsBefore {
		t.Errorf("stats after reopening: %+v, %v; before: %+v", got, err, statsBefore)
	}

	// Duplicates are still recognised, revisions and positions go on.
	dup, err := st.Append(ctx, p+"a", eventstore.Any, evs[0])
	if err != nil || !dup.Duplicate || dup.Position != before[0].Position || dup.NextRevision != 3 {
		t.Errorf("duplicate after reopening: %+v, %v", dup, err)
	}
	more := newEvents(1)
	res := mustAppend(t, ctx, st, p+"a", eventstore.Exact(3), more...)
	if res.NextRevision != 4 || res.Position.Compare(last.Position) <= 0 {
		t.Errorf("append after reopening: %+v; the last append before it was at %s", res, last.Position)
	}
	wantEvents(t, "subscription after reopening", s.subscribeN(t, ctx, st, last.Position, p, 1), more, p+"a", 4)
}

// testCloseWaitsForAppends closes the store under concurrent appends: each
// append either succeeds, and is then found after reopening, or fails with
// ErrClosed.
func (s *suite) testCloseWaitsForAppends(t *testing.T) {
	h := s.open(t)
	if h.Reopen == nil {
		t.Skip("the implementation cannot reopen its data")
	}
	ctx := s.ctx(t)
	p := prefix()
	const writers = 16
	var mu sync.Mutex
	acked := map[string][]eventstore.Event{}
	started := make(chan struct{}, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := p + string(rune('a'+w))
			for i := 0; ; i++ {
				evs := newEvents(1)
				_, err := h.Store.Append(ctx, stream, eventstore.Any, evs...)
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				acked[stream] = append(acked[stream], evs...)
				mu.Unlock()
				if i == 2 {
					started <- struct{}{}
				}
			}
		})
	}
	for range writers {
		<-started
	}
	if err := h.Store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	st := h.Reopen(t)
	for stream, evs := range acked {
		wantEvents(t, "acknowledged events of "+stream, readStream(t, ctx, st, stream), evs, stream, 0)
	}
}

func (s *suite) testClosed(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, newEvents(1)...)
	if err := h.Store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := h.Store.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("second close: %v, want nil or ErrClosed", err)
	}
	_, err := h.Store.Append(ctx, p+"s", eventstore.Any, newEvents(1)...)
	wantErr(t, "append", err, eventstore.ErrClosed)
	_, err = h.Store.Stats(ctx, eventstore.Filter{})
	wantErr(t, "stats", err, eventstore.ErrClosed)
	_, err = h.Store.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{p}})
	wantErr(t, "stats with a filter", err, eventstore.ErrClosed)
	filter := eventstore.Filter{StreamPrefixes: []string{p}}
	for name, seq := range map[string]func() (int, []error){
		"read stream":   func() (int, []error) { return drain(h.Store.ReadStream(ctx, p+"s", 0)) },
		"read all":      func() (int, []error) { return drain(h.Store.ReadAll(ctx, eventstore.Start, filter)) },
		"subscribe all": func() (int, []error) { return drain(h.Store.SubscribeAll(ctx, eventstore.Start, filter)) },
	} {
		var n int
		var errs []error
		within(t, s.f.Timeout, name, func() { n, errs = seq() })
		if n != 0 || len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrClosed) {
			t.Errorf("%s after close: %d events, errors %v; want one ErrClosed", name, n, errs)
		}
	}
}

// drain ranges over seq to its end, counting events and gathering errors.
func drain(seq func(func(eventstore.RecordedEvent, error) bool)) (int, []error) {
	n := 0
	var errs []error
	for _, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errs
}

// testContextDone calls every method with a ctx that is already done: each
// returns (or yields, first and only) the ctx error, and writes nothing.
func (s *suite) testContextDone(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	mustAppend(t, ctx, h.Store, p+"s", eventstore.Any, newEvents(1)...)
	done, cancel := context.WithCancel(ctx)
	cancel()

	_, err := h.Store.Append(done, p+"new", eventstore.Any, newEvents(1)...)
	wantErr(t, "append", err, context.Canceled)
	_, err = collect(h.Store.ReadStream(ctx, p+"new", 0))
	wantErr(t, "read the stream of a cancelled append", err, eventstore.ErrStreamNotFound)
	_, err = h.Store.Stats(done, eventstore.Filter{StreamPrefixes: []string{p}})
	wantErr(t, "stats", err, context.Canceled)

	filter := eventstore.Filter{StreamPrefixes: []string{p}}
	for name, seq := range map[string]func() (int, []error){
		"read stream":   func() (int, []error) { return drain(h.Store.ReadStream(done, p+"s", 0)) },
		"read all":      func() (int, []error) { return drain(h.Store.ReadAll(done, eventstore.Start, filter)) },
		"subscribe all": func() (int, []error) { return drain(h.Store.SubscribeAll(done, eventstore.Start, filter)) },
	} {
		var n int
		var errs []error
		within(t, s.f.Timeout, name, func() { n, errs = seq() })
		if n != 0 || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("%s with a cancelled ctx: %d events, errors %v; want one context.Canceled", name, n, errs)
		}
	}
}
