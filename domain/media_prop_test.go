package domain_test

import (
	"math/rand/v2"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

// TestMediaSplitProperty: for random sessions (media flags that disagree
// between a join, its initial_config, its leave, the all_occupants entry and
// the REST copy, in any order, with duplicates), every row's audio_seconds +
// video_seconds is its attended_seconds, and both equal a brute-force count
// written apart from the fold: second by second over the meeting's window, a
// second is video when a video interval of the participant covers it, else
// audio when an audio one does, an interval's medium being decided from the
// flags of every event that reported it (API.md "Usage").
func TestMediaSplitProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 18))
	for n := range 1500 {
		events := foldtest.RandomSession(rng, n)
		m := domain.Fold(shuffledWithDuplicates(rng, events))
		flags := mediaFlagsOf(events)
		start := m.StartedAt.Unix()
		end := m.LastEventAt.Unix()
		if m.EndedAt != nil {
			end = m.EndedAt.Unix()
		}
		end = max(end, start)
		var audio, video int64
		for _, r := range m.Participants {
			if r.AudioSeconds+r.VideoSeconds != r.AttendedSeconds || r.AudioSeconds < 0 || r.VideoSeconds < 0 {
				t.Fatalf("session %d, %s: audio %d + video %d != attended %d", n, r.Participant, r.AudioSeconds, r.VideoSeconds, r.AttendedSeconds)
			}
			wantA, wantV := bruteForceSplit(r, flags, start, end)
			if r.AudioSeconds != wantA || r.VideoSeconds != wantV {
				t.Fatalf("session %d, %s: audio %d video %d, brute force %d and %d\nmeeting %s", n, r.Participant,
					r.AudioSeconds, r.VideoSeconds, wantA, wantV, mustJSON(t, m))
			}
			audio += r.AudioSeconds
			video += r.VideoSeconds
		}
		if m.AudioSeconds != audio || m.VideoSeconds != video || audio+video != m.TotalAttendanceSeconds {
			t.Fatalf("session %d: meeting audio %d video %d, rows %d and %d, total %d", n, m.AudioSeconds, m.VideoSeconds, audio, video, m.TotalAttendanceSeconds)
		}
	}
}

type ivKey struct {
	id string
	j  int64
}

// mediaFlagsOf collects, per (identity, joined_at), whether any report said
// audio ([0]) and whether any said not ([1]).
func mediaFlagsOf(events []domain.Event) map[ivKey][2]bool {
	out := map[ivKey][2]bool{}
	add := func(o domain.Occupant, vs ...*bool) {
		k := ivKey{o.Identity(), o.JoinedAt}
		f := out[k]
		for _, v := range vs {
			if v != nil {
				if *v {
					f[0] = true
				} else {
					f[1] = true
				}
			}
		}
		out[k] = f
	}
	for _, ev := range events {
		switch p := ev.Payload.(type) {
		case domain.ParticipantJoined:
			if p.Client != nil {
				add(p.Occupant, p.Occupant.AudioOnly, p.Client.AudioOnly)
			} else {
				add(p.Occupant, p.Occupant.AudioOnly)
			}
		case domain.ParticipantLeft:
			add(p.Occupant, p.Occupant.AudioOnly)
		case domain.SessionEnded:
			for _, o := range p.AllOccupants {
				add(o, o.AudioOnly)
			}
		case domain.SessionReconciled:
			for _, o := range p.Intervals {
				add(o, o.AudioOnly)
			}
		}
	}
	return out
}

// bruteForceSplit counts the row's seconds in [start, end) one by one.
func bruteForceSplit(r domain.Attendance, flags map[ivKey][2]bool, start, end int64) (audio, video int64) {
	for s := start; s < end; s++ {
		inAudio, inVideo := false, false
		for _, iv := range r.Intervals {
			j, l := iv.JoinedAt.Unix(), end // open while live: up to the window's end
			if iv.LeftAt != nil {
				l = iv.LeftAt.Unix()
			}
			if s < j || s >= l {
				continue
			}
			f := flags[ivKey{r.Participant, j}]
			if f[0] && !f[1] {
				inAudio = true
			} else {
				inVideo = true
			}
		}
		switch {
		case inVideo:
			video++
		case inAudio:
			audio++
		}
	}
	return audio, video
}
