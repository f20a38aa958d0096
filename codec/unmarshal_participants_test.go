package codec_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// checkParticipantsFastPath: what the scanner reads it reads as the
// general decoder does, and UnmarshalParticipants gives the general
// decoder's result (or error) on any input. It reports whether the
// scanner read data.
func checkParticipantsFastPath(t *testing.T, data []byte) bool {
	t.Helper()
	var want struct {
		P []domain.Attendance `json:"p"`
		U []domain.Attendance `json:"u,omitempty"`
	}
	wantErr := codec.UnmarshalV2(data, &want)
	p, u, ok := codec.UnmarshalParticipantsFast(data)
	if ok && wantErr != nil {
		t.Fatalf("%q: the scanner accepted it, the general decoder rejected it: %v", data, wantErr)
	}
	if ok && (!reflect.DeepEqual(p, want.P) || !reflect.DeepEqual(u, want.U)) {
		t.Fatalf("%q: the scanner decoded\n%#v\n%#v\nthe general decoder\n%#v\n%#v", data, p, u, want.P, want.U)
	}
	var m domain.Meeting
	err := codec.UnmarshalParticipants(data, &m)
	// (The messages name the Go types, which differ: compare the outcome.)
	if (err != nil) != (wantErr != nil) || (err == nil && (!reflect.DeepEqual(m.Participants, want.P) || !reflect.DeepEqual(m.UnmatchedParticipants, want.U))) {
		t.Fatalf("%q: UnmarshalParticipants gave %v; the general decoder %v", data, err, wantErr)
	}
	return ok
}

// participantSections returns the participants sections of n random
// meetings (with plans, absent rows, open intervals, unmatched rows) and
// of rows with tricky strings and non-UTC or sub-second times.
func participantSections(t testing.TB, rng *rand.Rand, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		m := foldtest.Fold(foldtest.RandomSession(rng, i)).Meeting()
		if rng.IntN(4) == 0 && len(m.Participants) > 0 {
			r := &m.Participants[0]
			r.Name = trickyStrings[rng.IntN(len(trickyStrings))]
			at := time.Unix(1696934400, int64(rng.IntN(1e9))).In(time.FixedZone("X", 3600))
			r.FirstJoinedAt = at
			r.AttendanceRatio = 1e-7
		}
		b, err := codec.Participants(&m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestUnmarshalParticipantsFastPath(t *testing.T) {
	read := 0
	for _, b := range participantSections(t, rand.New(rand.NewPCG(5, 6)), 2000) {
		if checkParticipantsFastPath(t, b) {
			read++
		}
	}
	if read < 1500 {
		t.Fatalf("the scanner read only %d of 2000 sections written by Participants", read)
	}
	for _, c := range []string{`{"p":null}`, `{"p":[]}`, `{"p":[],"u":[]}`, `{"p":[{}]}`, `{"P":[]}`, `{"p":[]} `,
		`{"p":[{"participant":"a","name":"","first_joined_at":"2023-02-30T10:00:00Z","last_left_at":null,"attended_seconds":0,"attendance_ratio":0,"join_count":0,"intervals":[],"on_roster":true}]}`,
		`{"p":[{"participant":"a","name":"","first_joined_at":"2023-02-03T24:00:00Z","last_left_at":null,"attended_seconds":0,"attendance_ratio":0,"join_count":0,"intervals":[],"on_roster":true}]}`,
		`{"p":[{"participant":"a","name":"","first_joined_at":"0001-01-01T00:00:00Z","last_left_at":null,"attended_seconds":0,"attendance_ratio":0,"join_count":0,"intervals":[],"on_roster":true,"scheduled_attended_seconds":0,"scheduled_attendance_ratio":0,"late_seconds":0,"left_early_seconds":0,"late":false,"left_early":false,"verdict":"absent"}]}`,
	} {
		checkParticipantsFastPath(t, []byte(c))
	}
}

// FuzzUnmarshalParticipantsFastPath is the differential test of the
// participants scanner on any input.
func FuzzUnmarshalParticipantsFastPath(f *testing.F) {
	for _, b := range participantSections(f, rand.New(rand.NewPCG(7, 8)), 100) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParticipantsFastPath(t, data) })
}
