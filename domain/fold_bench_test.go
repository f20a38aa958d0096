package domain_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// benchSession is a realistic large meeting: participants who each join and
// leave several times (join and leave webhooks), a start, an end with
// all_occupants, two recordings and a transcript.
func benchSession(participants, rejoins int) []domain.Event {
	ev := func(kind domain.Kind, trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: "app-bench", SessionID: "v1.us.bench.session", Kind: kind, Trigger: trig, Payload: p}
	}
	no := false
	events := []domain.Event{ev(domain.KindMeeting, cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: propT0})}
	var all []domain.Occupant
	for p := range participants {
		name := fmt.Sprintf("Participant %03d", p)
		for r := range rejoins {
			j := propT0 + int64(p) + int64(r)*600
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
			CreatedAt: propT0, DestroyedAt: propT0 + int64(rejoins)*600, AllOccupants: all}),
		ev("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: "https://r.test/1.mp4", StartTime: propT0 + 5, Duration: 1200.5}),
		ev("", cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{URL: "https://r.test/2.mp4", StartTime: propT0 + 1300, Duration: 600}),
		ev("", cometchat.TriggerTranscriptionGenerated, domain.TranscriptionGenerated{URL: "https://r.test/t.json", StartTime: propT0 + 5, EndTime: propT0 + 1800}),
	)
	return events
}

func reportEventRate(b *testing.B, events int) {
	b.ReportMetric(float64(b.N)*float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFold folds a 50-participant session (≈500 events) from scratch
// and derives its Meeting once, as a rebuild does per session.
func BenchmarkFold(b *testing.B) {
	events := benchSession(50, 5)
	b.ReportAllocs()
	for b.Loop() {
		var f domain.Facts
		for _, ev := range events {
			f.Apply(ev)
		}
		_ = f.Meeting()
	}
	reportEventRate(b, len(events))
}

// BenchmarkFoldStored is BenchmarkFold from the stored form: each event is
// domain.Unmarshal'ed first, as the projection runner reads the log.
func BenchmarkFoldStored(b *testing.B) {
	events := benchSession(50, 5)
	types := make([]string, len(events))
	data := make([][]byte, len(events))
	for i, ev := range events {
		var err error
		types[i] = ev.Type()
		if data[i], err = ev.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		var f domain.Facts
		for i := range data {
			ev, err := domain.Unmarshal(types[i], data[i])
			if err != nil {
				b.Fatal(err)
			}
			f.Apply(ev)
		}
		_ = f.Meeting()
	}
	reportEventRate(b, len(events))
}

// BenchmarkApplyDuplicate applies an event the facts already hold (the
// at-least-once replay case).
func BenchmarkApplyDuplicate(b *testing.B) {
	events := benchSession(50, 5)
	f := foldFacts(events)
	ev := events[len(events)/2]
	b.ReportAllocs()
	for b.Loop() {
		if f.Apply(ev) {
			b.Fatal("duplicate reported as new")
		}
	}
}

// BenchmarkMeeting derives the Meeting of a 200-participant session (done
// once per changed session per batch).
func BenchmarkMeeting(b *testing.B) {
	f := foldFacts(benchSession(200, 5))
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Meeting()
	}
}

// BenchmarkFactsJSON round-trips the stored facts of a 50-participant
// session (the runner persists them per batch).
func BenchmarkFactsJSON(b *testing.B) {
	f := foldFacts(benchSession(50, 5))
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(f)
		if err != nil {
			b.Fatal(err)
		}
		var g domain.Facts
		if err := json.Unmarshal(data, &g); err != nil {
			b.Fatal(err)
		}
	}
}
