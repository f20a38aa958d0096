package domain

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// keyByFmt is Key as it was first written (fmt and strings.Builder): the
// reference that the append-style Key must match byte for byte, since event
// ids stored in the log are derived from it.
func keyByFmt(e Event) string {
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
	case SessionAbandoned:
		fmt.Fprintf(&b, "%s|%d", TypeSessionAbandoned, p.LastEventAt)
	case SessionReconciled:
		fmt.Fprintf(&b, "%s|%d", TypeSessionReconciled, p.FetchedAt)
	default:
		fmt.Fprintf(&b, "%T", p)
	}
	return b.String()
}

// keyEvents builds one event of every payload type from the given values.
func keyEvents(app, session, s1, s2 string, n1, n2 int64) []Event {
	occ := Occupant{UID: s1, Name: s2, JoinedAt: n1, LeftAt: n2}
	payloads := []Payload{
		SessionStarted{CreatedAt: n1},
		ParticipantJoined{Occupant: occ},
		ParticipantJoined{Occupant: Occupant{Name: s2, JoinedAt: n2}},
		ParticipantLeft{Occupant: occ},
		SessionEnded{CreatedAt: n1, DestroyedAt: n2},
		RecordingGenerated{URL: s1, StartTime: n1},
		TranscriptionGenerated{TID: s1, URL: s2, StartTime: n2},
		CallRinging{Action: s1, CallID: s2, SentAt: n1},
		SessionAbandoned{LastEventAt: n1, DecidedAt: n2},
		SessionReconciled{FetchedAt: n2},
		nil,
	}
	// Opaque provider triggers: any text, also none and the key's separator.
	triggers := []Trigger{"started", "joined", "", "a|b", `"q"`, "é", Trigger(s1)}
	var out []Event
	for i, p := range payloads {
		out = append(out, Event{AppID: app, SessionID: session, Trigger: triggers[i%len(triggers)], Payload: p})
	}
	return out
}

func checkKey(t *testing.T, e Event) {
	t.Helper()
	want := keyByFmt(e)
	if got := Key(e); got != want {
		t.Fatalf("Key(%#v) = %q, want %q", e, got, want)
	}
	if got, want := EventID(e), uuid.NewSHA1(idNamespace, []byte(want)); got != want {
		t.Fatalf("EventID(%#v) = %s, want uuid.NewSHA1 = %s", e, got, want)
	}
}

func TestKeyMatchesFmt(t *testing.T) {
	long := strings.Repeat("é\"\\\x01", 200) // past EventID's stack buffer
	for _, v := range []struct {
		app, session, s1, s2 string
		n1, n2               int64
	}{
		{"app", "s1", "uid", "Name", 1696934692, 1696934730},
		{"", "", "", "", 0, -1},
		{"a|b", "\"q\"", "\n\t", "José 山田", -9223372036854775808, 9223372036854775807},
		{long, long, long, long, 1, 2},
	} {
		for _, e := range keyEvents(v.app, v.session, v.s1, v.s2, v.n1, v.n2) {
			checkKey(t, e)
		}
	}
}

// FuzzKeyMatchesFmt: Key and EventID equal their reference forms for any
// values.
func FuzzKeyMatchesFmt(f *testing.F) {
	f.Add("app", "session", "uid", "name", int64(1696934692), int64(1696934730))
	f.Add("", "\x00", "\xff", "é", int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, app, session, s1, s2 string, n1, n2 int64) {
		for _, e := range keyEvents(app, session, s1, s2, n1, n2) {
			checkKey(t, e)
		}
	})
}
