package cometchat_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
)

// FuzzDecodeCalls feeds arbitrary answers to both decoders: they never panic,
// every failure is ErrDecode, and what they accept is well-formed (a session
// id, Unix seconds in range, finite non-negative durations) and survives a
// JSON round trip.
func FuzzDecodeCalls(f *testing.F) {
	for _, name := range []string{"get_call", "list_calls", "get_call_transcriptions"} {
		f.Add(cometchattest.RESTFixture(f, name))
	}
	f.Add([]byte(`{"data":{"sessionId":"s","startedAt":"1","participants":[{"uid":"u","joinedAt":"2.5","isJoined":"1"}],"recordings":[{"recording_url":"u","duration":"1e3"}]}}`))
	f.Add([]byte(`{"data":[],"meta":{"pagination":{"current_page":"1","total_pages":2}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, err := cometchat.DecodeCall(body); err != nil {
			if !errors.Is(err, cometchat.ErrDecode) {
				t.Fatalf("DecodeCall: %v is not ErrDecode", err)
			}
		} else {
			checkCall(t, c)
		}
		if p, err := cometchat.DecodePage(body); err != nil {
			if !errors.Is(err, cometchat.ErrDecode) {
				t.Fatalf("DecodePage: %v is not ErrDecode", err)
			}
		} else {
			if p.CurrentPage < 0 || p.TotalPages < 0 {
				t.Fatalf("negative pagination %d/%d", p.CurrentPage, p.TotalPages)
			}
			for _, c := range p.Calls {
				checkCall(t, c)
			}
		}
	})
}

func checkCall(t *testing.T, c cometchat.Call) {
	t.Helper()
	if c.SessionID == "" {
		t.Fatal("accepted a call without session id")
	}
	times := []int64{c.InitiatedAt, c.StartedAt, c.EndedAt}
	for _, p := range c.Participants {
		times = append(times, p.JoinedAt, p.LeftAt)
	}
	for _, r := range c.Recordings {
		times = append(times, r.StartTime, r.EndTime)
		if r.Duration < 0 || r.Duration != r.Duration {
			t.Fatalf("duration %v", r.Duration)
		}
	}
	for _, v := range times {
		if v < 0 || v > 1e11 {
			t.Fatalf("time %d out of range", v)
		}
	}
	// What was accepted re-encodes and decodes to the same call.
	b, err := json.Marshal(map[string]any{"data": c})
	if err != nil {
		t.Fatal(err)
	}
	again, err := cometchat.DecodeCall(b)
	if err != nil {
		t.Fatalf("re-decoding %s: %v", b, err)
	}
	if len(again.Participants) != len(c.Participants) || again.StartedAt != c.StartedAt || again.EndedAt != c.EndedAt {
		t.Fatalf("round trip changed the call: %+v vs %+v", again, c)
	}
}
