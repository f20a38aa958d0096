package domain

import (
	"encoding/json"
	"fmt"
	"slices"
)

// The stored form of an Event, written without reflection. Intake encodes
// one event per webhook; two encoding/json.Marshal calls (the payload, then
// the envelope around it as a json.RawMessage) cost about 4% of its CPU.
// appendEventJSON writes the same bytes directly for every payload type of
// this package (as a value; a pointer, or a payload type of another
// package, goes to marshalStd). Identity with marshalStd is checked by
// TestMarshalMatchesStd (the shared webhook fixtures and edge cases) and
// FuzzMarshalMatchesStd.

// marshalStd is the stored form as encoding/json writes it: Marshal's
// reference, and what it falls back to for payloads appendEventJSON does
// not write and for the values it refuses (a NaN or infinite duration), so
// that errors read as they always have.
func marshalStd(e Event) ([]byte, error) {
	p, err := json.Marshal(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("marshal %s payload: %w", e.Type(), err)
	}
	return json.Marshal(wireEvent{AppID: e.AppID, SessionID: e.SessionID, Kind: e.Kind, Trigger: e.Trigger, Payload: p})
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
func appendEventJSON(dst []byte, e Event) ([]byte, bool) {
	n := envelopeSize + len(e.AppID) + len(e.SessionID) + len(e.Kind) + len(e.Trigger)
	switch p := e.Payload.(type) {
	case ParticipantJoined:
		n += len(`{"occupant":}`) + occupantSize + len(p.Occupant.UID) + len(p.Occupant.Name)
		if c := p.Client; c != nil {
			n += clientSize + len(c.Platform) + len(c.SDK) + len(c.CallVersion) + len(c.Mode)
		}
		return envelope(dst, e, n, p, func(po jsonObject, p ParticipantJoined) jsonObject {
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
	case ParticipantLeft:
		n += len(`{"occupant":}`) + occupantSize + len(p.Occupant.UID) + len(p.Occupant.Name)
		return envelope(dst, e, n, p, func(po jsonObject, p ParticipantLeft) jsonObject {
			po.key("occupant")
			po.occupant(&p.Occupant)
			return po
		})
	case SessionStarted:
		n += len(`{"created_at":}`) + intSize
		return envelope(dst, e, n, p, func(po jsonObject, p SessionStarted) jsonObject {
			po.int("created_at", p.CreatedAt)
			return po
		})
	case SessionEnded:
		n += len(`{"created_at":,"destroyed_at":,"all_occupants":[]}`) + 2*intSize + occupantsSize(p.AllOccupants)
		return envelope(dst, e, n, p, func(po jsonObject, p SessionEnded) jsonObject {
			po.intOmitEmpty("created_at", p.CreatedAt)
			po.int("destroyed_at", p.DestroyedAt)
			po.occupantsOmitEmpty("all_occupants", p.AllOccupants)
			return po
		})
	case CallRinging:
		n += len(`{"action":"","call_id":"","conversation_id":"","sender":"","sender_name":"","receiver":"",`+
			`"receiver_type":"","media":"","sent_at":,"updated_at":,"initiated_at":}`) + 3*intSize +
			len(p.Action) + len(p.CallID) + len(p.ConversationID) + len(p.Sender) + len(p.SenderName) +
			len(p.Receiver) + len(p.ReceiverType) + len(p.Media)
		return envelope(dst, e, n, p, func(po jsonObject, p CallRinging) jsonObject {
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
	case RecordingGenerated:
		n += recordingSize + len(p.URL) + len(p.RecordingDate)
		return envelope(dst, e, n, p, func(po jsonObject, p RecordingGenerated) jsonObject {
			po.recording(p)
			return po
		})
	case TranscriptionGenerated:
		n += len(`{"tid":"","transcript_url":"","start_time":,"end_time":,"transcript_date":""}`) + 2*intSize +
			len(p.TID) + len(p.URL) + len(p.TranscriptDate)
		return envelope(dst, e, n, p, func(po jsonObject, p TranscriptionGenerated) jsonObject {
			po.transcription(p)
			return po
		})
	case SessionAbandoned:
		n += len(`{"last_event_at":,"decided_at":}`) + 2*intSize
		return envelope(dst, e, n, p, func(po jsonObject, p SessionAbandoned) jsonObject {
			po.int("last_event_at", p.LastEventAt)
			po.int("decided_at", p.DecidedAt)
			return po
		})
	case SessionReconciled:
		n += len(`{"fetched_at":,"started_at":,"ended_at":,"intervals":[],"unmatched":[],"recordings":[]}`) +
			3*intSize + occupantsSize(p.Intervals) + occupantsSize(p.Unmatched)
		for i := range p.Recordings {
			n += recordingSize + len(p.Recordings[i].URL) + len(p.Recordings[i].RecordingDate)
		}
		return envelope(dst, e, n, p, func(po jsonObject, p SessionReconciled) jsonObject {
			po.int("fetched_at", p.FetchedAt)
			po.intOmitEmpty("started_at", p.StartedAt)
			po.intOmitEmpty("ended_at", p.EndedAt)
			po.occupantsOmitEmpty("intervals", p.Intervals)
			po.occupantsOmitEmpty("unmatched", p.Unmatched)
			if len(p.Recordings) > 0 {
				appendArray(&po, "recordings", p.Recordings, func(ro *jsonObject, r RecordingGenerated) { ro.recording(r) })
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
func envelope[P any](dst []byte, e Event, n int, p P, payload func(po jsonObject, p P) jsonObject) ([]byte, bool) {
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
func occupantsSize(occupants []Occupant) int {
	n := 0
	for i := range occupants {
		n += occupantSize + len(occupants[i].UID) + len(occupants[i].Name)
	}
	return n
}

// occupant writes an Occupant's value.
func (o *jsonObject) occupant(p *Occupant) {
	oo := beginObject(o.buf)
	oo.occupantMembers(p)
	o.buf = oo.end()
}

// occupantMembers writes the members of an Occupant.
func (o *jsonObject) occupantMembers(p *Occupant) {
	o.strOmitEmpty("uid", p.UID)
	o.str("name", p.Name)
	o.int("joined_at", p.JoinedAt)
	o.intOmitEmpty("left_at", p.LeftAt)
	o.boolPtrOmitEmpty("audio_only", p.AudioOnly)
}

// occupantsOmitEmpty writes key and the array of occupants, unless it is
// empty (omitempty: nil and empty alike).
func (o *jsonObject) occupantsOmitEmpty(key string, occupants []Occupant) {
	if len(occupants) == 0 {
		return
	}
	appendArray(o, key, occupants, func(oo *jsonObject, p Occupant) { oo.occupantMembers(&p) })
}

// recording writes the members of a RecordingGenerated.
func (o *jsonObject) recording(r RecordingGenerated) {
	o.str("recording_url", r.URL)
	o.int("start_time", r.StartTime)
	o.float("duration", r.Duration)
	o.strOmitEmpty("recording_date", r.RecordingDate)
}

// transcription writes the members of a TranscriptionGenerated.
func (o *jsonObject) transcription(t TranscriptionGenerated) {
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
