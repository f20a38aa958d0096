package cometchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/meetingd/meetingd/domain"
)

// Decoding errors. A *ValidationError (test with errors.As) means the payload
// is CometChat-shaped (it has a trigger and data) but cannot be used: the
// intake quarantines it. ErrMalformed means it is not a CometChat webhook at all.
var ErrMalformed = errors.New("malformed webhook")

// ValidationError names the field of a CometChat-shaped payload that failed.
type ValidationError struct {
	Trigger domain.Trigger
	// Field is the JSON path of the offending field, e.g. "data.occupant.joined_at".
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Webhook is a decoded CometChat webhook: the event it carries and the
// delivery details that are not part of the event's identity.
type Webhook struct {
	Event     domain.Event
	WebhookID string
	Region    string
}

// Decoder turns webhook bodies into events. The zero value is usable and
// accepts any timestamp up to year 5138; set Now to reject the far future.
type Decoder struct {
	// Now returns the current time; nil disables the far-future check.
	Now func() time.Time
	// MaxFuture is how far past Now a CometChat timestamp may be (default 24h).
	MaxFuture time.Duration
}

// Decode parses and validates one webhook body.
func (d Decoder) Decode(body []byte) (Webhook, error) {
	if !utf8.Valid(body) {
		return Webhook{}, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	// A map, not a struct: keys match exactly as CometChat spells them (a
	// struct would also take "Trigger" or "APPID"), the same as inside data.
	// A key sent twice: the last one wins, at every level.
	//
	// The body is parsed once, into maps, strings, json.Numbers, bools and
	// slices; the parser below walks that tree.
	top, err := parseObject(body)
	if err != nil {
		return Webhook{}, fmt.Errorf("%w: body is not a JSON object: %v", ErrMalformed, err)
	}
	if isNull(top["trigger"]) {
		return Webhook{}, fmt.Errorf("%w: trigger is missing", ErrMalformed)
	}
	trig, _ := top["trigger"].(string)
	if trig == "" {
		return Webhook{}, fmt.Errorf("%w: trigger must be a non-empty string", ErrMalformed)
	}
	if _, ok := top["data"].(map[string]any); !ok {
		return Webhook{}, fmt.Errorf("%w: data is missing or not an object", ErrMalformed)
	}
	if !knownTrigger(domain.Trigger(trig)) {
		// Before any other field: "unknown trigger" is the useful reason.
		return Webhook{}, &ValidationError{Trigger: domain.Trigger(trig), Field: "trigger", Reason: fmt.Sprintf("unknown trigger %q", trig)}
	}
	p := parser{trigger: domain.Trigger(trig), dec: d}
	wh := Webhook{Event: domain.Event{Trigger: domain.Trigger(trig)}}
	wh.Event.AppID = p.streamID("appId", top["appId"], true)
	wh.Region = p.str("region", top["region"])
	wh.WebhookID = p.str("webhook", top["webhook"])
	typ := p.str("type", top["type"])
	data := p.object("data", top["data"])
	if p.err != nil {
		return Webhook{}, p.err
	}
	if err := p.event(&wh.Event, typ, data); err != nil {
		return Webhook{}, err
	}
	return wh, nil
}

func knownTrigger(t domain.Trigger) bool {
	for _, k := range Triggers {
		if t == k {
			return true
		}
	}
	return false
}

// parser accumulates the first validation error; later calls are no-ops.
type parser struct {
	trigger domain.Trigger
	dec     Decoder
	err     error
}

func (p *parser) fail(field, format string, args ...any) {
	if p.err == nil {
		p.err = &ValidationError{Trigger: p.trigger, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

func (p *parser) event(ev *domain.Event, typ string, data map[string]any) error {
	kindFromType := map[string]domain.Kind{"meet": domain.KindMeeting, "meeting": domain.KindMeeting, "call": domain.KindCall}
	switch p.trigger {
	case TriggerMeetingStarted, TriggerMeetingParticipantJoined, TriggerMeetingParticipantLeft, TriggerMeetingEnded:
		ev.Kind = domain.KindMeeting
	case TriggerRecordingGenerated, TriggerTranscriptionGenerated:
	default:
		ev.Kind = domain.KindCall
	}
	if k, ok := kindFromType[typ]; ok && ev.Kind != "" {
		ev.Kind = k
	}
	switch p.trigger {
	case TriggerMeetingStarted, TriggerCallStarted:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		ev.Payload = domain.SessionStarted{CreatedAt: p.unix("data.created_at", data["created_at"], true)}
	case TriggerMeetingParticipantJoined, TriggerCallParticipantJoined:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		occ := p.occupant("data.occupant", p.object("data.occupant", data["occupant"]), false)
		var client *domain.ClientInfo
		if raw, ok := data["initial_config"]; ok && !isNull(raw) {
			client = p.client("data.initial_config", p.object("data.initial_config", raw))
		}
		ev.Payload = domain.ParticipantJoined{Occupant: occ, Client: client}
	case TriggerMeetingParticipantLeft, TriggerCallParticipantLeft:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		occ := p.occupant("data.occupant", p.object("data.occupant", data["occupant"]), true)
		ev.Payload = domain.ParticipantLeft{Occupant: occ}
	case TriggerMeetingEnded, TriggerCallEnded:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		end := domain.SessionEnded{
			CreatedAt:   p.unix("data.created_at", data["created_at"], false),
			DestroyedAt: p.unix("data.destroyed_at", data["destroyed_at"], true),
		}
		if end.CreatedAt != 0 && end.DestroyedAt != 0 && end.DestroyedAt < end.CreatedAt {
			p.fail("data.destroyed_at", "is before data.created_at")
		}
		if raw, ok := data["all_occupants"]; ok && !isNull(raw) {
			items, ok := raw.([]any)
			if !ok {
				p.fail("data.all_occupants", "must be an array")
			}
			for i, item := range items {
				field := fmt.Sprintf("data.all_occupants[%d]", i)
				end.AllOccupants = append(end.AllOccupants, p.occupant(field, p.object(field, item), false))
			}
		}
		ev.Payload = end
	case TriggerRecordingGenerated:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		rec := domain.RecordingGenerated{
			URL:           p.required("data.recording_url", data["recording_url"]),
			StartTime:     p.unix("data.startTime", data["startTime"], false),
			Duration:      p.float("data.duration", data["duration"]),
			RecordingDate: p.str("data.recordingDate", data["recordingDate"]),
		}
		ev.Payload = rec
	case TriggerTranscriptionGenerated:
		ev.SessionID = p.streamID("data.sessionId", data["sessionId"], true)
		tr := domain.TranscriptionGenerated{
			TID:            p.str("data.tid", data["tid"]),
			URL:            p.required("data.transcript_url", data["transcript_url"]),
			StartTime:      p.unix("data.startTime", data["startTime"], false),
			EndTime:        p.unix("data.endTime", data["endTime"], false),
			TranscriptDate: p.str("data.transcriptDate", data["transcriptDate"]),
		}
		if tr.EndTime != 0 && tr.EndTime < tr.StartTime {
			p.fail("data.endTime", "is before data.startTime")
		}
		ev.Payload = tr
	case TriggerCallInitiated, TriggerCallBusy, TriggerCallCancelled, TriggerCallRejected, TriggerCallUnanswered:
		ring, session := p.ringing(p.object("data.call", data["call"]))
		ev.SessionID = session
		ev.Payload = ring
	default:
		return &ValidationError{Trigger: p.trigger, Field: "trigger", Reason: fmt.Sprintf("unknown trigger %q", p.trigger)}
	}
	return p.err
}

// RingingSessionPrefix starts the session id given to a ringing event that
// carries no session id of its own (CometChat's call_busy example has none):
// "call-" followed by CometChat's call id.
const RingingSessionPrefix = "call-"

func (p *parser) ringing(call map[string]any) (domain.CallRinging, string) {
	r := domain.CallRinging{
		CallID:         p.streamID("data.call.id", call["id"], true),
		ConversationID: p.str("data.call.conversationId", call["conversationId"]),
		Sender:         p.str("data.call.sender", call["sender"]),
		Receiver:       p.str("data.call.receiver", call["receiver"]),
		ReceiverType:   p.str("data.call.receiverType", call["receiverType"]),
		Media:          p.str("data.call.type", call["type"]),
		SentAt:         p.unix("data.call.sentAt", call["sentAt"], true),
		UpdatedAt:      p.unix("data.call.updatedAt", call["updatedAt"], false),
	}
	inner := p.object("data.call.data", call["data"])
	r.Action = p.str("data.call.data.action", inner["action"])
	if want := ringAction(p.trigger); r.Action == "" {
		r.Action = want
	} else if r.Action != want {
		p.fail("data.call.data.action", "is %q but the trigger is %s", r.Action, p.trigger)
	}
	var session string
	if raw, ok := inner["entities"]; ok && !isNull(raw) {
		ent := p.object("data.call.data.entities", raw)
		if by, ok := ent["by"]; ok && !isNull(by) {
			e := p.object("data.call.data.entities.by.entity", p.object("data.call.data.entities.by", by)["entity"])
			if uid := p.str("data.call.data.entities.by.entity.uid", e["uid"]); uid != "" && r.Sender == "" {
				r.Sender = uid
			}
			r.SenderName = p.str("data.call.data.entities.by.entity.name", e["name"])
		}
		if on, ok := ent["on"]; ok && !isNull(on) {
			e := p.object("data.call.data.entities.on.entity", p.object("data.call.data.entities.on", on)["entity"])
			session = p.streamID("data.call.data.entities.on.entity.sessionid", e["sessionid"], false)
			r.InitiatedAt = p.unix("data.call.data.entities.on.entity.initiatedAt", e["initiatedAt"], false)
		}
	}
	if session == "" && r.CallID != "" {
		// CallID is already a valid stream id; only the prefix's length is added.
		session = p.checkID("data.call.id", RingingSessionPrefix+r.CallID, true, domain.StreamIDRules)
	}
	return r, session
}

func (p *parser) occupant(field string, o map[string]any, needLeft bool) domain.Occupant {
	occ := domain.Occupant{
		UID:       p.id(field+".uid", o["uid"], false),
		Name:      p.name(field+".name", o["name"]),
		JoinedAt:  p.unix(field+".joined_at", o["joined_at"], true),
		LeftAt:    p.unix(field+".left_at", o["left_at"], needLeft),
		AudioOnly: p.boolean(field+".audio_call", o["audio_call"]),
	}
	if occ.UID == "" && occ.Name == "" && o != nil {
		p.fail(field+".name", "required (neither name nor uid was sent)")
	}
	if occ.LeftAt != 0 && occ.LeftAt < occ.JoinedAt {
		p.fail(field+".left_at", "is before joined_at")
	}
	return occ
}

func (p *parser) client(field string, c map[string]any) *domain.ClientInfo {
	return &domain.ClientInfo{
		Platform:    p.str(field+".platform", c["platform"]),
		SDK:         p.str(field+".sdk", c["sdk"]),
		CallVersion: p.str(field+".call_version", c["call_version"]),
		Mode:        p.str(field+".mode", c["mode"]),
		AudioOnly:   p.boolean(field+".is_audio_only", c["is_audio_only"]),
	}
}

func isNull(v any) bool { return v == nil }

// object returns a JSON object; a missing or null value yields nil (and fails,
// so that required blocks are named), use it only for blocks that must exist.
func (p *parser) object(field string, v any) map[string]any {
	if isNull(v) {
		p.fail(field, "required")
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(field, "must be an object")
		return nil
	}
	return m
}

// str accepts a JSON string or number and returns its text; absent → "".
func (p *parser) str(field string, v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		p.fail(field, "must be a string")
		return ""
	}
	if len(s) > domain.MaxIDLength*8 {
		p.fail(field, "longer than %d bytes", domain.MaxIDLength*8)
		return ""
	}
	return s
}

func (p *parser) required(field string, raw any) string {
	s := p.str(field, raw)
	if strings.TrimSpace(s) == "" {
		p.fail(field, "required")
	}
	return s
}

// id is str for user ids (occupant uids): bounded, printable, no format
// characters.
func (p *parser) id(field string, raw any, required bool) string {
	return p.checkID(field, p.str(field, raw), required, domain.UIDRules)
}

// name is str for display names: bounded and printable; format characters
// (ZWJ, ZWNJ, bidi marks) are part of many names and kept.
func (p *parser) name(field string, raw any) string {
	return p.checkID(field, p.str(field, raw), false, domain.NameRules)
}

// streamID is id for the identifiers that name streams (app, session and call
// ids): also no path separators.
func (p *parser) streamID(field string, raw any, required bool) string {
	return p.checkID(field, p.str(field, raw), required, domain.StreamIDRules)
}

func (p *parser) checkID(field, s string, required bool, rules domain.IDRules) string {
	if s == "" {
		if required {
			p.fail(field, "required")
		}
		return ""
	}
	if reason := domain.CheckID(s, rules); reason != "" {
		p.fail(field, "%s", reason)
		return ""
	}
	return s
}

// number parses a JSON number or a numeric string (looseNumber).
func (p *parser) number(field string, raw any) (float64, bool) {
	f, ok, reason := looseNumber(raw)
	if reason != "" {
		p.fail(field, "%s", reason)
	}
	return f, ok
}

// unix parses Unix seconds (unixSeconds) and rejects the far future.
func (p *parser) unix(field string, raw any, required bool) int64 {
	f, ok := p.number(field, raw)
	if !ok {
		if required {
			p.fail(field, "required")
		}
		return 0
	}
	sec, reason := unixSeconds(f)
	if reason != "" {
		p.fail(field, "%s", reason)
		return 0
	}
	if p.dec.Now != nil {
		maxFuture := p.dec.MaxFuture
		if maxFuture <= 0 {
			maxFuture = 24 * time.Hour
		}
		if limit := p.dec.Now().Add(maxFuture).Unix(); sec > limit {
			p.fail(field, "%d is more than %s in the future", sec, maxFuture)
			return 0
		}
	}
	return sec
}

func (p *parser) float(field string, raw any) float64 {
	f, _ := p.number(field, raw)
	if f < 0 {
		p.fail(field, "must not be negative")
		return 0
	}
	return f
}

// boolean reads a loose boolean (looseBool); absent → nil.
func (p *parser) boolean(field string, raw any) *bool {
	b, ok, reason := looseBool(raw)
	if reason != "" {
		p.fail(field, "%s", reason)
		return nil
	}
	if !ok {
		return nil
	}
	return &b
}

// AppID reads a webhook's appId exactly as Decode does (the same parse of
// the body and the same checks of the id), without decoding the rest: for
// checking whose webhook a body is before it is stored, whether it would be
// accepted or quarantined. A body Decode would refuse as malformed gives an
// error wrapping ErrMalformed; an appId that is missing or invalid, a
// *ValidationError naming it.
func (d Decoder) AppID(body []byte) (string, error) {
	if !utf8.Valid(body) {
		return "", fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	top, err := parseObject(body)
	if err != nil {
		return "", fmt.Errorf("%w: body is not a JSON object: %v", ErrMalformed, err)
	}
	trig, _ := top["trigger"].(string)
	p := parser{trigger: domain.Trigger(trig), dec: d}
	app := p.streamID("appId", top["appId"], true)
	return app, p.err
}
