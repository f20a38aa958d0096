package corpus

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Style is how a body spells its values. CometChat itself is inconsistent
// (its documented examples send "1696937627" and 1696937627, "false" and
// false), and a second webhook configuration may deliver the same event
// spelled the other way; the dedupe must see through it.
type Style uint8

const (
	// StyleCometChat spells values as CometChat's documented examples do:
	// times of sessions and occupants as numbers, audio_call and
	// initial_config flags as "true"/"false", a recording's startTime and
	// duration as strings ("21.433000"), a transcript's times as numbers.
	StyleCometChat Style = 0
	// StyleFlipNumbers spells every number the other way (string ↔ number).
	StyleFlipNumbers Style = 1 << 0
	// StyleBoolLiterals sends flags as JSON true/false.
	StyleBoolLiterals Style = 1 << 1
)

// Render returns the webhook body of e, an event of s, as delivered through
// the webhook configuration webhookID.
func Render(s *Session, e *Event, webhookID string, style Style) ([]byte, error) {
	w := writer{style: style}
	body := map[string]any{
		"trigger": e.Trigger, "appId": s.AppID, "region": s.Region, "webhook": webhookID,
	}
	if e.Type != "" {
		body["type"] = e.Type
	}
	data := map[string]any{}
	switch e.Trigger {
	case "meeting_started", "call_started":
		data["sessionId"] = s.SessionID
		data["created_at"] = w.num(e.CreatedAt, false)
	case "meeting_participant_joined", "call_participant_joined", "meeting_participant_left", "call_participant_left":
		if e.Occupant == nil {
			return nil, fmt.Errorf("corpus: %s event of %s without occupant", e.Trigger, s.SessionID)
		}
		data["sessionId"] = s.SessionID
		data["occupant"] = w.occupant(*e.Occupant)
		if c := e.Client; c != nil {
			data["initial_config"] = map[string]any{
				"is_video_muted": w.flag(false), "start_recording_on_call_start": w.flag(false),
				"call_version": "2.3.0", "is_audio_muted": w.flag(false), "sdk": c.SDK, "mode": "DEFAULT",
				"platform": c.Platform, "is_audio_only": w.flag(c.AudioOnly),
			}
		}
	case "meeting_ended", "call_ended":
		data["sessionId"] = s.SessionID
		data["created_at"] = w.num(e.CreatedAt, false)
		data["destroyed_at"] = w.num(e.DestroyedAt, false)
		if e.AllOccupants != nil {
			all := make([]any, len(e.AllOccupants))
			for i, o := range e.AllOccupants {
				all[i] = w.occupant(o)
			}
			data["all_occupants"] = all
		}
	case "recording_generated":
		rec := e.Recording
		if rec == nil {
			return nil, fmt.Errorf("corpus: recording_generated of %s without recording", s.SessionID)
		}
		data["sessionId"] = s.SessionID
		data["recording_url"] = rec.URL
		data["recordingDate"] = rec.Date
		data["startTime"] = w.num(rec.StartTime, true)
		if w.style&StyleFlipNumbers != 0 {
			data["duration"] = json.Number(strconv.FormatFloat(rec.Duration, 'f', -1, 64))
		} else {
			data["duration"] = strconv.FormatFloat(rec.Duration, 'f', 6, 64)
		}
	case "transcription_generated":
		tr := e.Transcription
		if tr == nil {
			return nil, fmt.Errorf("corpus: transcription_generated of %s without transcription", s.SessionID)
		}
		data["sessionId"] = s.SessionID
		data["tid"] = tr.TID
		data["transcript_url"] = tr.URL
		data["transcriptDate"] = tr.Date
		data["startTime"] = w.num(tr.StartTime, false)
		data["endTime"] = w.num(tr.EndTime, false)
	case "call_initiated", "call_busy", "call_cancelled", "call_rejected", "call_unanswered":
		rg := e.Ringing
		if rg == nil {
			return nil, fmt.Errorf("corpus: %s of %s without call", e.Trigger, s.SessionID)
		}
		data["call"] = map[string]any{
			"id": rg.CallID, "conversationId": rg.Sender + "_user_" + rg.Receiver, "sender": rg.Sender,
			"receiverType": "user", "receiver": rg.Receiver, "category": "call", "type": rg.Media,
			"sentAt": w.num(rg.SentAt, false), "updatedAt": w.num(rg.SentAt, false),
			"data": map[string]any{
				"action": rg.Action,
				"entities": map[string]any{
					"by": map[string]any{"entityType": "user", "entity": map[string]any{
						"uid": rg.Sender, "name": rg.SenderName, "status": "available", "role": "default",
						"lastActiveAt": w.num(rg.InitiatedAt-60, false),
					}},
					"on": map[string]any{"entityType": "call", "entity": map[string]any{
						"sessionid": s.SessionID, "status": rg.Action, "type": rg.Media,
						"initiatedAt": w.num(rg.InitiatedAt, false),
					}},
				},
			},
		}
	default:
		return nil, fmt.Errorf("corpus: cannot render trigger %q", e.Trigger)
	}
	body["data"] = data
	return json.Marshal(body)
}

type writer struct{ style Style }

// num spells a number; asString is CometChat's own spelling of it.
func (w writer) num(v int64, asString bool) any {
	if w.style&StyleFlipNumbers != 0 {
		asString = !asString
	}
	if asString {
		return strconv.FormatInt(v, 10)
	}
	return v
}

func (w writer) flag(v bool) any {
	if w.style&StyleBoolLiterals != 0 {
		return v
	}
	return strconv.FormatBool(v)
}

func (w writer) occupant(o Occupant) map[string]any {
	m := map[string]any{"name": o.Name, "joined_at": w.num(o.JoinedAt, false), "audio_call": w.flag(o.AudioCall)}
	if o.LeftAt != 0 {
		m["left_at"] = w.num(o.LeftAt, false)
	}
	if o.UID != "" {
		m["uid"] = o.UID
	}
	return m
}
