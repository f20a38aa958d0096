package codec_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// stdFacts is the stored form of f as encoding/json (v1) writes it: the
// reference that MarshalFacts must match byte for byte.
func stdFacts(f *domain.Facts) ([]byte, error) {
	return json.Marshal(struct {
		V int `json:"v"`
		domain.FactsState
	}{1, f.State()})
}

// checkFactsJSON fails unless f's hand-written stored form is the bytes
// encoding/json writes for it, and unless it reads back to the same facts.
func checkFactsJSON(t *testing.T, f *domain.Facts) {
	t.Helper()
	want, wantErr := stdFacts(f)
	got, err := codec.MarshalFacts(f)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("MarshalJSON error %v, encoding/json's %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalJSON wrote\n%s\nencoding/json wrote\n%s", got, want)
	}
	// The general decoder reads it back to facts that store the same bytes.
	// Invalid UTF-8 in a string is written as U+FFFD, as encoding/json
	// writes it, so facts that held some (the intake never stores such
	// strings) may merge entries on the first read (two URLs that differed
	// only in their invalid bytes): for them the stored form is stable from
	// the first read on.
	again := storeReadBack(t, got)
	if bytes.Contains(want, []byte("\uFFFD")) { // what encoding/json writes for invalid UTF-8
		got, again = again, storeReadBack(t, again)
	}
	if !bytes.Equal(again, got) {
		t.Fatalf("facts read back store %s; want %s", again, got)
	}
}

// storeReadBack reads stored facts back and stores them again.
func storeReadBack(t *testing.T, stored []byte) []byte {
	t.Helper()
	var back domain.Facts
	if err := codec.UnmarshalFacts(stored, &back); err != nil {
		t.Fatalf("UnmarshalFacts(%s): %v", stored, err)
	}
	again, err := codec.MarshalFacts(&back)
	if err != nil {
		t.Fatalf("MarshalFacts of the facts read back from %s: %v", stored, err)
	}
	return again
}

// TestFactsJSONMatchesStdlib compares the stored form of the facts of many
// random sessions (participants, rejoins, recordings, transcripts, ringing,
// abandonment, reconciliation) with encoding/json's.
func TestFactsJSONMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for n := range 3000 {
		f := foldtest.Fold(foldtest.RandomSession(rng, n))
		checkFactsJSON(t, f)
		checkFactsJSON(t, roundTripFacts(t, f))
	}
	checkFactsJSON(t, &domain.Facts{})
	checkFactsJSON(t, domain.NewFacts("a", "s"))
}

// FuzzFactsJSONMatchesStdlib puts arbitrary strings, times and durations
// into every string and number of the stored form (names, ids, URLs, dates,
// ringing attributes) and compares MarshalJSON with encoding/json.
func FuzzFactsJSONMatchesStdlib(f *testing.F) {
	f.Add(uint64(1), "Ann", "https://r.test/1.mp4", int64(1700000000), 1.5)
	f.Add(uint64(2), "<b>&amp;</b>\u2028\u2029\x00\x1f\"\\\b\f\n\r\t", "\xff\xfe invalid", int64(-1), 1e-7)
	f.Add(uint64(3), "名前 😀", "", int64(math.MaxInt64), 1e21)
	f.Add(uint64(4), "x", "y", int64(math.MinInt64), math.Inf(1))
	f.Add(uint64(5), "", "\xed\xa0\x80", int64(0), -0.000001)
	f.Fuzz(func(t *testing.T, seed uint64, s1, s2 string, at int64, dur float64) {
		rng := rand.New(rand.NewPCG(seed, 1))
		pickS := func() string { return []string{s1, s2, "x"}[rng.IntN(3)] }
		pickT := func() int64 { return []int64{at, 1700000000, at + 1}[rng.IntN(3)] }
		yes := true
		var events []domain.Event
		for range 2 + rng.IntN(6) {
			ev := domain.Event{AppID: s1, SessionID: s2, Kind: domain.KindCall}
			switch rng.IntN(6) {
			case 0:
				ev.Payload = domain.ParticipantJoined{
					Occupant: domain.Occupant{UID: pickS(), Name: pickS(), JoinedAt: pickT(), AudioOnly: &yes},
					Client:   &domain.ClientInfo{Platform: pickS(), SDK: pickS()},
				}
			case 1:
				ev.Payload = domain.ParticipantLeft{Occupant: domain.Occupant{Name: pickS(), JoinedAt: pickT(), LeftAt: pickT()}}
			case 2:
				ev.Payload = domain.RecordingGenerated{URL: pickS(), StartTime: pickT(), Duration: dur, RecordingDate: pickS()}
			case 3:
				ev.Payload = domain.TranscriptionGenerated{TID: pickS(), URL: pickS(), StartTime: pickT(), EndTime: pickT(), TranscriptDate: pickS()}
			case 4:
				ev.Payload = domain.CallRinging{Action: []string{"initiated", "busy", pickS()}[rng.IntN(3)], Sender: pickS(),
					SenderName: pickS(), Receiver: pickS(), ReceiverType: pickS(), Media: pickS(), SentAt: pickT(), InitiatedAt: pickT()}
			default:
				ev.Payload = domain.SessionReconciled{StartedAt: pickT(), EndedAt: pickT(),
					Unmatched:  []domain.Occupant{{UID: pickS(), Name: pickS(), JoinedAt: pickT(), LeftAt: pickT()}},
					Recordings: []domain.RecordingGenerated{{URL: pickS(), StartTime: pickT(), Duration: dur}}}
			}
			events = append(events, ev)
		}
		checkFactsJSON(t, foldtest.Fold(events))
	})
}

// TestRingNameOrder: the ringing maps of the stored form are written in the
// order of their keys, as encoding/json writes maps.
func TestRingNameOrder(t *testing.T) {
	var events []domain.Event
	for i, a := range []string{"initiated", "rejected", "busy", "cancelled", "unanswered"} {
		events = append(events, domain.Event{AppID: "a", SessionID: "s", Kind: domain.KindCall, Payload: domain.CallRinging{
			Action: a, CallID: "c", Sender: "u-1", SenderName: "Ann", Receiver: "u-2", ReceiverType: "user", Media: "audio",
			SentAt: foldtest.T0 + int64(i)}})
	}
	b, err := codec.MarshalFacts(foldtest.Fold(events))
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range [][]string{
		{"busy", "cancelled", "initiated", "rejected", "unanswered"},
		{"initiator", "initiator_name", "media", "receiver", "receiver_type"},
	} {
		at := -1
		for _, n := range names {
			i := bytes.Index(b, []byte(`"`+n+`":`))
			if i <= at {
				t.Fatalf("%s out of order or missing in %s", n, b)
			}
			at = i
		}
	}
}

// roundTripFacts returns f stored and read back.
func roundTripFacts(t testing.TB, f *domain.Facts) *domain.Facts {
	t.Helper()
	b, err := codec.MarshalFacts(f)
	if err != nil {
		t.Fatal(err)
	}
	var g domain.Facts
	if err := codec.UnmarshalFacts(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}
