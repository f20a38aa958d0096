package eventgen_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/eventgen"
)

func collect(t *testing.T, cfg eventgen.Config) []eventgen.Item {
	t.Helper()
	seq, err := eventgen.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []eventgen.Item
	for it, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

func TestGenerate(t *testing.T) {
	items := collect(t, eventgen.Config{Events: 8000, Seed: 3})
	if len(items) != 8000 {
		t.Fatalf("generated %d events, want 8000", len(items))
	}
	if again := collect(t, eventgen.Config{Events: 8000, Seed: 3}); !slices.EqualFunc(items, again, func(a, b eventgen.Item) bool {
		return a.Stored.ID == b.Stored.ID
	}) {
		t.Fatal("the same config generated another corpus")
	}
	ids := map[uuid.UUID]bool{}
	types := map[string]int{}
	sessions := map[string]bool{}
	for i, it := range items {
		if ids[it.Stored.ID] {
			t.Fatalf("event %d: id %s repeated", i, it.Stored.ID)
		}
		ids[it.Stored.ID] = true
		if i > 0 && it.At.Before(items[i-1].At) {
			t.Fatalf("event %d arrives at %s, before the event before it (%s)", i, it.At, items[i-1].At)
		}
		if want := domain.StreamName(it.Event.AppID, it.Event.SessionID); it.Stream != want {
			t.Fatalf("event %d: stream %q, want %q", i, it.Stream, want)
		}
		if it.Stored.ID != domain.EventID(it.Event) {
			t.Fatalf("event %d: id is not the event's content id", i)
		}
		back, err := codec.UnmarshalEvent(it.Stored.Type, it.Stored.Data)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if diff := cmp.Diff(it.Event, back); diff != "" {
			t.Fatalf("event %d: stored form decodes to another event (-want +got):\n%s", i, diff)
		}
		types[it.Stored.Type]++
		sessions[it.Stream] = true
	}
	for _, typ := range []string{
		domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantLeft, domain.TypeSessionEnded,
		domain.TypeRecordingGenerated, domain.TypeTranscriptionGenerated, domain.TypeCallRinging,
	} {
		if types[typ] == 0 {
			t.Errorf("no %s event in the corpus", typ)
		}
	}
	if n := len(items) / len(sessions); n < 5 || n > 30 {
		t.Errorf("%d events per session on average, want a realistic 5–30", n)
	}
}

func TestFill(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(ctx, embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := eventgen.Fill(ctx, s, eventgen.Config{Events: 5000, Seed: 4}, 1000)
	if err != nil || n != 5000 {
		t.Fatalf("Fill = %d, %v; want 5000 events", n, err)
	}
	st, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}})
	if err != nil || st.Events != 5000 {
		t.Fatalf("the store holds %+v, %v; want 5000 session events", st, err)
	}
}
