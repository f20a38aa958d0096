package codec_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// checkMeetingFastPath asserts that UnmarshalMeeting (the row scanner
// first) and the general decoder agree on data: the same error, or
// deep-equal meetings, decoding into a zero Meeting and into one that
// already holds values (which the general decoder merges into); and that
// the scanner accepts nothing the general decoder rejects. It reports
// whether the scanner accepted data.
func checkMeetingFastPath(t *testing.T, data []byte) bool {
	t.Helper()
	var want domain.Meeting
	wantErr := codec.UnmarshalV2(data, &want)
	fast, ok := codec.UnmarshalMeetingFast(data)
	if ok && wantErr != nil {
		t.Fatalf("%q: the scanner accepted %+v, the general decoder rejected it: %v", data, fast, wantErr)
	}
	if ok && !reflect.DeepEqual(fast, want) {
		t.Fatalf("%q: the scanner decoded\n%#v\nthe general decoder\n%#v", data, fast, want)
	}
	var got domain.Meeting
	err := codec.UnmarshalMeeting(data, &got)
	if errString(err) != errString(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: UnmarshalMeeting gave %#v, %v; the general decoder %#v, %v", data, got, err, want, wantErr)
	}
	// Into a meeting that holds values: the general decoder's merge.
	filled := func() *domain.Meeting {
		at := time.Unix(1, 0).UTC()
		return &domain.Meeting{AppID: "old", Outcome: "old", Media: "old", EndedAt: &at, InitiatedAt: &at,
			Recordings: []domain.Recording{{URL: "old", StartedAt: &at}}, Participants: []domain.Attendance{{Name: "old"}}}
	}
	wantMerged, gotMerged := filled(), filled()
	wantErr = codec.UnmarshalV2(data, wantMerged)
	err = codec.UnmarshalMeeting(data, gotMerged)
	if errString(err) != errString(wantErr) || !reflect.DeepEqual(gotMerged, wantMerged) {
		t.Fatalf("%q into a filled meeting: UnmarshalMeeting gave %#v, %v; the general decoder %#v, %v",
			data, gotMerged, err, wantMerged, wantErr)
	}
	return ok
}

// trickyStrings are strings whose stored form holds every escape
// encoding/json writes, multi-byte and invalid UTF-8.
var trickyStrings = []string{
	"", "Ann", "<b>&amp;</b>", "say \"hi\"\\", "tab\there\nnew\r\x00\x1f\x7f", "名前 😀 ünïcode",
	"line\u2028para\u2029", "\xff\xfe bad utf8 \xc3", "https://x.example/r.mp4?a=1&b=2", "/slash/",
}

// randomRows returns the rows of n random meetings: random sessions folded
// (domain/foldtest), with tricky strings, recordings with float durations,
// transcriptions and ringing fields put in at random.
func randomRows(t testing.TB, rng *rand.Rand, n int) [][]byte {
	t.Helper()
	str := func() string { return trickyStrings[rng.IntN(len(trickyStrings))] }
	floats := []float64{0, 0.5, 1e-7, 1e21, 123.456, math.Copysign(0, -1), 3600, 1.5e-300}
	var rows [][]byte
	for i := range n {
		m := foldtest.Fold(foldtest.RandomSession(rng, i)).Meeting()
		if rng.IntN(3) == 0 {
			m.AppID, m.SessionID, m.InitiatorName, m.Receiver = str(), str(), str(), str()
			m.Outcome, m.Media = domain.Outcome(str()), str()
		}
		if rng.IntN(4) == 0 {
			at := m.StartedAt.Add(time.Duration(rng.Int64N(1e12)))
			m.InitiatedAt = &at
		}
		switch rng.IntN(4) {
		case 0:
			m.Recordings = []domain.Recording{}
		case 1:
			at := m.StartedAt.Add(time.Duration(rng.Int64N(1e12))) // with nanoseconds
			m.Recordings = append(m.Recordings,
				domain.Recording{URL: str(), StartedAt: &at, DurationSeconds: floats[rng.IntN(len(floats))], RecordingDate: str()},
				domain.Recording{DurationSeconds: rng.Float64() * 1e4})
			m.Transcriptions = append(m.Transcriptions, domain.Transcription{URL: str(), EndedAt: &at})
		}
		row, err := codec.MeetingRow(m)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	return rows
}

// TestUnmarshalMeetingFastPathRows decodes the rows of many random meetings
// both ways: the scanner reads every one, to the same meeting.
func TestUnmarshalMeetingFastPathRows(t *testing.T) {
	rows := randomRows(t, rand.New(rand.NewPCG(17, 18)), 3000)
	rows = append(rows, mustRow(t, domain.Meeting{}))
	for _, row := range rows {
		if !checkMeetingFastPath(t, row) {
			t.Errorf("the scanner did not read a stored row: %s", row)
		}
	}
}

func mustRow(t testing.TB, m domain.Meeting) []byte {
	t.Helper()
	row, err := codec.MeetingRow(m)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// meetingFastPathCases are inputs at the edge of the scanner's grammar,
// each a change to a stored row: read by it (fast), or left to the general
// decoder.
func meetingFastPathCases(t testing.TB) []struct {
	name, data string
	fast       bool
} {
	at := time.Date(2024, 2, 29, 23, 59, 59, 123_000_000, time.UTC)
	row := string(mustRow(t, domain.Meeting{
		AppID: "app", SessionID: "s1", Kind: domain.KindCall, Status: domain.StatusEnded, StartedAt: at, EndedAt: &at,
		DurationSeconds: 60, ParticipantCount: 2, PeakConcurrent: 2, TotalAttendanceSeconds: 100,
		Outcome: "answered", Initiator: "u1", InitiatedAt: &at,
		Recordings:     []domain.Recording{{URL: "r", StartedAt: &at, DurationSeconds: 1.5, RecordingDate: "d"}},
		Transcriptions: []domain.Transcription{{URL: "t"}}, LastEventAt: at,
	}))
	edit := func(old, new string) string {
		if !strings.Contains(row, old) {
			t.Fatalf("%q not in %s", old, row)
		}
		return strings.Replace(row, old, new, 1)
	}
	return []struct {
		name, data string
		fast       bool
	}{
		{"row", row, true},
		{"escapes", edit(`"app"`, `"a\"\\\/\b\f\n\r\t\u0000\u00e9\u2028\ud83d\ude00\u003C"`), true},
		{"raw unicode", edit(`"app"`, `"名前😀"`), true},
		{"lone high surrogate", edit(`"app"`, `"\ud83d"`), false},
		{"lone low surrogate", edit(`"app"`, `"\ude00x"`), false},
		{"high surrogate then other escape", edit(`"app"`, `"\ud83d\u0041"`), false},
		{"bad escape", edit(`"app"`, `"\x"`), false},
		{"short unicode escape", edit(`"app"`, `"\u12"`), false},
		{"raw control character", edit(`"app"`, "\"a\x01\""), false},
		{"invalid utf8", edit(`"app"`, "\"a\xff\""), false},
		{"invalid utf8 with escape", edit(`"app"`, "\"\\n\xff\""), false},
		{"unterminated string", `{"app_id":"a\n`, false},
		{"unknown kind", edit(`"call"`, `"webinar"`), true},
		{"unknown status", edit(`"ended"`, `"paused"`), true},
		{"ended_at null", edit(`"ended_at":"2024-02-29T23:59:59.123Z"`, `"ended_at":null`), true},
		{"time with offset", edit(`"started_at":"2024-02-29T23:59:59.123Z"`, `"started_at":"2024-03-01T01:59:59.123+02:00"`), false},
		{"time trailing zero", edit(`"started_at":"2024-02-29T23:59:59.123Z"`, `"started_at":"2024-02-29T23:59:59.1230Z"`), false},
		{"time lowercase z", edit(`"started_at":"2024-02-29T23:59:59.123Z"`, `"started_at":"2024-02-29T23:59:59.123z"`), false},
		{"time invalid", edit(`"started_at":"2024-02-29T23:59:59.123Z"`, `"started_at":"2023-02-29T23:59:59Z"`), false},
		{"time as number", edit(`"started_at":"2024-02-29T23:59:59.123Z"`, `"started_at":1`), false},
		{"negative int", edit(`"duration_seconds":60`, `"duration_seconds":-60`), true},
		{"int -0", edit(`"duration_seconds":60`, `"duration_seconds":-0`), false},
		{"int leading zero", edit(`"duration_seconds":60`, `"duration_seconds":060`), false},
		{"int as float", edit(`"duration_seconds":60`, `"duration_seconds":60.0`), false},
		{"int overflow", edit(`"duration_seconds":60`, `"duration_seconds":99999999999999999999`), false},
		{"int max", edit(`"duration_seconds":60`, `"duration_seconds":9223372036854775807`), false},
		{"float exponent", edit(`"duration_seconds":1.5`, `"duration_seconds":1.5e-7`), true},
		{"float big exponent", edit(`"duration_seconds":1.5`, `"duration_seconds":1E+21`), true},
		{"float -0", edit(`"duration_seconds":1.5`, `"duration_seconds":-0`), true},
		{"float int", edit(`"duration_seconds":1.5`, `"duration_seconds":2`), true},
		{"float overflow", edit(`"duration_seconds":1.5`, `"duration_seconds":1e400`), false},
		{"float underflow", edit(`"duration_seconds":1.5`, `"duration_seconds":1e-400`), true},
		{"float bare dot", edit(`"duration_seconds":1.5`, `"duration_seconds":1.`), false},
		{"float leading dot", edit(`"duration_seconds":1.5`, `"duration_seconds":.5`), false},
		{"float plus", edit(`"duration_seconds":1.5`, `"duration_seconds":+1.5`), false},
		{"float leading zero", edit(`"duration_seconds":1.5`, `"duration_seconds":01.5`), false},
		{"float string", edit(`"duration_seconds":1.5`, `"duration_seconds":"1.5"`), false},
		{"recordings empty", edit(`[{"recording_url":"r","started_at":"2024-02-29T23:59:59.123Z","duration_seconds":1.5,"recording_date":"d"}]`, `[]`), true},
		{"recordings null", edit(`[{"recording_url":"r","started_at":"2024-02-29T23:59:59.123Z","duration_seconds":1.5,"recording_date":"d"}]`, `null`), true},
		{"recordings two", edit(`"recording_date":"d"}`, `"recording_date":"d"},{"recording_url":"","started_at":null,"duration_seconds":0,"recording_date":""}`), true},
		{"recordings trailing comma", edit(`"recording_date":"d"}`, `"recording_date":"d"},`), false},
		{"recording missing field", edit(`,"recording_date":"d"`, ``), false},
		{"transcriptions empty", edit(`[{"transcript_url":"t","started_at":null,"ended_at":null}]`, `[]`), true},
		{"optional left out", edit(`"outcome":"answered",`, ``), true},
		{"optional empty", edit(`"outcome":"answered"`, `"outcome":""`), true},
		{"initiated_at null", edit(`"initiated_at":"2024-02-29T23:59:59.123Z"`, `"initiated_at":null`), true},
		{"participants", edit(`"participants":null`, `"participants":[]`), false},
		{"unmatched", edit(`"participants":null`, `"participants":null,"unmatched_participants":null`), false},
		{"reordered", edit(`"app_id":"app","session_id":"s1"`, `"session_id":"s1","app_id":"app"`), false},
		{"case-folded key", edit(`"app_id"`, `"APP_ID"`), false},
		{"duplicate key", edit(`"session_id":"s1"`, `"session_id":"s1","session_id":"s2"`), false},
		{"unknown key", edit(`"session_id":"s1"`, `"session_id":"s1","x":1`), false},
		{"whitespace", edit(`"app_id":`, `"app_id" : `), false},
		{"trailing space", row + " ", false},
		{"trailing bytes", row + "x", false},
		{"truncated", row[:len(row)-1], false},
		{"null", `null`, false},
		{"empty", ``, false},
	}
}

// TestUnmarshalMeetingFastPath checks the scanner's edges: what it reads, it
// reads as the general decoder does; the rest UnmarshalMeeting decodes (or
// rejects) exactly as the general decoder.
func TestUnmarshalMeetingFastPath(t *testing.T) {
	for _, c := range meetingFastPathCases(t) {
		t.Run(c.name, func(t *testing.T) {
			if got := checkMeetingFastPath(t, []byte(c.data)); got != c.fast {
				t.Errorf("the scanner read %s: %v, want %v", c.data, got, c.fast)
			}
		})
	}
}

// FuzzUnmarshalMeetingFastPath is the differential test of the row
// scanner: on any input, UnmarshalMeeting and the general decoder give the
// same meeting or the same error, and the scanner accepts nothing the
// general decoder rejects. Seeds: the rows of random meetings and the
// edge cases of TestUnmarshalMeetingFastPath.
//
//	go test -run='^$' -fuzz=FuzzUnmarshalMeetingFastPath -fuzztime=1m ./codec/
func FuzzUnmarshalMeetingFastPath(f *testing.F) {
	for _, row := range randomRows(f, rand.New(rand.NewPCG(19, 20)), 200) {
		f.Add(row)
	}
	for _, c := range meetingFastPathCases(f) {
		f.Add([]byte(c.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMeetingFastPath(t, data)
	})
}
