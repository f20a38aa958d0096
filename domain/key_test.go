package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// TestKeyAllPayloads: meetingd's own events have keys too, distinct per fact.
func TestKeyAllPayloads(t *testing.T) {
	base := domain.Event{AppID: "app", SessionID: "s"}
	with := func(p domain.Payload) domain.Event { e := base; e.Payload = p; return e }
	events := []domain.Event{
		with(domain.SessionAbandoned{LastEventAt: 1, DecidedAt: 2}),
		with(domain.SessionAbandoned{LastEventAt: 2, DecidedAt: 2}),
		with(domain.SessionReconciled{FetchedAt: 1}),
		with(domain.SessionReconciled{FetchedAt: 2}),
		with(domain.SessionStarted{CreatedAt: 1}),
		with(domain.SessionEnded{DestroyedAt: 1}),
	}
	seen := map[string]int{}
	for i, e := range events {
		k := domain.Key(e)
		if j, dup := seen[k]; dup {
			t.Errorf("events %d and %d share key %q", j, i, k)
		}
		seen[k] = i
		if domain.Key(e) != k {
			t.Errorf("Key is not deterministic for %T", e.Payload)
		}
	}
	// A retried abandonment decision for the same last event is the same fact.
	if domain.Key(with(domain.SessionAbandoned{LastEventAt: 1, DecidedAt: 2})) !=
		domain.Key(with(domain.SessionAbandoned{LastEventAt: 1, DecidedAt: 3})) {
		t.Error("SessionAbandoned key depends on when it was decided")
	}
}

// TestEventIDGolden pins the id of one event: a change to the namespace or to
// the key format would give every stored event a new id and break dedupe
// against the existing log.
func TestEventIDGolden(t *testing.T) {
	ev := domain.Event{
		AppID: "208136f5ba34a5a2", SessionID: "v1.us.208136f5ba34a5a2.1696934692c0ffee",
		Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantJoined,
		Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: "Andrew Joseph", JoinedAt: 1696934692}},
	}
	const (
		wantKey = `v1|meeting_participant_joined|"208136f5ba34a5a2"|"v1.us.208136f5ba34a5a2.1696934692c0ffee"|"Andrew Joseph"|1696934692`
		wantID  = "5dad427e-6910-5216-bb42-2d19efbd6941" // uuid5(namespace, wantKey), checked with Python's uuid.uuid5
	)
	if got := domain.Key(ev); got != wantKey {
		t.Errorf("Key = %s\nwant  %s", got, wantKey)
	}
	id := domain.EventID(ev)
	if id.String() != wantID {
		t.Errorf("EventID = %s, want %s", id, wantID)
	}
	if id.Version() != 5 || id.Variant() != uuid.RFC4122 {
		t.Errorf("EventID %s is version %d variant %s, want a RFC 4122 UUIDv5", id, id.Version(), id.Variant())
	}
	// Kind is not part of the identity either.
	ev.Kind = domain.KindCall
	if domain.EventID(ev) != id {
		t.Error("EventID depends on Kind")
	}
}

func TestStreamName(t *testing.T) {
	if got := domain.StreamName("app", "s1"); !strings.HasPrefix(got, domain.StreamPrefix) {
		t.Errorf("StreamName = %q, want prefix %q", got, domain.StreamPrefix)
	}
	// Stored streams are found again by name: equal ids give the same name on
	// every call, and the name of a stored stream never changes.
	want := domain.StreamPrefix + "app/s1"
	for i := range 3 {
		if got := domain.StreamName(strings.Clone("app"), strings.Clone("s1")); got != want {
			t.Errorf("call %d: StreamName(app, s1) = %q, want %q", i, got, want)
		}
	}
	pairs := [][2]string{
		{"a/b", "c"}, {"a", "b/c"}, {"a", "b%2Fc"}, {"a%2Fb", "c"}, {"a%252Fb", "c"},
		{"a-b", "c"}, {"a", "b-c"}, {"", "a/b"}, {"a", "/b"}, {"a/", "b"}, {"a", ""}, {"", "a"}, {"", ""},
		{"a b", "c"}, {"a+b", "c"}, {"a%20b", "c"}, {"session-a", "b"}, {"a", "session-b"},
		{"ä", "c"}, {"%C3%A4", "c"}, {"a\x00", "b"}, {"a", "\x00b"}, {"a|b", "c"}, {"a", "b|c"},
	}
	names := map[string][2]string{}
	for _, p := range pairs {
		name := domain.StreamName(p[0], p[1])
		if prev, dup := names[name]; dup {
			t.Errorf("StreamName collision: %q and %q both give %q", prev, p, name)
		}
		names[name] = p
		if strings.Count(name, "/") != 1 {
			t.Errorf("StreamName%q = %q: the app and session parts must not contain '/'", p, name)
		}
	}
	// Random pairs over an alphabet of the characters that matter.
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "a/%2F-|\\ .+é"
	runes := []rune(alphabet)
	random := func() string {
		var b strings.Builder
		for n := rng.IntN(5); n > 0; n-- {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		return b.String()
	}
	names = map[string][2]string{}
	for range 20000 {
		p := [2]string{random(), random()}
		name := domain.StreamName(p[0], p[1])
		if prev, dup := names[name]; dup && prev != p {
			t.Fatalf("StreamName collision: %q and %q both give %q", prev, p, name)
		}
		names[name] = p
	}
}

func ExampleStreamName() {
	fmt.Println(domain.StreamName("a/b", "c"))
	fmt.Println(domain.StreamName("a", "b/c"))
	// Output:
	// session-a%2Fb/c
	// session-a/b%2Fc
}
