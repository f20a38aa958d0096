package codec_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// checkMeetingJSON fails unless AppendMeeting and AppendAttendance
// write the bytes encoding/json writes (and refuse what it refuses).
func checkMeetingJSON(t *testing.T, m domain.Meeting) {
	t.Helper()
	want, wantErr := json.Marshal(m)
	got, err := codec.AppendMeeting([]byte("x"), &m)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("AppendMeeting error %v, encoding/json's %v", err, wantErr)
	}
	if err == nil && !bytes.Equal(got, append([]byte("x"), want...)) {
		t.Fatalf("AppendMeeting wrote\n%s\nencoding/json wrote\nx%s", got, want)
	}
	for _, rows := range [][]domain.Attendance{m.Participants, m.UnmatchedParticipants} {
		want, wantErr := json.Marshal(rows)
		got, err := codec.AppendAttendance(nil, rows)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("AppendAttendanceJSON error %v, encoding/json's %v", err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("AppendAttendanceJSON wrote\n%s\nencoding/json wrote\n%s", got, want)
		}
	}
}

// TestMeetingJSONMatchesStdlib compares the meetings of many random
// sessions, and their list form without participants (as the read models
// store it), with encoding/json.
func TestMeetingJSONMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := range 3000 {
		m := foldtest.Fold(foldtest.RandomSession(rng, n)).Meeting()
		checkMeetingJSON(t, m)
		m.Participants, m.UnmatchedParticipants = nil, nil
		checkMeetingJSON(t, m)
	}
	checkMeetingJSON(t, domain.Meeting{})
	checkMeetingJSON(t, domain.Meeting{Recordings: []domain.Recording{}, Participants: []domain.Attendance{{}}})
}

// FuzzMeetingJSONMatchesStdlib puts arbitrary strings, times (also outside
// what JSON can hold, and with zones) and floats into every field.
func FuzzMeetingJSONMatchesStdlib(f *testing.F) {
	f.Add("Ann", "<&>\u2028\x00\xff", int64(1700000000), int64(5), 0.5, true)
	f.Add("", "名前", int64(-62135596800), int64(0), math.NaN(), false)
	f.Add("x", "y", int64(253402300800), int64(999999999), 1e21, true)
	f.Add("x", "y", int64(0), int64(1), 1e-7, false)
	f.Fuzz(func(t *testing.T, s1, s2 string, sec, nsec int64, ratio float64, flag bool) {
		t1 := time.Unix(sec, nsec).UTC()
		t2 := time.Unix(sec/2, 0).In(time.FixedZone("z", int(nsec%86400)))
		m := domain.Meeting{
			AppID: s1, SessionID: s2, Kind: domain.Kind(s1), Status: domain.Status(s2), StartedAt: t1, EndedAt: &t2,
			DurationSeconds: sec, ParticipantCount: int(nsec), PeakConcurrent: -1, TotalAttendanceSeconds: nsec,
			Outcome: domain.Outcome(s2), Initiator: s1, InitiatorName: s2, Receiver: s1, ReceiverType: s2, Media: s1,
			Recordings:     []domain.Recording{{URL: s1, StartedAt: &t1, DurationSeconds: ratio, RecordingDate: s2}, {}},
			Transcriptions: []domain.Transcription{{URL: s2, StartedAt: &t2}},
			Participants: []domain.Attendance{{
				Participant: s1, Name: s2, FirstJoinedAt: t2, LastLeftAt: &t1, AttendedSeconds: sec, AttendanceRatio: ratio,
				JoinCount: 2, Intervals: []domain.Interval{{JoinedAt: t1}, {JoinedAt: t2, LeftAt: &t1}}, AudioOnly: &flag,
				Platform: s1, SDK: s2,
			}, {Participant: s2}},
			LastEventAt: t2,
		}
		if flag {
			m.InitiatedAt = &t1
			m.UnmatchedParticipants = m.Participants[1:]
			m.Transcriptions = nil
		}
		checkMeetingJSON(t, m)
	})
}
