package codec_test

import (
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
	"github.com/meetingd/meetingd/internal/eventgen"
)

// fastTypes are the event types the fast path reads (unmarshal_fast.go):
// about 99% of a log (internal/eventgen has 52% joins, 37% leaves, 6%
// starts, 3% ends, 1% ringing).
var fastTypes = []string{
	domain.TypeParticipantJoined, domain.TypeParticipantLeft, domain.TypeSessionStarted,
	domain.TypeSessionEnded, domain.TypeCallRinging,
}

// stored is an event's stored form: its type name and data.
type stored struct {
	typ  string
	data []byte
}

// storedForms returns the stored form (Event.Marshal) of every event of the
// shared webhook fixtures, of the fold sessions in domain/testdata/fold and of the
// first corpusEvents events of an internal/eventgen log.
func storedForms(tb testing.TB, corpusEvents int) []stored {
	tb.Helper()
	var events []domain.Event
	fixtures := cometchattest.Webhooks(tb)
	for _, name := range slices.Sorted(maps.Keys(fixtures)) {
		wh, err := cometchat.Decoder{}.Decode(fixtures[name])
		if err != nil {
			continue // the error fixtures
		}
		events = append(events, wh.Event)
	}
	paths, err := filepath.Glob(filepath.Join("..", "domain", "testdata", "fold", "*.jsonl"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fold sessions: %v", err)
	}
	for _, p := range paths {
		events = append(events, foldtest.ReadSession(tb, p)...)
	}
	gen, err := eventgen.Generate(eventgen.Config{Events: corpusEvents})
	if err != nil {
		tb.Fatal(err)
	}
	for it, err := range gen {
		if err != nil {
			tb.Fatal(err)
		}
		events = append(events, it.Event)
	}
	out := make([]stored, 0, len(events))
	for _, ev := range events {
		data, err := codec.MarshalEvent(ev)
		if err != nil {
			tb.Fatalf("marshal %+v: %v", ev, err)
		}
		out = append(out, stored{typ: ev.Type(), data: data})
	}
	return out
}

// checkFastPath asserts that Unmarshal (fast path first) and the general
// decoder agree on data: same error, or deep-equal events; and that the
// fast path accepts nothing the general decoder rejects. It reports whether
// the fast path accepted data.
func checkFastPath(t *testing.T, eventType string, data []byte) bool {
	t.Helper()
	want, wantErr := codec.UnmarshalGeneral(eventType, data)
	fast, ok := codec.UnmarshalFast(eventType, data)
	if ok && wantErr != nil {
		t.Fatalf("%s %q: the fast path accepted %+v, the general decoder rejected it: %v", eventType, data, fast, wantErr)
	}
	if ok && !reflect.DeepEqual(fast, want) {
		t.Fatalf("%s %q: the fast path decoded\n%#v\nthe general decoder\n%#v", eventType, data, fast, want)
	}
	got, err := codec.UnmarshalEvent(eventType, data)
	if errString(err) != errString(wantErr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %q: Unmarshal gave %#v, %v; the general decoder %#v, %v", eventType, data, got, err, want, wantErr)
	}
	return ok
}

// TestUnmarshalFastPathStoredForms decodes every stored form of the
// fixtures and of a corpus sample both ways: the fast path reads every one
// of its types, to the same event.
func TestUnmarshalFastPathStoredForms(t *testing.T) {
	forms := storedForms(t, 20_000)
	seen := map[string]int{}
	for _, s := range forms {
		accepted := checkFastPath(t, s.typ, s.data)
		if slices.Contains(fastTypes, s.typ) {
			if !accepted {
				t.Errorf("the fast path did not read the stored form of a %s: %s", s.typ, s.data)
			}
			seen[s.typ]++
		}
	}
	for _, typ := range fastTypes {
		if seen[typ] == 0 {
			t.Errorf("no stored %s in the fixtures or corpus", typ)
		}
	}
}

// fastPathCases are inputs at the edge of the fast path's grammar: each
// either is read by it (fast) or left to the general decoder.
func fastPathCases() []struct {
	name, typ, data string
	fast            bool
} {
	const (
		joined = domain.TypeParticipantJoined
		left   = domain.TypeParticipantLeft
		start  = domain.TypeSessionStarted
		ended  = domain.TypeSessionEnded
		ring   = domain.TypeCallRinging
		env    = `{"app_id":"a","session_id":"s","kind":"meeting","trigger":"meeting_participant_joined","payload":`
		occ    = `{"occupant":{"uid":"u1","name":"Ana","joined_at":1700000000,"left_at":1700000600,"audio_only":false}}`
	)
	return []struct {
		name, typ, data string
		fast            bool
	}{
		{"canonical join", joined, env + `{"occupant":{"name":"Ana","joined_at":1700000000,"audio_only":true},"client":{"platform":"web","sdk":"react","call_version":"2.3.0","mode":"DEFAULT","audio_only":false}}}`, true},
		{"canonical leave", left, env + occ + `}`, true},
		{"empty client", joined, env + `{"occupant":{"name":"Ana","joined_at":1},"client":{}}}`, true},
		{"no kind, no trigger (older stored form)", left, `{"app_id":"a","session_id":"s","payload":` + occ + `}`, true},
		{"empty kind and uid written out", left, `{"app_id":"a","session_id":"s","kind":"","payload":{"occupant":{"uid":"","name":"","joined_at":0,"left_at":0}}}`, true},
		{"non-ASCII names", left, `{"app_id":"a","session_id":"s","payload":{"occupant":{"name":"Zoë 李 🎉","joined_at":-5}}}`, true},
		{"ended without created_at and occupants", ended, `{"app_id":"a","session_id":"s","kind":"meeting","payload":{"destroyed_at":1700000600}}`, true},
		{"ended with occupants", ended, `{"app_id":"a","session_id":"s","payload":{"created_at":1,"destroyed_at":2,"all_occupants":[{"name":"A","joined_at":1,"left_at":2},{"uid":"b","name":"B","joined_at":1,"audio_only":true}]}}`, true},
		{"minimal ringing", ring, `{"app_id":"a","session_id":"s","kind":"call","trigger":"call_busy","payload":{"action":"busy","call_id":"c","sent_at":1}}`, true},
		{"started, 18 digits", start, `{"app_id":"a","session_id":"s","payload":{"created_at":-999999999999999999}}`, true},

		{"whitespace", left, `{"app_id": "a","session_id":"s","payload":` + occ + `}`, false},
		{"trailing whitespace", left, env + occ + "}\n", false},
		{"trailing garbage", left, env + occ + `}x`, false},
		{"second value", left, env + occ + `}{}`, false},
		{"truncated", left, env + occ, false},
		{"reordered envelope", left, `{"session_id":"s","app_id":"a","payload":` + occ + `}`, false},
		{"reordered occupant", left, env + `{"occupant":{"joined_at":1,"name":"Ana"}}}`, false},
		{"kind after trigger", left, `{"app_id":"a","session_id":"s","trigger":"t","kind":"k","payload":` + occ + `}`, false},
		{"unknown envelope key", left, `{"v":2,"app_id":"a","session_id":"s","payload":` + occ + `}`, false},
		{"unknown occupant key", left, env + `{"occupant":{"name":"Ana","email":"x","joined_at":1}}}`, false},
		{"unknown payload key", start, env + `{"created_at":1,"extra":[1,{"a":null}]}}`, false},
		{"key in other case", left, `{"APP_ID":"a","session_id":"s","payload":` + occ + `}`, false},
		{"duplicate key", left, `{"app_id":"a","app_id":"b","session_id":"s","payload":` + occ + `}`, false},
		{"escaped quote", left, env + `{"occupant":{"name":"Ana \"A\"","joined_at":1}}}`, false},
		{"escaped HTML", left, env + `{"occupant":{"name":"A \u0026 B","joined_at":1}}}`, false},
		{"escaped surrogate pair", left, env + `{"occupant":{"name":"\ud83c\udf89","joined_at":1}}}`, false},
		{"lone surrogate", left, env + `{"occupant":{"name":"\ud83c","joined_at":1}}}`, false},
		{"invalid UTF-8", left, env + "{\"occupant\":{\"name\":\"A\xff\xfeB\",\"joined_at\":1}}}", false},
		{"raw control character", left, env + "{\"occupant\":{\"name\":\"A\tB\",\"joined_at\":1}}}", false},
		{"raw NUL", left, env + "{\"occupant\":{\"name\":\"A\x00\",\"joined_at\":1}}}", false},
		{"fraction", start, env + `{"created_at":1.0}}`, false},
		{"exponent", start, env + `{"created_at":1e9}}`, false},
		{"minus zero", start, env + `{"created_at":-0}}`, false},
		{"leading zero", start, env + `{"created_at":017}}`, false},
		{"plus sign", start, env + `{"created_at":+1}}`, false},
		{"19 digits", start, env + `{"created_at":1000000000000000000}}`, false},
		{"max int64", start, env + `{"created_at":9223372036854775807}}`, false},
		{"int64 overflow", start, env + `{"created_at":9223372036854775808}}`, false},
		{"number as string", start, env + `{"created_at":"1"}}`, false},
		{"null payload", start, env + `null}`, false},
		{"no payload", start, `{"app_id":"a","session_id":"s"}`, false},
		{"null name", left, env + `{"occupant":{"name":null,"joined_at":1}}}`, false},
		{"null app id", left, `{"app_id":null,"session_id":"s","payload":` + occ + `}`, false},
		{"null client", joined, env + `{"occupant":{"name":"A","joined_at":1},"client":null}}`, false},
		{"null audio_only", left, env + `{"occupant":{"name":"A","joined_at":1,"audio_only":null}}}`, false},
		{"bool as string", left, env + `{"occupant":{"name":"A","joined_at":1,"audio_only":"true"}}}`, false},
		{"null occupants", ended, env + `{"destroyed_at":2,"all_occupants":null}}`, false},
		{"empty occupants", ended, env + `{"destroyed_at":2,"all_occupants":[]}}`, false},
		{"trailing comma in occupants", ended, env + `{"destroyed_at":2,"all_occupants":[{"name":"A","joined_at":1},]}}`, false},
		{"another type's payload", joined, env + `{"created_at":1}}`, false},
		{"key ending the input in a backslash (goccy/go-json#604)", left, `{"sod":"mmet","payload":{"\`, false},
		{"the same inside the payload", left, env + `{"occupant":{"\`, false},
		{"not an object", left, `[]`, false},
		{"empty", left, ``, false},
		{"empty object", left, `{}`, false},
		{"type the fast path leaves alone", domain.TypeSessionAbandoned, env + `{"last_event_at":1,"decided_at":2}}`, false},
		{"unknown type", "session.unknown.v9", env + occ + `}`, false},
	}
}

// TestUnmarshalFastPath checks the fast path's edges: what it reads, it
// reads as the general decoder does; the rest Unmarshal decodes (or
// rejects) exactly as the general decoder.
func TestUnmarshalFastPath(t *testing.T) {
	for _, c := range fastPathCases() {
		t.Run(c.name, func(t *testing.T) {
			if got := checkFastPath(t, c.typ, []byte(c.data)); got != c.fast {
				t.Errorf("fast path read it: %v, want %v", got, c.fast)
			}
		})
	}
}

// FuzzUnmarshalFastPath is the differential test of the fast path: on any
// input, Unmarshal and the general decoder give the same event or the same
// error, and the fast path accepts nothing the general decoder rejects.
// Seeds: every stored form of the fixtures and of a corpus sample, the edge
// cases of TestUnmarshalFastPath, and each stored form with a byte dropped
// and with spaces around its first colon.
//
//	go test -run='^$' -fuzz=FuzzUnmarshalFastPath -fuzztime=1m ./codec/
func FuzzUnmarshalFastPath(f *testing.F) {
	typeIndex := func(typ string) uint8 {
		if i := slices.Index(storedTypes, typ); i >= 0 {
			return uint8(i)
		}
		return uint8(len(storedTypes) - 1) // the unknown type
	}
	forms := storedForms(f, 2_000)
	for i, s := range forms {
		typ := typeIndex(s.typ)
		f.Add(typ, s.data)
		if i%7 == 0 && len(s.data) > 2 {
			f.Add(typ, slices.Delete(slices.Clone(s.data), len(s.data)/2, len(s.data)/2+1))
			f.Add(typ, []byte(strings.Replace(string(s.data), ":", " : ", 1)))
		}
	}
	for _, c := range fastPathCases() {
		f.Add(typeIndex(c.typ), []byte(c.data))
	}
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		checkFastPath(t, storedTypes[int(typ)%len(storedTypes)], data)
	})
}

// BenchmarkUnmarshal decodes a realistic mix of stored events (a corpus
// sample, in log order) with UnmarshalEvent (fast: the scanner, the rest
// on the general decoder) and with its general decoder alone
// (encoding/json/v2: what the scanner leaves to it). ns/op
// and allocs/op are per event; cpu-ns/op is the process's CPU time per
// event (garbage collection included), steadier than ns/op on a shared
// machine.
func BenchmarkUnmarshal(b *testing.B) {
	forms := storedForms(b, 20_000)
	for _, bc := range []struct {
		name   string
		decode func(string, []byte) (domain.Event, error)
	}{
		{"fast", codec.UnmarshalEvent},
		{"general", codec.UnmarshalGeneral},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := cpuTime(b)
			for b.Loop() {
				s := &forms[i]
				if _, err := bc.decode(s.typ, s.data); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(forms) {
					i = 0
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// errString is err's text, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
