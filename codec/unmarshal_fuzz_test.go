package codec_test

import (
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// storedTypes are the event types Unmarshal knows, plus one it does not.
var storedTypes = []string{
	domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantLeft, domain.TypeSessionEnded,
	domain.TypeRecordingGenerated, domain.TypeTranscriptionGenerated, domain.TypeCallRinging,
	domain.TypeSessionAbandoned, domain.TypeSessionReconciled, "session.unknown.v9",
}

// FuzzUnmarshal feeds the decoders of stored data — events (UnmarshalEvent
// of each type) and fold state (UnmarshalFacts) — arbitrary bytes, as
// a damaged log or read model would hand them over: they never panic; an
// unknown type is ErrUnknownEventType; an accepted event survives Marshal
// and Unmarshal unchanged; accepted facts fold to a meeting and survive
// their own round trip.
func FuzzUnmarshal(f *testing.F) {
	f.Add(uint8(0), []byte(`{"app_id":"a","session_id":"s","kind":"meeting","trigger":"meeting_started","payload":{"created_at":1700000000}}`))
	f.Add(uint8(1), []byte(`{"app_id":"a","session_id":"s","trigger":"meeting_participant_joined","payload":{"occupant":{"name":"ana","joined_at":1700000000,"audio_only":true}}}`))
	f.Add(uint8(6), []byte(`{"app_id":"a","session_id":"s","kind":"call","payload":{"action":"initiated","call_id":"c","sent_at":1}}`))
	f.Add(uint8(3), []byte(`{"payload":null}`))
	f.Add(uint8(9), []byte(`{}`))
	f.Add(uint8(2), []byte(`{"payload":{"occupant":{"joined_at":"x"}}}`))
	f.Add(uint8(0), []byte(`{"v":1,"app_id":"a","session_id":"s","people":{"ana":{"intervals":[[1700000000,1700000600]]}}}`))
	f.Add(uint8(0), []byte(`{"v":1,"app_id":"a","session_id":"s","started_at":9223372036854775807,"last_at":-9223372036854775808}`))
	facts := domain.NewFacts("a", "s")
	facts.Apply(domain.Event{AppID: "a", SessionID: "s", Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingStarted, Payload: domain.SessionStarted{CreatedAt: 1700000000}})
	facts.Apply(domain.Event{AppID: "a", SessionID: "s", Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantJoined,
		Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: "ana", JoinedAt: 1700000010}}})
	if b, err := codec.MarshalFacts(facts); err == nil {
		f.Add(uint8(0), b)
	}
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		eventType := storedTypes[int(typ)%len(storedTypes)]
		ev, err := codec.UnmarshalEvent(eventType, data)
		switch {
		case eventType == "session.unknown.v9":
			if !errors.Is(err, domain.ErrUnknownEventType) {
				t.Fatalf("unknown type: %v", err)
			}
		case err == nil:
			if ev.Type() != eventType {
				t.Fatalf("Unmarshal(%s) gave a %s", eventType, ev.Type())
			}
			stored, err := codec.MarshalEvent(ev)
			if err != nil {
				t.Fatalf("accepted event does not marshal: %v", err)
			}
			again, err := codec.UnmarshalEvent(eventType, stored)
			if err != nil {
				t.Fatalf("%s %q stored as %s does not load: %v", eventType, data, stored, err)
			}
			// Invalid UTF-8 (which the intake never stores) becomes U+FFFD
			// on the first round trip; after that nothing changes.
			if !utf8.Valid(data) {
				ev = again
				if stored, err = codec.MarshalEvent(ev); err == nil {
					again, err = codec.UnmarshalEvent(eventType, stored)
				}
			}
			if err != nil || !reflect.DeepEqual(again, ev) {
				t.Fatalf("%s %q: %+v does not survive a round trip: %+v, %v", eventType, data, ev, again, err)
			}
		}

		var fs domain.Facts
		if err := codec.UnmarshalFacts(data, &fs); err != nil {
			return
		}
		m := fs.Meeting()
		b, err := codec.MarshalFacts(&fs)
		if err != nil {
			t.Fatalf("accepted facts do not marshal: %v", err)
		}
		var back domain.Facts
		if err := codec.UnmarshalFacts(b, &back); err != nil {
			t.Fatalf("facts %s re-stored as %s do not load: %v", data, b, err)
		}
		if m2 := back.Meeting(); !reflect.DeepEqual(m2, m) {
			t.Fatalf("facts %s fold to %+v, after a round trip to %+v", data, m, m2)
		}
	})
}
