package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
)

// hostileNow is the intake's clock in the hostile-input tests.
var hostileNow = time.Unix(1_700_000_000, 0)

// newEmbeddedHarness serves the API over a real embedded store in a
// temporary directory, with hostileNow as the intake's clock.
func newEmbeddedHarness(t *testing.T) (*harness, *embedded.Store) {
	t.Helper()
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return newHarnessOn(t, st, func() time.Time { return hostileNow }), st
}

func started(app, session string, createdAt any) string {
	ts, _ := json.Marshal(createdAt)
	return fmt.Sprintf(`{"trigger":"meeting_started","data":{"created_at":%s,"sessionId":%s},"type":"meet","appId":%s,"region":"us","webhook":"wh"}`,
		ts, jsonString(session), jsonString(app))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// nested returns depth arrays nested in one another.
func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

// TestHostileBodies posts hostile bodies through the real HTTP server to the
// embedded store. Each gets the status API.md documents (400 not a webhook,
// 413 too large, 202 quarantined with the field named, 200 accepted), and
// afterwards the log holds exactly the accepted events, each reading back
// equal to what the decoder made of its body, and the quarantine holds
// exactly the quarantined bodies, unaltered.
func TestHostileBodies(t *testing.T) {
	now := hostileNow.Unix()
	big := strings.Repeat("x", api.BodyLimit-200)
	tests := []struct {
		name   string
		body   string
		status int
		has    string // substring of "error" (4xx) or "reason" (202)
	}{
		// Size.
		{"just under the limit", `{"trigger":"meeting_started","pad":"` + big + `","data":{"created_at":1699990000,"sessionId":"big"},"appId":"app-1"}`, 200, ""},
		{"one byte over the limit", `{"pad":"` + strings.Repeat("x", api.BodyLimit) + `"}`, 413, "1 MiB"},
		// Nesting.
		{"nesting past the decoder's depth", `{"trigger":"meeting_started","data":` + nested(20000) + `}`, 400, "JSON"},
		{"deep nesting in an ignored field", `{"trigger":"meeting_started","x":` + nested(5000) + `,"data":{"created_at":1699990000,"sessionId":"deep"},"appId":"app-1"}`, 200, ""},
		{"deep nesting as the session id", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":` + nested(3000) + `},"appId":"app-1"}`, 202, "data.sessionId"},
		// Encoding.
		{"invalid UTF-8 in a value", "{\"trigger\":\"meeting_started\",\"data\":{\"created_at\":1699990000,\"sessionId\":\"s\xc3\x28\"},\"appId\":\"app-1\"}", 400, "UTF-8"},
		{"invalid UTF-8 in a key", "{\"trigger\":\"meeting_started\",\"\xff\":1,\"data\":{}}", 400, "UTF-8"},
		{"overlong UTF-8 slash", "{\"trigger\":\"meeting_started\",\"data\":{\"created_at\":1699990000,\"sessionId\":\"a\xc0\xafb\"},\"appId\":\"app-1\"}", 400, "UTF-8"},
		{"lone surrogate escape", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":"a\ud800b"},"appId":"app-1"}`, 202, "data.sessionId"},
		{"NUL escape in the session id", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":"a\u0000b"},"appId":"app-1"}`, 202, "data.sessionId"},
		{"byte order mark", "\xef\xbb\xbf" + started("app-1", "bom", 1699990000), 400, "JSON"},
		{"trailing garbage", started("app-1", "trail", 1699990000) + `{}`, 400, "JSON"},
		// Duplicated keys: the last one wins, at every level.
		{"duplicated trigger", `{"trigger":"meeting_ended","trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":"dupkey-1"},"appId":"app-1"}`, 200, ""},
		{"duplicated session id", `{"trigger":"meeting_started","data":{"sessionId":"decoy","created_at":1699990000,"sessionId":"dupkey-2"},"appId":"app-1"}`, 200, ""},
		{"duplicated data, the last invalid", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":"ok"},"data":7,"appId":"app-1"}`, 400, "data"},
		// Wrong types.
		{"trigger a number", `{"trigger":7,"data":{}}`, 400, "trigger"},
		{"data an array", `{"trigger":"meeting_started","data":[]}`, 400, "data"},
		{"body an array", `[` + started("app-1", "arr", 1699990000) + `]`, 400, "JSON"},
		{"body null", `null`, 400, "JSON"},
		{"session id an object", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":{"$ne":1}},"appId":"app-1"}`, 202, "data.sessionId"},
		{"app id a boolean", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":"s"},"appId":true}`, 202, "appId"},
		{"timestamp a boolean", started("app-1", "ts-bool", true), 202, "data.created_at"},
		{"timestamp a hex string", started("app-1", "ts-hex", "0x6553f100"), 202, "data.created_at"},
		{"occupant a string", `{"trigger":"meeting_participant_joined","data":{"sessionId":"s","occupant":"ana"},"appId":"app-1"}`, 202, "data.occupant"},
		{"numeric session id", `{"trigger":"meeting_started","data":{"created_at":1699990000,"sessionId":12345},"appId":"app-1"}`, 200, ""},
		// Timestamps.
		{"timestamp in milliseconds", started("app-1", "ts-ms", (now-10)*1000), 202, "milliseconds"},
		{"timestamp in microseconds", started("app-1", "ts-us", (now-10)*1_000_000), 202, "milliseconds"},
		{"timestamp far in the future", started("app-1", "ts-future", now+10*365*24*3600), 202, "future"},
		{"timestamp just inside the future bound", started("app-1", "ts-near", now+3600), 200, ""},
		{"timestamp negative", started("app-1", "ts-neg", -5), 202, "positive"},
		{"timestamp fractional", started("app-1", "ts-frac", 1699990000.5), 202, "whole"},
		{"timestamp 1e400", `{"trigger":"meeting_started","data":{"created_at":1e400,"sessionId":"s"},"appId":"app-1"}`, 202, "data.created_at"},
		// Session ids with path separators or control characters.
		{"session id with a slash", started("app-1", "a/b", 1699990000), 202, "path separator"},
		{"session id with a backslash", started("app-1", `a\b`, 1699990000), 202, "path separator"},
		{"session id ..", started("app-1", "..", 1699990000), 202, "path separator"},
		{"session id .", started("app-1", ".", 1699990000), 202, "path separator"},
		{"session id ../../etc/passwd", started("app-1", "../../etc/passwd", 1699990000), 202, "path separator"},
		{"session id with a newline", started("app-1", "a\nb", 1699990000), 202, "control"},
		{"session id with DEL", started("app-1", "a\x7fb", 1699990000), 202, "control"},
		{"session id with a C1 control", started("app-1", "a\u0085b", 1699990000), 202, "control"},
		{"session id with RIGHT-TO-LEFT OVERRIDE", started("app-1", "a\u202eb", 1699990000), 202, "data.sessionId: contains the format character U+202E"},
		{"session id with a zero-width space", started("app-1", "s\u200b1", 1699990000), 202, "data.sessionId: contains the format character U+200B"},
		{"app id with RIGHT-TO-LEFT OVERRIDE", started("app-\u202e1", "s", 1699990000), 202, "appId: contains the format character"},
		{"app id with a slash", started("app-1/../app-2", "s", 1699990000), 202, "appId"},
		{"session id over 512 bytes", started("app-1", strings.Repeat("s", 513), 1699990000), 202, "longer"},
	}
	h, st := newEmbeddedHarness(t)
	dec := cometchat.Decoder{Now: func() time.Time { return hostileNow }}
	wantEvents := map[string]domain.Event{} // event id → what the decoder made of the body
	wantQuarantine := map[string]string{}   // record id → body
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ans, raw := h.do(t, webhookReq([]byte(tc.body), hookUser, hookPass))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", status, tc.status, raw)
			}
			switch status {
			case 200:
				wh, err := dec.Decode([]byte(tc.body))
				if err != nil || ans["status"] != "accepted" {
					t.Fatalf("accepted %s, but the decoder says %v", raw, err)
				}
				wantEvents[ans["event_id"].(string)] = wh.Event
			case 202:
				if ans["status"] != "quarantined" || !strings.Contains(ans["reason"].(string), tc.has) {
					t.Fatalf("answer %s, want quarantined with a reason naming %q", raw, tc.has)
				}
				wantQuarantine[ans["event_id"].(string)] = tc.body
			default:
				if msg, _ := ans["error"].(string); !strings.Contains(msg, tc.has) {
					t.Fatalf("error %q, want it to mention %q (%.300s)", msg, tc.has, raw)
				}
			}
		})
	}

	// The log holds what was acknowledged, intact, and nothing else.
	gotEvents, gotQuarantine := 0, 0
	for ev, err := range st.ReadAll(context.Background(), eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		id := ev.ID.String()
		if strings.HasPrefix(ev.Stream, domain.QuarantinePrefix) {
			gotQuarantine++
			body, ok := wantQuarantine[id]
			if !ok {
				t.Errorf("quarantine record %s was never acknowledged", id)
				continue
			}
			var rec intake.QuarantineRecord
			if err := json.Unmarshal(ev.Data, &rec); err != nil {
				t.Fatalf("quarantine record %s: %v", id, err)
			}
			if !sameJSONValue(t, rec.Body, []byte(body)) {
				t.Errorf("quarantine record %s holds %.200s, want the body sent %.200s", id, rec.Body, body)
			}
			continue
		}
		gotEvents++
		want, ok := wantEvents[id]
		if !ok {
			t.Errorf("event %s in %s was never acknowledged", id, ev.Stream)
			continue
		}
		got, err := codec.UnmarshalEvent(ev.Type, ev.Data)
		if err != nil {
			t.Fatalf("stored event %s: %v", id, err)
		}
		if !reflect.DeepEqual(got, want) || ev.Stream != domain.StreamName(want.AppID, want.SessionID) {
			t.Errorf("stored event %s in %s = %+v, want %+v in %s", id, ev.Stream, got, want, domain.StreamName(want.AppID, want.SessionID))
		}
	}
	if gotEvents != len(wantEvents) || gotQuarantine != len(wantQuarantine) {
		t.Errorf("log holds %d events and %d quarantine records, want %d and %d", gotEvents, gotQuarantine, len(wantEvents), len(wantQuarantine))
	}
	// The duplicated keys resolved to the last value.
	for _, s := range []string{"dupkey-1", "dupkey-2"} {
		if h.count(t, domain.StreamName("app-1", s)) != 1 {
			t.Errorf("session %s: the last duplicated key did not win", s)
		}
	}
	if h.count(t, domain.StreamName("app-1", "decoy")) != 0 {
		t.Errorf("the first of two duplicated session ids was used")
	}
}

// sameJSONValue reports whether a and b are the same JSON value.
func sameJSONValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(what string, raw []byte) any {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s body is not JSON: %v", what, err)
		}
		return v
	}
	va, vb := decode("stored", a), decode("sent", b)
	return reflect.DeepEqual(va, vb)
}

// TestHostileSessionIDsKeepToTheirStreams posts sessions whose accepted ids
// look like paths, escapes or queries: each lands in a stream of its own
// (no two share one, none leaves the session- prefix), and the audit
// endpoint, given the id escaped, returns exactly that session's event.
func TestHostileSessionIDsKeepToTheirStreams(t *testing.T) {
	ids := []string{
		"s%2F1", "s%252F1", "s%5C1", "s 1", "s+1", "s.1", "...", "s?x=1", "s#frag", "s;a=b",
		"%2e%2e", "%2E%2E", "ş", "s\u00a01", "s", "S", "session-app-1", "*", "s:1", "~s", "s%",
	}
	h, st := newEmbeddedHarness(t)
	streams := map[string]string{} // stream → session id
	for _, id := range ids {
		status, ans, raw := h.do(t, webhookReq([]byte(started("app-1", id, 1699990000)), hookUser, hookPass))
		if status != 200 || ans["duplicate"] != false {
			t.Fatalf("session %q: %d %s, want 200 and a new event", id, status, raw)
		}
	}
	for ev, err := range st.ReadAll(context.Background(), eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		got, err := codec.UnmarshalEvent(ev.Type, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Stream, domain.StreamPrefix+"app-1/") || strings.Count(ev.Stream, "/") != 1 {
			t.Errorf("session %q stored in %q", got.SessionID, ev.Stream)
		}
		if other, ok := streams[ev.Stream]; ok {
			t.Errorf("sessions %q and %q share stream %q", other, got.SessionID, ev.Stream)
		}
		streams[ev.Stream] = got.SessionID
	}
	if len(streams) != len(ids) {
		t.Fatalf("%d streams for %d sessions", len(streams), len(ids))
	}
	for _, id := range ids {
		req := getReq("/v1/meetings/"+url.PathEscape(id)+"/events", tokenApp1)
		status, body, raw := h.do(t, req)
		if status != 200 {
			t.Errorf("events of %q: %d %s", id, status, raw)
			continue
		}
		evs, _ := body["events"].([]any)
		if body["session_id"] != id || len(evs) != 1 {
			t.Errorf("events of %q: %s", id, raw)
			continue
		}
		data := evs[0].(map[string]any)["data"].(map[string]any)
		if data["session_id"] != id {
			t.Errorf("events of %q returned session %v's event", id, data["session_id"])
		}
	}
	// An escaped separator in the path is refused, not resolved.
	// So is a format character (U+200B, U+202E), which the intake never stores.
	for _, p := range []string{"a%2Fb", "..%2F..%2Fx", "%2e%2e%2f", "a%5Cb", "%00", "a%0Ab", "s%E2%80%8B1", "s%E2%80%AE1"} {
		status, ans, raw := h.do(t, getReq("/v1/meetings/"+p+"/events", tokenApp1))
		if msg, _ := ans["error"].(string); status != 400 || !strings.HasPrefix(msg, "sessionId: ") {
			t.Errorf("events of %q: %d %s, want 400 naming sessionId", p, status, raw)
		}
	}
	for _, app := range []string{"app%E2%80%AE1", "app%2F1", "%00"} {
		status, ans, raw := h.do(t, getReq("/v1/quarantine?app_id="+app, tokenAdmin))
		if msg, _ := ans["error"].(string); status != 400 || !strings.HasPrefix(msg, "app_id: ") {
			t.Errorf("quarantine of app %q: %d %s, want 400 naming app_id", app, status, raw)
		}
	}
}

// TestHostileBodyFar posts a body far past the limit (32 MiB): the answer is
// 413 with the JSON error, or the connection is closed once the drain bound
// is passed; either way nothing is stored and the server goes on serving.
func TestHostileBodyFar(t *testing.T) {
	h, st := newEmbeddedHarness(t)
	resp, err := h.send(webhookReq(bytes.Repeat([]byte("{"), 32<<20), hookUser, hookPass))
	if err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 || !strings.Contains(string(raw), "1 MiB") {
			t.Fatalf("got %d %s, want 413", resp.StatusCode, raw)
		}
	} else if !isConnReset(err) {
		t.Fatalf("32 MiB body: %v", err)
	}
	status, _, raw := h.do(t, webhookReq([]byte(started("app-1", "after-huge", 1699990000)), hookUser, hookPass))
	if status != 200 {
		t.Fatalf("after the huge body: %d %s", status, raw)
	}
	stats, err := st.Stats(context.Background(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Events != 1 {
		t.Fatalf("log holds %d events, want 1", stats.Events)
	}
}

func isConnReset(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "EOF"))
}
