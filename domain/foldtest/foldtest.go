package foldtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// T0 is the first second of the generated sessions (2023-10-10T10:40:00Z).
const T0 = int64(1696934400) // 2023-10-10T10:40:00Z

// RandomSession returns the events of one random but plausible session: a
// few participants with rejoins, overlaps and lost webhooks, zero to two
// starts and ends (disagreeing), all_occupants, recordings and transcripts
// reported twice with different details, ringing, abandonments and
// reconciliations. Timestamps collide often, to exercise every tie-break.
func RandomSession(rng *rand.Rand, n int) []domain.Event {
	app, session := "app-prop", fmt.Sprintf("session-%d", n)
	ev := func(kind domain.Kind, trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: app, SessionID: session, Kind: kind, Trigger: trig, Payload: p}
	}
	ts := func(span int64) int64 { return T0 + rng.Int64N(span) }
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
			l := renamed(o)
			if rng.IntN(4) == 0 { // a leave whose medium flag disagrees with the join's
				l.AudioOnly = optBool()
			}
			events = append(events, ev(kind, cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: l}))
		}
	}
	for range starts {
		events = append(events, ev(kind, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: ts(60)}))
	}
	for range ends {
		end := domain.SessionEnded{CreatedAt: ts(60), DestroyedAt: T0 + 200 + rng.Int64N(400)}
		if rng.IntN(4) == 0 {
			end.CreatedAt = 0
		}
		for _, o := range occupants {
			if rng.IntN(2) == 0 {
				c := renamed(o)
				if rng.IntN(4) == 0 { // an all_occupants entry whose flag disagrees
					c.AudioOnly = optBool()
				}
				end.AllOccupants = append(end.AllOccupants, c)
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
			StartTime: ts(4), EndTime: T0 + 600 + rng.Int64N(3)}
		events = append(events, ev("", cometchat.TriggerTranscriptionGenerated, t))
	}
	if kind == domain.KindCall {
		actions := []string{"initiated", "rejected", "busy", "cancelled", "unanswered"}
		for range rng.IntN(4) {
			a := actions[rng.IntN(len(actions))]
			r := domain.CallRinging{Action: a, CallID: "42", Sender: []string{"u-1", "u-2"}[rng.IntN(2)],
				SenderName: []string{"", "Ann"}[rng.IntN(2)], Receiver: []string{"u-3", "g-1"}[rng.IntN(2)],
				Media: []string{"audio", "video", ""}[rng.IntN(3)], SentAt: T0, UpdatedAt: ts(30)}
			if rng.IntN(2) == 0 {
				r.InitiatedAt = T0 - rng.Int64N(3)
			}
			events = append(events, ev(domain.KindCall, domain.Trigger("call_"+a), r))
		}
	}
	for range rng.IntN(3) {
		events = append(events, ev("", "", domain.SessionAbandoned{LastEventAt: ts(800), DecidedAt: T0 + 30000}))
	}
	if rng.IntN(4) == 0 {
		rec := domain.SessionReconciled{FetchedAt: T0 + 7200}
		if !ringOnly && rng.IntN(2) == 0 {
			rec.StartedAt = ts(30)
		}
		if rng.IntN(2) == 0 {
			rec.EndedAt = T0 + 300 + rng.Int64N(300)
		}
		for _, o := range occupants {
			if rng.IntN(3) == 0 {
				rec.Intervals = append(rec.Intervals, o)
			}
		}
		if rng.IntN(2) == 0 {
			rec.Unmatched = []domain.Occupant{{UID: "u-9", JoinedAt: ts(300), LeftAt: T0 + 350}}
		}
		if rng.IntN(2) == 0 {
			rec.Recordings = []domain.RecordingGenerated{{URL: urls[0], StartTime: ts(50), Duration: 1.5}}
		}
		for _, o := range occupants {
			if rng.IntN(3) == 0 {
				rec.Usage = append(rec.Usage, domain.ParticipantUsage{Participant: o.Identity(),
					AudioMinutes: float64(rng.IntN(40)) / 3, VideoMinutes: float64(rng.IntN(40)) / 7})
			}
		}
		events = append(events, ev(kind, "", rec))
		if rng.IntN(3) == 0 { // a later fetch of the same call
			again := rec
			again.FetchedAt += rng.Int64N(2) * 600
			events = append(events, ev(kind, "", again))
		}
	}
	for _, p := range RandomPlans(rng) {
		events = append(events, ev("", "", p))
	}
	if len(events) == 0 {
		events = append(events, ev(kind, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: T0}))
	}
	return events
}

// BenchSession returns a meeting of participants who each join and leave
// rejoins times, with an end, two recordings and a transcript.
func BenchSession(participants, rejoins int) []domain.Event {
	ev := func(kind domain.Kind, trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: "app-bench", SessionID: "v1.us.bench.session", Kind: kind, Trigger: trig, Payload: p}
	}
	no := false
	events := []domain.Event{ev(domain.KindMeeting, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: T0})}
	var all []domain.Occupant
	for p := range participants {
		name := fmt.Sprintf("Participant %03d", p)
		for r := range rejoins {
			j := T0 + int64(p) + int64(r)*600
			o := domain.Occupant{Name: name, JoinedAt: j, AudioOnly: &no}
			events = append(events, ev(domain.KindMeeting, cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{
				Occupant: o, Client: &domain.ClientInfo{Platform: "web", SDK: "react", AudioOnly: &no},
			}))
			o.LeftAt = j + 500
			events = append(events, ev(domain.KindMeeting, cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: o}))
			all = append(all, o)
		}
	}
	events = append(events,
		ev(domain.KindMeeting, cometchat.TriggerMeetingEnded, domain.SessionEnded{
			CreatedAt: T0, DestroyedAt: T0 + int64(rejoins)*600, AllOccupants: all}),
		ev("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: "https://r.test/1.mp4", StartTime: T0 + 5, Duration: 1200.5}),
		ev("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: "https://r.test/2.mp4", StartTime: T0 + 1300, Duration: 600}),
		ev("", cometchat.TriggerTranscriptionGenerated, domain.TranscriptionGenerated{URL: "https://r.test/t.json", StartTime: T0 + 5, EndTime: T0 + 1800}),
	)
	return events
}

// Fold folds events into new Facts.
func Fold(events []domain.Event) *domain.Facts {
	var f domain.Facts
	for _, ev := range events {
		f.Apply(ev)
	}
	return &f
}

// ReadSession reads a golden input: JSON Lines, one CometChat webhook body per
// line (decoded with the real Decoder), or {"meetingd_event": TYPE, "data":
// STORED} for meetingd's own events (decoded with codec.UnmarshalEvent). Blank
// lines and lines starting with # are skipped.
func ReadSession(t testing.TB, path string) []domain.Event {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var events []domain.Event
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var own struct {
			Type string          `json:"meetingd_event"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(line, &own); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		var ev domain.Event
		if own.Type != "" {
			ev, err = codec.UnmarshalEvent(own.Type, own.Data)
		} else {
			var wh cometchat.Webhook
			wh, err = cometchat.Decoder{}.Decode(line)
			ev = wh.Event
		}
		if err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatalf("%s: no events", path)
	}
	for _, ev := range events[1:] {
		if ev.AppID != events[0].AppID || ev.SessionID != events[0].SessionID {
			t.Fatalf("%s: events of two sessions: %s/%s and %s/%s", path,
				events[0].AppID, events[0].SessionID, ev.AppID, ev.SessionID)
		}
	}
	return events
}

// RandomPlans returns zero to three attendance plans for a RandomSession:
// schedules around its times, rosters of its identities and of people who
// never join (Zoe, u-7), thresholds that often fall on a boundary, and
// revisions that sometimes collide (the fold must still choose by content).
func RandomPlans(rng *rand.Rand) []domain.PlanSet {
	var out []domain.PlanSet
	ids := []string{"Ann", "Ben", "Cy", "Di", "u-1", "u-2", "Zoe", "u-7", "Ann (renamed)"}
	for range rng.IntN(4) {
		start := T0 - 60 + rng.Int64N(120)
		p := domain.PlanSet{
			Revision:       uint64(rng.IntN(5)),
			ScheduledStart: start, ScheduledEnd: start + 100 + rng.Int64N(500),
			SeriesID:           []string{"", "maths-7b", "physics"}[rng.IntN(3)],
			LateAfterSeconds:   []int64{0, 30, 300}[rng.IntN(3)],
			EarlyLeaveSeconds:  []int64{0, 30, 300}[rng.IntN(3)],
			MinAttendanceRatio: []float64{0, 0.5, 0.75, 1}[rng.IntN(4)],
			SetAt:              T0 - 86400 + rng.Int64N(3),
		}
		for _, i := range rng.Perm(len(ids))[:rng.IntN(len(ids)+1)] {
			p.Roster = append(p.Roster, domain.RosterEntry{Participant: ids[i], Name: []string{"", "Roster " + ids[i]}[rng.IntN(2)]})
		}
		out = append(out, p)
	}
	return out
}
