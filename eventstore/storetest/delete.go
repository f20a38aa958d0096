package storetest

import (
	"testing"

	"github.com/meetingd/meetingd/eventstore"
)

// testDeleteStreams checks eventstore.StreamDeleter: a deleted stream reads
// as not found, is no longer read or counted by ReadAll and Stats (unless
// Features.DeletedInAll), can start again as new data,
// and other streams are untouched; deleting again (or a stream that never
// existed) is not an error. Every Store of meetingd implements it.
func (s *suite) testDeleteStreams(t *testing.T) {
	h := s.open(t)
	ctx := s.ctx(t)
	del, ok := h.Store.(eventstore.StreamDeleter)
	if !ok {
		t.Fatalf("%T does not implement eventstore.StreamDeleter", h.Store)
	}
	p := prefix()
	gone1, gone2, kept := p+"gone-1", p+"gone-2", p+"kept"
	evGone1, evGone2, evKept := newEvents(3), newEvents(2), newEvents(2)
	mustAppend(t, ctx, h.Store, gone1, eventstore.NoStream, evGone1[:2]...)
	mustAppend(t, ctx, h.Store, kept, eventstore.NoStream, evKept[:1]...)
	mustAppend(t, ctx, h.Store, gone1, eventstore.Exact(1), evGone1[2:]...)
	mustAppend(t, ctx, h.Store, gone2, eventstore.NoStream, evGone2...)
	mustAppend(t, ctx, h.Store, kept, eventstore.Exact(0), evKept[1:]...)

	for _, c := range []struct {
		name    string
		streams []string
	}{
		{"two streams and a missing one", []string{gone1, p + "never", gone2}},
		{"again", []string{gone1, gone2}},
		{"none", nil},
	} {
		if err := del.DeleteStreams(ctx, c.streams...); err != nil {
			t.Fatalf("delete %s: %v", c.name, err)
		}
		for _, st := range []string{gone1, gone2} {
			_, err := collect(h.Store.ReadStream(ctx, st, 0))
			wantErr(t, "read "+st+" after delete "+c.name, err, eventstore.ErrStreamNotFound)
		}
		wantEvents(t, "kept stream after delete "+c.name, readStream(t, ctx, h.Store, kept), evKept, kept, 0)
		if !s.f.DeletedInAll {
			stats, err := h.Store.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{p}})
			if err != nil {
				t.Fatalf("stats: %v", err)
			}
			if stats.Events != 2 {
				t.Errorf("stats after delete %s: %d events under the prefix, want 2 (the kept stream's)", c.name, stats.Events)
			}
		}
	}
	if !s.f.DeletedInAll {
		wantEvents(t, "read all after delete", readAll(t, ctx, h.Store, eventstore.Start, p), evKept, kept, 0)
		if !s.f.SharedLog {
			stats, err := h.Store.Stats(ctx, eventstore.Filter{})
			if err != nil {
				t.Fatalf("stats: %v", err)
			}
			if stats.Events != 2 {
				t.Errorf("unfiltered stats after delete: %d events, want 2", stats.Events)
			}
		}
	}

	// The stream starts again as new data: NoStream holds, only the new
	// events are read (revisions may continue after the deleted ones).
	again := newEvents(2)
	mustAppend(t, ctx, h.Store, gone1, eventstore.NoStream, again[:1]...)
	got := readStream(t, ctx, h.Store, gone1)
	wantEvents(t, "re-created stream", got, again[:1], gone1, -1)
	mustAppend(t, ctx, h.Store, gone1, eventstore.Exact(got[0].Revision), again[1:]...)
	wantEvents(t, "re-created stream, appended", readStream(t, ctx, h.Store, gone1), again, gone1, int(got[0].Revision))
	// An event ID of the deleted stream is new again too; deleting the
	// newest event of the log must not let a later append reuse its position.
	newest := mustAppend(t, ctx, h.Store, gone2, eventstore.NoStream, evGone2[0])
	if err := del.DeleteStreams(ctx, gone2); err != nil {
		t.Fatalf("delete %s again: %v", gone2, err)
	}
	st := h.Store
	if h.Reopen != nil {
		h.Store.Close()
		st = h.Reopen(t)
		wantEvents(t, "re-created stream after reopen", readStream(t, ctx, st, gone1), again, gone1, int(got[0].Revision))
		wantEvents(t, "kept stream after reopen", readStream(t, ctx, st, kept), evKept, kept, 0)
		_, err := collect(st.ReadStream(ctx, gone2, 0))
		wantErr(t, "read "+gone2+" after reopen", err, eventstore.ErrStreamNotFound)
	}
	res := mustAppend(t, ctx, st, kept, eventstore.Exact(1), newEvents(1)...)
	if res.Position.Compare(newest.Position) <= 0 {
		t.Errorf("append at %s, not after the deleted newest position %s: positions reused", res.Position, newest.Position)
	}
}
