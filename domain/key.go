package domain

import (
	"crypto/sha1" //nolint:gosec // UUIDv5 is defined on SHA-1; not used for security.
	"fmt"
	"net/url"
	"strconv"

	"github.com/google/uuid"
)

// idNamespace is the UUIDv5 namespace of meetingd event ids. Never change it:
// event ids are stored in the log.
var idNamespace = uuid.MustParse("6f1f3c1e-4a53-5b7e-9d2b-6d656574696e")

// Key is the content-based dedupe key of an event: trigger, app, session, the
// timestamp(s) the event is about and the occupant's identity. It ignores the
// webhook id, so the same event delivered through several webhook
// configurations, or retried, has one key; two people joining in the same
// second have two.
func Key(e Event) string { return string(appendKey(nil, e)) }

// appendKey appends e's Key to b.
func appendKey(b []byte, e Event) []byte {
	b = append(b, "v1|"...)
	b = append(b, e.Trigger...)
	b = append(b, '|')
	b = strconv.AppendQuote(b, e.AppID)
	b = append(b, '|')
	b = strconv.AppendQuote(b, e.SessionID)
	b = append(b, '|')
	switch p := e.Payload.(type) {
	case SessionStarted:
		b = strconv.AppendInt(b, p.CreatedAt, 10)
	case ParticipantJoined:
		b = strconv.AppendQuote(b, p.Occupant.Identity())
		b = appendInts(b, p.Occupant.JoinedAt)
	case ParticipantLeft:
		b = strconv.AppendQuote(b, p.Occupant.Identity())
		b = appendInts(b, p.Occupant.JoinedAt, p.Occupant.LeftAt)
	case SessionEnded:
		b = strconv.AppendInt(b, p.CreatedAt, 10)
		b = appendInts(b, p.DestroyedAt)
	case RecordingGenerated:
		b = strconv.AppendQuote(b, p.URL)
		b = appendInts(b, p.StartTime)
	case TranscriptionGenerated:
		b = strconv.AppendQuote(b, p.TID)
		b = append(b, '|')
		b = strconv.AppendQuote(b, p.URL)
		b = appendInts(b, p.StartTime)
	case CallRinging:
		b = append(b, p.Action...)
		b = append(b, '|')
		b = strconv.AppendQuote(b, p.CallID)
		b = appendInts(b, p.SentAt)
	// meetingd's own events carry no trigger: their type name keeps them
	// apart from each other and from webhook events with the same timestamp.
	case SessionAbandoned:
		b = append(b, TypeSessionAbandoned...)
		b = appendInts(b, p.LastEventAt)
	case SessionReconciled:
		b = append(b, TypeSessionReconciled...)
		b = appendInts(b, p.FetchedAt)
	case PlanSet:
		// One plan per stream revision (PlanSet.Revision): a retried
		// append of the same plan is a duplicate, a later plan is not.
		b = append(b, TypePlanSet...)
		b = strconv.AppendUint(append(b, '|'), p.Revision, 10)
	default:
		b = fmt.Appendf(b, "%T", p)
	}
	return b
}

// appendInts appends "|n" for each n.
func appendInts(b []byte, ns ...int64) []byte {
	for _, n := range ns {
		b = append(b, '|')
		b = strconv.AppendInt(b, n, 10)
	}
	return b
}

// EventID is the UUIDv5 of the event's dedupe key (uuid.NewSHA1 of the
// namespace and Key, computed without allocating for the usual keys).
func EventID(e Event) uuid.UUID {
	var buf [256]byte
	b := append(buf[:0], idNamespace[:]...)
	sum := sha1.Sum(appendKey(b, e))
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = (id[6] & 0x0f) | 0x50 // version 5
	id[8] = (id[8] & 0x3f) | 0x80 // RFC 4122 variant
	return id
}

// StreamPrefix starts the name of every session stream.
const StreamPrefix = "session-"

// StreamName is the name of a session's stream. It is never parsed back: app
// and session live in the events themselves. Both parts are escaped, so that
// distinct (app, session) pairs never share a stream.
func StreamName(appID, sessionID string) string {
	return StreamPrefix + url.PathEscape(appID) + "/" + url.PathEscape(sessionID)
}

// MaxStreamNameBytes is the longest name StreamName and QuarantineStream
// return for ids that the decoder accepts: two ids of MaxIDLength bytes,
// every byte escaped to three. The stores accept at least this much (the
// intake checks it against eventstore.MaxStreamNameBytes at compile time).
const MaxStreamNameBytes = len(StreamPrefix) + 3*MaxIDLength + len("/") + 3*MaxIDLength

// QuarantinePrefix starts the name of every quarantine stream: one per app,
// so that listing one app's quarantine never reads another's.
const QuarantinePrefix = "quarantine-"

// QuarantineUnknownApp is the quarantine stream of payloads whose appId is
// missing or not a valid id. No escaped app id spells it: escaping writes
// "%" only before two hex digits.
const QuarantineUnknownApp = QuarantinePrefix + "%unknown"

// QuarantineStream is the name of appID's quarantine stream, escaped like
// StreamName; an empty or invalid appID (see CheckID) gives
// QuarantineUnknownApp.
func QuarantineStream(appID string) string {
	if appID == "" || CheckID(appID, StreamIDRules) != "" {
		return QuarantineUnknownApp
	}
	return QuarantinePrefix + url.PathEscape(appID)
}
