package codec_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
)

func bp(b bool) *bool { return &b }

// showEvent renders an event readably (payload as JSON, so *bool shows its value).
func showEvent(e domain.Event) string {
	p, _ := json.Marshal(e.Payload)
	return fmt.Sprintf("{app=%q session=%q kind=%q trigger=%q payload=%T%s}", e.AppID, e.SessionID, e.Kind, e.Trigger, e.Payload, p)
}

// TestEventMarshalRoundTrip: the stored form of every payload type decodes to
// an equal Event.
func TestEventMarshalRoundTrip(t *testing.T) {
	occ := domain.Occupant{UID: "uid-1", Name: "José 山田", JoinedAt: 1696934692, LeftAt: 1696934730, AudioOnly: bp(true)}
	events := []domain.Event{
		{Payload: domain.SessionStarted{CreatedAt: 1696934692}},
		{Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: "A", JoinedAt: 1696934692}}},
		{Payload: domain.ParticipantJoined{Occupant: occ, Client: &domain.ClientInfo{Platform: "web", SDK: "react",
			CallVersion: "2.3.0", Mode: "DEFAULT", AudioOnly: bp(false)}}},
		{Payload: domain.ParticipantJoined{Occupant: occ, Client: &domain.ClientInfo{}}},
		{Payload: domain.ParticipantLeft{Occupant: occ}},
		{Payload: domain.ParticipantLeft{Occupant: domain.Occupant{Name: "A", JoinedAt: 1, LeftAt: 2, AudioOnly: bp(false)}}},
		{Payload: domain.SessionEnded{DestroyedAt: 1696934730}},
		{Payload: domain.SessionEnded{CreatedAt: 1696934692, DestroyedAt: 1696934730, AllOccupants: []domain.Occupant{occ, {Name: "B", JoinedAt: 1696934700}}}},
		{Payload: domain.RecordingGenerated{URL: cometchattest.TestRecordingURL, StartTime: 1696937627, Duration: 21.433, RecordingDate: "2023-10-10"}},
		{Payload: domain.RecordingGenerated{URL: "u", StartTime: 1, Duration: 0.1 + 0.2}},
		{Payload: domain.TranscriptionGenerated{TID: cometchattest.TestTID, URL: cometchattest.TestTranscriptURL, StartTime: 1696937627, EndTime: 1696937648, TranscriptDate: "2023-10-10"}},
		{Payload: domain.TranscriptionGenerated{URL: "u", StartTime: 1}},
		{Payload: domain.CallRinging{Action: "initiated", CallID: "52", ConversationID: "c", Sender: "s", SenderName: "S",
			Receiver: "r", ReceiverType: "user", Media: "video", SentAt: 1696934199, UpdatedAt: 1696934200, InitiatedAt: 1696934199}},
		{Payload: domain.CallRinging{Action: "busy", CallID: "43414", SentAt: 1744960250}},
		{Payload: domain.SessionAbandoned{LastEventAt: 1696934730, DecidedAt: 1696956330}},
		{Payload: domain.SessionReconciled{FetchedAt: 1696956330}},
		{Payload: domain.SessionReconciled{FetchedAt: 1696956330, StartedAt: 1696934692, EndedAt: 1696934730,
			Intervals: []domain.Occupant{occ}, Unmatched: []domain.Occupant{{Name: "Guest", JoinedAt: 1696934700}},
			Recordings: []domain.RecordingGenerated{{URL: "u", StartTime: 1696934692, Duration: 12.5}}}},
		{Payload: domain.PlanSet{Revision: 3, ScheduledStart: 1696934400, ScheduledEnd: 1696938000, SeriesID: "maths <7b>",
			Roster:           []domain.RosterEntry{{Participant: "uid-1", Name: "José 山田"}, {Participant: "Guest"}},
			LateAfterSeconds: 300, EarlyLeaveSeconds: 0, MinAttendanceRatio: 0.75, SetAt: 1696900000}},
		{Payload: domain.PlanSet{ScheduledStart: 1, ScheduledEnd: 2}},
	}
	seen := map[string]bool{}
	for i, ev := range events {
		ev.AppID = cometchattest.TestAppID
		ev.SessionID = fmt.Sprintf("%s-%d", cometchattest.TestSessionID, i)
		ev.Kind = []domain.Kind{domain.KindMeeting, domain.KindCall, ""}[i%3]
		ev.Trigger = cometchat.Triggers[i%len(cometchat.Triggers)]
		seen[ev.Type()] = true
		t.Run(fmt.Sprintf("%d %s", i, ev.Type()), func(t *testing.T) { roundTrip(t, ev) })
	}
	for _, typ := range []string{domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantLeft,
		domain.TypeSessionEnded, domain.TypeRecordingGenerated, domain.TypeTranscriptionGenerated, domain.TypeCallRinging,
		domain.TypeSessionAbandoned, domain.TypeSessionReconciled, domain.TypePlanSet} {
		if !seen[typ] {
			t.Errorf("no round-trip case for %s", typ)
		}
	}
	// And every fixture, as decoded.
	for name, body := range cometchattest.Webhooks(t) {
		wh, err := cometchat.Decoder{}.Decode(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run("fixture "+name, func(t *testing.T) { roundTrip(t, wh.Event) })
	}
}

func roundTrip(t *testing.T, ev domain.Event) {
	t.Helper()
	data, err := codec.MarshalEvent(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !json.Valid(data) {
		t.Fatalf("Marshal produced invalid JSON: %s", data)
	}
	back, err := codec.UnmarshalEvent(ev.Type(), data)
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("round trip of %s\n got  %s\n want %s", data, showEvent(back), showEvent(ev))
	}
	if domain.Key(back) != domain.Key(ev) || domain.EventID(back) != domain.EventID(ev) {
		t.Errorf("round trip changed the key: %q → %q", domain.Key(ev), domain.Key(back))
	}
}

// TestEventTypeNames pins the stored type names: renaming one orphans every
// stored event of that type.
func TestEventTypeNames(t *testing.T) {
	pinned := map[domain.Payload]string{
		domain.SessionStarted{}:         "session.started.v1",
		domain.ParticipantJoined{}:      "session.participant_joined.v1",
		domain.ParticipantLeft{}:        "session.participant_left.v1",
		domain.RecordingGenerated{}:     "session.recording_generated.v1",
		domain.TranscriptionGenerated{}: "session.transcription_generated.v1",
		domain.CallRinging{}:            "call.ringing.v1",
		domain.SessionAbandoned{}:       "session.abandoned.v1",
	}
	for p, want := range pinned {
		if got := p.EventType(); got != want {
			t.Errorf("%T.EventType() = %q, want %q", p, got, want)
		}
	}
	// Types holding slices are not comparable map keys.
	if got := (domain.SessionEnded{}).EventType(); got != "session.ended.v1" {
		t.Errorf("SessionEnded.EventType() = %q", got)
	}
	if got := (domain.SessionReconciled{}).EventType(); got != "session.reconciled.v1" {
		t.Errorf("SessionReconciled.EventType() = %q", got)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	data, err := codec.MarshalEvent(domain.Event{AppID: "a", SessionID: "s", Payload: domain.SessionStarted{CreatedAt: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"", "session.started", "session.started.v2", "Session.Started.V1", "meeting_started"} {
		_, err := codec.UnmarshalEvent(typ, data)
		if !errors.Is(err, domain.ErrUnknownEventType) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrUnknownEventType", typ, err)
		}
	}
	for name, bad := range map[string]string{
		"not JSON":           `nope`,
		"array":              `[]`,
		"payload wrong type": `{"app_id":"a","session_id":"s","payload":{"created_at":"x"}}`,
		"app_id wrong type":  `{"app_id":1,"session_id":"s","payload":{}}`,
	} {
		_, err := codec.UnmarshalEvent(domain.TypeSessionStarted, []byte(bad))
		if err == nil {
			t.Errorf("%s: Unmarshal accepted %s", name, bad)
		} else if errors.Is(err, domain.ErrUnknownEventType) {
			t.Errorf("%s: a known type with bad data reported ErrUnknownEventType", name)
		}
	}
	if _, err := codec.MarshalEvent(domain.Event{AppID: "a", SessionID: "s"}); err == nil {
		t.Error("Marshal of an event without a payload succeeded")
	}
}
