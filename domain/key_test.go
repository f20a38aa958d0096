package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/domain"
)

func decodeOK(t *testing.T, body []byte) domain.Event {
	t.Helper()
	wh, err := fixedDecoder().Decode(body)
	if err != nil {
		t.Fatalf("Decode(%s): %v", body, err)
	}
	return wh.Event
}

// TestKeyIgnoresDelivery: the same event delivered by several webhook
// configurations, regions or retries has one key and one event id.
func TestKeyIgnoresDelivery(t *testing.T) {
	for name, body := range loadFixtures(t) {
		t.Run(name, func(t *testing.T) {
			first := decodeOK(t, body)
			for _, edits := range [][]edit{
				{set("webhook", `"webhook-2"`)},
				{set("region", `"eu"`)},
				{set("webhook", `"another-config"`), set("region", `"in"`)},
				{del("webhook"), del("region")},
				{set("extra", `"retry 2"`)},
			} {
				again := decodeOK(t, mutate(t, body, edits...))
				if domain.Key(again) != domain.Key(first) {
					t.Errorf("%v changed the key: %q → %q", edits, domain.Key(first), domain.Key(again))
				}
				if domain.EventID(again) != domain.EventID(first) {
					t.Errorf("%v changed the event id", edits)
				}
			}
		})
	}
}

// TestKeyTolerantForms: string and number spellings of the same value are the same event.
func TestKeyTolerantForms(t *testing.T) {
	a := decodeOK(t, mutate(t, fixture(t, "meeting_participant_left"),
		set("data.occupant.joined_at", `1696934692`), set("data.occupant.left_at", `1696934730`), set("data.occupant.audio_call", `false`)))
	b := decodeOK(t, mutate(t, fixture(t, "meeting_participant_left"),
		set("data.occupant.joined_at", `"1696934692"`), set("data.occupant.left_at", `"1696934730"`), set("data.occupant.audio_call", `"false"`)))
	if domain.EventID(a) != domain.EventID(b) {
		t.Errorf("numeric and string timestamps gave different ids: %q vs %q", domain.Key(a), domain.Key(b))
	}
}

// TestKeyDistinguishes: events that are different facts have different keys.
func TestKeyDistinguishes(t *testing.T) {
	joined := fixture(t, "meeting_participant_joined")
	left := fixture(t, "meeting_participant_left")
	cases := []struct {
		name string
		a, b []byte
	}{
		{"two people joining in the same second", joined, mutate(t, joined, set("data.occupant.name", `"George Alan"`))},
		{"same name, different uid", mutate(t, joined, set("data.occupant.uid", `"u1"`)), mutate(t, joined, set("data.occupant.uid", `"u2"`))},
		{"uid vs name", mutate(t, joined, set("data.occupant.uid", `"Andrew"`), set("data.occupant.name", `"X"`)),
			mutate(t, joined, set("data.occupant.name", `"Andrew\"|1"`))},
		{"same person rejoining", joined, mutate(t, joined, set("data.occupant.joined_at", `1696934693`))},
		{"join vs left of the same interval", joined, left},
		{"left at different times", left, mutate(t, left, set("data.occupant.left_at", `1696934731`))},
		{"other session", joined, mutate(t, joined, set("data.sessionId", `"other"`))},
		{"other app", joined, mutate(t, joined, set("appId", `"other"`))},
		{"meeting vs call trigger", fixture(t, "meeting_started"), mutate(t, fixture(t, "meeting_started"), set("trigger", `"call_started"`))},
		{"started vs ended", fixture(t, "meeting_started"), mutate(t, fixture(t, "meeting_ended"), set("data.destroyed_at", `1696934692`))},
		{"ended at different times", fixture(t, "meeting_ended"), mutate(t, fixture(t, "meeting_ended"), set("data.destroyed_at", `1696934731`))},
		{"two recordings", fixture(t, "recording_generated"), mutate(t, fixture(t, "recording_generated"), set("data.recording_url", `"https://x/2.mp4"`))},
		{"recording start", fixture(t, "recording_generated"), mutate(t, fixture(t, "recording_generated"), set("data.startTime", `1696937628`))},
		{"two transcripts", fixture(t, "transcription_generated"), mutate(t, fixture(t, "transcription_generated"), set("data.tid", `"tid-2"`))},
		{"ringing actions", fixture(t, "call_busy"),
			mutate(t, fixture(t, "call_busy"), set("trigger", `"call_rejected"`), set("data.call.data.action", `"rejected"`))},
		{"two calls", fixture(t, "call_busy"), mutate(t, fixture(t, "call_busy"), set("data.call.id", `"43415"`))},
		{"quoting: app and session", mutate(t, fixture(t, "meeting_started"), set("appId", `"a|b"`), set("data.sessionId", `"c"`)),
			mutate(t, fixture(t, "meeting_started"), set("appId", `"a"`), set("data.sessionId", `"b|c"`))},
		{"quoting: quotes", mutate(t, fixture(t, "meeting_started"), set("appId", `"a\"|\"b"`), set("data.sessionId", `"c"`)),
			mutate(t, fixture(t, "meeting_started"), set("appId", `"a"`), set("data.sessionId", `"b\"|\"c"`))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := decodeOK(t, c.a), decodeOK(t, c.b)
			if domain.Key(a) == domain.Key(b) {
				t.Errorf("same key %q", domain.Key(a))
			}
			if domain.EventID(a) == domain.EventID(b) {
				t.Errorf("same event id %s", domain.EventID(a))
			}
		})
	}
}

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
		Kind: domain.KindMeeting, Trigger: domain.TriggerMeetingParticipantJoined,
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
	// The fixture decodes to the same event (its client info is not part of the key).
	wh, err := fixedDecoder().Decode(fixture(t, "meeting_participant_joined"))
	if err != nil {
		t.Fatal(err)
	}
	if got := domain.EventID(wh.Event); got != id {
		t.Errorf("fixture EventID = %s, want %s", got, id)
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
