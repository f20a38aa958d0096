package embedded_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// TestFailedSyncFailStop injects a failed fsync into a commit. When the
// commit is in doubt (its meta page reached the file, the sync failed), no
// reader may ever see it: the live subscription, ReadAll, ReadStream and
// Stats fail instead, Ping and Health fail, appends are refused; reopening
// settles the commit (the retried append is a duplicate). When the failed
// sync was the data pages' (rolled back), the store goes on.
func TestFailedSyncFailStop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inDoubt bool
	}{
		{"commit in doubt", true},
		{"rolled back", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			s, err := embedded.Open(ctx, embedded.Config{Dir: dir}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			durable := eventstore.Event{ID: uuid.New(), Type: "a.v1", Data: []byte(`{}`)}
			if _, err := s.Append(ctx, "session-a", eventstore.Any, durable); err != nil {
				t.Fatal(err)
			}

			type item struct {
				ev  eventstore.RecordedEvent
				err error
			}
			sub := make(chan item, 16)
			subCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				defer close(sub)
				for ev, err := range s.SubscribeAll(subCtx, eventstore.Start, eventstore.Filter{}) {
					sub <- item{ev, err}
				}
			}()
			if it := next(t, sub); it.err != nil || it.ev.ID != durable.ID {
				t.Fatalf("subscription's first item: %+v, want the durable event", it)
			}

			doubt := eventstore.Event{ID: uuid.New(), Type: "b.v1", Data: []byte(`{}`)}
			embedded.FailNextSync(s, tc.inDoubt)
			if _, err := s.Append(ctx, "session-b", eventstore.Any, doubt); !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("append whose sync failed: %v, want ErrUnavailable", err)
			}

			if !tc.inDoubt {
				if err := s.Health(ctx); err != nil {
					t.Fatalf("health after a rolled-back commit: %v", err)
				}
				if _, err := s.Append(ctx, "session-b", eventstore.Any, doubt); err != nil {
					t.Fatalf("retry after a rolled-back commit: %v", err)
				}
				if it := next(t, sub); it.err != nil || it.ev.ID != doubt.ID || it.ev.Position.Commit != 2 {
					t.Fatalf("subscription after the retry: %+v, want the retried event at position 2", it)
				}
				return
			}

			// The live subscription ends with the failure, never with the event.
			if it := next(t, sub); it.err == nil || !errors.Is(it.err, eventstore.ErrUnavailable) {
				t.Fatalf("subscription after the failed sync yielded %+v, want an ErrUnavailable error", it)
			}
			for ev, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
				if err == nil && ev.ID == doubt.ID {
					t.Fatal("ReadAll yielded the event in doubt")
				}
				if err != nil && !errors.Is(err, eventstore.ErrUnavailable) {
					t.Fatalf("ReadAll: %v, want ErrUnavailable", err)
				}
			}
			for ev, err := range s.ReadStream(ctx, "session-b", 0) {
				if err == nil {
					t.Fatalf("ReadStream yielded the event in doubt (%s)", ev.ID)
				}
				if !errors.Is(err, eventstore.ErrUnavailable) {
					t.Fatalf("ReadStream: %v, want ErrUnavailable", err)
				}
			}
			for _, f := range []eventstore.Filter{{}, {StreamPrefixes: []string{"session-"}}, {StreamPrefixes: []string{"session-b"}}} {
				if st, err := s.Stats(ctx, f); !errors.Is(err, eventstore.ErrUnavailable) {
					t.Fatalf("Stats(%v) = %+v, %v; want ErrUnavailable", f, st, err)
				}
			}
			if err := s.Ping(ctx); !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("Ping: %v, want ErrUnavailable", err)
			}
			if err := s.Health(ctx); !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("Health: %v, want ErrUnavailable", err)
			}
			other := eventstore.Event{ID: uuid.New(), Type: "c.v1", Data: []byte(`{}`)}
			if _, err := s.Append(ctx, "session-c", eventstore.Any, other); !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("append after the failure: %v, want ErrUnavailable", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// The reopen settles the commit: the retry is a duplicate.
			s2 := open(t, embedded.Config{Dir: dir})
			if err := s2.Health(ctx); err != nil {
				t.Fatalf("health after reopening: %v", err)
			}
			res, err := s2.Append(ctx, "session-b", eventstore.Any, doubt)
			if err != nil || !res.Duplicate || res.Position.Commit != 2 {
				t.Fatalf("retry after reopening: %+v, %v; want a duplicate at position 2", res, err)
			}
			if st, err := s2.Stats(ctx, eventstore.Filter{}); err != nil || st.Events != 2 {
				t.Fatalf("stats after reopening: %+v, %v; want 2 events", st, err)
			}
		})
	}
}

// next returns the subscription's next item, failing the test after a
// generous bound instead of hanging.
func next[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case it, ok := <-c:
		if !ok {
			t.Fatal("subscription ended")
		}
		return it
	case <-time.After(30 * time.Second):
		t.Fatal("nothing from the subscription in 30 s")
	}
	var zero T
	return zero
}
