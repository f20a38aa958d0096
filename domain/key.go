package domain

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

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
func Key(e Event) string {
	var b strings.Builder
	b.WriteString("v1|")
	b.WriteString(string(e.Trigger))
	b.WriteByte('|')
	b.WriteString(strconv.Quote(e.AppID))
	b.WriteByte('|')
	b.WriteString(strconv.Quote(e.SessionID))
	b.WriteByte('|')
	switch p := e.Payload.(type) {
	case SessionStarted:
		fmt.Fprintf(&b, "%d", p.CreatedAt)
	case ParticipantJoined:
		fmt.Fprintf(&b, "%s|%d", strconv.Quote(p.Occupant.Identity()), p.Occupant.JoinedAt)
	case ParticipantLeft:
		fmt.Fprintf(&b, "%s|%d|%d", strconv.Quote(p.Occupant.Identity()), p.Occupant.JoinedAt, p.Occupant.LeftAt)
	case SessionEnded:
		fmt.Fprintf(&b, "%d|%d", p.CreatedAt, p.DestroyedAt)
	case RecordingGenerated:
		fmt.Fprintf(&b, "%s|%d", strconv.Quote(p.URL), p.StartTime)
	case TranscriptionGenerated:
		fmt.Fprintf(&b, "%s|%s|%d", strconv.Quote(p.TID), strconv.Quote(p.URL), p.StartTime)
	case CallRinging:
		fmt.Fprintf(&b, "%s|%s|%d", p.Action, strconv.Quote(p.CallID), p.SentAt)
	// meetingd's own events carry no trigger: their type name keeps them
	// apart from each other and from webhook events with the same timestamp.
	case SessionAbandoned:
		fmt.Fprintf(&b, "%s|%d", TypeSessionAbandoned, p.LastEventAt)
	case SessionReconciled:
		fmt.Fprintf(&b, "%s|%d", TypeSessionReconciled, p.FetchedAt)
	default:
		fmt.Fprintf(&b, "%T", p)
	}
	return b.String()
}

// EventID is the UUIDv5 of the event's dedupe key.
func EventID(e Event) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(Key(e))) }

// StreamPrefix starts the name of every session stream.
const StreamPrefix = "session-"

// StreamName is the name of a session's stream. It is never parsed back: app
// and session live in the events themselves. Both parts are escaped, so that
// distinct (app, session) pairs never share a stream.
func StreamName(appID, sessionID string) string {
	return StreamPrefix + url.PathEscape(appID) + "/" + url.PathEscape(sessionID)
}
