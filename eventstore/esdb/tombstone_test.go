package esdb_test

import (
	"errors"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/esdb"
)

// TestTombstone: a tombstoned stream reads as not found and refuses
// appends; tombstoning it again, or a stream that never existed, is no
// error; $all shows its events (and the $streamDeleted event) until a
// scavenge, and none of them after one (in-process server); names beginning
// with $ and empty names are refused.
func TestTombstone(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		ctx := bounded(t)
		s := open(t, tg.conn, esdb.Config{})
		p := unique("tomb-")
		stream := p + "a"
		mustAppend(t, s, stream, eventstore.NoStream, event("a.v1"), event("a.v1"))
		mustAppend(t, s, p+"b", eventstore.NoStream, event("b.v1"))
		for range 2 {
			if err := s.Tombstone(ctx, stream); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Tombstone(ctx, p+"never"); err != nil {
			t.Fatalf("tombstone of an absent stream: %v", err)
		}
		for _, err := range s.ReadStream(ctx, stream, 0) {
			if !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Fatalf("read of a tombstoned stream: %v, want ErrStreamNotFound", err)
			}
		}
		if _, err := s.Append(ctx, stream, eventstore.Any, event("a.v1")); err == nil {
			t.Fatal("append to a tombstoned stream succeeded")
		}
		count := func() (types map[string]int) {
			types = map[string]int{}
			for ev, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{stream}}) {
				if err != nil {
					t.Fatal(err)
				}
				types[ev.Type]++
			}
			return types
		}
		if got := count(); got["a.v1"] != 2 || got["$streamDeleted"] != 1 {
			t.Fatalf("$all before a scavenge: %v", got)
		}
		if tg.srv != nil {
			tg.srv.Scavenge()
			if got := count(); got["a.v1"] != 0 || got["$streamDeleted"] != 1 {
				t.Fatalf("$all after a scavenge: %v", got)
			}
		}
		if got := mustCollectStream(t, s, p+"b"); len(got) != 1 {
			t.Fatalf("the other stream has %d events", len(got))
		}
		for _, bad := range []string{"", "$all"} {
			if err := s.Tombstone(ctx, bad); !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Errorf("Tombstone(%q) = %v, want ErrInvalidEvent", bad, err)
			}
		}
	})
}

func mustCollectStream(t *testing.T, s *esdb.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for ev, err := range s.ReadStream(bounded(t), stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}
