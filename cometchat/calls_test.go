package cometchat_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
)

const (
	session1 = "v1.us.31780434a95d45.16923681138d75114d60d1345a22e4cc612263fb26c0b5cf92"
	session2 = "v1.us.31780434a95d45.1692368168aefba73a1e5938ad7a02f8e61ea1c9a287a08aeb"
)

// fixtureCall is get_call.json, decoded by hand.
var fixtureCall = cometchat.Call{
	SessionID: session1, Status: "ended", Mode: "call", Type: "audio",
	InitiatedAt: 1692368113, StartedAt: 1692368127, EndedAt: 1692368146,
	Participants: []cometchat.Participant{
		{UID: "cometchat-uid-2", JoinedAt: 1692368132, LeftAt: 1692368146, IsJoined: true, State: "ended",
			DeviceID:     "c9ed493e-8495-428d-b6ee-b32019cc57ce@rtc.cometchat-staging.com/CKT3xgR4",
			AudioMinutes: 0.23333333333333334, HasUsage: true},
		{UID: "cometchat-uid-8", JoinedAt: 1692368128, LeftAt: 1692368144, IsJoined: true, State: "ended",
			DeviceID:     "70ecae89-b71c-4bb3-8220-b7c99ec1658f@rtc.cometchat-staging.com/hsYWb5ul",
			AudioMinutes: 0.26666666666666666, HasUsage: true},
	},
}

func TestDecodeCallFixture(t *testing.T) {
	got, err := cometchat.DecodeCall(cometchattest.RESTFixture(t, "get_call"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fixtureCall, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if end, ok := got.Ended(); !ok || end != 1692368146 {
		t.Errorf("Ended() = %d, %v", end, ok)
	}
}

func TestDecodePageFixture(t *testing.T) {
	p, err := cometchat.DecodePage(cometchattest.RESTFixture(t, "list_calls"))
	if err != nil {
		t.Fatal(err)
	}
	if p.CurrentPage != 1 || p.TotalPages != 1 || len(p.Calls) != 2 {
		t.Fatalf("page %d/%d with %d calls, want 1/1 with 2", p.CurrentPage, p.TotalPages, len(p.Calls))
	}
	c := p.Calls[0]
	if c.SessionID != session2 || c.StartedAt != 1692368180 || c.EndedAt != 1692368199 || len(c.Participants) != 5 {
		t.Errorf("first call: %+v", c)
	}
	// Participants who never joined carry no times.
	for _, pt := range c.Participants[2:] {
		if pt.State != "unanswered" || pt.IsJoined || pt.JoinedAt != 0 || pt.LeftAt != 0 {
			t.Errorf("unanswered participant %+v", pt)
		}
	}
	// The list's copy of session1 equals GET /calls/{id}'s, participants aside (order).
	second := p.Calls[1]
	if second.SessionID != session1 || second.StartedAt != fixtureCall.StartedAt || second.EndedAt != fixtureCall.EndedAt {
		t.Errorf("second call: %+v", second)
	}
}

func TestDecodeCallVariants(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    cometchat.Call
		wantErr string
	}{
		{
			name: "numbers as strings, booleans as strings",
			body: `{"data":{"sessionId":"s","status":"ongoing","startedAt":"1692368127","endedAt":null,
				"participants":[{"uid":"u","name":"Ana","joinedAt":1692368128,"isJoined":"true"}],
				"recordings":[{"rid":"r","recording_url":"https://r/1.mp4","startTime":"1692368130","endTime":1692368140,"duration":"9.5"}]}}`,
			want: cometchat.Call{SessionID: "s", Status: "ongoing", StartedAt: 1692368127,
				Participants: []cometchat.Participant{{UID: "u", Name: "Ana", JoinedAt: 1692368128, IsJoined: true}},
				Recordings:   []cometchat.Recording{{RID: "r", URL: "https://r/1.mp4", StartTime: 1692368130, EndTime: 1692368140, Duration: 9.5}}},
		},
		{name: "unknown fields ignored", body: `{"data":{"sessionId":"s","x":{"y":[1]},"totalDuration":"00:00:19"}}`,
			want: cometchat.Call{SessionID: "s"}},
		{name: "no data", body: `{"error":{"code":"ERR_CALL_SESSION_NOT_FOUND"}}`, wantErr: "data is missing"},
		{name: "no session id", body: `{"data":{"status":"ended"}}`, wantErr: "data.sessionId is missing"},
		{name: "milliseconds", body: `{"data":{"sessionId":"s","startedAt":1692368127000}}`, wantErr: "data.startedAt"},
		{name: "negative time", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","leftAt":-1}]}}`, wantErr: "participants[0].leftAt"},
		{name: "not a number", body: `{"data":{"sessionId":"s","endedAt":"soon"}}`, wantErr: "data.endedAt: must be a number"},
		{name: "fractional seconds", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","joinedAt":1692368128.9}]}}`,
			wantErr: "participants[0].joinedAt: must be whole Unix seconds"},
		{name: "hexadecimal float", body: `{"data":{"sessionId":"s","startedAt":"0x1p30"}}`, wantErr: "data.startedAt: must be a number"},
		{name: "zero is not yet", body: `{"data":{"sessionId":"s","startedAt":1692368127,"endedAt":0}}`,
			want: cometchat.Call{SessionID: "s", StartedAt: 1692368127}},
		{name: "bad boolean", body: `{"data":{"sessionId":"s","participants":[{"isJoined":"maybe"}]}}`, wantErr: "isJoined: must be a boolean"},
		{name: "negative duration", body: `{"data":{"sessionId":"s","recordings":[{"recording_url":"u","duration":-3}]}}`, wantErr: "duration"},
		{name: "usage minutes as strings", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","totalAudioMinutes":"1.5","totalVideoMinutes":0}]}}`,
			want: cometchat.Call{SessionID: "s", Participants: []cometchat.Participant{{UID: "u", AudioMinutes: 1.5, HasUsage: true}}}},
		{name: "usage absent or empty", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","totalAudioMinutes":"","totalVideoMinutes":null}]}}`,
			want: cometchat.Call{SessionID: "s", Participants: []cometchat.Participant{{UID: "u"}}}},
		{name: "negative usage", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","totalVideoMinutes":-1}]}}`,
			wantErr: "participants[0].totalVideoMinutes"},
		{name: "usage beyond a year", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","totalAudioMinutes":1e9}]}}`,
			wantErr: "participants[0].totalAudioMinutes"},
		{name: "usage not a number", body: `{"data":{"sessionId":"s","participants":[{"uid":"u","totalAudioMinutes":true}]}}`,
			wantErr: "participants[0].totalAudioMinutes"},
		{name: "not JSON", body: `<html>502</html>`, wantErr: "undecodable"},
		{name: "invalid UTF-8", body: "{\"data\":{\"sessionId\":\"\xff\"}}", wantErr: "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cometchat.DecodeCall([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, cometchat.ErrDecode) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrDecode mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodePageErrors(t *testing.T) {
	for _, body := range []string{
		`{"meta":{}}`,
		`{"data":[{"status":"ended"}]}`,
		`{"data":[],"meta":{"pagination":{"total_pages":-1}}}`,
		`{"data":{"sessionId":"s"}}`,
	} {
		if _, err := cometchat.DecodePage([]byte(body)); !errors.Is(err, cometchat.ErrDecode) {
			t.Errorf("DecodePage(%s) = %v, want ErrDecode", body, err)
		}
	}
}

// TestDecodeCallRefusesWhatWebhooksRefuse: one set of tolerant rules. Every
// value the webhook decoder refuses for a Unix time, a number or a boolean,
// the Calls API decoder refuses too (ErrDecode, naming the field), and every
// spelling the webhook decoder accepts, it reads to the same value.
func TestDecodeCallRefusesWhatWebhooksRefuse(t *testing.T) {
	tests := []struct {
		name   string
		raw    string // JSON text of the value
		accept bool
	}{
		{"number", `1696934692`, true},
		{"numeric string", `"1696934692"`, true},
		{"padded string", `" 1696934692 "`, true},
		{"exponent", `1.696934692e9`, true},
		{"hexadecimal float", `"0x1p30"`, false},
		{"hexadecimal mantissa", `"0x6_5258e24p0"`, false},
		{"underscore", `"1_696_934_692"`, false},
		{"fractional seconds", `1696934692.5`, false},
		{"fractional seconds as string", `"1696934692.5"`, false},
		{"milliseconds", `1696934692000`, false},
		{"negative", `-5`, false},
		{"NaN", `"NaN"`, false},
		{"Inf", `"Inf"`, false},
		{"overflow", `1e400`, false},
		{"word", `"soon"`, false},
		{"boolean", `true`, false},
		{"object", `{}`, false},
	}
	webhook := mutate(t, fixture(t, "meeting_participant_joined"))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wh, werr := cometchat.Decoder{}.Decode(mutate(t, webhook, set("data.occupant.joined_at", tc.raw)))
			call, cerr := cometchat.DecodeCall([]byte(`{"data":{"sessionId":"s","startedAt":` + tc.raw + `}}`))
			if (werr == nil) != tc.accept {
				t.Fatalf("webhook decoder: err = %v, want accept %v", werr, tc.accept)
			}
			if !tc.accept {
				if !errors.Is(cerr, cometchat.ErrDecode) || !strings.Contains(cerr.Error(), "data.startedAt") {
					t.Fatalf("Calls API decoder: err = %v, want ErrDecode naming data.startedAt", cerr)
				}
				return
			}
			if cerr != nil {
				t.Fatalf("Calls API decoder: %v", cerr)
			}
			if got, want := call.StartedAt, wh.Event.Payload.(domain.ParticipantJoined).Occupant.JoinedAt; got != want {
				t.Errorf("Calls API read %d, webhook %d", got, want)
			}
		})
	}
	bools := []struct {
		raw    string
		want   bool
		accept bool
	}{
		{`true`, true, true}, {`false`, false, true}, {`"true"`, true, true}, {`"FALSE"`, false, true},
		{`"1"`, true, true}, {`0`, false, true}, {`"yes"`, true, true}, {`"no"`, false, true}, {`""`, false, true},
		{`"maybe"`, false, false}, {`2`, false, false}, {`"null"`, false, false}, {`[]`, false, false},
	}
	for _, tc := range bools {
		t.Run("boolean "+tc.raw, func(t *testing.T) {
			wh, werr := cometchat.Decoder{}.Decode(mutate(t, webhook, set("data.occupant.audio_call", tc.raw)))
			call, cerr := cometchat.DecodeCall([]byte(`{"data":{"sessionId":"s","participants":[{"uid":"u","isJoined":` + tc.raw + `}]}}`))
			if (werr == nil) != tc.accept || (cerr == nil) != tc.accept {
				t.Fatalf("webhook err = %v, Calls API err = %v, want accept %v", werr, cerr, tc.accept)
			}
			if !tc.accept {
				return
			}
			audio := wh.Event.Payload.(domain.ParticipantJoined).Occupant.AudioOnly
			if audio == nil || *audio != tc.want || call.Participants[0].IsJoined != tc.want {
				t.Errorf("webhook %v, Calls API %v, want %v", audio, call.Participants[0].IsJoined, tc.want)
			}
		})
	}
}
