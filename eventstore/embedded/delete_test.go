package embedded_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/bytescan"
)

// TestDeleteStreamsAndScrubLeaveNoBytes: after DeleteStreams and Scrub no
// byte of the data directory holds a deleted event, whatever the number of
// events deleted (one leaf, many pages, the newest events of the log), and
// the kept events are intact after a reopen.
func TestDeleteStreamsAndScrubLeaveNoBytes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		gone, kept   int // events in the deleted and kept streams
		deleteNewest bool
	}{
		{"one event", 1, 10, false},
		{"many pages", 3000, 200, false},
		{"the newest events", 50, 50, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			s, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
			if err != nil {
				t.Fatal(err)
			}
			mk := func(n int, text string) []eventstore.Event {
				evs := make([]eventstore.Event, n)
				for i := range evs {
					evs[i] = eventstore.Event{ID: uuid.New(), Type: "t.v1", Data: []byte(`{"name":"` + text + `"}`)}
				}
				return evs
			}
			appendAll := func(stream string, evs []eventstore.Event) {
				for i := 0; i < len(evs); i += 100 {
					if _, err := s.Append(ctx, stream, eventstore.Any, evs[i:min(i+100, len(evs))]...); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !tc.deleteNewest {
				appendAll("session-gone", mk(tc.gone, "Zoltan-Retention-Gone"))
				appendAll("session-kept", mk(tc.kept, "Kept-Person"))
			} else {
				appendAll("session-kept", mk(tc.kept, "Kept-Person"))
				appendAll("session-gone", mk(tc.gone, "Zoltan-Retention-Gone"))
			}
			if err := s.DeleteStreams(ctx, "session-gone"); err != nil {
				t.Fatal(err)
			}
			if err := s.Scrub(ctx); err != nil {
				t.Fatal(err)
			}
			st, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{"session-"}})
			if err != nil || st.Events != uint64(tc.kept) {
				t.Errorf("stats after delete: %+v, %v; want %d events", st, err, tc.kept)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			bytescan.None(t, dir, "Zoltan-Retention-Gone", "session-gone")
			s, err = embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
			if err != nil {
				t.Fatalf("reopen after delete: %v", err)
			}
			defer s.Close()
			n := 0
			for _, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != tc.kept {
				t.Errorf("read all after reopen: %d events, want %d", n, tc.kept)
			}
			all, err := s.Stats(ctx, eventstore.Filter{})
			if err != nil || all.Events != uint64(tc.kept) {
				t.Errorf("unfiltered stats after reopen: %+v, %v; want %d events", all, err, tc.kept)
			}
		})
	}
}
