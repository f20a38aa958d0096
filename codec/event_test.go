package codec_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// stdMarshal is the stored form of e as encoding/json (v1) writes it: the
// reference that MarshalEvent must match byte for byte.
func stdMarshal(e domain.Event) ([]byte, error) {
	p, err := json.Marshal(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("marshal %s payload: %w", e.Type(), err)
	}
	return json.Marshal(struct {
		AppID     string          `json:"app_id"`
		SessionID string          `json:"session_id"`
		Kind      domain.Kind     `json:"kind,omitempty"`
		Trigger   domain.Trigger  `json:"trigger,omitempty"`
		Payload   json.RawMessage `json:"payload"`
	}{e.AppID, e.SessionID, e.Kind, e.Trigger, p})
}

// checkMarshal fails unless MarshalEvent writes the bytes (or returns the
// error) of encoding/json, and unless what it writes loads back with
// UnmarshalEvent to e.
func checkMarshal(t *testing.T, e domain.Event) {
	t.Helper()
	want, wantErr := stdMarshal(e)
	got, err := codec.MarshalEvent(e)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("Marshal error %v, encoding/json's %v", err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal wrote\n%s\nencoding/json wrote\n%s", got, want)
	}
	// Every payload type of the package is written by hand, unless it holds
	// a value JSON cannot hold.
	if fast, ok := codec.MarshalFast(e); ok != (ownPayload(e.Payload) && wantErr == nil) {
		t.Fatalf("hand-written path taken: %v (wrote %s)", ok, fast)
	}
	if err != nil || !ownPayload(e.Payload) {
		return
	}
	back, err := codec.UnmarshalEvent(e.Type(), got)
	if err != nil {
		t.Fatalf("Unmarshal(%s, %s): %v", e.Type(), got, err)
	}
	if norm := normalized(e); !reflect.DeepEqual(back, norm) {
		t.Fatalf("%s loads back as\n%+v\nwant\n%+v", got, back, norm)
	}
	if again, err := codec.MarshalEvent(back); err != nil || !bytes.Equal(again, got) {
		t.Fatalf("reloaded event marshals to %s, %v; want %s", again, err, got)
	}
}

// ownPayload reports whether p is one of this package's payload types as a
// value: what Unmarshal returns.
func ownPayload(p domain.Payload) bool {
	switch p.(type) {
	case domain.SessionStarted, domain.ParticipantJoined, domain.ParticipantLeft, domain.SessionEnded,
		domain.RecordingGenerated, domain.TranscriptionGenerated, domain.CallRinging, domain.SessionAbandoned,
		domain.SessionReconciled:
		return true
	}
	return false
}

// normalized returns e as its stored form holds it: every string as
// encoding/json stores it (invalid UTF-8 bytes become U+FFFD) and every
// empty slice nil (omitempty leaves it out).
func normalized(e domain.Event) domain.Event {
	v := reflect.New(reflect.TypeFor[domain.Event]()).Elem()
	v.Set(reflect.ValueOf(e))
	normalize(v)
	return v.Interface().(domain.Event)
}

// normalize normalizes the settable value v in place, copying what pointers
// and slices share with the caller's value first.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		b, _ := json.Marshal(v.String())
		var s string
		_ = json.Unmarshal(b, &s)
		v.SetString(s)
	case reflect.Struct:
		for i := range v.NumField() {
			normalize(v.Field(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			normalize(c.Elem())
			v.Set(c)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalize(c.Index(i))
		}
		v.Set(c)
	case reflect.Interface:
		if !v.IsNil() {
			c := reflect.New(v.Elem().Type()).Elem()
			c.Set(v.Elem())
			normalize(c)
			v.Set(c)
		}
	}
}

// foreignPayload is a payload type of another package: Marshal encodes it
// with encoding/json.
type foreignPayload struct {
	Note string `json:"note"`
}

func (foreignPayload) EventType() string { return "test.foreign.v1" }

// TestMarshalFixtures decodes every shared webhook fixture, with the
// default placeholder values and with ones that need escaping, and checks
// that the stored form is encoding/json's.
func TestMarshalFixtures(t *testing.T) {
	varsets := []cometchattest.Vars{
		nil,
		{"<appId>": `app<&>"é`, "<sessionId>": "v1.eu.sess\u2028ion-é😀", "<region>": "eu"},
	}
	for _, name := range cometchattest.FixtureNames(t) {
		for i, vars := range varsets {
			wh, err := cometchat.Decoder{}.Decode(cometchattest.Fixture(t, name, vars))
			if err != nil {
				t.Fatalf("%s (vars %d): Decode: %v", name, i, err)
			}
			t.Run(name, func(t *testing.T) { checkMarshal(t, wh.Event) })
		}
	}
}

// TestMarshalMatchesStd compares the stored forms of the events of many
// random sessions, and of hand-picked edge cases, with encoding/json's.
func TestMarshalMatchesStd(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 26))
	seen := map[string]bool{}
	for n := range 500 {
		for _, e := range foldtest.RandomSession(rng, n) {
			seen[e.Type()] = true
			checkMarshal(t, e)
		}
	}
	for _, typ := range []string{domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantLeft,
		domain.TypeSessionEnded, domain.TypeRecordingGenerated, domain.TypeTranscriptionGenerated,
		domain.TypeCallRinging, domain.TypeSessionAbandoned, domain.TypeSessionReconciled} {
		if !seen[typ] {
			t.Errorf("random sessions have no %s", typ)
		}
	}
	yes, no := true, false
	odd := "<b>&amp;</b>\u2028\u2029\x00\x1f\x7f\"\\\b\f\n\r\t \xff\xc3(\xed\xa0\x80 名前 😀 \ufffd"
	full := domain.Occupant{UID: odd, Name: odd, JoinedAt: math.MinInt64, LeftAt: math.MaxInt64, AudioOnly: &no}
	negZero := math.Copysign(0, -1) // the literal -0.0 is positive zero in Go
	rec := domain.RecordingGenerated{URL: odd, StartTime: -1, Duration: negZero, RecordingDate: odd}
	cases := []struct {
		name string
		e    domain.Event
	}{
		{"empty envelope", domain.Event{Payload: domain.SessionStarted{}}},
		{"odd envelope", domain.Event{AppID: odd, SessionID: odd, Kind: domain.Kind(odd), Trigger: domain.Trigger(odd),
			Payload: domain.SessionStarted{CreatedAt: -5}}},
		{"joined zero", domain.Event{Payload: domain.ParticipantJoined{}}},
		{"joined zero client", domain.Event{Payload: domain.ParticipantJoined{Client: &domain.ClientInfo{}}}},
		{"joined full", domain.Event{AppID: "a", Payload: domain.ParticipantJoined{Occupant: full,
			Client: &domain.ClientInfo{Platform: odd, SDK: odd, CallVersion: odd, Mode: odd, AudioOnly: &yes}}}},
		{"left zero", domain.Event{Payload: domain.ParticipantLeft{}}},
		{"left full", domain.Event{Payload: domain.ParticipantLeft{Occupant: full}}},
		{"ended zero", domain.Event{Payload: domain.SessionEnded{}}},
		{"ended empty occupants", domain.Event{Payload: domain.SessionEnded{AllOccupants: []domain.Occupant{}}}},
		{"ended occupants", domain.Event{Payload: domain.SessionEnded{CreatedAt: 1, DestroyedAt: 2,
			AllOccupants: []domain.Occupant{full, {}, {Name: "x", AudioOnly: &yes}}}}},
		{"ringing zero", domain.Event{Payload: domain.CallRinging{}}},
		{"ringing full", domain.Event{Payload: domain.CallRinging{Action: odd, CallID: odd, ConversationID: odd,
			Sender: odd, SenderName: odd, Receiver: odd, ReceiverType: odd, Media: odd, SentAt: 1, UpdatedAt: -1,
			InitiatedAt: math.MaxInt64}}},
		{"recording zero", domain.Event{Payload: domain.RecordingGenerated{}}},
		{"recording negative zero", domain.Event{Payload: domain.RecordingGenerated{Duration: negZero}}},
		{"recording full", domain.Event{Payload: rec}},
		{"recording tiny", domain.Event{Payload: domain.RecordingGenerated{Duration: 1e-7}}},
		{"recording huge", domain.Event{Payload: domain.RecordingGenerated{Duration: -1e21}}},
		{"recording max", domain.Event{Payload: domain.RecordingGenerated{Duration: math.MaxFloat64}}},
		{"recording subnormal", domain.Event{Payload: domain.RecordingGenerated{Duration: 5e-324}}},
		{"recording NaN", domain.Event{Payload: domain.RecordingGenerated{Duration: math.NaN()}}},
		{"recording +Inf", domain.Event{Payload: domain.RecordingGenerated{Duration: math.Inf(1)}}},
		{"transcription zero", domain.Event{Payload: domain.TranscriptionGenerated{}}},
		{"transcription full", domain.Event{Payload: domain.TranscriptionGenerated{TID: odd, URL: odd, StartTime: 1,
			EndTime: 2, TranscriptDate: odd}}},
		{"abandoned", domain.Event{Payload: domain.SessionAbandoned{LastEventAt: -1, DecidedAt: 0}}},
		{"reconciled zero", domain.Event{Payload: domain.SessionReconciled{}}},
		{"reconciled empty", domain.Event{Payload: domain.SessionReconciled{Intervals: []domain.Occupant{},
			Unmatched: []domain.Occupant{}, Recordings: []domain.RecordingGenerated{}}}},
		{"reconciled full", domain.Event{Payload: domain.SessionReconciled{FetchedAt: 3, StartedAt: 1, EndedAt: 2,
			Intervals: []domain.Occupant{full, {}}, Unmatched: []domain.Occupant{{Name: odd}},
			Recordings: []domain.RecordingGenerated{rec, {}}}}},
		{"reconciled NaN", domain.Event{Payload: domain.SessionReconciled{
			Recordings: []domain.RecordingGenerated{rec, {Duration: math.Inf(-1)}}}}},
		{"pointer payload", domain.Event{AppID: odd, Payload: &domain.SessionStarted{CreatedAt: 1}}},
		{"nil pointer payload", domain.Event{Payload: (*domain.SessionEnded)(nil)}},
		{"foreign payload", domain.Event{SessionID: odd, Payload: foreignPayload{Note: odd}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkMarshal(t, c.e) })
	}
	if b, err := codec.MarshalEvent(domain.Event{}); err == nil {
		t.Errorf("Marshal without payload = %s, want an error", b)
	}
}

// FuzzMarshalMatchesStd builds an event of every payload type from fuzzed
// strings (in every string field), numbers (timestamps, durations) and
// flags (which optional parts are present, nil or empty), and compares
// Marshal with encoding/json.
func FuzzMarshalMatchesStd(f *testing.F) {
	f.Add(uint8(0), uint16(0), "app-1", "v1.us.x", "Ann", "u-1", int64(1700000000), int64(1700000600), 12.5)
	f.Add(uint8(1), uint16(0xffff), "<b>&amp;</b>\u2028\u2029", "\x00\x1f\"\\\b\f\n\r\t", "\xff\xfe", "名前 😀",
		int64(-1), int64(0), 1e-7)
	f.Add(uint8(4), uint16(0x5555), "", "", "", "", int64(math.MaxInt64), int64(math.MinInt64), 1e21)
	f.Add(uint8(8), uint16(0xaaaa), "a", "s", "x", "y", int64(1), int64(2), math.Inf(1))
	f.Add(uint8(5), uint16(3), "a", "s", "x", "\xed\xa0\x80", int64(1), int64(2), math.NaN())
	f.Add(uint8(5), uint16(0), "a", "s", "x", "y", int64(1), int64(2), math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, typ uint8, flags uint16, s1, s2, s3, s4 string, n1, n2 int64, d float64) {
		flag := func(i int) bool { return flags&(1<<i) != 0 }
		optBool := func(i int) *bool {
			if !flag(i) {
				return nil
			}
			v := flag(i + 1)
			return &v
		}
		occupant := func(uid, name string, i int) domain.Occupant {
			o := domain.Occupant{UID: uid, Name: name, JoinedAt: n1, AudioOnly: optBool(i)}
			if flag(i + 2) {
				o.LeftAt = n2
			}
			return o
		}
		occupants := func(i int) []domain.Occupant {
			switch {
			case !flag(i):
				return nil
			case !flag(i + 1):
				return []domain.Occupant{}
			}
			return []domain.Occupant{occupant(s3, s4, i+2), occupant("", s1, i+3), occupant(s2, "", i+4)}
		}
		pick := func(i int, s string) string {
			if flag(i) {
				return s
			}
			return ""
		}
		e := domain.Event{AppID: s1, SessionID: s2, Kind: domain.Kind(pick(0, s3)), Trigger: domain.Trigger(pick(1, s4))}
		switch typ % 10 {
		case 0:
			e.Payload = domain.SessionStarted{CreatedAt: n1}
		case 1:
			p := domain.ParticipantJoined{Occupant: occupant(pick(2, s3), s4, 3)}
			if flag(8) {
				p.Client = &domain.ClientInfo{Platform: pick(9, s1), SDK: pick(10, s2), CallVersion: pick(11, s3),
					Mode: pick(12, s4), AudioOnly: optBool(13)}
			}
			e.Payload = p
		case 2:
			e.Payload = domain.ParticipantLeft{Occupant: occupant(pick(2, s4), s3, 3)}
		case 3:
			p := domain.SessionEnded{DestroyedAt: n2, AllOccupants: occupants(3)}
			if flag(2) {
				p.CreatedAt = n1
			}
			e.Payload = p
		case 4:
			e.Payload = domain.CallRinging{Action: s3, CallID: s4, ConversationID: pick(2, s1), Sender: pick(3, s2),
				SenderName: pick(4, s3), Receiver: pick(5, s4), ReceiverType: pick(6, s1), Media: pick(7, s2),
				SentAt: n1, UpdatedAt: n2 * int64(flags&1), InitiatedAt: n1 * int64(flags>>8&1)}
		case 5:
			e.Payload = domain.RecordingGenerated{URL: s3, StartTime: n1, Duration: d, RecordingDate: pick(2, s4)}
		case 6:
			p := domain.TranscriptionGenerated{TID: pick(2, s3), URL: s4, StartTime: n1, TranscriptDate: pick(3, s1)}
			if flag(4) {
				p.EndTime = n2
			}
			e.Payload = p
		case 7:
			e.Payload = domain.SessionAbandoned{LastEventAt: n1, DecidedAt: n2}
		case 8:
			p := domain.SessionReconciled{FetchedAt: n2, Intervals: occupants(2), Unmatched: occupants(7)}
			if flag(12) {
				p.StartedAt, p.EndedAt = n1, n2
			}
			if flag(13) {
				p.Recordings = []domain.RecordingGenerated{}
				if flag(14) {
					p.Recordings = append(p.Recordings, domain.RecordingGenerated{URL: s3, StartTime: n1, Duration: d},
						domain.RecordingGenerated{URL: s4, RecordingDate: s1, Duration: float64(n2)})
				}
			}
			e.Payload = p
		case 9:
			e.Payload = &domain.ParticipantJoined{Occupant: occupant(s3, s4, 3)}
		}
		checkMarshal(t, e)
	})
}
