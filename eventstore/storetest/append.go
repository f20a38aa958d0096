package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

func (s *suite) testAppendAndRead(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	stream := p + "session"
	evs := newEvents(3)
	evs[1].Metadata = nil                       // no metadata
	evs[2].Data = []byte{0x00, 0xff, 0x10, '"'} // not JSON: bytes are bytes

	before := time.Now()
	res1 := mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, evs[0])
	res2 := mustAppend(t, ctx, h.Store, stream, eventstore.Exact(0), evs[1:]...)
	after := time.Now()
	if res1.NextRevision != 0 || res2.NextRevision != 2 {
		t.Errorf("next revisions %d, %d; want 0, 2", res1.NextRevision, res2.NextRevision)
	}
	if res2.Position.Compare(res1.Position) <= 0 {
		t.Errorf("second append's position %s does not follow the first's %s", res2.Position, res1.Position)
	}

	got := readStream(t, ctx, h.Store, stream)
	wantEvents(t, "read stream", got, evs, stream, 0)
	if got[0].Position != res1.Position || got[2].Position != res2.Position {
		t.Errorf("positions read %s, %s; appends returned %s, %s", got[0].Position, got[2].Position, res1.Position, res2.Position)
	}
	for i, e := range got {
		if e.RecordedAt.Before(before.Add(-s.f.ClockSkew)) || e.RecordedAt.After(after.Add(s.f.ClockSkew)) {
			t.Errorf("event %d recorded at %s, outside [%s, %s] ± %s", i, e.RecordedAt, before, after, s.f.ClockSkew)
		}
	}

	all := readAll(t, ctx, h.Store, eventstore.Start, p)
	if len(all) != len(got) {
		t.Fatalf("read all: %d events, read stream: %d", len(all), len(got))
	}
	for i := range all {
		a, b := all[i], got[i]
		if a.ID != b.ID || a.Stream != b.Stream || a.Revision != b.Revision || a.Position != b.Position || !a.RecordedAt.Equal(b.RecordedAt) {
			t.Errorf("event %d: read all gives %+v, read stream %+v", i, a, b)
		}
		sameEvent(t, "read all", a.Event, b.Event)
	}
}

func (s *suite) testExpectedRevision(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	tests := []struct {
		name     string
		existing int // events in the stream before the append
		expected eventstore.ExpectedRevision
		conflict bool
	}{
		{"any, new stream", 0, eventstore.Any, false},
		{"any, existing stream", 2, eventstore.Any, false},
		{"no stream, new stream", 0, eventstore.NoStream, false},
		{"no stream, existing stream", 2, eventstore.NoStream, true},
		{"stream exists, new stream", 0, eventstore.StreamExists, true},
		{"stream exists, existing stream", 2, eventstore.StreamExists, false},
		{"exact last revision", 2, eventstore.Exact(1), false},
		{"exact older revision", 2, eventstore.Exact(0), true},
		{"exact future revision", 2, eventstore.Exact(2), true},
		{"exact 0, new stream", 0, eventstore.Exact(0), true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := p + "s" + string(rune('a'+i))
			before := newEvents(tc.existing)
			if tc.existing > 0 {
				mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, before...)
			}
			evs := newEvents(2)
			res, err := h.Store.Append(ctx, stream, tc.expected, evs...)
			if tc.conflict {
				wantErr(t, "append", err, eventstore.ErrConcurrency)
				if tc.existing == 0 {
					_, err := collect(h.Store.ReadStream(ctx, stream, 0))
					wantErr(t, "read stream after the refused append", err, eventstore.ErrStreamNotFound)
					return
				}
				wantEvents(t, "stream after the refused append", readStream(t, ctx, h.Store, stream), before, stream, 0)
				return
			}
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if res.Duplicate || res.NextRevision != uint64(tc.existing+1) {
				t.Errorf("result %+v, want next revision %d", res, tc.existing+1)
			}
			wantEvents(t, "stream", readStream(t, ctx, h.Store, stream), append(before, evs...), stream, 0)
		})
	}
}

func (s *suite) testDuplicates(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	const (
		a = iota
		b
		fresh
	)
	tests := []struct {
		name     string
		events   []int // indexes into {A, B, a new event}
		expected eventstore.ExpectedRevision
		partial  bool
		dupOf    int // the stored copy whose position a duplicate reports
	}{
		{"all again, any", []int{a, b}, eventstore.Any, false, b},
		{"all again, no stream", []int{a, b}, eventstore.NoStream, false, b},
		{"all again, stream exists", []int{a, b}, eventstore.StreamExists, false, b},
		{"all again, wrong exact revision", []int{a, b}, eventstore.Exact(7), false, b},
		{"all again, reordered", []int{b, a}, eventstore.Any, false, b},
		{"first only", []int{a}, eventstore.Exact(0), false, a},
		{"second only, no stream", []int{b}, eventstore.NoStream, false, b},
		{"one new after one old", []int{a, fresh}, eventstore.Any, true, 0},
		{"one new before one old, right revision", []int{fresh, b}, eventstore.Exact(1), true, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := p + "s" + string(rune('a'+i))
			stored := newEvents(2)
			mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, stored...)
			copies := readStream(t, ctx, h.Store, stream)
			pool := append(stored, newEvents(1)...)
			var evs []eventstore.Event
			for _, j := range tc.events {
				evs = append(evs, pool[j])
			}
			res, err := h.Store.Append(ctx, stream, tc.expected, evs...)
			if tc.partial {
				wantErr(t, "append", err, eventstore.ErrPartialDuplicate)
			} else {
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				want := eventstore.AppendResult{Duplicate: true, NextRevision: 1, Position: copies[tc.dupOf].Position}
				if res != want {
					t.Errorf("result %+v, want %+v", res, want)
				}
			}
			wantEvents(t, "stream afterwards", readStream(t, ctx, h.Store, stream), stored, stream, 0)
		})
	}
}

func (s *suite) testDuplicateAfterMoreEvents(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := prefix() + "s"
	evs := newEvents(3)
	mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, evs[0])
	mustAppend(t, ctx, h.Store, stream, eventstore.Exact(0), evs[1:]...)
	stored := readStream(t, ctx, h.Store, stream)

	res, err := h.Store.Append(ctx, stream, eventstore.NoStream, evs[0])
	if err != nil {
		t.Fatalf("append a duplicate: %v", err)
	}
	// The result describes the stream as it is now.
	want := eventstore.AppendResult{Duplicate: true, NextRevision: 2, Position: stored[0].Position}
	if res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	// A duplicate does not move the stream: the next append still expects 2.
	next := mustAppend(t, ctx, h.Store, stream, eventstore.Exact(2), newEvents(1)...)
	if next.NextRevision != 3 {
		t.Errorf("next revision %d, want 3", next.NextRevision)
	}
}

func (s *suite) testDuplicateInAnotherStream(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	evs := newEvents(1)
	mustAppend(t, ctx, h.Store, p+"one", eventstore.NoStream, evs...)
	res, err := h.Store.Append(ctx, p+"two", eventstore.NoStream, evs...)
	if !s.f.GlobalDedupe {
		if err != nil || res.Duplicate || res.NextRevision != 0 {
			t.Fatalf("append the same ID to another stream: %+v, %v; want it stored at revision 0 (dedupe is per stream)", res, err)
		}
		wantEvents(t, "other stream", readStream(t, ctx, h.Store, p+"two"), evs, p+"two", 0)
		wantEvents(t, "first stream", readStream(t, ctx, h.Store, p+"one"), evs, p+"one", 0)
		return
	}
	// One copy in the whole log, whatever the answer.
	t.Logf("append the same ID to another stream: %+v, %v", res, err)
	if got := readAll(t, ctx, h.Store, eventstore.Start, p); len(got) != 1 {
		t.Fatalf("the log holds %d copies, want 1", len(got))
	}
}

func (s *suite) testInvalidEvents(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	p := prefix()
	valid := func() eventstore.Event { return newEvents(1)[0] }
	repeated := valid()
	tests := []struct {
		name   string
		stream string
		events []eventstore.Event
	}{
		{"empty stream name", "", []eventstore.Event{valid()}},
		{"no events", p + "none", nil},
		{"no ID", p + "noid", []eventstore.Event{{Type: eventType, Data: []byte(`{}`)}}},
		{"no type", p + "notype", []eventstore.Event{{ID: uuid.New(), Data: []byte(`{}`)}}},
		{"ID repeated in one append", p + "repeat", []eventstore.Event{repeated, repeated}},
		{"one bad among good", p + "mixed", []eventstore.Event{valid(), {ID: uuid.New()}, valid()}},
		{"stream name over MaxStreamNameBytes", longStreamName(p, eventstore.MaxStreamNameBytes+1), []eventstore.Event{valid()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Store.Append(ctx, tc.stream, eventstore.Any, tc.events...)
			wantErr(t, "append", err, eventstore.ErrInvalidEvent)
			if tc.stream != "" {
				_, err := collect(h.Store.ReadStream(ctx, tc.stream, 0))
				wantErr(t, "read stream after the refused append", err, eventstore.ErrStreamNotFound)
			}
		})
	}
	st, err := h.Store.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{p}})
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if st.Events != 0 {
		t.Errorf("%d events stored by refused appends", st.Events)
	}
}

// testLongestStreamName appends to a stream whose name has exactly
// eventstore.MaxStreamNameBytes bytes, escaped as meetingd's stream names
// are (every id byte as %XX), and reads it back: every store accepts every
// name up to the contract's bound.
func (s *suite) testLongestStreamName(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	stream := longStreamName(prefix(), eventstore.MaxStreamNameBytes)
	evs := newEvents(2)
	mustAppend(t, ctx, h.Store, stream, eventstore.NoStream, evs...)
	if res, err := h.Store.Append(ctx, stream, eventstore.Any, evs...); err != nil || !res.Duplicate {
		t.Errorf("appending the same events again: %+v, %v, want a duplicate", res, err)
	}
	got, err := collect(h.Store.ReadStream(ctx, stream, 0))
	if err != nil {
		t.Fatalf("read the longest stream name: %v", err)
	}
	if len(got) != 2 || got[0].Stream != stream || got[1].ID != evs[1].ID {
		t.Fatalf("read back %d events (stream of %d bytes), want the 2 appended", len(got), len(got[0].Stream))
	}
}

// longStreamName returns a stream name of n bytes that starts with p and
// goes on with escaped CJK characters (%E4%B8%AD…).
func longStreamName(p string, n int) string {
	var b strings.Builder
	b.WriteString(p)
	for b.Len()+9 <= n {
		b.WriteString("%E4%B8%AD")
	}
	for b.Len() < n {
		b.WriteByte('x')
	}
	return b.String()
}
