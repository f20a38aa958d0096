package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/domain/foldtest"
)

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// factsJSON returns the stored form of f.
func factsJSON(t testing.TB, f *domain.Facts) []byte {
	t.Helper()
	b, err := codec.MarshalFacts(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func roundTripFacts(t testing.TB, f *domain.Facts) *domain.Facts {
	t.Helper()
	var g domain.Facts
	if err := codec.UnmarshalFacts(factsJSON(t, f), &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestFoldProperties: for random sessions, any permutation with any
// duplicates, any split into batches with the facts serialised in between,
// and any partition folded separately and merged, give the same facts and
// the same Meeting; duplicates add nothing; and the Meeting is consistent.
func TestFoldProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20231010, 1))
	for n := range 1500 {
		events := foldtest.RandomSession(rng, n)
		ref := foldtest.Fold(events)
		wantFacts := factsJSON(t, ref)
		want := mustJSON(t, ref.Meeting())
		checkMeeting(t, ref.Meeting(), events)
		checkPlan(t, ref.Meeting(), ref.Plan())

		// Permutation with duplicates.
		perm := shuffledWithDuplicates(rng, events)
		f := foldtest.Fold(perm)
		if got := factsJSON(t, f); !bytes.Equal(got, wantFacts) {
			t.Fatalf("session %d: permuted facts differ:\n%s\n%s", n, got, wantFacts)
		}
		if got := mustJSON(t, f.Meeting()); !bytes.Equal(got, want) {
			t.Fatalf("session %d: permuted meeting differs:\n%s\n%s", n, got, want)
		}

		// Duplicates change nothing.
		for _, ev := range events {
			if f.Apply(ev) {
				t.Fatalf("session %d: applying a seen event again reported a change: %#v", n, ev)
			}
		}

		// Batches with a JSON round trip of the facts between each.
		g := domain.NewFacts(events[0].AppID, events[0].SessionID)
		for rest := perm; len(rest) > 0; {
			k := 1 + rng.IntN(len(rest))
			for _, ev := range rest[:k] {
				g.Apply(ev)
			}
			rest = rest[k:]
			g = roundTripFacts(t, g)
		}
		if got := factsJSON(t, g); !bytes.Equal(got, wantFacts) {
			t.Fatalf("session %d: incremental facts differ:\n%s\n%s", n, got, wantFacts)
		}
		if got := mustJSON(t, g.Meeting()); !bytes.Equal(got, want) {
			t.Fatalf("session %d: incremental meeting differs:\n%s\n%s", n, got, want)
		}

		// A partition folded separately, merged in random order.
		parts := make([][]domain.Event, 1+rng.IntN(4))
		for _, ev := range perm {
			i := rng.IntN(len(parts))
			parts[i] = append(parts[i], ev)
		}
		var merged domain.Facts
		for _, i := range rng.Perm(len(parts)) {
			if _, err := merged.Merge(foldtest.Fold(parts[i])); err != nil {
				t.Fatal(err)
			}
		}
		if got := factsJSON(t, &merged); !bytes.Equal(got, wantFacts) {
			t.Fatalf("session %d: merged facts differ:\n%s\n%s", n, got, wantFacts)
		}
		if changed, _ := merged.Merge(ref); changed {
			t.Fatalf("session %d: merging equal facts reported a change", n)
		}
		if got := factsJSON(t, ref.Clone()); !bytes.Equal(got, wantFacts) {
			t.Fatalf("session %d: clone differs", n)
		}
	}
}

// checkMeeting verifies the invariants every Meeting must satisfy.
func checkMeeting(t *testing.T, m domain.Meeting, events []domain.Event) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nmeeting: %s", m.SessionID, fmt.Sprintf(format, args...), mustJSON(t, m))
	}
	if m.Status == domain.StatusScheduled {
		if !m.StartedAt.IsZero() || m.EndedAt != nil || m.ParticipantCount != 0 || len(m.Participants) != m.AbsentCount {
			fail("a scheduled meeting has no times and only absent rows")
		}
		return
	}
	if (m.Status == domain.StatusLive) != (m.EndedAt == nil) {
		fail("ended_at must be null exactly while live")
	}
	if m.DurationSeconds < 0 {
		fail("negative duration")
	}
	if m.EndedAt != nil && !m.EndedAt.Before(m.StartedAt) && int64(m.EndedAt.Sub(m.StartedAt).Seconds()) != m.DurationSeconds {
		fail("duration is not ended_at − started_at")
	}
	if m.ParticipantCount+m.AbsentCount != len(m.Participants) || m.PeakConcurrent > m.ParticipantCount || m.PeakConcurrent < 0 {
		fail("participant_count %d, peak %d, rows %d", m.ParticipantCount, m.PeakConcurrent, len(m.Participants))
	}
	var total, audio, video int64
	for i, r := range m.Participants[:m.ParticipantCount] {
		total += r.AttendedSeconds
		audio += r.AudioSeconds
		video += r.VideoSeconds
		if r.AudioSeconds < 0 || r.VideoSeconds < 0 || r.AudioSeconds+r.VideoSeconds != r.AttendedSeconds {
			fail("%s audio %d + video %d != attended %d", r.Participant, r.AudioSeconds, r.VideoSeconds, r.AttendedSeconds)
		}
		if r.AttendedSeconds < 0 || r.AttendedSeconds > m.DurationSeconds {
			fail("%s attended %d of %d", r.Participant, r.AttendedSeconds, m.DurationSeconds)
		}
		if r.AttendanceRatio < 0 || r.AttendanceRatio > 1 || (m.DurationSeconds == 0 && r.AttendanceRatio != 0) {
			fail("%s ratio %v", r.Participant, r.AttendanceRatio)
		}
		if r.JoinCount != len(r.Intervals) || r.JoinCount == 0 {
			fail("%s join_count %d, intervals %d", r.Participant, r.JoinCount, len(r.Intervals))
		}
		if !r.FirstJoinedAt.Equal(r.Intervals[0].JoinedAt) {
			fail("%s first_joined_at is not the first interval's", r.Participant)
		}
		for _, iv := range r.Intervals {
			if iv.LeftAt == nil && (m.Status != domain.StatusLive || r.LastLeftAt != nil) {
				fail("%s: an open interval needs a live meeting and last_left_at null", r.Participant)
			}
			if iv.LeftAt != nil && iv.LeftAt.Before(iv.JoinedAt) {
				fail("%s left before joining", r.Participant)
			}
		}
		if i > 0 {
			p := m.Participants[i-1]
			if c := p.FirstJoinedAt.Compare(r.FirstJoinedAt); c > 0 || (c == 0 && p.Participant >= r.Participant) {
				fail("rows out of order at %d", i)
			}
		}
	}
	if total != m.TotalAttendanceSeconds {
		fail("total %d, sum of rows %d", m.TotalAttendanceSeconds, total)
	}
	if audio != m.AudioSeconds || video != m.VideoSeconds || m.AudioSeconds+m.VideoSeconds != m.TotalAttendanceSeconds {
		fail("meeting audio %d video %d (rows %d, %d), total %d", m.AudioSeconds, m.VideoSeconds, audio, video, m.TotalAttendanceSeconds)
	}
	for _, r := range m.UnmatchedParticipants {
		if r.AudioSeconds+r.VideoSeconds != r.AttendedSeconds {
			fail("unmatched %s audio + video != attended", r.Participant)
		}
	}
	if m.Kind != domain.KindCall && (m.Outcome != "" || m.Initiator != "") {
		fail("ringing fields on a meeting")
	}
	for i := 1; i < len(m.Recordings); i++ {
		if m.Recordings[i-1].URL == m.Recordings[i].URL {
			fail("recording listed twice")
		}
	}
	var last int64
	for _, ev := range events {
		if at := newestTimestamp(ev); at > last {
			last = at
		}
	}
	if last > 0 && m.LastEventAt.Unix() != last {
		fail("last_event_at %v, want %d", m.LastEventAt, last)
	}
}

// newestTimestamp is an independent statement of which CometChat times
// count for last_event_at.
func newestTimestamp(ev domain.Event) int64 {
	var ts []int64
	occ := func(os ...domain.Occupant) {
		for _, o := range os {
			ts = append(ts, o.JoinedAt, o.LeftAt)
		}
	}
	switch p := ev.Payload.(type) {
	case domain.SessionStarted:
		ts = append(ts, p.CreatedAt)
	case domain.ParticipantJoined:
		occ(p.Occupant)
	case domain.ParticipantLeft:
		occ(p.Occupant)
	case domain.SessionEnded:
		ts = append(ts, p.CreatedAt, p.DestroyedAt)
		occ(p.AllOccupants...)
	case domain.RecordingGenerated:
		ts = append(ts, p.StartTime)
	case domain.TranscriptionGenerated:
		ts = append(ts, p.StartTime, p.EndTime)
	case domain.CallRinging:
		ts = append(ts, p.SentAt, p.UpdatedAt, p.InitiatedAt)
	case domain.SessionReconciled:
		ts = append(ts, p.StartedAt, p.EndedAt)
		occ(p.Intervals...)
		occ(p.Unmatched...)
		for _, r := range p.Recordings {
			ts = append(ts, r.StartTime)
		}
	}
	return slices.Max(append(ts, 0))
}

func TestFactsOtherSession(t *testing.T) {
	f := domain.NewFacts("app", "s1")
	other := domain.Event{AppID: "app", SessionID: "s2", Kind: domain.KindMeeting,
		Trigger: cometchat.TriggerMeetingStarted, Payload: domain.SessionStarted{CreatedAt: foldtest.T0}}
	if f.Apply(other) {
		t.Fatal("Apply took an event of another session")
	}
	if _, err := f.Merge(foldtest.Fold([]domain.Event{other})); !errors.Is(err, domain.ErrOtherSession) {
		t.Fatalf("Merge of another session: %v, want ErrOtherSession", err)
	}
	if got := f.Meeting(); got.SessionID != "s1" || got.AppID != "app" {
		t.Fatalf("meeting of %s/%s", got.AppID, got.SessionID)
	}
	// The zero Facts adopts the first event's session.
	var z domain.Facts
	if !z.Apply(other) || z.SessionID() != "s2" || z.AppID() != "app" {
		t.Fatalf("zero Facts did not adopt the session: %s/%s", z.AppID(), z.SessionID())
	}
}

func TestFactsJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	events := foldtest.RandomSession(rng, 1)
	f := foldtest.Fold(events)
	b := factsJSON(t, f)
	if !bytes.HasPrefix(b, []byte(`{"v":1,`)) {
		t.Fatalf("stored facts are not versioned: %s", b)
	}
	if got := factsJSON(t, roundTripFacts(t, f)); !bytes.Equal(got, b) {
		t.Fatalf("round trip changed the facts:\n%s\n%s", got, b)
	}
	for _, bad := range []string{`{"v":2,"app_id":"a","session_id":"s"}`, `{"v":1,"people":7}`, `[]`} {
		var g domain.Facts
		if err := codec.UnmarshalFacts([]byte(bad), &g); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	// A stored form with unsorted, duplicated and inverted intervals is
	// normalised as if its facts had been applied one by one.
	var g domain.Facts
	stored := `{"v":1,"app_id":"a","session_id":"s","people":[{"id":"x","intervals":[[30,0],[10,20],[30,40],[10,15],[50,45]]}]}`
	if err := codec.UnmarshalFacts([]byte(stored), &g); err != nil {
		t.Fatal(err)
	}
	want := `"intervals":[[10,20],[30,40],[50,50]]`
	if got := string(factsJSON(t, &g)); !strings.Contains(got, want) {
		t.Fatalf("normalised facts %s, want %s", got, want)
	}
}
