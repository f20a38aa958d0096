package codec

import (
	"encoding/json/jsontext"
	"errors"
	"fmt"
	"slices"

	"github.com/meetingd/meetingd/domain"
)

// wireEvent is the stored form of an domain.Event, its payload already encoded.
type wireEvent struct {
	AppID     string         `json:"app_id"`
	SessionID string         `json:"session_id"`
	Kind      domain.Kind    `json:"kind,omitempty"`
	Trigger   domain.Trigger `json:"trigger,omitempty"`
	Payload   jsontext.Value `json:"payload"`
}

// MarshalEvent returns the stored form of e (the event's data; its type is
// e.Type()), written directly for the domain's payload types and by the
// general encoder for any other.
func MarshalEvent(e domain.Event) ([]byte, error) {
	if e.Payload == nil {
		return nil, fmt.Errorf("marshal event: no payload")
	}
	if b, ok := appendEventJSON(nil, e); ok {
		return b, nil
	}
	return marshalGeneral(e)
}

// UnmarshalEvent decodes a stored event of the given type name. The stored
// form that MarshalEvent writes for the frequent types is read by a scanner
// that knows its field sequence (unmarshal_fast.go); anything else (and
// anything the scanner does not fully recognise) by unmarshalGeneral, to
// the same values. The projection runner decodes the whole log on a
// rebuild.
func UnmarshalEvent(eventType string, data []byte) (domain.Event, error) {
	if ev, ok := unmarshalFast(eventType, data); ok {
		return ev, nil
	}
	return unmarshalGeneral(eventType, data)
}

// unmarshalGeneral decodes a stored event in one pass: the envelope and
// the payload of the type's Go type are decoded together by the general
// decoder, which validates as it goes (malformed input is an error, never
// a panic).
func unmarshalGeneral(eventType string, data []byte) (domain.Event, error) {
	switch eventType {
	case domain.TypeSessionStarted:
		return unmarshalAs[domain.SessionStarted](data)
	case domain.TypeParticipantJoined:
		return unmarshalAs[domain.ParticipantJoined](data)
	case domain.TypeParticipantLeft:
		return unmarshalAs[domain.ParticipantLeft](data)
	case domain.TypeSessionEnded:
		return unmarshalAs[domain.SessionEnded](data)
	case domain.TypeRecordingGenerated:
		return unmarshalAs[domain.RecordingGenerated](data)
	case domain.TypeTranscriptionGenerated:
		return unmarshalAs[domain.TranscriptionGenerated](data)
	case domain.TypeCallRinging:
		return unmarshalAs[domain.CallRinging](data)
	case domain.TypeSessionAbandoned:
		return unmarshalAs[domain.SessionAbandoned](data)
	case domain.TypeSessionReconciled:
		return unmarshalAs[domain.SessionReconciled](data)
	case domain.TypePlanSet:
		return unmarshalAs[domain.PlanSet](data)
	}
	return domain.Event{}, fmt.Errorf("unmarshal: %w: %q", domain.ErrUnknownEventType, eventType)
}

// storedEvent is wireEvent with the payload's type known.
type storedEvent[T domain.Payload] struct {
	AppID     string         `json:"app_id"`
	SessionID string         `json:"session_id"`
	Kind      domain.Kind    `json:"kind,omitempty"`
	Trigger   domain.Trigger `json:"trigger,omitempty"`
	Payload   *T             `json:"payload"`
}

func unmarshalAs[T domain.Payload](data []byte) (domain.Event, error) {
	var w storedEvent[T]
	var zero T
	if err := unmarshal(data, &w); err != nil {
		return domain.Event{}, fmt.Errorf("unmarshal %s: %w", zero.EventType(), err)
	}
	if w.Payload == nil {
		return domain.Event{}, errors.New("unmarshal " + zero.EventType() + ": no payload")
	}
	return domain.Event{AppID: w.AppID, SessionID: w.SessionID, Kind: w.Kind, Trigger: w.Trigger, Payload: *w.Payload}, nil
}

// The stored form of an domain.Event, written without reflection for every payload
// type of package domain (as a value; a pointer, or a payload type of
// another package, goes to marshalGeneral). Identity with encoding/json is
// checked by TestMarshalMatchesStd (the shared webhook fixtures and edge
// cases) and FuzzMarshalMatchesStd.

// marshalGeneral is the stored form written by the general encoder: what
// MarshalEvent falls back to for payloads appendEventJSON does not write
// and for the values it refuses (a NaN or infinite duration), so that
// errors read as they always have.
func marshalGeneral(e domain.Event) ([]byte, error) {
	p, err := marshal(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("marshal %s payload: %w", e.Type(), err)
	}
	return marshal(wireEvent{AppID: e.AppID, SessionID: e.SessionID, Kind: e.Kind, Trigger: e.Trigger, Payload: p})
}

// Lengths of the fixed parts of the stored form, rounded up, for the size
// hints that let Marshal allocate once.
const (
	envelopeSize = len(`{"app_id":"","session_id":"","kind":"","trigger":"","payload":}`) + 4
	intSize      = len("-9223372036854775808")
	occupantSize = len(`{"uid":"","name":"","joined_at":,"left_at":,"audio_only":false}`) + 2*intSize + 2
	clientSize   = len(`,"client":{"platform":"","sdk":"","call_version":"","mode":"","audio_only":false}`) + 2
	// recordingSize allows 24 bytes for the duration (a float64 in 'e'
	// form takes at most 24).
	recordingSize = len(`{"recording_url":"","start_time":,"duration":,"recording_date":""},`) + intSize + 24
)

// appendEventJSON appends the stored form of e, whose payload is not nil,
// and reports true; or leaves dst alone and reports false for a payload it
// does not write or a value JSON cannot hold.
func appendEventJSON(dst []byte, e domain.Event) ([]byte, bool) {
	n := envelopeSize + len(e.AppID) + len(e.SessionID) + len(e.Kind) + len(e.Trigger)
	switch p := e.Payload.(type) {
	case domain.ParticipantJoined:
		n += len(`{"occupant":}`) + occupantSize + len(p.Occupant.UID) + len(p.Occupant.Name)
		if c := p.Client; c != nil {
			n += clientSize + len(c.Platform) + len(c.SDK) + len(c.CallVersion) + len(c.Mode)
		}
		return envelope(dst, e, n, p, func(po jsonObject, p domain.ParticipantJoined) jsonObject {
			po.key("occupant")
			po.occupant(&p.Occupant)
			if c := p.Client; c != nil {
				po.key("client")
				co := beginObject(po.buf)
				co.strOmitEmpty("platform", c.Platform)
				co.strOmitEmpty("sdk", c.SDK)
				co.strOmitEmpty("call_version", c.CallVersion)
				co.strOmitEmpty("mode", c.Mode)
				co.boolPtrOmitEmpty("audio_only", c.AudioOnly)
				po.buf = co.end()
			}
			return po
		})
	case domain.ParticipantLeft:
		n += len(`{"occupant":}`) + occupantSize + len(p.Occupant.UID) + len(p.Occupant.Name)
		return envelope(dst, e, n, p, func(po jsonObject, p domain.ParticipantLeft) jsonObject {
			po.key("occupant")
			po.occupant(&p.Occupant)
			return po
		})
	case domain.SessionStarted:
		n += len(`{"created_at":}`) + intSize
		return envelope(dst, e, n, p, func(po jsonObject, p domain.SessionStarted) jsonObject {
			po.int("created_at", p.CreatedAt)
			return po
		})
	case domain.SessionEnded:
		n += len(`{"created_at":,"destroyed_at":,"all_occupants":[]}`) + 2*intSize + occupantsSize(p.AllOccupants)
		return envelope(dst, e, n, p, func(po jsonObject, p domain.SessionEnded) jsonObject {
			po.intOmitEmpty("created_at", p.CreatedAt)
			po.int("destroyed_at", p.DestroyedAt)
			po.occupantsOmitEmpty("all_occupants", p.AllOccupants)
			return po
		})
	case domain.CallRinging:
		n += len(`{"action":"","call_id":"","conversation_id":"","sender":"","sender_name":"","receiver":"",`+
			`"receiver_type":"","media":"","sent_at":,"updated_at":,"initiated_at":}`) + 3*intSize +
			len(p.Action) + len(p.CallID) + len(p.ConversationID) + len(p.Sender) + len(p.SenderName) +
			len(p.Receiver) + len(p.ReceiverType) + len(p.Media)
		return envelope(dst, e, n, p, func(po jsonObject, p domain.CallRinging) jsonObject {
			po.str("action", p.Action)
			po.str("call_id", p.CallID)
			po.strOmitEmpty("conversation_id", p.ConversationID)
			po.strOmitEmpty("sender", p.Sender)
			po.strOmitEmpty("sender_name", p.SenderName)
			po.strOmitEmpty("receiver", p.Receiver)
			po.strOmitEmpty("receiver_type", p.ReceiverType)
			po.strOmitEmpty("media", p.Media)
			po.int("sent_at", p.SentAt)
			po.intOmitEmpty("updated_at", p.UpdatedAt)
			po.intOmitEmpty("initiated_at", p.InitiatedAt)
			return po
		})
	case domain.RecordingGenerated:
		n += recordingSize + len(p.URL) + len(p.RecordingDate)
		return envelope(dst, e, n, p, func(po jsonObject, p domain.RecordingGenerated) jsonObject {
			po.recording(p)
			return po
		})
	case domain.TranscriptionGenerated:
		n += len(`{"tid":"","transcript_url":"","start_time":,"end_time":,"transcript_date":""}`) + 2*intSize +
			len(p.TID) + len(p.URL) + len(p.TranscriptDate)
		return envelope(dst, e, n, p, func(po jsonObject, p domain.TranscriptionGenerated) jsonObject {
			po.transcription(p)
			return po
		})
	case domain.SessionAbandoned:
		n += len(`{"last_event_at":,"decided_at":}`) + 2*intSize
		return envelope(dst, e, n, p, func(po jsonObject, p domain.SessionAbandoned) jsonObject {
			po.int("last_event_at", p.LastEventAt)
			po.int("decided_at", p.DecidedAt)
			return po
		})
	case domain.SessionReconciled:
		n += len(`{"fetched_at":,"started_at":,"ended_at":,"intervals":[],"unmatched":[],"recordings":[]}`) +
			3*intSize + occupantsSize(p.Intervals) + occupantsSize(p.Unmatched)
		for i := range p.Recordings {
			n += recordingSize + len(p.Recordings[i].URL) + len(p.Recordings[i].RecordingDate)
		}
		for i := range p.Usage {
			n += usageSize + len(p.Usage[i].Participant)
		}
		return envelope(dst, e, n, p, func(po jsonObject, p domain.SessionReconciled) jsonObject {
			po.int("fetched_at", p.FetchedAt)
			po.intOmitEmpty("started_at", p.StartedAt)
			po.intOmitEmpty("ended_at", p.EndedAt)
			po.occupantsOmitEmpty("intervals", p.Intervals)
			po.occupantsOmitEmpty("unmatched", p.Unmatched)
			if len(p.Recordings) > 0 {
				appendArray(&po, "recordings", p.Recordings, func(ro *jsonObject, r domain.RecordingGenerated) { ro.recording(r) })
			}
			if len(p.Usage) > 0 {
				appendArray(&po, "usage", p.Usage, func(uo *jsonObject, u domain.ParticipantUsage) {
					uo.usage(u.Participant, u.AudioMinutes, u.VideoMinutes)
				})
			}
			return po
		})
	}
	return dst, false
}

// envelope writes the stored form of e on dst, with room for n more bytes:
// the envelope around the payload p, whose members payload writes. payload
// captures nothing and takes and returns the object by value: a pointer
// handed to a func value would move the object to the heap. It returns
// the stored form and true, or dst and false when the payload held a value
// that JSON cannot hold.
func envelope[P any](dst []byte, e domain.Event, n int, p P, payload func(po jsonObject, p P) jsonObject) ([]byte, bool) {
	o := beginObject(slices.Grow(dst, n))
	o.str("app_id", e.AppID)
	o.str("session_id", e.SessionID)
	o.strOmitEmpty("kind", string(e.Kind))
	o.strOmitEmpty("trigger", string(e.Trigger))
	o.key("payload")
	po := payload(beginObject(o.buf), p)
	if po.err != nil {
		return dst, false
	}
	o.buf = po.end()
	return o.end(), true
}

// occupantsSize bounds the length of occupants' JSON array, when their
// strings need no escaping.
func occupantsSize(occupants []domain.Occupant) int {
	n := 0
	for i := range occupants {
		n += occupantSize + len(occupants[i].UID) + len(occupants[i].Name)
	}
	return n
}

// occupant writes an domain.Occupant's value.
func (o *jsonObject) occupant(p *domain.Occupant) {
	oo := beginObject(o.buf)
	oo.occupantMembers(p)
	o.buf = oo.end()
}

// occupantMembers writes the members of an domain.Occupant.
func (o *jsonObject) occupantMembers(p *domain.Occupant) {
	o.strOmitEmpty("uid", p.UID)
	o.str("name", p.Name)
	o.int("joined_at", p.JoinedAt)
	o.intOmitEmpty("left_at", p.LeftAt)
	o.boolPtrOmitEmpty("audio_only", p.AudioOnly)
}

// occupantsOmitEmpty writes key and the array of occupants, unless it is
// empty (omitempty: nil and empty alike).
func (o *jsonObject) occupantsOmitEmpty(key string, occupants []domain.Occupant) {
	if len(occupants) == 0 {
		return
	}
	appendArray(o, key, occupants, func(oo *jsonObject, p domain.Occupant) { oo.occupantMembers(&p) })
}

// recording writes the members of a domain.RecordingGenerated.
// usageSize bounds the stored form of a ParticipantUsage without its name.
const usageSize = len(`{"participant":"","audio_minutes":,"video_minutes":},`) + 2*32

// usage writes the members of a ParticipantUsage (and of the facts' copy).
func (o *jsonObject) usage(participant string, audio, video float64) {
	o.str("participant", participant)
	o.float("audio_minutes", audio)
	o.float("video_minutes", video)
}

func (o *jsonObject) recording(r domain.RecordingGenerated) {
	o.str("recording_url", r.URL)
	o.int("start_time", r.StartTime)
	o.float("duration", r.Duration)
	o.strOmitEmpty("recording_date", r.RecordingDate)
}

// transcription writes the members of a domain.TranscriptionGenerated.
func (o *jsonObject) transcription(t domain.TranscriptionGenerated) {
	o.strOmitEmpty("tid", t.TID)
	o.str("transcript_url", t.URL)
	o.int("start_time", t.StartTime)
	o.intOmitEmpty("end_time", t.EndTime)
	o.strOmitEmpty("transcript_date", t.TranscriptDate)
}

// boolPtrOmitEmpty writes a *bool member unless it is nil.
func (o *jsonObject) boolPtrOmitEmpty(name string, v *bool) {
	if v == nil {
		return
	}
	o.key(name)
	if *v {
		o.buf = append(o.buf, "true"...)
	} else {
		o.buf = append(o.buf, "false"...)
	}
}
