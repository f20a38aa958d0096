package embedded

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

func TestCategory(t *testing.T) {
	for _, tc := range []struct {
		stream, category string
	}{
		{"session-app-1/abc", "session-"},
		{"session-a-b", "session-"},
		{"session-", "session-"},
		{"-x", "-"},
		{"session", ""},
		{"", ""},
	} {
		if got := category(tc.stream); got != tc.category {
			t.Errorf("category(%q) = %q, want %q", tc.stream, got, tc.category)
		}
		// A stream selected by a category prefix has that category.
		if tc.category != "" && (!isCategory(tc.category) || !strings.HasPrefix(tc.stream, tc.category)) {
			t.Errorf("category(%q) = %q is not a category prefix of it", tc.stream, tc.category)
		}
	}
	for prefix, want := range map[string]bool{"session-": true, "-": true, "session": false, "session-app-": false, "a-b": false, "": false} {
		if got := isCategory(prefix); got != want {
			t.Errorf("isCategory(%q) = %v, want %v", prefix, got, want)
		}
	}
}

// TestCategoryStats checks that Stats for a category prefix, answered from
// the counts kept in memory, equals the sum over the streams it selects:
// after appends (kept by the committer, duplicates and refused appends
// not counted) and after a reopen (counted from the file).
func TestCategoryStats(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	open := func() *Store {
		s, err := Open(ctx, Config{Dir: dir}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ev := func() eventstore.Event { return eventstore.Event{ID: uuid.New(), Type: "t", Data: []byte(`{}`)} }
	streams := []string{"session-a", "session-b-c", "session-", "sessionx", "other-1", "x", "-lead", "session-a2"}
	want := map[string]eventstore.Stats{} // by category prefix, the model
	s := open()
	for i := range 60 {
		stream := streams[i*5%len(streams)]
		evs := []eventstore.Event{ev()}
		if i%4 == 0 {
			evs = append(evs, ev(), ev())
		}
		res, err := s.Append(ctx, stream, eventstore.Any, evs...)
		if err != nil {
			t.Fatal(err)
		}
		if cat := category(stream); cat != "" {
			st := want[cat]
			addEvents(&st, uint64(len(evs)), res.Position.Commit)
			want[cat] = st
		}
		// Neither a duplicate nor a refused append counts.
		if res, err := s.Append(ctx, stream, eventstore.Any, evs...); err != nil || !res.Duplicate {
			t.Fatalf("append again: %+v, %v", res, err)
		}
		if _, err := s.Append(ctx, stream, eventstore.NoStream, ev()); !errors.Is(err, eventstore.ErrConcurrency) {
			t.Fatalf("append to an existing stream as new: %v", err)
		}
	}
	check := func(when string) {
		t.Helper()
		for _, cat := range []string{"session-", "other-", "-", "none-"} {
			got, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{cat}})
			if err != nil || got != want[cat] {
				t.Errorf("%s: Stats(%q) = %+v, %v; want %+v", when, cat, got, err, want[cat])
			}
		}
		// A category and a prefix that is not one, together.
		got, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{"session-", "x", "other-1"}})
		sum := want["session-"]
		addEvents(&sum, want["other-"].Events, want["other-"].Head.Commit)
		xs := 0
		for i := range 60 {
			if streams[i*5%len(streams)] == "x" {
				xs += 1 + 2*btoi(i%4 == 0)
			}
		}
		sum.Events += uint64(xs)
		if err != nil || got.Events != sum.Events {
			t.Errorf("%s: Stats(session-, x, other-1) = %+v, %v; want %d events", when, got, err, sum.Events)
		}
	}
	check("after appends")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{"session-"}}); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Stats after Close: %v", err)
	}
	s = open()
	defer s.Close()
	check("after a reopen")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
