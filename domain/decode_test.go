package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
)

// Values substituted for CometChat's placeholders in the shared fixtures.
const (
	testAppID         = "208136f5ba34a5a2"
	testSessionID     = "v1.us.208136f5ba34a5a2.1696934692c0ffee"
	testRegion        = "us"
	testWebhookID     = "webhook-1"
	testRecordingURL  = "https://recordings.example.test/208136f5ba34a5a2/rec-1.mp4"
	testTranscriptURL = "https://recordings.example.test/208136f5ba34a5a2/transcript-1.txt"
	testTID           = "tid-1"
)

var placeholders = map[string]string{
	"<appId>":          testAppID,
	"<sessionId>":      testSessionID,
	"<region>":         testRegion,
	"<webhookID>":      testWebhookID,
	"<recording_url>":  testRecordingURL,
	"<transcript_url>": testTranscriptURL,
	"<tid>":            testTID,
}

var leftoverPlaceholder = regexp.MustCompile(`<[A-Za-z_]+>`)

// fixtureDir is where the CometChat examples live: the shared/ folder that
// sits beside the repository checkout (locally /work/shared, in CI a copy).
func fixtureDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "shared", "fixtures", "cometchat")
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		abs, _ := filepath.Abs(dir)
		tb.Fatalf("CometChat fixtures are missing: expected the directory %s (%s), i.e. a copy of shared/ beside the "+
			"repository checkout; got %v", dir, abs, err)
	}
	return dir
}

// loadFixtures returns every fixture, by trigger name (the file name without
// .json), with its placeholders substituted.
func loadFixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	dir := fixtureDir(tb)
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("no *.json fixtures in %s", dir)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		s := string(raw)
		for k, v := range placeholders {
			s = strings.ReplaceAll(s, k, v)
		}
		if left := leftoverPlaceholder.FindString(s); left != "" {
			tb.Fatalf("%s: placeholder %s has no test value; add it to placeholders", p, left)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = []byte(s)
	}
	return out
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	body, ok := loadFixtures(tb)[name]
	if !ok {
		tb.Fatalf("no fixture %s.json", name)
	}
	return body
}

// edit changes one field of a JSON document: path is dotted ("data.occupant.joined_at",
// array elements by index: "data.all_occupants.1.name"); raw is the new value as JSON text.
type edit struct {
	path string
	raw  string
	del  bool
}

func set(path, raw string) edit { return edit{path: path, raw: raw} }
func del(path string) edit      { return edit{path: path, del: true} }

// mutate applies edits to a JSON object body and re-encodes it.
func mutate(tb testing.TB, body []byte, edits ...edit) []byte {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		tb.Fatalf("mutate: %v", err)
	}
	for _, e := range edits {
		segs := strings.Split(e.path, ".")
		cur := doc
		for i, seg := range segs {
			last := i == len(segs)-1
			switch c := cur.(type) {
			case map[string]any:
				if last {
					if e.del {
						delete(c, seg)
					} else {
						c[seg] = json.RawMessage(e.raw)
					}
					continue
				}
				next, ok := c[seg]
				if !ok {
					next = map[string]any{}
					c[seg] = next
				}
				cur = next
			case []any:
				n, err := strconv.Atoi(seg)
				if err != nil || n < 0 || n >= len(c) {
					tb.Fatalf("mutate %s: bad index %q", e.path, seg)
				}
				if last {
					if e.del {
						tb.Fatalf("mutate %s: cannot delete an array element", e.path)
					}
					c[n] = json.RawMessage(e.raw)
					continue
				}
				cur = c[n]
			default:
				tb.Fatalf("mutate %s: %q is not inside an object or array", e.path, seg)
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		tb.Fatalf("mutate: %v", err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

func bp(b bool) *bool { return &b }

// show renders a webhook readably (payload as JSON, so *bool shows its value).
func show(w domain.Webhook) string {
	p, _ := json.Marshal(w.Event.Payload)
	return fmt.Sprintf("{app=%q session=%q kind=%q trigger=%q webhook=%q region=%q payload=%T%s}",
		w.Event.AppID, w.Event.SessionID, w.Event.Kind, w.Event.Trigger, w.WebhookID, w.Region, w.Event.Payload, p)
}

func wantWebhook(t *testing.T, got, want domain.Webhook) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n got  %s\n want %s", show(got), show(want))
	}
}

// clock is the fixed "now" of the decoders that check for the far future: after
// every fixture's timestamps (the latest, call_busy, is April 2025).
var clock = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

func fixedDecoder() domain.Decoder {
	return domain.Decoder{Now: func() time.Time { return clock }}
}

// base returns the expected webhook of one fixture.
func expected(name string) (domain.Webhook, bool) {
	ev := func(trigger domain.Trigger, kind domain.Kind, session string, p domain.Payload) domain.Webhook {
		return domain.Webhook{
			Event:     domain.Event{AppID: testAppID, SessionID: session, Kind: kind, Trigger: trigger, Payload: p},
			WebhookID: testWebhookID,
			Region:    testRegion,
		}
	}
	client := func(audioOnly bool) *domain.ClientInfo {
		return &domain.ClientInfo{Platform: "web", SDK: "react", CallVersion: "2.3.0", Mode: "DEFAULT", AudioOnly: bp(audioOnly)}
	}
	switch name {
	case "meeting_started":
		return ev(domain.TriggerMeetingStarted, domain.KindMeeting, testSessionID,
			domain.SessionStarted{CreatedAt: 1696934692}), true
	case "meeting_participant_joined":
		return ev(domain.TriggerMeetingParticipantJoined, domain.KindMeeting, testSessionID,
			domain.ParticipantJoined{
				Occupant: domain.Occupant{Name: "Andrew Joseph", JoinedAt: 1696934692, AudioOnly: bp(false)},
				Client:   client(false),
			}), true
	case "meeting_participant_left":
		return ev(domain.TriggerMeetingParticipantLeft, domain.KindMeeting, testSessionID,
			domain.ParticipantLeft{
				Occupant: domain.Occupant{Name: "Andrew Joseph", JoinedAt: 1696934692, LeftAt: 1696934730, AudioOnly: bp(false)},
			}), true
	case "meeting_ended":
		return ev(domain.TriggerMeetingEnded, domain.KindMeeting, testSessionID,
			domain.SessionEnded{CreatedAt: 1696934692, DestroyedAt: 1696934730, AllOccupants: []domain.Occupant{
				{Name: "Andrew Joseph", JoinedAt: 1696934692, LeftAt: 1696934730, AudioOnly: bp(false)},
			}}), true
	case "recording_generated":
		return ev(domain.TriggerRecordingGenerated, "", testSessionID,
			domain.RecordingGenerated{URL: testRecordingURL, StartTime: 1696937627, Duration: 21.433, RecordingDate: "2023-10-10"}), true
	case "transcription_generated":
		return ev(domain.TriggerTranscriptionGenerated, "", testSessionID,
			domain.TranscriptionGenerated{TID: testTID, URL: testTranscriptURL, StartTime: 1696937627, EndTime: 1696937648,
				TranscriptDate: "2023-10-10"}), true
	case "call_started":
		return ev(domain.TriggerCallStarted, domain.KindCall, testSessionID,
			domain.SessionStarted{CreatedAt: 1696934572}), true
	case "call_participant_joined":
		return ev(domain.TriggerCallParticipantJoined, domain.KindCall, testSessionID,
			domain.ParticipantJoined{
				Occupant: domain.Occupant{Name: "Andrew Joseph", JoinedAt: 1696934573, AudioOnly: bp(true)},
				Client:   client(true),
			}), true
	case "call_participant_left":
		return ev(domain.TriggerCallParticipantLeft, domain.KindCall, testSessionID,
			domain.ParticipantLeft{
				Occupant: domain.Occupant{Name: "George Alan", JoinedAt: 1696934501, LeftAt: 1696934553, AudioOnly: bp(true)},
			}), true
	case "call_ended":
		return ev(domain.TriggerCallEnded, domain.KindCall, testSessionID,
			domain.SessionEnded{CreatedAt: 1696934501, DestroyedAt: 1696934553, AllOccupants: []domain.Occupant{
				{Name: "George Alan", JoinedAt: 1696934501, LeftAt: 1696934553, AudioOnly: bp(true)},
				{Name: "Andrew Joseph", JoinedAt: 1696934501, LeftAt: 1696934553, AudioOnly: bp(true)},
			}}), true
	case "call_initiated":
		return ev(domain.TriggerCallInitiated, domain.KindCall, testSessionID,
			domain.CallRinging{
				Action: "initiated", CallID: "52", ConversationID: "cometchat-uid-1_user_cometchat-uid-5",
				Sender: "cometchat-uid-1", SenderName: "Andrew Joseph", Receiver: "cometchat-uid-5", ReceiverType: "user",
				Media: "audio", SentAt: 1696934199, UpdatedAt: 1696934199, InitiatedAt: 1696934199,
			}), true
	case "call_busy":
		// No entities: the session is named after the call id.
		return ev(domain.TriggerCallBusy, domain.KindCall, domain.RingingSessionPrefix+"43414",
			domain.CallRinging{
				Action: "busy", CallID: "43414", ConversationID: "cometchat-uid-1_user_cometchat-uid-5",
				Sender: "cometchat-uid-1", Receiver: "cometchat-uid-5", ReceiverType: "user",
				Media: "audio", SentAt: 1744960250, UpdatedAt: 1744960250,
			}), true
	}
	return domain.Webhook{}, false
}

// TestDecodeFixtures decodes every shared fixture and checks every field.
func TestDecodeFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	names := make([]string, 0, len(fixtures))
	for name := range fixtures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := expected(name)
			if !ok {
				t.Fatalf("fixture %s.json has no expectation in this test: add one", name)
			}
			for _, dec := range []domain.Decoder{{}, fixedDecoder()} {
				got, err := dec.Decode(fixtures[name])
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				wantWebhook(t, got, want)
				if got.Event.Type() != want.Event.Payload.EventType() {
					t.Errorf("Type() = %q", got.Event.Type())
				}
			}
		})
	}
	// Every understood trigger is exercised by a fixture or by a ringing variant below.
	for _, tr := range domain.Triggers {
		if _, ok := fixtures[string(tr)]; !ok && !isRingingVariant(tr) {
			t.Errorf("trigger %s has no fixture", tr)
		}
	}
}

func isRingingVariant(tr domain.Trigger) bool {
	switch tr {
	case domain.TriggerCallCancelled, domain.TriggerCallRejected, domain.TriggerCallUnanswered:
		return true
	}
	return false
}

// variant is a fixture with edits and how the expected webhook changes.
type variant struct {
	name    string
	fixture string
	edits   []edit
	// want edits the fixture's expected webhook.
	want func(w *domain.Webhook)
}

func withOccupant(w *domain.Webhook, f func(o *domain.Occupant)) {
	switch p := w.Event.Payload.(type) {
	case domain.ParticipantJoined:
		f(&p.Occupant)
		w.Event.Payload = p
	case domain.ParticipantLeft:
		f(&p.Occupant)
		w.Event.Payload = p
	default:
		panic(fmt.Sprintf("withOccupant on %T", p))
	}
}

func withClient(w *domain.Webhook, f func(c **domain.ClientInfo)) {
	p := w.Event.Payload.(domain.ParticipantJoined)
	if p.Client != nil {
		c := *p.Client
		p.Client = &c
	}
	f(&p.Client)
	w.Event.Payload = p
}

func withRecording(w *domain.Webhook, f func(r *domain.RecordingGenerated)) {
	p := w.Event.Payload.(domain.RecordingGenerated)
	f(&p)
	w.Event.Payload = p
}

func withRinging(w *domain.Webhook, f func(r *domain.CallRinging)) {
	p := w.Event.Payload.(domain.CallRinging)
	f(&p)
	w.Event.Payload = p
}

func decodeVariants() []variant {
	audio := func(b *bool) func(w *domain.Webhook) {
		return func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.AudioOnly = b }) }
	}
	joinedAt := func(ts int64) func(w *domain.Webhook) {
		return func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.JoinedAt = ts }) }
	}
	duration := func(d float64) func(w *domain.Webhook) {
		return func(w *domain.Webhook) { withRecording(w, func(r *domain.RecordingGenerated) { r.Duration = d }) }
	}
	kind := func(k domain.Kind) func(w *domain.Webhook) {
		return func(w *domain.Webhook) { w.Event.Kind = k }
	}
	same := func(*domain.Webhook) {}
	vs := []variant{
		// Booleans: CometChat sends "true"/"false"; JSON booleans and 1/0 are accepted too.
		{"audio_call string true", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"true"`)}, audio(bp(true))},
		{"audio_call string false", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"false"`)}, audio(bp(false))},
		{"audio_call bool true", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `true`)}, audio(bp(true))},
		{"audio_call bool false", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `false`)}, audio(bp(false))},
		{"audio_call string 1", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"1"`)}, audio(bp(true))},
		{"audio_call string 0", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"0"`)}, audio(bp(false))},
		{"audio_call number 1", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `1`)}, audio(bp(true))},
		{"audio_call number 0", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `0`)}, audio(bp(false))},
		{"audio_call upper case", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"TRUE"`)}, audio(bp(true))},
		{"audio_call empty string is false", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `""`)}, audio(bp(false))},
		{"audio_call null is unknown", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `null`)}, audio(nil)},
		{"audio_call absent is unknown", "meeting_participant_joined", []edit{del("data.occupant.audio_call")}, audio(nil)},
		// Display names keep format characters: ZWJ and ZWNJ are part of many names.
		{"name with ZWJ and ZWNJ", "meeting_participant_joined", []edit{set("data.occupant.name", `"\u0905\u094d\u200d\u092f \u0645\u200c\u06cc"`)},
			func(w *domain.Webhook) {
				withOccupant(w, func(o *domain.Occupant) { o.Name = "\u0905\u094d\u200d\u092f \u0645\u200c\u06cc" })
			}},
		{"is_audio_only bool", "call_participant_joined", []edit{set("data.initial_config.is_audio_only", `false`)},
			func(w *domain.Webhook) { withClient(w, func(c **domain.ClientInfo) { (*c).AudioOnly = bp(false) }) }},
		{"is_audio_only absent", "call_participant_joined", []edit{del("data.initial_config.is_audio_only")},
			func(w *domain.Webhook) { withClient(w, func(c **domain.ClientInfo) { (*c).AudioOnly = nil }) }},
		{"left audio_call bool", "call_participant_left", []edit{set("data.occupant.audio_call", `false`)}, audio(bp(false))},

		// Timestamps: numbers and numeric strings.
		{"joined_at string", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"1696934692"`)}, same},
		{"joined_at number", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `1696934692`)}, same},
		{"joined_at padded string", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `" 1696934692 "`)}, same},
		{"joined_at exponent", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `1.696934692e9`)}, same},
		{"joined_at whole decimal", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"1696934692.000"`)}, same},
		{"joined_at another second", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"1696934693"`)}, joinedAt(1696934693)},
		{"startTime string", "recording_generated", []edit{set("data.startTime", `"1696937627"`)}, same},
		{"startTime number", "recording_generated", []edit{set("data.startTime", `1696937627`)}, same},
		{"transcript times strings", "transcription_generated",
			[]edit{set("data.startTime", `"1696937627"`), set("data.endTime", `"1696937648"`)}, same},
		{"created_at string", "meeting_started", []edit{set("data.created_at", `"1696934692"`)}, same},
		{"destroyed_at string", "meeting_ended", []edit{set("data.destroyed_at", `"1696934730"`), set("data.created_at", `"1696934692"`)}, same},
		{"all_occupants times strings", "call_ended",
			[]edit{set("data.all_occupants.0.joined_at", `"1696934501"`), set("data.all_occupants.0.left_at", `"1696934553"`)}, same},
		{"sentAt string", "call_busy", []edit{set("data.call.sentAt", `"1744960250"`)}, same},
		{"left_at equal to joined_at", "meeting_participant_left", []edit{set("data.occupant.left_at", `1696934692`)},
			func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.LeftAt = 1696934692 }) }},
		{"joined with left_at", "meeting_participant_joined", []edit{set("data.occupant.left_at", `1696934730`)},
			func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.LeftAt = 1696934730 }) }},

		// Durations.
		{"duration string", "recording_generated", []edit{set("data.duration", `"21.433000"`)}, duration(21.433)},
		{"duration number", "recording_generated", []edit{set("data.duration", `21.433`)}, duration(21.433)},
		{"duration whole string", "recording_generated", []edit{set("data.duration", `"21"`)}, duration(21)},
		{"duration zero", "recording_generated", []edit{set("data.duration", `0`)}, duration(0)},
		{"duration empty string", "recording_generated", []edit{set("data.duration", `""`)}, duration(0)},
		{"duration absent", "recording_generated", []edit{del("data.duration")}, duration(0)},
		{"recordingDate absent", "recording_generated", []edit{del("data.recordingDate")},
			func(w *domain.Webhook) { withRecording(w, func(r *domain.RecordingGenerated) { r.RecordingDate = "" }) }},

		// Absent optional blocks.
		{"initial_config absent", "meeting_participant_joined", []edit{del("data.initial_config")},
			func(w *domain.Webhook) { withClient(w, func(c **domain.ClientInfo) { *c = nil }) }},
		{"initial_config null", "meeting_participant_joined", []edit{set("data.initial_config", `null`)},
			func(w *domain.Webhook) { withClient(w, func(c **domain.ClientInfo) { *c = nil }) }},
		{"initial_config empty", "meeting_participant_joined", []edit{set("data.initial_config", `{}`)},
			func(w *domain.Webhook) { withClient(w, func(c **domain.ClientInfo) { *c = &domain.ClientInfo{} }) }},
		{"entities absent", "call_initiated", []edit{del("data.call.data.entities")},
			func(w *domain.Webhook) {
				w.Event.SessionID = domain.RingingSessionPrefix + "52"
				withRinging(w, func(r *domain.CallRinging) { r.SenderName, r.InitiatedAt = "", 0 })
			}},
		{"entities.on absent", "call_initiated", []edit{del("data.call.data.entities.on")},
			func(w *domain.Webhook) {
				w.Event.SessionID = domain.RingingSessionPrefix + "52"
				withRinging(w, func(r *domain.CallRinging) { r.InitiatedAt = 0 })
			}},
		{"entities.on without sessionid", "call_initiated", []edit{del("data.call.data.entities.on.entity.sessionid")},
			func(w *domain.Webhook) { w.Event.SessionID = domain.RingingSessionPrefix + "52" }},
		{"entities.by absent", "call_initiated", []edit{del("data.call.data.entities.by")},
			func(w *domain.Webhook) { withRinging(w, func(r *domain.CallRinging) { r.SenderName = "" }) }},
		{"sender from entities.by", "call_initiated", []edit{del("data.call.sender")}, same},
		{"action absent", "call_busy", []edit{del("data.call.data.action")}, same},
		{"all_occupants absent", "meeting_ended", []edit{del("data.all_occupants")},
			func(w *domain.Webhook) {
				p := w.Event.Payload.(domain.SessionEnded)
				p.AllOccupants = nil
				w.Event.Payload = p
			}},
		{"all_occupants empty", "meeting_ended", []edit{set("data.all_occupants", `[]`)},
			func(w *domain.Webhook) {
				p := w.Event.Payload.(domain.SessionEnded)
				p.AllOccupants = nil
				w.Event.Payload = p
			}},
		{"meeting_ended created_at absent", "meeting_ended", []edit{del("data.created_at")},
			func(w *domain.Webhook) {
				p := w.Event.Payload.(domain.SessionEnded)
				p.CreatedAt = 0
				w.Event.Payload = p
			}},
		{"transcript endTime absent", "transcription_generated", []edit{del("data.endTime")},
			func(w *domain.Webhook) {
				p := w.Event.Payload.(domain.TranscriptionGenerated)
				p.EndTime = 0
				w.Event.Payload = p
			}},
		{"region and webhook absent", "meeting_started", []edit{del("region"), del("webhook")},
			func(w *domain.Webhook) { w.Region, w.WebhookID = "", "" }},
		{"unknown fields ignored", "meeting_started", []edit{set("data.extra", `{"deep":[1,2,{"x":null}]}`), set("extra", `[true]`)}, same},

		// Kind: from the trigger unless "type" says otherwise.
		{"meeting type absent", "meeting_participant_joined", []edit{del("type")}, same},
		{"call type absent", "call_participant_joined", []edit{del("type")}, same},
		{"type meeting", "call_started", []edit{set("type", `"meeting"`)}, kind(domain.KindMeeting)},
		{"type meet on call trigger", "call_started", []edit{set("type", `"meet"`)}, kind(domain.KindMeeting)},
		{"type call on meeting trigger", "meeting_started", []edit{set("type", `"call"`)}, kind(domain.KindCall)},
		{"unknown type ignored", "meeting_started", []edit{set("type", `"conference"`)}, same},
		{"type on recording ignored", "recording_generated", []edit{set("type", `"call"`)}, same},

		// Identity.
		{"occupant with uid", "meeting_participant_joined", []edit{set("data.occupant.uid", `"cometchat-uid-1"`)},
			func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.UID = "cometchat-uid-1" }) }},
		{"occupant with uid only", "meeting_participant_left", []edit{set("data.occupant.uid", `"cometchat-uid-1"`), del("data.occupant.name")},
			func(w *domain.Webhook) {
				withOccupant(w, func(o *domain.Occupant) { o.UID, o.Name = "cometchat-uid-1", "" })
			}},
		{"unicode name", "meeting_participant_joined", []edit{set("data.occupant.name", `"José 山田 🎉"`)},
			func(w *domain.Webhook) { withOccupant(w, func(o *domain.Occupant) { o.Name = "José 山田 🎉" }) }},
		{"escaped name", "meeting_participant_joined", []edit{set("data.occupant.name", `"Andrew \u004aoseph"`)}, same},
		{"numeric session id", "meeting_started", []edit{set("data.sessionId", `12345`)},
			func(w *domain.Webhook) { w.Event.SessionID = "12345" }},
		{"session id of maximum length", "meeting_started", []edit{set("data.sessionId", strconv.Quote(strings.Repeat("s", domain.MaxIDLength)))},
			func(w *domain.Webhook) { w.Event.SessionID = strings.Repeat("s", domain.MaxIDLength) }},
		{"session id with dots", "meeting_started", []edit{set("data.sessionId", `"v1.us.app..x"`)},
			func(w *domain.Webhook) { w.Event.SessionID = "v1.us.app..x" }},
	}
	// The ringing triggers that share call_busy's shape.
	for _, tr := range []domain.Trigger{domain.TriggerCallCancelled, domain.TriggerCallRejected, domain.TriggerCallUnanswered} {
		action := strings.TrimPrefix(string(tr), "call_")
		vs = append(vs, variant{string(tr), "call_busy",
			[]edit{set("trigger", strconv.Quote(string(tr))), set("data.call.data.action", strconv.Quote(action))},
			func(w *domain.Webhook) {
				w.Event.Trigger = tr
				withRinging(w, func(r *domain.CallRinging) { r.Action = action })
			}})
	}
	return vs
}

func TestDecodeVariants(t *testing.T) {
	fixtures := loadFixtures(t)
	for _, v := range decodeVariants() {
		t.Run(v.name, func(t *testing.T) {
			base, ok := fixtures[v.fixture]
			if !ok {
				t.Fatalf("no fixture %s", v.fixture)
			}
			want, _ := expected(v.fixture)
			v.want(&want)
			body := mutate(t, base, v.edits...)
			got, err := fixedDecoder().Decode(body)
			if err != nil {
				t.Fatalf("Decode(%s): %v", body, err)
			}
			wantWebhook(t, got, want)
		})
	}
}

// malformedBodies are not CometChat webhooks at all.
func malformedBodies(tb testing.TB) map[string][]byte {
	started := fixture(tb, "meeting_started")
	invalidUTF8 := bytes.Replace(fixture(tb, "meeting_participant_joined"), []byte("Andrew"), []byte("Andr\xffew"), 1)
	if bytes.Equal(invalidUTF8, fixture(tb, "meeting_participant_joined")) {
		tb.Fatal("invalid UTF-8 case did not change the fixture")
	}
	return map[string][]byte{
		"empty":                {},
		"whitespace":           []byte(" \n\t"),
		"not JSON":             []byte("trigger=meeting_started"),
		"truncated JSON":       started[:len(started)/2],
		"trailing garbage":     append(append([]byte{}, started...), "}"...),
		"two objects":          append(append([]byte{}, started...), started...),
		"JSON null":            []byte("null"),
		"JSON string":          []byte(`"meeting_started"`),
		"JSON number":          []byte(`1`),
		"JSON array":           []byte("[" + string(started) + "]"),
		"empty object":         []byte(`{}`),
		"missing trigger":      mutate(tb, started, del("trigger")),
		"trigger null":         mutate(tb, started, set("trigger", `null`)),
		"trigger empty":        mutate(tb, started, set("trigger", `""`)),
		"trigger number":       mutate(tb, started, set("trigger", `1`)),
		"trigger bool":         mutate(tb, started, set("trigger", `true`)),
		"trigger object":       mutate(tb, started, set("trigger", `{"name":"meeting_started"}`)),
		"trigger array":        mutate(tb, started, set("trigger", `["meeting_started"]`)),
		"missing data":         mutate(tb, started, del("data")),
		"data null":            mutate(tb, started, set("data", `null`)),
		"data array":           mutate(tb, started, set("data", `[{"sessionId":"x"}]`)),
		"data string":          mutate(tb, started, set("data", `"{}"`)),
		"data number":          mutate(tb, started, set("data", `0`)),
		"invalid UTF-8":        invalidUTF8,
		"invalid UTF-8 in key": []byte("{\"trigger\":\"meeting_started\",\"\xc3\x28\":1,\"data\":{}}"),
		"byte order mark":      append([]byte("\xef\xbb\xbf"), started...),
		"single quotes":        []byte(`{'trigger':'meeting_started','data':{}}`),
		// Keys are matched exactly, as CometChat spells them (no case folding).
		"trigger in upper case": bytes.Replace(started, []byte(`"trigger"`), []byte(`"TRIGGER"`), 1),
		"data capitalised":      bytes.Replace(started, []byte(`"data"`), []byte(`"Data"`), 1),
	}
}

func TestDecodeMalformed(t *testing.T) {
	for name, body := range malformedBodies(t) {
		t.Run(name, func(t *testing.T) {
			for _, dec := range []domain.Decoder{{}, fixedDecoder()} {
				got, err := dec.Decode(body)
				if !errors.Is(err, domain.ErrMalformed) {
					t.Fatalf("Decode(%q) error = %v, want ErrMalformed", body, err)
				}
				var verr *domain.ValidationError
				if errors.As(err, &verr) {
					t.Errorf("malformed body also gave a *ValidationError: %v", verr)
				}
				if !reflect.DeepEqual(got, domain.Webhook{}) {
					t.Errorf("Decode returned %s with an error", show(got))
				}
			}
		})
	}
}

// invalid is a CometChat-shaped payload that fails validation on one field.
type invalid struct {
	name    string
	fixture string
	edits   []edit
	field   string
}

func invalidCases() []invalid {
	future := strconv.FormatInt(clock.Add(25*time.Hour).Unix(), 10)
	long := strconv.Quote(strings.Repeat("s", domain.MaxIDLength+1))
	cases := []invalid{
		{"unknown trigger", "meeting_started", []edit{set("trigger", `"meeting_paused"`)}, "trigger"},
		{"unknown trigger without appId", "meeting_started", []edit{set("trigger", `"meeting_paused"`), del("appId")}, "trigger"},
		{"unknown trigger, data empty", "meeting_started", []edit{set("trigger", `"x"`), set("data", `{}`)}, "trigger"},
		{"trigger with different case", "meeting_started", []edit{set("trigger", `"Meeting_Started"`)}, "trigger"},

		{"missing appId", "meeting_started", []edit{del("appId")}, "appId"},
		{"appId null", "meeting_started", []edit{set("appId", `null`)}, "appId"},
		{"appId empty", "meeting_started", []edit{set("appId", `""`)}, "appId"},
		{"appId object", "meeting_started", []edit{set("appId", `{"id":"a"}`)}, "appId"},
		{"appId array", "meeting_started", []edit{set("appId", `["a"]`)}, "appId"},
		{"appId bool", "meeting_started", []edit{set("appId", `true`)}, "appId"},
		{"appId with slash", "meeting_started", []edit{set("appId", `"a/b"`)}, "appId"},
		{"appId with backslash", "meeting_started", []edit{set("appId", `"a\\b"`)}, "appId"},
		{"appId dot dot", "meeting_started", []edit{set("appId", `".."`)}, "appId"},
		{"appId with newline", "meeting_started", []edit{set("appId", `"a\nb"`)}, "appId"},
		{"appId too long", "meeting_started", []edit{set("appId", long)}, "appId"},
		{"region object", "meeting_started", []edit{set("region", `{"r":"us"}`)}, "region"},
		{"webhook array", "meeting_started", []edit{set("webhook", `["w"]`)}, "webhook"},
		{"type object", "meeting_started", []edit{set("type", `{"t":"meet"}`)}, "type"},

		{"missing sessionId", "meeting_started", []edit{del("data.sessionId")}, "data.sessionId"},
		{"sessionId null", "meeting_participant_joined", []edit{set("data.sessionId", `null`)}, "data.sessionId"},
		{"sessionId empty", "meeting_participant_left", []edit{set("data.sessionId", `""`)}, "data.sessionId"},
		{"sessionId object", "meeting_ended", []edit{set("data.sessionId", `{"id":"x"}`)}, "data.sessionId"},
		{"sessionId array", "recording_generated", []edit{set("data.sessionId", `["x"]`)}, "data.sessionId"},
		{"sessionId bool", "transcription_generated", []edit{set("data.sessionId", `false`)}, "data.sessionId"},
		{"sessionId with slash", "call_started", []edit{set("data.sessionId", `"a/b"`)}, "data.sessionId"},
		{"sessionId with backslash", "call_participant_joined", []edit{set("data.sessionId", `"a\\b"`)}, "data.sessionId"},
		{"sessionId dot", "call_participant_left", []edit{set("data.sessionId", `"."`)}, "data.sessionId"},
		{"sessionId dot dot", "call_ended", []edit{set("data.sessionId", `".."`)}, "data.sessionId"},
		{"sessionId with newline", "meeting_started", []edit{set("data.sessionId", `"a\nb"`)}, "data.sessionId"},
		{"sessionId with NUL", "meeting_started", []edit{set("data.sessionId", `"a\u0000b"`)}, "data.sessionId"},
		{"sessionId with DEL", "meeting_started", []edit{set("data.sessionId", `"a\u007fb"`)}, "data.sessionId"},
		{"sessionId with C1 control", "meeting_started", []edit{set("data.sessionId", `"a\u0085b"`)}, "data.sessionId"},
		{"sessionId with tab", "meeting_started", []edit{set("data.sessionId", `"a\tb"`)}, "data.sessionId"},
		{"sessionId with lone surrogate", "meeting_started", []edit{set("data.sessionId", `"a\ud800b"`)}, "data.sessionId"},
		{"sessionId too long", "meeting_started", []edit{set("data.sessionId", long)}, "data.sessionId"},
		{"sessionId with RIGHT-TO-LEFT OVERRIDE", "meeting_started", []edit{set("data.sessionId", `"a\u202eb"`)}, "data.sessionId"},
		{"sessionId with ZERO WIDTH SPACE", "meeting_participant_joined", []edit{set("data.sessionId", `"s\u200b1"`)}, "data.sessionId"},
		{"sessionId with BOM", "meeting_ended", []edit{set("data.sessionId", `"\ufeffs"`)}, "data.sessionId"},
		{"appId with LEFT-TO-RIGHT ISOLATE", "meeting_started", []edit{set("appId", `"app\u2066x"`)}, "appId"},
		{"occupant uid with RIGHT-TO-LEFT OVERRIDE", "meeting_participant_joined", []edit{set("data.occupant.uid", `"u\u202e1"`)}, "data.occupant.uid"},
		{"all_occupants uid with ZERO WIDTH JOINER", "call_ended", []edit{set("data.all_occupants.0.uid", `"u\u200d1"`)}, "data.all_occupants[0].uid"},
		{"call id with soft hyphen", "call_busy", []edit{set("data.call.id", `"4\u00ad3"`)}, "data.call.id"},
		{"entities sessionid with ZERO WIDTH SPACE", "call_initiated", []edit{set("data.call.data.entities.on.entity.sessionid", `"a\u200bb"`)},
			"data.call.data.entities.on.entity.sessionid"},

		{"joined_at missing", "meeting_participant_joined", []edit{del("data.occupant.joined_at")}, "data.occupant.joined_at"},
		{"joined_at null", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `null`)}, "data.occupant.joined_at"},
		{"joined_at empty string", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `""`)}, "data.occupant.joined_at"},
		{"joined_at milliseconds", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `1696934692000`)}, "data.occupant.joined_at"},
		{"joined_at milliseconds string", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"1696934692000"`)}, "data.occupant.joined_at"},
		{"joined_at negative", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `-1696934692`)}, "data.occupant.joined_at"},
		{"joined_at zero", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `0`)}, "data.occupant.joined_at"},
		{"joined_at fractional", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `1696934692.5`)}, "data.occupant.joined_at"},
		{"joined_at fractional string", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"1696934692.5"`)}, "data.occupant.joined_at"},
		{"joined_at far future", "meeting_participant_joined", []edit{set("data.occupant.joined_at", future)}, "data.occupant.joined_at"},
		{"joined_at huge", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `1e400`)}, "data.occupant.joined_at"},
		{"joined_at NaN", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"NaN"`)}, "data.occupant.joined_at"},
		{"joined_at Inf", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"+Inf"`)}, "data.occupant.joined_at"},
		{"joined_at hex float", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"0x1.94p30"`)}, "data.occupant.joined_at"},
		{"joined_at underscores", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"0x6_5258e24p0"`)}, "data.occupant.joined_at"},
		{"joined_at words", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"yesterday"`)}, "data.occupant.joined_at"},
		{"joined_at date", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `"2023-10-10T10:44:52Z"`)}, "data.occupant.joined_at"},
		{"joined_at bool", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `true`)}, "data.occupant.joined_at"},
		{"joined_at object", "meeting_participant_joined", []edit{set("data.occupant.joined_at", `{"s":1}`)}, "data.occupant.joined_at"},
		{"left_at before joined_at", "meeting_participant_left", []edit{set("data.occupant.left_at", `1696934691`)}, "data.occupant.left_at"},
		{"left without left_at", "meeting_participant_left", []edit{del("data.occupant.left_at")}, "data.occupant.left_at"},
		{"left with empty left_at", "call_participant_left", []edit{set("data.occupant.left_at", `""`)}, "data.occupant.left_at"},
		{"left_at milliseconds", "call_participant_left", []edit{set("data.occupant.left_at", `1696934553000`)}, "data.occupant.left_at"},
		{"left_at far future", "call_participant_left", []edit{set("data.occupant.left_at", future)}, "data.occupant.left_at"},

		{"occupant missing", "meeting_participant_joined", []edit{del("data.occupant")}, "data.occupant"},
		{"occupant null", "meeting_participant_left", []edit{set("data.occupant", `null`)}, "data.occupant"},
		{"occupant string", "meeting_participant_joined", []edit{set("data.occupant", `"Andrew Joseph"`)}, "data.occupant"},
		{"occupant array", "meeting_participant_joined", []edit{set("data.occupant", `[]`)}, "data.occupant"},
		{"occupant without identity", "meeting_participant_joined", []edit{del("data.occupant.name")}, "data.occupant.name"},
		{"occupant name empty", "meeting_participant_joined", []edit{set("data.occupant.name", `""`)}, "data.occupant.name"},
		{"occupant name object", "meeting_participant_joined", []edit{set("data.occupant.name", `{"first":"A"}`)}, "data.occupant.name"},
		{"occupant name with control", "meeting_participant_joined", []edit{set("data.occupant.name", `"A\u0007B"`)}, "data.occupant.name"},
		{"occupant name too long", "meeting_participant_joined", []edit{set("data.occupant.name", long)}, "data.occupant.name"},
		{"occupant uid array", "meeting_participant_joined", []edit{set("data.occupant.uid", `["u"]`)}, "data.occupant.uid"},
		{"audio_call object", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `{}`)}, "data.occupant.audio_call"},
		{"audio_call maybe", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `"maybe"`)}, "data.occupant.audio_call"},
		{"audio_call 2", "meeting_participant_joined", []edit{set("data.occupant.audio_call", `2`)}, "data.occupant.audio_call"},
		{"initial_config array", "meeting_participant_joined", []edit{set("data.initial_config", `[]`)}, "data.initial_config"},
		{"initial_config string", "meeting_participant_joined", []edit{set("data.initial_config", `"web"`)}, "data.initial_config"},
		{"is_audio_only maybe", "meeting_participant_joined", []edit{set("data.initial_config.is_audio_only", `"maybe"`)}, "data.initial_config.is_audio_only"},
		{"platform object", "meeting_participant_joined", []edit{set("data.initial_config.platform", `{}`)}, "data.initial_config.platform"},

		{"created_at missing", "meeting_started", []edit{del("data.created_at")}, "data.created_at"},
		{"created_at bool", "call_started", []edit{set("data.created_at", `false`)}, "data.created_at"},
		{"created_at not a number", "meeting_started", []edit{set("data.created_at", `"abc"`)}, "data.created_at"},
		{"created_at far future", "meeting_started", []edit{set("data.created_at", future)}, "data.created_at"},
		{"destroyed_at missing", "meeting_ended", []edit{del("data.destroyed_at")}, "data.destroyed_at"},
		{"destroyed_at before created_at", "call_ended", []edit{set("data.destroyed_at", `1696934500`)}, "data.destroyed_at"},
		{"all_occupants object", "meeting_ended", []edit{set("data.all_occupants", `{"0":{}}`)}, "data.all_occupants"},
		{"all_occupants string", "meeting_ended", []edit{set("data.all_occupants", `"Andrew Joseph"`)}, "data.all_occupants"},
		{"all_occupants element string", "call_ended", []edit{set("data.all_occupants.1", `"Andrew Joseph"`)}, "data.all_occupants[1]"},
		{"all_occupants element null", "call_ended", []edit{set("data.all_occupants.1", `null`)}, "data.all_occupants[1]"},
		{"all_occupants element joined_at ms", "call_ended", []edit{set("data.all_occupants.1.joined_at", `1696934501000`)}, "data.all_occupants[1].joined_at"},
		{"all_occupants element left before joined", "call_ended", []edit{set("data.all_occupants.0.left_at", `1696934500`)}, "data.all_occupants[0].left_at"},
		{"all_occupants element without identity", "call_ended", []edit{del("data.all_occupants.0.name")}, "data.all_occupants[0].name"},

		{"recording_url missing", "recording_generated", []edit{del("data.recording_url")}, "data.recording_url"},
		{"recording_url blank", "recording_generated", []edit{set("data.recording_url", `"  "`)}, "data.recording_url"},
		{"recording_url object", "recording_generated", []edit{set("data.recording_url", `{"u":1}`)}, "data.recording_url"},
		{"duration negative", "recording_generated", []edit{set("data.duration", `"-1.5"`)}, "data.duration"},
		{"duration not a number", "recording_generated", []edit{set("data.duration", `"21s"`)}, "data.duration"},
		{"duration bool", "recording_generated", []edit{set("data.duration", `true`)}, "data.duration"},
		{"duration NaN", "recording_generated", []edit{set("data.duration", `"NaN"`)}, "data.duration"},
		{"startTime milliseconds", "recording_generated", []edit{set("data.startTime", `"1696937627000"`)}, "data.startTime"},
		{"transcript_url missing", "transcription_generated", []edit{del("data.transcript_url")}, "data.transcript_url"},
		{"transcript endTime before startTime", "transcription_generated", []edit{set("data.endTime", `1696937626`)}, "data.endTime"},
		{"tid object", "transcription_generated", []edit{set("data.tid", `{}`)}, "data.tid"},

		{"call missing", "call_busy", []edit{del("data.call")}, "data.call"},
		{"call string", "call_initiated", []edit{set("data.call", `"52"`)}, "data.call"},
		{"call id missing", "call_busy", []edit{del("data.call.id")}, "data.call.id"},
		{"call id empty", "call_initiated", []edit{set("data.call.id", `""`)}, "data.call.id"},
		{"call id object", "call_busy", []edit{set("data.call.id", `{}`)}, "data.call.id"},
		{"call id with slash", "call_busy", []edit{set("data.call.id", `"4/3"`)}, "data.call.id"},
		{"call id with backslash", "call_busy", []edit{set("data.call.id", `"4\\3"`)}, "data.call.id"},
		{"call id with control", "call_busy", []edit{set("data.call.id", `"4\u00073"`)}, "data.call.id"},
		{"call id with non-JSON escape", "call_busy", []edit{set("data.call.id", `"4\u000b3"`)}, "data.call.id"},
		{"call id too long", "call_busy", []edit{set("data.call.id", long)}, "data.call.id"},
		{"call id with slash beside a session id", "call_initiated", []edit{set("data.call.id", `"5/2"`)}, "data.call.id"},
		{"sentAt missing", "call_busy", []edit{del("data.call.sentAt")}, "data.call.sentAt"},
		{"sentAt far future", "call_initiated", []edit{set("data.call.sentAt", future)}, "data.call.sentAt"},
		{"updatedAt milliseconds", "call_busy", []edit{set("data.call.updatedAt", `1744960250000`)}, "data.call.updatedAt"},
		{"call data missing", "call_busy", []edit{del("data.call.data")}, "data.call.data"},
		{"call data array", "call_busy", []edit{set("data.call.data", `["busy"]`)}, "data.call.data"},
		{"action mismatch", "call_busy", []edit{set("data.call.data.action", `"rejected"`)}, "data.call.data.action"},
		{"action object", "call_busy", []edit{set("data.call.data.action", `{}`)}, "data.call.data.action"},
		{"media object", "call_busy", []edit{set("data.call.type", `{}`)}, "data.call.type"},
		{"entities string", "call_initiated", []edit{set("data.call.data.entities", `"x"`)}, "data.call.data.entities"},
		{"entities.on entity missing", "call_initiated", []edit{del("data.call.data.entities.on.entity")}, "data.call.data.entities.on.entity"},
		{"entities.by entity string", "call_initiated", []edit{set("data.call.data.entities.by.entity", `"u"`)}, "data.call.data.entities.by.entity"},
		{"entities sessionid with slash", "call_initiated", []edit{set("data.call.data.entities.on.entity.sessionid", `"a/b"`)},
			"data.call.data.entities.on.entity.sessionid"},
		{"entities sessionid object", "call_initiated", []edit{set("data.call.data.entities.on.entity.sessionid", `{}`)},
			"data.call.data.entities.on.entity.sessionid"},
		{"entities sessionid too long", "call_initiated", []edit{set("data.call.data.entities.on.entity.sessionid", long)},
			"data.call.data.entities.on.entity.sessionid"},
		{"initiatedAt milliseconds", "call_initiated", []edit{set("data.call.data.entities.on.entity.initiatedAt", `1696934199000`)},
			"data.call.data.entities.on.entity.initiatedAt"},
	}
	return cases
}

func TestDecodeValidationErrors(t *testing.T) {
	fixtures := loadFixtures(t)
	for _, c := range invalidCases() {
		t.Run(c.name, func(t *testing.T) {
			base, ok := fixtures[c.fixture]
			if !ok {
				t.Fatalf("no fixture %s", c.fixture)
			}
			body := mutate(t, base, c.edits...)
			got, err := fixedDecoder().Decode(body)
			wantValidation(t, err, c.field)
			if !reflect.DeepEqual(got, domain.Webhook{}) {
				t.Errorf("Decode returned %s with an error", show(got))
			}
		})
	}
}

func wantValidation(t *testing.T, err error, field string) {
	t.Helper()
	var verr *domain.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error = %v (%T), want a *domain.ValidationError on %s", err, err, field)
	}
	if verr.Field != field {
		t.Fatalf("ValidationError.Field = %q (%v), want %q", verr.Field, verr, field)
	}
	if errors.Is(err, domain.ErrMalformed) {
		t.Errorf("a validation error must not match ErrMalformed: %v", err)
	}
	if verr.Reason == "" || verr.Trigger == "" {
		t.Errorf("ValidationError lacks a reason or trigger: %+v", *verr)
	}
	if !strings.HasPrefix(verr.Error(), field+": ") {
		t.Errorf("Error() = %q, want it to start with the field", verr.Error())
	}
}

func TestDecodeFarFuture(t *testing.T) {
	body := func(ts int64) []byte {
		return mutate(t, fixture(t, "meeting_started"), set("data.created_at", strconv.FormatInt(ts, 10)))
	}
	limit := clock.Add(24 * time.Hour).Unix()
	if _, err := fixedDecoder().Decode(body(limit)); err != nil {
		t.Errorf("exactly MaxFuture ahead: %v", err)
	}
	_, err := fixedDecoder().Decode(body(limit + 1))
	wantValidation(t, err, "data.created_at")
	// The zero Decoder has no clock and accepts anything in Unix seconds.
	if _, err := (domain.Decoder{}).Decode(body(limit + 10*365*24*3600)); err != nil {
		t.Errorf("zero Decoder rejected a future timestamp: %v", err)
	}
	// A custom MaxFuture.
	short := domain.Decoder{Now: func() time.Time { return clock }, MaxFuture: time.Minute}
	if _, err := short.Decode(body(clock.Unix() + 60)); err != nil {
		t.Errorf("one minute ahead with MaxFuture=1m: %v", err)
	}
	_, err = short.Decode(body(clock.Unix() + 61))
	wantValidation(t, err, "data.created_at")
	// The past is fine.
	if _, err := short.Decode(body(1)); err != nil {
		t.Errorf("1970: %v", err)
	}
}

// TestDecodeDuplicateKeys documents what happens to a JSON object with a key
// twice: like encoding/json, the last occurrence wins, at every level. Keys
// are matched exactly (case-sensitively), so "Trigger" is not "trigger".
func TestDecodeDuplicateKeys(t *testing.T) {
	dec := fixedDecoder()
	t.Run("data key twice: last wins", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_started","appId":"app","data":{"sessionId":"first","created_at":1696934692,` +
			`"sessionId":"second","created_at":"1696934693"}}`)
		got, err := dec.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.Event.SessionID != "second" || got.Event.Payload != (domain.SessionStarted{CreatedAt: 1696934693}) {
			t.Errorf("got %s, want the last sessionId and created_at", show(got))
		}
	})
	t.Run("trigger twice: last wins", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_started","appId":"app","data":{"sessionId":"s","created_at":1696934692},` +
			`"trigger":"meeting_paused"}`)
		_, err := dec.Decode(body)
		wantValidation(t, err, "trigger")
	})
	t.Run("a valid value overrides an invalid one", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_started","appId":{"x":1},"appId":"app","data":{"sessionId":"s","created_at":1696934692}}`)
		got, err := dec.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.Event.AppID != "app" {
			t.Errorf("AppID = %q", got.Event.AppID)
		}
	})
	t.Run("an invalid value overrides a valid one", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_started","appId":"app","data":{"sessionId":"s","created_at":1696934692},"data":[]}`)
		_, err := dec.Decode(body)
		if !errors.Is(err, domain.ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed (the second data is an array)", err)
		}
	})
	t.Run("keys differing in case are different keys", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_started","Trigger":"bogus","appId":"app","APPID":"other",` +
			`"data":{"sessionId":"s","SessionId":"t","created_at":1696934692}}`)
		got, err := dec.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.Event.Trigger != domain.TriggerMeetingStarted || got.Event.AppID != "app" || got.Event.SessionID != "s" {
			t.Errorf("got %s", show(got))
		}
	})
	t.Run("occupant twice: the last object, not a merge", func(t *testing.T) {
		body := []byte(`{"trigger":"meeting_participant_joined","appId":"app","data":{"sessionId":"s",` +
			`"occupant":{"name":"A","joined_at":1696934692,"uid":"u"},"occupant":{"name":"B","joined_at":1696934693}}}`)
		got, err := dec.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		want := domain.ParticipantJoined{Occupant: domain.Occupant{Name: "B", JoinedAt: 1696934693}}
		if !reflect.DeepEqual(got.Event.Payload, want) {
			t.Errorf("got %s", show(got))
		}
	})
}

// TestDecodeDeepNesting: absurdly nested JSON is rejected with an error, not a
// stack overflow, wherever it sits.
func TestDecodeDeepNesting(t *testing.T) {
	const depth = 100000
	arrays := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	objects := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	bodies := map[string]string{
		"arrays inside data":        `{"trigger":"meeting_started","appId":"app","data":{"sessionId":"s","created_at":1696934692,"x":` + arrays + `}}`,
		"objects inside data":       `{"trigger":"meeting_started","appId":"app","data":{"sessionId":"s","created_at":1696934692,"x":` + objects + `}}`,
		"arrays as the occupant":    `{"trigger":"meeting_participant_joined","appId":"app","data":{"sessionId":"s","occupant":` + arrays + `}}`,
		"arrays at the top level":   `{"trigger":"meeting_started","appId":"app","x":` + arrays + `,"data":{"sessionId":"s","created_at":1696934692}}`,
		"arrays as data":            `{"trigger":"meeting_started","appId":"app","data":` + arrays + `}`,
		"arrays as the body":        arrays,
		"unterminated arrays":       `{"trigger":"meeting_started","appId":"app","data":{"x":` + strings.Repeat("[", depth),
		"objects in all_occupants":  `{"trigger":"meeting_ended","appId":"app","data":{"sessionId":"s","destroyed_at":1696934692,"all_occupants":[` + objects + `]}}`,
		"arrays in entities":        `{"trigger":"call_initiated","appId":"app","data":{"call":{"id":"1","sentAt":1696934692,"data":{"entities":` + arrays + `}}}}`,
		"arrays in initial_config":  `{"trigger":"meeting_participant_joined","appId":"app","data":{"sessionId":"s","occupant":{"name":"a","joined_at":1696934692},"initial_config":` + arrays + `}}`,
		"arrays as the trigger":     `{"trigger":` + arrays + `,"data":{}}`,
		"arrays as a boolean value": `{"trigger":"meeting_participant_joined","appId":"app","data":{"sessionId":"s","occupant":{"name":"a","joined_at":1696934692,"audio_call":` + arrays + `}}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			got, err := fixedDecoder().Decode([]byte(body))
			if err == nil {
				t.Fatalf("Decode accepted %d-deep nesting: %s", depth, show(got))
			}
			var verr *domain.ValidationError
			if !errors.Is(err, domain.ErrMalformed) && !errors.As(err, &verr) {
				t.Fatalf("error = %v (%T), want ErrMalformed or *ValidationError", err, err)
			}
		})
	}
	// Moderate nesting in a field the decoder ignores is fine.
	ok := `{"trigger":"meeting_started","appId":"app","data":{"sessionId":"s","created_at":1696934692,"x":` +
		strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}}`
	if _, err := fixedDecoder().Decode([]byte(ok)); err != nil {
		t.Errorf("500-deep nesting in an ignored field: %v", err)
	}
}

// TestDecodeDoesNotAlias: the decoded event does not change when the caller
// reuses the body buffer (intake reads bodies into pooled buffers).
func TestDecodeDoesNotAlias(t *testing.T) {
	body := fixture(t, "call_initiated")
	got, err := fixedDecoder().Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'x'
	}
	want, _ := expected("call_initiated")
	wantWebhook(t, got, want)
}

// TestEventMarshalRoundTrip: the stored form of every payload type decodes to
// an equal Event.
func TestEventMarshalRoundTrip(t *testing.T) {
	occ := domain.Occupant{UID: "uid-1", Name: "José 山田", JoinedAt: 1696934692, LeftAt: 1696934730, AudioOnly: bp(true)}
	events := []domain.Event{
		{Payload: domain.SessionStarted{CreatedAt: 1696934692}},
		{Payload: domain.ParticipantJoined{Occupant: domain.Occupant{Name: "A", JoinedAt: 1696934692}}},
		{Payload: domain.ParticipantJoined{Occupant: occ, Client: &domain.ClientInfo{Platform: "web", SDK: "react",
			CallVersion: "2.3.0", Mode: "DEFAULT", AudioOnly: bp(false)}}},
		{Payload: domain.ParticipantJoined{Occupant: occ, Client: &domain.ClientInfo{}}},
		{Payload: domain.ParticipantLeft{Occupant: occ}},
		{Payload: domain.ParticipantLeft{Occupant: domain.Occupant{Name: "A", JoinedAt: 1, LeftAt: 2, AudioOnly: bp(false)}}},
		{Payload: domain.SessionEnded{DestroyedAt: 1696934730}},
		{Payload: domain.SessionEnded{CreatedAt: 1696934692, DestroyedAt: 1696934730, AllOccupants: []domain.Occupant{occ, {Name: "B", JoinedAt: 1696934700}}}},
		{Payload: domain.RecordingGenerated{URL: testRecordingURL, StartTime: 1696937627, Duration: 21.433, RecordingDate: "2023-10-10"}},
		{Payload: domain.RecordingGenerated{URL: "u", StartTime: 1, Duration: 0.1 + 0.2}},
		{Payload: domain.TranscriptionGenerated{TID: testTID, URL: testTranscriptURL, StartTime: 1696937627, EndTime: 1696937648, TranscriptDate: "2023-10-10"}},
		{Payload: domain.TranscriptionGenerated{URL: "u", StartTime: 1}},
		{Payload: domain.CallRinging{Action: "initiated", CallID: "52", ConversationID: "c", Sender: "s", SenderName: "S",
			Receiver: "r", ReceiverType: "user", Media: "video", SentAt: 1696934199, UpdatedAt: 1696934200, InitiatedAt: 1696934199}},
		{Payload: domain.CallRinging{Action: "busy", CallID: "43414", SentAt: 1744960250}},
		{Payload: domain.SessionAbandoned{LastEventAt: 1696934730, DecidedAt: 1696956330}},
		{Payload: domain.SessionReconciled{FetchedAt: 1696956330}},
		{Payload: domain.SessionReconciled{FetchedAt: 1696956330, StartedAt: 1696934692, EndedAt: 1696934730,
			Intervals: []domain.Occupant{occ}, Unmatched: []domain.Occupant{{Name: "Guest", JoinedAt: 1696934700}},
			Recordings: []domain.RecordingGenerated{{URL: "u", StartTime: 1696934692, Duration: 12.5}}}},
	}
	seen := map[string]bool{}
	for i, ev := range events {
		ev.AppID = testAppID
		ev.SessionID = fmt.Sprintf("%s-%d", testSessionID, i)
		ev.Kind = []domain.Kind{domain.KindMeeting, domain.KindCall, ""}[i%3]
		ev.Trigger = domain.Triggers[i%len(domain.Triggers)]
		seen[ev.Type()] = true
		t.Run(fmt.Sprintf("%d %s", i, ev.Type()), func(t *testing.T) { roundTrip(t, ev) })
	}
	for _, typ := range []string{domain.TypeSessionStarted, domain.TypeParticipantJoined, domain.TypeParticipantLeft,
		domain.TypeSessionEnded, domain.TypeRecordingGenerated, domain.TypeTranscriptionGenerated, domain.TypeCallRinging,
		domain.TypeSessionAbandoned, domain.TypeSessionReconciled} {
		if !seen[typ] {
			t.Errorf("no round-trip case for %s", typ)
		}
	}
	// And every fixture, as decoded.
	for name, body := range loadFixtures(t) {
		wh, err := fixedDecoder().Decode(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run("fixture "+name, func(t *testing.T) { roundTrip(t, wh.Event) })
	}
}

func roundTrip(t *testing.T, ev domain.Event) {
	t.Helper()
	data, err := codec.MarshalEvent(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !json.Valid(data) {
		t.Fatalf("Marshal produced invalid JSON: %s", data)
	}
	back, err := codec.UnmarshalEvent(ev.Type(), data)
	if err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("round trip of %s\n got  %s\n want %s", data, show(domain.Webhook{Event: back}), show(domain.Webhook{Event: ev}))
	}
	if domain.Key(back) != domain.Key(ev) || domain.EventID(back) != domain.EventID(ev) {
		t.Errorf("round trip changed the key: %q → %q", domain.Key(ev), domain.Key(back))
	}
}

// TestEventTypeNames pins the stored type names: renaming one orphans every
// stored event of that type.
func TestEventTypeNames(t *testing.T) {
	pinned := map[domain.Payload]string{
		domain.SessionStarted{}:         "session.started.v1",
		domain.ParticipantJoined{}:      "session.participant_joined.v1",
		domain.ParticipantLeft{}:        "session.participant_left.v1",
		domain.RecordingGenerated{}:     "session.recording_generated.v1",
		domain.TranscriptionGenerated{}: "session.transcription_generated.v1",
		domain.CallRinging{}:            "call.ringing.v1",
		domain.SessionAbandoned{}:       "session.abandoned.v1",
	}
	for p, want := range pinned {
		if got := p.EventType(); got != want {
			t.Errorf("%T.EventType() = %q, want %q", p, got, want)
		}
	}
	// Types holding slices are not comparable map keys.
	if got := (domain.SessionEnded{}).EventType(); got != "session.ended.v1" {
		t.Errorf("SessionEnded.EventType() = %q", got)
	}
	if got := (domain.SessionReconciled{}).EventType(); got != "session.reconciled.v1" {
		t.Errorf("SessionReconciled.EventType() = %q", got)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	data, err := codec.MarshalEvent(domain.Event{AppID: "a", SessionID: "s", Payload: domain.SessionStarted{CreatedAt: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"", "session.started", "session.started.v2", "Session.Started.V1", "meeting_started"} {
		_, err := codec.UnmarshalEvent(typ, data)
		if !errors.Is(err, domain.ErrUnknownEventType) {
			t.Errorf("Unmarshal(%q) error = %v, want ErrUnknownEventType", typ, err)
		}
	}
	for name, bad := range map[string]string{
		"not JSON":           `nope`,
		"array":              `[]`,
		"payload wrong type": `{"app_id":"a","session_id":"s","payload":{"created_at":"x"}}`,
		"app_id wrong type":  `{"app_id":1,"session_id":"s","payload":{}}`,
	} {
		_, err := codec.UnmarshalEvent(domain.TypeSessionStarted, []byte(bad))
		if err == nil {
			t.Errorf("%s: Unmarshal accepted %s", name, bad)
		} else if errors.Is(err, domain.ErrUnknownEventType) {
			t.Errorf("%s: a known type with bad data reported ErrUnknownEventType", name)
		}
	}
	if _, err := codec.MarshalEvent(domain.Event{AppID: "a", SessionID: "s"}); err == nil {
		t.Error("Marshal of an event without a payload succeeded")
	}
}
