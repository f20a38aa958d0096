package cometchat_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// FuzzDecode checks the decoder's contract on arbitrary bodies: it never
// panics, and it either returns a usable event (valid ids, a payload that
// survives the stored form, a deterministic key) or an error that is
// ErrMalformed or a *ValidationError naming a field — nothing else.
//
// Seeds: every shared fixture, the variants and error cases of the table
// tests, and the committed corpus in testdata/fuzz/FuzzDecode (crashers found
// so far and hand-made inputs).
//
//	go test -run='^$' -fuzz=FuzzDecode -fuzztime=3m ./domain/
func FuzzDecode(f *testing.F) {
	fixtures := loadFixtures(f)
	for _, body := range fixtures {
		f.Add(body)
	}
	for _, v := range decodeVariants() {
		f.Add(mutate(f, fixtures[v.fixture], v.edits...))
	}
	for _, c := range invalidCases() {
		f.Add(mutate(f, fixtures[c.fixture], c.edits...))
	}
	for _, body := range malformedBodies(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"trigger":"meeting_started","appId":"a","data":{"sessionId":"s","created_at":1,"sessionId":"t"}}`))
	f.Add([]byte(`{"trigger":"call_busy","appId":"a","data":{"call":{"id":"1","sentAt":"1","data":{}}}}`))
	// Format characters (category Cf): refused in ids, kept in names.
	f.Add([]byte(`{"trigger":"meeting_started","appId":"a\u202e","data":{"sessionId":"s","created_at":1}}`))
	f.Add([]byte("{\"trigger\":\"meeting_started\",\"appId\":\"a\",\"data\":{\"sessionId\":\"s\u200b1\",\"created_at\":1}}"))
	f.Add([]byte(`{"trigger":"meeting_participant_joined","appId":"a","data":{"sessionId":"s","occupant":{"uid":"u\u2066","name":"A\u200dB","joined_at":1}}}`))
	f.Add([]byte(`{"trigger":"meeting_participant_joined","appId":"a","data":{"sessionId":"s","occupant":{"name":"A\u200dB\u200c","joined_at":1}}}`))

	plain := cometchat.Decoder{}
	clocked := fixedDecoder()
	f.Fuzz(func(t *testing.T, body []byte) {
		wh, err := plain.Decode(body)
		checkDecoded(t, body, wh, err, 0)

		// Deterministic.
		again, err2 := plain.Decode(body)
		if !reflect.DeepEqual(again, wh) || errString(err2) != errString(err) {
			t.Fatalf("Decode is not deterministic on %q: %s/%v then %s/%v", body, show(wh), err, show(again), err2)
		}

		// The clock only adds rejections (of the far future), never changes a result.
		whc, errc := clocked.Decode(body)
		checkDecoded(t, body, whc, errc, clock.Add(24*time.Hour).Unix())
		switch {
		case errc == nil && err != nil:
			t.Fatalf("the clocked decoder accepted what the plain one rejected (%v): %q", err, body)
		case errc == nil && !reflect.DeepEqual(whc, wh):
			t.Fatalf("the clock changed the result on %q: %s vs %s", body, show(whc), show(wh))
		case errors.Is(err, cometchat.ErrMalformed) && !errors.Is(errc, cometchat.ErrMalformed):
			t.Fatalf("malformed for one decoder but not the other (%v): %q", errc, body)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkDecoded asserts the decoder's contract on one result. maxTime, when
// non-zero, is the latest timestamp a clocked decoder may let through.
func checkDecoded(t *testing.T, body []byte, wh cometchat.Webhook, err error, maxTime int64) {
	t.Helper()
	if err != nil {
		var verr *cometchat.ValidationError
		malformed := errors.Is(err, cometchat.ErrMalformed)
		validation := errors.As(err, &verr)
		switch {
		case malformed && validation:
			t.Fatalf("error is both ErrMalformed and *ValidationError: %v", err)
		case !malformed && !validation:
			t.Fatalf("error is neither ErrMalformed nor *ValidationError: %v (%T) on %q", err, err, body)
		case validation && (verr.Field == "" || verr.Reason == "" || verr.Trigger == ""):
			t.Fatalf("incomplete ValidationError %#v on %q", *verr, body)
		}
		if !reflect.DeepEqual(wh, cometchat.Webhook{}) {
			t.Fatalf("Decode returned %s together with %v", show(wh), err)
		}
		return
	}

	ev := wh.Event
	if ev.Payload == nil {
		t.Fatalf("nil payload from %q", body)
	}
	checkStreamID(t, "AppID", ev.AppID, body)
	checkStreamID(t, "SessionID", ev.SessionID, body)
	if want, ok := payloadTypeOf[ev.Trigger]; !ok {
		t.Fatalf("unknown trigger %q accepted from %q", ev.Trigger, body)
	} else if ev.Type() != want {
		t.Fatalf("trigger %s gave a %s payload", ev.Trigger, ev.Type())
	}
	switch ev.Trigger {
	case cometchat.TriggerRecordingGenerated, cometchat.TriggerTranscriptionGenerated:
		if ev.Kind != "" {
			t.Fatalf("%s with kind %q", ev.Trigger, ev.Kind)
		}
	default:
		if ev.Kind != domain.KindMeeting && ev.Kind != domain.KindCall {
			t.Fatalf("%s with kind %q", ev.Trigger, ev.Kind)
		}
	}
	for _, s := range []string{wh.WebhookID, wh.Region} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in %q", s)
		}
	}
	checkPayload(t, ev, body, maxTime)

	// The stored form round-trips to an equal event with the same identity.
	data, merr := codec.MarshalEvent(ev)
	if merr != nil {
		t.Fatalf("Marshal of a decoded event: %v (%s)", merr, show(wh))
	}
	back, uerr := codec.UnmarshalEvent(ev.Type(), data)
	if uerr != nil {
		t.Fatalf("Unmarshal(%s): %v", data, uerr)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("round trip through %s\n got  %s\n want %s", data, show(cometchat.Webhook{Event: back}), show(wh))
	}
	key := domain.Key(ev)
	if key == "" || domain.Key(ev) != key || domain.Key(back) != key {
		t.Fatalf("Key is not deterministic: %q", key)
	}
	id := domain.EventID(ev)
	if id != domain.EventID(back) || id.Version() != 5 || id.Variant() != uuid.RFC4122 {
		t.Fatalf("EventID %s is unstable or not a UUIDv5", id)
	}
	if name := domain.StreamName(ev.AppID, ev.SessionID); !strings.HasPrefix(name, domain.StreamPrefix) || strings.Count(name, "/") != 1 {
		t.Fatalf("StreamName = %q", name)
	}
}

var payloadTypeOf = map[domain.Trigger]string{
	cometchat.TriggerMeetingStarted:           domain.TypeSessionStarted,
	cometchat.TriggerCallStarted:              domain.TypeSessionStarted,
	cometchat.TriggerMeetingParticipantJoined: domain.TypeParticipantJoined,
	cometchat.TriggerCallParticipantJoined:    domain.TypeParticipantJoined,
	cometchat.TriggerMeetingParticipantLeft:   domain.TypeParticipantLeft,
	cometchat.TriggerCallParticipantLeft:      domain.TypeParticipantLeft,
	cometchat.TriggerMeetingEnded:             domain.TypeSessionEnded,
	cometchat.TriggerCallEnded:                domain.TypeSessionEnded,
	cometchat.TriggerRecordingGenerated:       domain.TypeRecordingGenerated,
	cometchat.TriggerTranscriptionGenerated:   domain.TypeTranscriptionGenerated,
	cometchat.TriggerCallInitiated:            domain.TypeCallRinging,
	cometchat.TriggerCallBusy:                 domain.TypeCallRinging,
	cometchat.TriggerCallCancelled:            domain.TypeCallRinging,
	cometchat.TriggerCallRejected:             domain.TypeCallRinging,
	cometchat.TriggerCallUnanswered:           domain.TypeCallRinging,
}

// checkStreamID: ids that name streams are non-empty, bounded, printable and
// free of path separators.
func checkStreamID(t *testing.T, what, s string, body []byte) {
	t.Helper()
	if s == "" || len(s) > domain.MaxIDLength || s == "." || s == ".." || strings.ContainsAny(s, `/\`) || !utf8.ValidString(s) {
		t.Fatalf("invalid %s %q accepted from %q", what, s, body)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			t.Fatalf("%s %q with a control or invalid character accepted from %q", what, s, body)
		}
		if unicode.Is(unicode.Cf, r) {
			t.Fatalf("%s %q with the format character %U accepted from %q", what, s, r, body)
		}
	}
}

// checkPayload: timestamps are Unix seconds (positive, before year 5138, not
// past maxTime when set), intervals are ordered, occupants have an identity.
func checkPayload(t *testing.T, ev domain.Event, body []byte, maxTime int64) {
	t.Helper()
	ts := func(name string, v int64, required bool) {
		t.Helper()
		if v == 0 && !required {
			return
		}
		if v <= 0 || v >= 1e11 || (maxTime != 0 && v > maxTime) {
			t.Fatalf("%s = %d accepted from %q", name, v, body)
		}
	}
	occ := func(o domain.Occupant, closed bool) {
		t.Helper()
		if o.Identity() == "" {
			t.Fatalf("occupant without identity accepted from %q", body)
		}
		if o.UID != "" && domain.CheckID(o.UID, domain.UIDRules) != "" {
			t.Fatalf("occupant uid %q breaking the id rules accepted from %q", o.UID, body)
		}
		ts("joined_at", o.JoinedAt, true)
		ts("left_at", o.LeftAt, closed)
		if o.LeftAt != 0 && o.LeftAt < o.JoinedAt {
			t.Fatalf("left_at %d before joined_at %d accepted from %q", o.LeftAt, o.JoinedAt, body)
		}
	}
	switch p := ev.Payload.(type) {
	case domain.SessionStarted:
		ts("created_at", p.CreatedAt, true)
	case domain.ParticipantJoined:
		occ(p.Occupant, false)
	case domain.ParticipantLeft:
		occ(p.Occupant, true)
	case domain.SessionEnded:
		ts("created_at", p.CreatedAt, false)
		ts("destroyed_at", p.DestroyedAt, true)
		if p.CreatedAt != 0 && p.DestroyedAt < p.CreatedAt {
			t.Fatalf("destroyed_at before created_at accepted from %q", body)
		}
		for _, o := range p.AllOccupants {
			occ(o, false)
		}
	case domain.RecordingGenerated:
		if strings.TrimSpace(p.URL) == "" || p.Duration < 0 {
			t.Fatalf("bad recording %+v accepted from %q", p, body)
		}
		ts("startTime", p.StartTime, false)
	case domain.TranscriptionGenerated:
		if strings.TrimSpace(p.URL) == "" {
			t.Fatalf("transcript without URL accepted from %q", body)
		}
		ts("startTime", p.StartTime, false)
		ts("endTime", p.EndTime, false)
		if p.EndTime != 0 && p.EndTime < p.StartTime {
			t.Fatalf("endTime before startTime accepted from %q", body)
		}
	case domain.CallRinging:
		if p.CallID == "" || "call_"+p.Action != string(ev.Trigger) {
			t.Fatalf("bad ringing %+v for %s accepted from %q", p, ev.Trigger, body)
		}
		ts("sentAt", p.SentAt, true)
		ts("updatedAt", p.UpdatedAt, false)
		ts("initiatedAt", p.InitiatedAt, false)
	default:
		t.Fatalf("Decode produced a %T", p)
	}
}
