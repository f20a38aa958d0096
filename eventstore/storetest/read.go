package storetest

import (
	"context"
	"iter"
	"math"
	"strconv"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
)

func (s *suite) testReadStreamFrom(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := prefix() + "s"
	evs := newEvents(5)
	mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, evs[:2]...)
	mustAppend(t, ctx, h.Store, stream, eventstore.Exact(1), evs[2:]...)
	tests := []struct {
		from uint64
		want int // index of the first event yielded
	}{
		{0, 0}, {1, 1}, {3, 3}, {4, 4}, {5, 5}, {6, 5}, {math.MaxUint64, 5},
	}
	for _, tc := range tests {
		got := mustCollect(t, "read stream", h.Store.ReadStream(ctx, stream, tc.from))
		wantEvents(t, "read stream from "+strconv.FormatUint(tc.from, 10), got, evs[tc.want:], stream, tc.want)
	}
}

func (s *suite) testReadStreamNotFound(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	mustAppend(t, ctx, h.Store, p+"exists", eventstore.NoStream, newEvents(1)...)
	for _, from := range []uint64{0, 3} {
		n, errs := 0, 0
		for _, err := range h.Store.ReadStream(ctx, p+"exists-not", from) {
			n++
			if err != nil {
				errs++
				wantErr(t, "read a missing stream", err, eventstore.ErrStreamNotFound)
			}
		}
		if n != 1 || errs != 1 {
			t.Errorf("read a missing stream from %d: %d items, %d errors; want one ErrStreamNotFound", from, n, errs)
		}
	}
	// A stream whose name extends an existing one's is not that stream.
	_, err := collect(h.Store.ReadStream(ctx, p+"exist", 0))
	wantErr(t, "read a prefix of a stream name", err, eventstore.ErrStreamNotFound)
}

func (s *suite) testReadAll(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p, other := prefix(), prefix()
	evs := newEvents(7)
	type step struct {
		stream string
		events []eventstore.Event
	}
	steps := []step{
		{p + "a/1", evs[0:1]},
		{other + "x", evs[6:7]},
		{p + "b/1", evs[1:2]},
		{p + "a/2", evs[2:4]},
		{p + "c", evs[4:5]},
		{p + "a/1", evs[5:6]},
	}
	var pos []eventstore.Position // of evs[0..5], from the append results
	for _, st := range steps {
		res := mustAppend(t, ctx, h.Store, st.stream, eventstore.Any, st.events...)
		if st.stream != other+"x" {
			if len(st.events) == 2 {
				pos = append(pos, eventstore.Position{}) // unknown: the first of two
			}
			pos = append(pos, res.Position)
		}
	}

	all := readAll(t, ctx, h.Store, eventstore.Start, p)
	wantEvents(t, "read all of the prefix", all, evs[:6], "", -1)
	for i, e := range all {
		if !pos[i].IsZero() && e.Position != pos[i] {
			t.Errorf("event %d at position %s, its append returned %s", i, e.Position, pos[i])
		}
	}
	wantStreams := []string{p + "a/1", p + "b/1", p + "a/2", p + "a/2", p + "c", p + "a/1"}
	wantRevs := []uint64{0, 0, 0, 1, 0, 1}
	for i, e := range all {
		if e.Stream != wantStreams[i] || e.Revision != wantRevs[i] {
			t.Errorf("event %d: %s@%d, want %s@%d", i, e.Stream, e.Revision, wantStreams[i], wantRevs[i])
		}
	}

	tests := []struct {
		name     string
		from     eventstore.Position
		prefixes []string
		want     []int
	}{
		{"one prefix", eventstore.Start, []string{p + "a/"}, []int{0, 2, 3, 5}},
		{"two prefixes", eventstore.Start, []string{p + "b/", p + "c"}, []int{1, 4}},
		{"overlapping prefixes", eventstore.Start, []string{p + "a/", p + "a/1", p}, []int{0, 1, 2, 3, 4, 5}},
		{"whole stream name", eventstore.Start, []string{p + "c"}, []int{4}},
		{"no match", eventstore.Start, []string{p + "zzz"}, nil},
		{"after a position", all[2].Position, []string{p}, []int{3, 4, 5}},
		{"after a position, filtered", all[1].Position, []string{p + "a/"}, []int{2, 3, 5}},
		{"after the last", all[5].Position, []string{p}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, ctx, h.Store, tc.from, tc.prefixes...)
			var want []eventstore.Event
			for _, i := range tc.want {
				want = append(want, evs[i])
			}
			wantEvents(t, "read all", got, want, "", -1)
		})
	}

	t.Run("unfiltered", func(t *testing.T) {
		got := readAll(t, ctx, h.Store, eventstore.Start)
		var mine []eventstore.RecordedEvent
		for _, e := range got {
			if len(e.Stream) >= len(p) && e.Stream[:len(p)] == p || e.Stream == other+"x" {
				mine = append(mine, e)
			}
		}
		increasing(t, "read all", got)
		want := []eventstore.Event{evs[0], evs[6], evs[1], evs[2], evs[3], evs[4], evs[5]}
		wantEvents(t, "the suite's events in read all", mine, want, "", -1)
		if !s.f.SharedLog && len(got) != len(want) {
			t.Errorf("read all: %d events, want %d", len(got), len(want))
		}
	})

	t.Run("break", func(t *testing.T) {
		n := 0
		for _, err := range h.Store.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("read %d events before breaking, want 2", n)
		}
	})
}

// testManyEvents reads more events than any sensible read batch, with
// filters that skip long runs of events.
func (s *suite) testManyEvents(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	big, small := p+"big", p+"small"
	const appends, per = 12, 100
	var bigEvs, smallEvs []eventstore.Event
	for i := range appends {
		evs := newEvents(per)
		mustAppend(t, ctx, h.Store, big, eventstore.Any, evs...)
		bigEvs = append(bigEvs, evs...)
		if i%4 == 0 {
			e := newEvents(1)
			mustAppend(t, ctx, h.Store, small, eventstore.Any, e...)
			smallEvs = append(smallEvs, e...)
		}
	}
	wantEvents(t, "read stream", readStream(t, ctx, h.Store, big), bigEvs, big, 0)
	wantEvents(t, "read stream from 1150", mustCollect(t, "read stream", h.Store.ReadStream(ctx, big, 1150)), bigEvs[1150:], big, 1150)
	wantEvents(t, "read all of the big stream", readAll(t, ctx, h.Store, eventstore.Start, big), bigEvs, big, 0)
	wantEvents(t, "read all of the small stream", readAll(t, ctx, h.Store, eventstore.Start, small), smallEvs, small, 0)

	for _, seq := range []struct {
		name string
		seq  func() (int, error)
	}{
		{"read stream", func() (int, error) { return breakAfter(h.Store.ReadStream(ctx, big, 0), 700) }},
		{"read all", func() (int, error) {
			return breakAfter(h.Store.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}), 700)
		}},
		{"subscribe all", func() (int, error) {
			return breakAfter(h.Store.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{p}}), 700)
		}},
	} {
		n, err := seq.seq()
		if err != nil || n != 700 {
			t.Errorf("%s: broke after %d events, %v; want 700", seq.name, n, err)
		}
	}

	// A subscription catches up through long runs of filtered-out events,
	// then goes live.
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	live := newEvents(1)
	var got []eventstore.RecordedEvent
	for e, err := range h.Store.SubscribeAll(sub, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{small}}) {
		if err != nil {
			t.Fatalf("subscribe after %d events: %v", len(got), err)
		}
		got = append(got, e)
		if len(got) == len(smallEvs) {
			mustAppend(t, ctx, h.Store, big, eventstore.Any, newEvents(1)...)
			mustAppend(t, ctx, h.Store, small, eventstore.Any, live...)
		}
		if len(got) == len(smallEvs)+1 {
			break
		}
	}
	wantEvents(t, "subscription", got, append(smallEvs, live...), small, 0)
}

// breakAfter ranges over seq and breaks out after n events.
func breakAfter(seq iter.Seq2[eventstore.RecordedEvent, error], n int) (int, error) {
	i := 0
	for _, err := range seq {
		if err != nil {
			return i, err
		}
		if i++; i == n {
			break
		}
	}
	return i, nil
}
