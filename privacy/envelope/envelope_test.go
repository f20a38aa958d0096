package envelope_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

func ptr[T any](v T) *T { return &v }

// events holds every payload type with personal data, naming Alice Zoë
// (uid alice-42) and Bob (no uid).
func events() []domain.Event {
	ev := func(p domain.Payload) domain.Event {
		return domain.Event{AppID: "app-1", SessionID: "s-1", Kind: domain.KindMeeting, Trigger: "t", Payload: p}
	}
	alice := domain.Occupant{UID: "alice-42", Name: "Alice Zoë", JoinedAt: 100, AudioOnly: ptr(true)}
	bob := domain.Occupant{Name: "Bob \"the\" <builder>", JoinedAt: 110, LeftAt: 200}
	left := alice
	left.LeftAt = 300
	return []domain.Event{
		ev(domain.SessionStarted{CreatedAt: 90}),
		ev(domain.ParticipantJoined{Occupant: alice, Client: &domain.ClientInfo{Platform: "web"}}),
		ev(domain.ParticipantJoined{Occupant: bob}),
		ev(domain.ParticipantLeft{Occupant: left}),
		ev(domain.SessionEnded{CreatedAt: 90, DestroyedAt: 400, AllOccupants: []domain.Occupant{left, bob}}),
		ev(domain.CallRinging{Action: domain.RingInitiated, CallID: "s-1", ConversationID: "alice-42_user_bob", Sender: "alice-42", SenderName: "Alice Zoë",
			Receiver: "bob", ReceiverType: "user", Media: "video", SentAt: 95}),
		ev(domain.SessionReconciled{FetchedAt: 500, Intervals: []domain.Occupant{left}, Unmatched: []domain.Occupant{bob},
			Usage: []domain.ParticipantUsage{{Participant: "alice-42", AudioMinutes: 1.5, VideoMinutes: 2}}}),
		ev(domain.PlanSet{Revision: 3, Roster: []domain.RosterEntry{{Participant: "alice-42", Name: "Alice Zoë"}, {Participant: "Bob \"the\" <builder>"}}}),
	}
}

var personal = []string{"alice-42", "Alice Zoë", "Bob", "builder", "bob"}

// stored returns ev's stored bytes, as the log holds them.
func stored(t *testing.T, ev domain.Event) []byte {
	t.Helper()
	b, err := codec.MarshalEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leaks returns the personal strings found in b, in UTF-8 and JSON-escaped forms.
func leaks(b []byte) []string {
	var out []string
	for _, s := range personal {
		esc, _ := json.Marshal(s)
		if bytes.Contains(b, []byte(s)) || bytes.Contains(b, esc[1:len(esc)-1]) {
			out = append(out, s)
		}
	}
	return out
}

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	env := envelope.New(privacy.NewMemory())
	for _, ev := range events() {
		t.Run(ev.Type(), func(t *testing.T) {
			orig := stored(t, ev)
			sealed, err := env.Seal(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored(t, ev), orig) {
				t.Fatal("Seal changed its argument")
			}
			b := stored(t, sealed)
			if l := leaks(b); len(l) > 0 {
				t.Fatalf("stored form holds %q: %s", l, b)
			}
			back, err := codec.UnmarshalEvent(ev.Type(), b)
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Open(ctx, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ev, back); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenLeavesPlaintextAlone(t *testing.T) {
	env := envelope.New(privacy.NewMemory())
	for _, ev := range events() {
		got, err := codec.UnmarshalEvent(ev.Type(), stored(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Open(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ev, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", ev.Type(), diff)
		}
	}
}

func TestErasedShowsPseudonym(t *testing.T) {
	ctx := context.Background()
	ring := privacy.NewMemory()
	env := envelope.New(ring)
	var sealed []domain.Event
	for _, ev := range events() {
		s, err := env.Seal(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	alice := privacy.Subject{AppID: "app-1", Participant: "alice-42"}
	if err := ring.Erase(ctx, alice); err != nil {
		t.Fatal(err)
	}
	p := alice.Pseudonym()
	var opened []domain.Event
	for i, s := range sealed {
		ev, err := codec.UnmarshalEvent(s.Type(), stored(t, s))
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Open(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		b := stored(t, ev)
		if bytes.Contains(b, []byte("alice-42")) || bytes.Contains(b, []byte("Alice")) {
			t.Fatalf("%s: erased subject readable: %s", ev.Type(), b)
		}
		if bytes.Contains(stored(t, events()[i]), []byte("alice-42")) && !bytes.Contains(b, []byte(p)) {
			t.Fatalf("%s: no pseudonym %s: %s", ev.Type(), p, b)
		}
		if bytes.Contains(stored(t, events()[i]), []byte("Bob")) != bytes.Contains(b, []byte("Bob")) {
			t.Fatalf("%s: Bob was erased too: %s", ev.Type(), b)
		}
		opened = append(opened, ev)
	}
	// Every count and duration is the same as without the erasure; the
	// identity and names are the pseudonym.
	want, got := domain.Fold(events()), domain.Fold(opened)
	scrub := func(s string) string {
		if s == "alice-42" || s == "Alice Zoë" {
			return p
		}
		return s
	}
	want.Initiator, want.InitiatorName = scrub(want.Initiator), scrub(want.InitiatorName)
	for i := range want.Participants {
		want.Participants[i].Participant = scrub(want.Participants[i].Participant)
		want.Participants[i].Name = scrub(want.Participants[i].Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("fold after erasure (-want +got):\n%s", diff)
	}
}

// TestFoldUnchangedOnACorpus folds generated sessions sealed and opened,
// and as they were: the same meetings.
func TestFoldUnchangedOnACorpus(t *testing.T) {
	ctx := context.Background()
	env := envelope.New(privacy.NewMemory())
	sessions, err := eventgen.Sessions(eventgen.Config{Users: 50}, 200)
	if err != nil {
		t.Fatal(err)
	}
	for evs := range sessions {
		var back []domain.Event
		for _, ev := range evs {
			s, err := env.Seal(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			d, err := codec.UnmarshalEvent(s.Type(), stored(t, s))
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Open(ctx, &d); err != nil {
				t.Fatal(err)
			}
			back = append(back, d)
		}
		if diff := cmp.Diff(domain.Fold(evs), domain.Fold(back)); diff != "" {
			t.Fatalf("session %s (-want +got):\n%s", evs[0].SessionID, diff)
		}
	}
}

func TestEventID(t *testing.T) {
	ring := privacy.NewMemory()
	env := envelope.New(ring)
	for _, ev := range events() {
		id := env.EventID(ev)
		if id != env.EventID(ev) {
			t.Fatal("not stable")
		}
		switch ev.Payload.(type) {
		case domain.ParticipantJoined, domain.ParticipantLeft:
			if id == domain.EventID(ev) {
				t.Fatalf("%s: the id is the unkeyed one", ev.Type())
			}
			if id == envelope.New(privacy.NewMemory()).EventID(ev) {
				t.Fatalf("%s: the id does not depend on the keyring's secret", ev.Type())
			}
		default:
			if id != domain.EventID(ev) {
				t.Fatalf("%s: the id changed", ev.Type())
			}
		}
	}
}

func TestBody(t *testing.T) {
	ctx := context.Background()
	ring := privacy.NewMemory()
	env := envelope.New(ring)
	id := uuid.New()
	body := []byte(`{"data":{"name":"Alice Zoë"}}`)
	ct, err := env.SealBody(ctx, "app-1", id, body)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("Alice")) {
		t.Fatal("plaintext body")
	}
	if got, err := env.OpenBody(ctx, "app-1", id, ct); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("OpenBody = %q, %v", got, err)
	}
	if err := ring.Erase(ctx, envelope.QuarantineSubject("app-1", id)); err != nil {
		t.Fatal(err)
	}
	if _, err := env.OpenBody(ctx, "app-1", id, ct); err == nil || !strings.Contains(err.Error(), privacy.ErrErased.Error()) {
		t.Fatalf("OpenBody after erasure = %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	env := envelope.New(privacy.NewMemory())
	f.Add("\uFFFD1AAAA")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, name string) {
		ev := domain.Event{AppID: "a", SessionID: "s", Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: name, JoinedAt: 1}}}
		_ = env.Open(context.Background(), &ev) // an error, never a panic
	})
}

// BenchmarkOpen is the rebuild's cost of sealing: opening one join.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	env := envelope.New(privacy.NewMemory())
	ev := events()[1]
	sealed, err := env.Seal(ctx, ev)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		e := sealed
		if err := env.Open(ctx, &e); err != nil {
			b.Fatal(err)
		}
	}
}
