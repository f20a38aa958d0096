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

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

const propT0 = int64(1696934400) // 2023-10-10T10:40:00Z

// randomSession returns the events of one random but plausible session: a
// few participants with rejoins, overlaps and lost webhooks, zero to two
// starts and ends (disagreeing), all_occupants, recordings and transcripts
// reported twice with different details, ringing, abandonments and
// reconciliations. Timestamps collide often, to exercise every tie-break.
func randomSession(rng *rand.Rand, n int) []domain.Event {
	app, session := "app-prop", fmt.Sprintf("session-%d", n)
	ev := func(kind domain.Kind, trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: app, SessionID: session, Kind: kind, Trigger: trig, Payload: p}
	}
	ts := func(span int64) int64 { return propT0 + rng.Int64N(span) }
	optBool := func() *bool {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return &[]bool{true}[0]
		}
		return &[]bool{false}[0]
	}
	// renamed gives a participant with a uid another display name at times
	// (the same second, often: ties must not depend on arrival order).
	renamed := func(o domain.Occupant) domain.Occupant {
		if o.UID != "" && rng.IntN(2) == 0 {
			o.Name = []string{"Zed", "Amy", "Bo"}[rng.IntN(3)]
		}
		return o
	}
	kind := domain.KindMeeting
	if rng.IntN(3) == 0 {
		kind = domain.KindCall
	}
	names := []string{"Ann", "Ben", "Cy", "Di"}
	uids := []string{"", "", "u-1", "u-2"}
	// A third of the calls only ring: no one ever joins.
	ringOnly := kind == domain.KindCall && rng.IntN(3) == 0
	people, starts, ends := rng.IntN(12), rng.IntN(3), rng.IntN(3)
	if ringOnly {
		people, starts, ends = 0, 0, 0
	}
	var events []domain.Event
	var occupants []domain.Occupant
	for range people {
		i := rng.IntN(len(names))
		name := names[i]
		if rng.IntN(4) == 0 {
			name += " (renamed)"
		}
		o := domain.Occupant{UID: uids[i], Name: name, JoinedAt: ts(300), AudioOnly: optBool()}
		if rng.IntN(4) > 0 {
			o.LeftAt = o.JoinedAt + rng.Int64N(200)
		}
		occupants = append(occupants, o)
		if rng.IntN(3) > 0 { // the join webhook, possibly lost
			j := o
			j.LeftAt = 0
			var client *domain.ClientInfo
			if rng.IntN(2) == 0 {
				client = &domain.ClientInfo{
					Platform: []string{"web", "ios", "android"}[rng.IntN(3)], SDK: []string{"react", "ios"}[rng.IntN(2)],
					AudioOnly: optBool(),
				}
			}
			events = append(events, ev(kind, cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: j, Client: client}))
		}
		if o.LeftAt != 0 && rng.IntN(3) > 0 { // the leave webhook, possibly lost
			events = append(events, ev(kind, cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: renamed(o)}))
		}
	}
	for range starts {
		events = append(events, ev(kind, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: ts(60)}))
	}
	for range ends {
		end := domain.SessionEnded{CreatedAt: ts(60), DestroyedAt: propT0 + 200 + rng.Int64N(400)}
		if rng.IntN(4) == 0 {
			end.CreatedAt = 0
		}
		for _, o := range occupants {
			if rng.IntN(2) == 0 {
				end.AllOccupants = append(end.AllOccupants, renamed(o))
			}
		}
		events = append(events, ev(kind, cometchat.TriggerMeetingEnded, end))
	}
	urls := []string{"https://r.test/1.mp4", "https://r.test/2.mp4"}
	for range rng.IntN(4) {
		r := domain.RecordingGenerated{URL: urls[rng.IntN(2)], StartTime: ts(4), Duration: float64(rng.IntN(4)) / 4,
			RecordingDate: []string{"", "2023-10-10"}[rng.IntN(2)]}
		events = append(events, ev("", cometchat.TriggerRecordingGenerated, r))
	}
	for range rng.IntN(3) {
		t := domain.TranscriptionGenerated{TID: []string{"", "t1"}[rng.IntN(2)], URL: urls[rng.IntN(2)] + ".txt",
			StartTime: ts(4), EndTime: propT0 + 600 + rng.Int64N(3)}
		events = append(events, ev("", cometchat.TriggerTranscriptionGenerated, t))
	}
	if kind == domain.KindCall {
		actions := []string{"initiated", "rejected", "busy", "cancelled", "unanswered"}
		for range rng.IntN(4) {
			a := actions[rng.IntN(len(actions))]
			r := domain.CallRinging{Action: a, CallID: "42", Sender: []string{"u-1", "u-2"}[rng.IntN(2)],
				SenderName: []string{"", "Ann"}[rng.IntN(2)], Receiver: []string{"u-3", "g-1"}[rng.IntN(2)],
				Media: []string{"audio", "video", ""}[rng.IntN(3)], SentAt: propT0, UpdatedAt: ts(30)}
			if rng.IntN(2) == 0 {
				r.InitiatedAt = propT0 - rng.Int64N(3)
			}
			events = append(events, ev(domain.KindCall, domain.Trigger("call_"+a), r))
		}
	}
	for range rng.IntN(3) {
		events = append(events, ev("", "", domain.SessionAbandoned{LastEventAt: ts(800), DecidedAt: propT0 + 30000}))
	}
	if rng.IntN(4) == 0 {
		rec := domain.SessionReconciled{FetchedAt: propT0 + 7200}
		if !ringOnly && rng.IntN(2) == 0 {
			rec.StartedAt = ts(30)
		}
		if rng.IntN(2) == 0 {
			rec.EndedAt = propT0 + 300 + rng.Int64N(300)
		}
		for _, o := range occupants {
			if rng.IntN(3) == 0 {
				rec.Intervals = append(rec.Intervals, o)
			}
		}
		if rng.IntN(2) == 0 {
			rec.Unmatched = []domain.Occupant{{UID: "u-9", JoinedAt: ts(300), LeftAt: propT0 + 350}}
		}
		if rng.IntN(2) == 0 {
			rec.Recordings = []domain.RecordingGenerated{{URL: urls[0], StartTime: ts(50), Duration: 1.5}}
		}
		events = append(events, ev(kind, "", rec))
	}
	if len(events) == 0 {
		events = append(events, ev(kind, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: propT0}))
	}
	return events
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func roundTripFacts(t testing.TB, f *domain.Facts) *domain.Facts {
	t.Helper()
	var g domain.Facts
	if err := json.Unmarshal(mustJSON(t, f), &g); err != nil {
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
		events := randomSession(rng, n)
		ref := foldFacts(events)
		wantFacts := mustJSON(t, ref)
		want := mustJSON(t, ref.Meeting())
		checkMeeting(t, ref.Meeting(), events)

		// Permutation with duplicates.
		perm := shuffledWithDuplicates(rng, events)
		f := foldFacts(perm)
		if got := mustJSON(t, f); !bytes.Equal(got, wantFacts) {
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
		if got := mustJSON(t, g); !bytes.Equal(got, wantFacts) {
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
			if _, err := merged.Merge(foldFacts(parts[i])); err != nil {
				t.Fatal(err)
			}
		}
		if got := mustJSON(t, &merged); !bytes.Equal(got, wantFacts) {
			t.Fatalf("session %d: merged facts differ:\n%s\n%s", n, got, wantFacts)
		}
		if changed, _ := merged.Merge(ref); changed {
			t.Fatalf("session %d: merging equal facts reported a change", n)
		}
		if got := mustJSON(t, ref.Clone()); !bytes.Equal(got, wantFacts) {
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
	if (m.Status == domain.StatusLive) != (m.EndedAt == nil) {
		fail("ended_at must be null exactly while live")
	}
	if m.DurationSeconds < 0 {
		fail("negative duration")
	}
	if m.EndedAt != nil && !m.EndedAt.Before(m.StartedAt) && int64(m.EndedAt.Sub(m.StartedAt).Seconds()) != m.DurationSeconds {
		fail("duration is not ended_at − started_at")
	}
	if m.ParticipantCount != len(m.Participants) || m.PeakConcurrent > m.ParticipantCount || m.PeakConcurrent < 0 {
		fail("participant_count %d, peak %d, rows %d", m.ParticipantCount, m.PeakConcurrent, len(m.Participants))
	}
	var total int64
	for i, r := range m.Participants {
		total += r.AttendedSeconds
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
		Trigger: cometchat.TriggerMeetingStarted, Payload: domain.SessionStarted{CreatedAt: propT0}}
	if f.Apply(other) {
		t.Fatal("Apply took an event of another session")
	}
	if _, err := f.Merge(foldFacts([]domain.Event{other})); !errors.Is(err, domain.ErrOtherSession) {
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
	events := randomSession(rng, 1)
	f := foldFacts(events)
	b := mustJSON(t, f)
	if !bytes.HasPrefix(b, []byte(`{"v":1,`)) {
		t.Fatalf("stored facts are not versioned: %s", b)
	}
	if got := mustJSON(t, roundTripFacts(t, f)); !bytes.Equal(got, b) {
		t.Fatalf("round trip changed the facts:\n%s\n%s", got, b)
	}
	for _, bad := range []string{`{"v":2,"app_id":"a","session_id":"s"}`, `{"v":1,"people":7}`, `[]`} {
		var g domain.Facts
		if err := json.Unmarshal([]byte(bad), &g); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
	// A stored form with unsorted, duplicated and inverted intervals is
	// normalised as if its facts had been applied one by one.
	var g domain.Facts
	stored := `{"v":1,"app_id":"a","session_id":"s","people":[{"id":"x","intervals":[[30,0],[10,20],[30,40],[10,15],[50,45]]}]}`
	if err := json.Unmarshal([]byte(stored), &g); err != nil {
		t.Fatal(err)
	}
	want := `"intervals":[[10,20],[30,40],[50,50]]`
	if got := string(mustJSON(t, &g)); !strings.Contains(got, want) {
		t.Fatalf("normalised facts %s, want %s", got, want)
	}
}
