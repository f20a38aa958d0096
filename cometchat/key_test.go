package cometchat_test

import (
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
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

// TestEventIDFixture: the participant_joined fixture decodes to the event
// whose id domain's TestEventIDGolden pins (its client info is not part of
// the key).
func TestEventIDFixture(t *testing.T) {
	ev := domain.Event{
		AppID: "208136f5ba34a5a2", SessionID: "v1.us.208136f5ba34a5a2.1696934692c0ffee",
		Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantJoined,
		Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: "Andrew Joseph", JoinedAt: 1696934692}},
	}
	const wantID = "5dad427e-6910-5216-bb42-2d19efbd6941"
	if got := domain.EventID(ev).String(); got != wantID {
		t.Fatalf("EventID = %s, want %s", got, wantID)
	}
	wh, err := fixedDecoder().Decode(fixture(t, "meeting_participant_joined"))
	if err != nil {
		t.Fatal(err)
	}
	if got := domain.EventID(wh.Event).String(); got != wantID {
		t.Errorf("fixture EventID = %s, want %s", got, wantID)
	}
}

// TestFixtureEventIDs pins the event id and the stored form of every
// fixture's event, as computed before the webhook decoder moved out of
// package domain: the dedupe key of an event already in a log must never
// change, nor its stored bytes.
func TestFixtureEventIDs(t *testing.T) {
	pinned := []struct{ name, id, stored string }{
		{"call_busy", "d257ada1-56d4-5013-ad53-d82425244ba0",
			`{"app_id":"app-1","session_id":"call-43414","kind":"call","trigger":"call_busy","payload":{"action":"busy","call_id":"43414","conversation_id":"cometchat-uid-1_user_cometchat-uid-5","sender":"cometchat-uid-1","receiver":"cometchat-uid-5","receiver_type":"user","media":"audio","sent_at":1744960250,"updated_at":1744960250}}`},
		{"call_ended", "b1f8dc98-c69a-52db-9b1c-ae482926fdcb",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"call","trigger":"call_ended","payload":{"created_at":1696934501,"destroyed_at":1696934553,"all_occupants":[{"name":"George Alan","joined_at":1696934501,"left_at":1696934553,"audio_only":true},{"name":"Andrew Joseph","joined_at":1696934501,"left_at":1696934553,"audio_only":true}]}}`},
		{"call_initiated", "0aa6787e-2d0c-5033-a24a-ccac0938b2b8",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"call","trigger":"call_initiated","payload":{"action":"initiated","call_id":"52","conversation_id":"cometchat-uid-1_user_cometchat-uid-5","sender":"cometchat-uid-1","sender_name":"Andrew Joseph","receiver":"cometchat-uid-5","receiver_type":"user","media":"audio","sent_at":1696934199,"updated_at":1696934199,"initiated_at":1696934199}}`},
		{"call_participant_joined", "8d97bebd-9526-55b3-978d-26ab8407261b",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"call","trigger":"call_participant_joined","payload":{"occupant":{"name":"Andrew Joseph","joined_at":1696934573,"audio_only":true},"client":{"platform":"web","sdk":"react","call_version":"2.3.0","mode":"DEFAULT","audio_only":true}}}`},
		{"call_participant_left", "93d15b4f-de1b-5f7c-ad53-72398094e739",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"call","trigger":"call_participant_left","payload":{"occupant":{"name":"George Alan","joined_at":1696934501,"left_at":1696934553,"audio_only":true}}}`},
		{"call_started", "416042be-b786-5ecc-beaf-6817b35570b8",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"call","trigger":"call_started","payload":{"created_at":1696934572}}`},
		{"meeting_ended", "1def1f14-2e5d-565c-ab6b-9ff509f3e567",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"meeting","trigger":"meeting_ended","payload":{"created_at":1696934692,"destroyed_at":1696934730,"all_occupants":[{"name":"Andrew Joseph","joined_at":1696934692,"left_at":1696934730,"audio_only":false}]}}`},
		{"meeting_participant_joined", "42c4a336-4160-5cec-a55f-693bad8a0395",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"meeting","trigger":"meeting_participant_joined","payload":{"occupant":{"name":"Andrew Joseph","joined_at":1696934692,"audio_only":false},"client":{"platform":"web","sdk":"react","call_version":"2.3.0","mode":"DEFAULT","audio_only":false}}}`},
		{"meeting_participant_left", "c011530f-0b37-5176-b7e9-e639b18e1a5c",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"meeting","trigger":"meeting_participant_left","payload":{"occupant":{"name":"Andrew Joseph","joined_at":1696934692,"left_at":1696934730,"audio_only":false}}}`},
		{"meeting_started", "fd0eda3b-4bb8-5577-a13f-d2b2ac831d72",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","kind":"meeting","trigger":"meeting_started","payload":{"created_at":1696934692}}`},
		{"recording_generated", "228dc110-d294-590f-aa11-f8b99fd2c22a",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","trigger":"recording_generated","payload":{"recording_url":"https://recordings.example/rec-1.mp4","start_time":1696937627,"duration":21.433,"recording_date":"2023-10-10"}}`},
		{"transcription_generated", "63ce747c-ea87-5023-8b25-e8129b927cd0",
			`{"app_id":"app-1","session_id":"v1.us.test.session-1","trigger":"transcription_generated","payload":{"tid":"tid-1","transcript_url":"https://transcripts.example/t-1.json","start_time":1696937627,"end_time":1696937648,"transcript_date":"2023-10-10"}}`},
	}
	names := cometchattest.FixtureNames(t)
	if len(names) != len(pinned) {
		t.Errorf("%d fixtures, %d pinned: pin the new ones", len(names), len(pinned))
	}
	for _, p := range pinned {
		wh, err := cometchat.Decoder{}.Decode(cometchattest.Fixture(t, p.name, nil))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if got := domain.EventID(wh.Event).String(); got != p.id {
			t.Errorf("%s: EventID = %s, want %s (key %s)", p.name, got, p.id, domain.Key(wh.Event))
		}
		stored, err := codec.MarshalEvent(wh.Event)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if string(stored) != p.stored {
			t.Errorf("%s: stored form\n got  %s\n want %s", p.name, stored, p.stored)
		}
	}
}
