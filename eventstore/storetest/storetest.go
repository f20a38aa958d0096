package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// Features declares how an implementation differs where the contract allows.
type Features struct {
	// GlobalDedupe is true when an event ID is unique across the whole log:
	// an ID stored in one stream cannot be stored in another (the append is
	// then either a duplicate or refused). When false, IDs are recognised per
	// stream, as EventStoreDB does, and the same ID may be stored in two
	// streams.
	GlobalDedupe bool

	// SharedLog is true when the log may hold events that the suite did not
	// write (a shared server, system events): unfiltered reads and Stats are
	// then checked only for containing the suite's events.
	SharedLog bool

	// ClockSkew is how far an event's RecordedAt may be from the test's
	// clock around the append. Default 2s.
	ClockSkew time.Duration

	// Timeout bounds each test. Default 60s.
	Timeout time.Duration

	// DeletedInAll is true when ReadAll still yields the events of a
	// deleted stream until the store reclaims them (KurrentDB until a
	// scavenge); false: never again (embedded).
	DeletedInAll bool
}

func (f *Features) setDefaults() {
	if f.ClockSkew == 0 {
		f.ClockSkew = 2 * time.Second
	}
	if f.Timeout == 0 {
		f.Timeout = 60 * time.Second
	}
}

// Harness is one test's store.
type Harness struct {
	// Store is a store for this test only (or a shared one: see
	// Features.SharedLog). The harness closes it when the test ends (with
	// t.Cleanup); the suite may close it before, so Close must tolerate
	// being called again.
	Store eventstore.Store

	// Reopen returns a new store on Store's data, which the suite has closed
	// before calling it; the harness closes the new store when the test
	// ends. Nil when the implementation cannot reopen its data: the restart
	// tests are then skipped.
	Reopen func(t *testing.T) eventstore.Store
}

// Run runs the contract suite, one parallel subtest per behaviour, each on
// a store returned by open.
func Run(t *testing.T, features Features, open func(t *testing.T) Harness) {
	features.setDefaults()
	s := &suite{f: features, open: open}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"AppendAndRead", s.testAppendAndRead},
		{"ExpectedRevision", s.testExpectedRevision},
		{"Duplicates", s.testDuplicates},
		{"DuplicateAfterMoreEvents", s.testDuplicateAfterMoreEvents},
		{"DuplicateInAnotherStream", s.testDuplicateInAnotherStream},
		{"InvalidEvents", s.testInvalidEvents},
		{"LongestStreamName", s.testLongestStreamName},
		{"ReadStreamFrom", s.testReadStreamFrom},
		{"ReadStreamNotFound", s.testReadStreamNotFound},
		{"ReadAll", s.testReadAll},
		{"ManyEvents", s.testManyEvents},
		{"ConcurrentAppendsToManyStreams", s.testConcurrentManyStreams},
		{"ConcurrentAppendsToOneStream", s.testConcurrentOneStream},
		{"ConcurrentNoStream", s.testConcurrentNoStream},
		{"OptimisticConcurrency", s.testOptimisticConcurrency},
		{"DuplicateStorm", s.testDuplicateStorm},
		{"SubscribeCatchUpThenLive", s.testSubscribeCatchUpThenLive},
		{"SubscribeFromMiddle", s.testSubscribeFromMiddle},
		{"SubscribeFilter", s.testSubscribeFilter},
		{"SubscribeCancel", s.testSubscribeCancel},
		{"SubscribeBreak", s.testSubscribeBreak},
		{"SubscribeEndsOnClose", s.testSubscribeEndsOnClose},
		{"Stats", s.testStats},
		{"Restart", s.testRestart},
		{"CloseWaitsForAppends", s.testCloseWaitsForAppends},
		{"Closed", s.testClosed},
		{"ContextDone", s.testContextDone},
		{"DeleteStreams", s.testDeleteStreams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

type suite struct {
	f    Features
	open func(t *testing.T) Harness
}

// ctx returns a context bounded by the suite's timeout.
func (s *suite) ctx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), s.f.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// prefix returns a stream name prefix unique to this call.
func prefix() string { return "storetest-" + uuid.NewString()[:13] + "/" }

const eventType = "storetest.thing_happened.v1"

// newEvents returns n events with fresh IDs and distinct payloads.
func newEvents(n int) []eventstore.Event {
	out := make([]eventstore.Event, n)
	for i := range out {
		id := uuid.New()
		out[i] = eventstore.Event{
			ID:       id,
			Type:     eventType,
			Data:     fmt.Appendf(nil, `{"id":%q,"i":%d,"text":"réunion ✓"}`, id, i),
			Metadata: fmt.Appendf(nil, `{"webhook":"wh-%d"}`, i),
		}
	}
	return out
}

func mustAppend(t *testing.T, ctx context.Context, st eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.Event) eventstore.AppendResult {
	t.Helper()
	res, err := st.Append(ctx, stream, exp, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s (expected %s): %v", len(evs), stream, exp, err)
	}
	if res.Duplicate {
		t.Fatalf("append %d new events to %s: reported as a duplicate: %+v", len(evs), stream, res)
	}
	return res
}

// collect ranges over seq to its end, or to its first error.
func collect(seq iter.Seq2[eventstore.RecordedEvent, error]) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for e, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

func mustCollect(t *testing.T, what string, seq iter.Seq2[eventstore.RecordedEvent, error]) []eventstore.RecordedEvent {
	t.Helper()
	out, err := collect(seq)
	if err != nil {
		t.Fatalf("%s: after %d events: %v", what, len(out), err)
	}
	return out
}

func readStream(t *testing.T, ctx context.Context, st eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	return mustCollect(t, "read stream "+stream, st.ReadStream(ctx, stream, 0))
}

func readAll(t *testing.T, ctx context.Context, st eventstore.Store, from eventstore.Position, prefixes ...string) []eventstore.RecordedEvent {
	t.Helper()
	return mustCollect(t, fmt.Sprintf("read all after %s %q", from, prefixes), st.ReadAll(ctx, from, eventstore.Filter{StreamPrefixes: prefixes}))
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// wantEvents fails unless got holds exactly want's events, in order, with
// their stream, consecutive revisions from rev0 when rev0 >= 0, and
// strictly increasing positions.
func wantEvents(t *testing.T, what string, got []eventstore.RecordedEvent, want []eventstore.Event, stream string, rev0 int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if rev0 >= 0 && got[i].Revision != uint64(rev0+i) {
			t.Errorf("%s: event %d: revision %d, want %d", what, i, got[i].Revision, rev0+i)
		}
		if stream != "" && got[i].Stream != stream {
			t.Errorf("%s: event %d: stream %q, want %q", what, i, got[i].Stream, stream)
		}
		sameEvent(t, fmt.Sprintf("%s: event %d", what, i), got[i].Event, want[i])
	}
	increasing(t, what, got)
}

func sameEvent(t *testing.T, what string, got, want eventstore.Event) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s: ID %s, want %s", what, got.ID, want.ID)
	}
	if got.Type != want.Type {
		t.Errorf("%s: type %q, want %q", what, got.Type, want.Type)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: data %q, want %q", what, got.Data, want.Data)
	}
	if !bytes.Equal(got.Metadata, want.Metadata) {
		t.Errorf("%s: metadata %q, want %q", what, got.Metadata, want.Metadata)
	}
}

// increasing fails unless positions are strictly increasing.
func increasing(t *testing.T, what string, evs []eventstore.RecordedEvent) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].Position.Compare(evs[i-1].Position) <= 0 {
			t.Fatalf("%s: event %d at position %s does not follow event %d at %s", what, i, evs[i].Position, i-1, evs[i-1].Position)
		}
	}
}

// within runs fn in a goroutine and fails the test if it has not returned
// after d. fn runs outside the test goroutine: it may call t.Error, not
// t.Fatal.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %s", what, d)
	}
}
