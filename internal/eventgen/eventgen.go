package eventgen

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
)

// Config shapes a corpus. The zero value of every field but Events selects a default.
type Config struct {
	// Events is the number of events to generate (the last session may be cut short).
	Events int
	// Seed makes the corpus reproducible (default 1).
	Seed uint64
	// Apps is the number of apps the sessions are spread over (default 4).
	Apps int
	// Users is the pool of participant identities per app (default 20,000).
	Users int
	// Start is the time of the first session (default 2024-01-01 UTC).
	Start time.Time
	// SessionsPerHour is the rate at which sessions start (default 3,600).
	SessionsPerHour int
}

func (c *Config) setDefaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Apps == 0 {
		c.Apps = 4
	}
	if c.Users == 0 {
		c.Users = 20_000
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.SessionsPerHour == 0 {
		c.SessionsPerHour = 3600
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Events < 0 {
		errs = append(errs, errors.New("eventgen: Events must not be negative"))
	}
	if c.Apps < 0 || c.Users < 0 || c.SessionsPerHour < 0 {
		errs = append(errs, errors.New("eventgen: Apps, Users and SessionsPerHour must not be negative"))
	}
	return errors.Join(errs...)
}

// AppID is the id of the i-th app of a corpus.
func AppID(i int) string { return "app-bench-" + strconv.Itoa(i) }

// Item is one generated event: its domain form and its stored form.
type Item struct {
	Event domain.Event
	// Stream is the session's stream name.
	Stream string
	// Stored is the event as the intake appends it (id, type, data, metadata).
	Stored eventstore.Event
	// At is the simulated arrival time of its webhook.
	At time.Time
}

// lead is how long before its start a session's first event may arrive.
const lead = 60

// pending is an event waiting in the arrival heap.
type pending struct {
	at  int64 // arrival, Unix seconds
	seq uint64
	ev  domain.Event
}

type arrivals []pending

func (a arrivals) Len() int { return len(a) }
func (a arrivals) Less(i, j int) bool {
	if a[i].at != a[j].at {
		return a[i].at < a[j].at
	}
	return a[i].seq < a[j].seq
}
func (a arrivals) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)   { *a = append(*a, x.(pending)) }
func (a *arrivals) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// Generate yields cfg.Events events in arrival order. Sessions start at
// random (Poisson) times; each session's events are pushed into an arrival
// heap with 0–3 s of delivery jitter, so the events of concurrent sessions
// interleave and a few of one session arrive out of order, as webhooks do.
// Memory stays bounded by the sessions in flight.
func Generate(cfg Config) (iter.Seq2[Item, error], error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(yield func(Item, error) bool) {
		r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
		g := gen{cfg: cfg, r: r}
		var h arrivals
		var seq uint64
		next := cfg.Start.Unix()
		emitted := 0
		for emitted < cfg.Events {
			// Start sessions until the next start lies well after the earliest
			// pending arrival (a call rings a few seconds before it starts).
			for h.Len() == 0 || next-lead <= h[0].at {
				for _, ev := range g.session(next) {
					seq++
					heap.Push(&h, pending{at: eventTime(ev) + r.Int64N(4), seq: seq, ev: ev})
				}
				next += int64(r.ExpFloat64() * 3600 / float64(cfg.SessionsPerHour))
			}
			p := heap.Pop(&h).(pending)
			it, err := item(p.ev, p.at)
			if !yield(it, err) || err != nil {
				return
			}
			emitted++
		}
	}, nil
}

// Sessions yields the events of n sessions, one session at a time in start
// order, in domain form (nothing is encoded: for building read models
// directly). cfg.Events is ignored.
func Sessions(cfg Config, n int) (iter.Seq[[]domain.Event], error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(yield func([]domain.Event) bool) {
		r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
		g := gen{cfg: cfg, r: r}
		start := cfg.Start.Unix()
		for range n {
			if !yield(g.session(start)) {
				return
			}
			start += int64(r.ExpFloat64() * 3600 / float64(cfg.SessionsPerHour))
		}
	}, nil
}

// item encodes ev as the intake stores it.
func item(ev domain.Event, at int64) (Item, error) {
	data, err := codec.MarshalEvent(ev)
	if err != nil {
		return Item{}, fmt.Errorf("eventgen: %w", err)
	}
	received := time.Unix(at, 0).UTC()
	meta, err := json.Marshal(intake.Metadata{WebhookID: "webhook-bench", Region: "us", ReceivedAt: received, Source: "http"})
	if err != nil {
		return Item{}, fmt.Errorf("eventgen: %w", err)
	}
	return Item{
		Event:  ev,
		Stream: domain.StreamName(ev.AppID, ev.SessionID),
		Stored: eventstore.Event{ID: domain.EventID(ev), Type: ev.Type(), Data: data, Metadata: meta},
		At:     received,
	}, nil
}

// eventTime is the CometChat time an event is about.
func eventTime(ev domain.Event) int64 {
	switch p := ev.Payload.(type) {
	case domain.SessionStarted:
		return p.CreatedAt
	case domain.ParticipantJoined:
		return p.Occupant.JoinedAt
	case domain.ParticipantLeft:
		return p.Occupant.LeftAt
	case domain.SessionEnded:
		return p.DestroyedAt
	case domain.RecordingGenerated:
		return p.StartTime + int64(p.Duration) + 60
	case domain.TranscriptionGenerated:
		return p.EndTime + 30
	case domain.CallRinging:
		return p.SentAt
	}
	return 0
}

// gen makes sessions.
type gen struct {
	cfg Config
	r   *rand.Rand
	n   int
}

var (
	no  = false
	yes = true
)

// session returns the events of one new session that starts at start: 85%
// meetings of 1–12 participants (a few of up to 40), 15% 1:1 calls with
// their ringing; participants rejoin up to 3 times; 92% end, the rest stay
// live; a quarter of the ended meetings get a recording, some a transcript.
func (g *gen) session(start int64) []domain.Event {
	r := g.r
	g.n++
	app := AppID(r.IntN(g.cfg.Apps))
	id := fmt.Sprintf("v1.us.%s.%09d", "bench", g.n)
	kind, trigMeet := domain.KindMeeting, true
	if r.IntN(100) < 15 {
		kind, trigMeet = domain.KindCall, false
	}
	ev := func(tr domain.Trigger, p domain.Payload) domain.Event {
		k := kind
		if tr == cometchat.TriggerRecordingGenerated || tr == cometchat.TriggerTranscriptionGenerated {
			k = ""
		}
		return domain.Event{AppID: app, SessionID: id, Kind: k, Trigger: tr, Payload: p}
	}
	var out []domain.Event
	trig := func(meet, call domain.Trigger) domain.Trigger {
		if trigMeet {
			return meet
		}
		return call
	}
	used := map[int]bool{}
	user := func() (uid, name string) {
		u := r.IntN(g.cfg.Users)
		for used[u] && len(used) < g.cfg.Users {
			u = r.IntN(g.cfg.Users)
		}
		used[u] = true // one identity per person: ids stay unique in the session
		return "uid-" + strconv.Itoa(u), "User " + strconv.Itoa(u)
	}
	length := 120 + r.Int64N(90*60)
	n := 1 + r.IntN(12)
	if kind == domain.KindCall {
		n, length = 2, 30+r.Int64N(20*60)
		from, fromName := user()
		to, _ := user()
		clear(used) // the callers are this call's participants, picked again below
		out = append(out, ev(cometchat.TriggerCallInitiated, domain.CallRinging{
			Action: "initiated", CallID: strconv.Itoa(g.n), ConversationID: from + "_user_" + to,
			Sender: from, SenderName: fromName, Receiver: to, ReceiverType: "user", Media: "video",
			SentAt: start - 8, UpdatedAt: start - 8, InitiatedAt: start - 8,
		}))
	} else if r.IntN(50) == 0 {
		n = 13 + r.IntN(28)
	}
	out = append(out, ev(trig(cometchat.TriggerMeetingStarted, cometchat.TriggerCallStarted), domain.SessionStarted{CreatedAt: start}))
	end := start + length
	var all []domain.Occupant
	for range n {
		uid, name := user()
		if r.IntN(3) != 0 {
			uid = "" // webhooks rarely carry the uid
		}
		j := start + r.Int64N(max(length/4, 1))
		for k := range 1 + r.IntN(3) {
			if j >= end {
				break
			}
			o := domain.Occupant{UID: uid, Name: name, JoinedAt: j, AudioOnly: &no}
			audio := &no
			if r.IntN(10) == 0 {
				audio = &yes
			}
			out = append(out, ev(trig(cometchat.TriggerMeetingParticipantJoined, cometchat.TriggerCallParticipantJoined), domain.ParticipantJoined{
				Occupant: o,
				Client:   &domain.ClientInfo{Platform: []string{"web", "android", "ios"}[r.IntN(3)], SDK: "react", CallVersion: "2.3.0", Mode: "DEFAULT", AudioOnly: audio},
			}))
			o.LeftAt = min(j+30+r.Int64N(max(length-(j-start), 1)), end)
			if k > 0 || r.IntN(4) != 0 {
				out = append(out, ev(trig(cometchat.TriggerMeetingParticipantLeft, cometchat.TriggerCallParticipantLeft), domain.ParticipantLeft{Occupant: o}))
			}
			all = append(all, o)
			j = o.LeftAt + 20 + r.Int64N(300)
		}
	}
	if r.IntN(100) < 8 {
		return out // live: its end never arrives
	}
	ended := domain.SessionEnded{CreatedAt: start, DestroyedAt: end}
	if trigMeet {
		ended.AllOccupants = all
	}
	out = append(out, ev(trig(cometchat.TriggerMeetingEnded, cometchat.TriggerCallEnded), ended))
	if kind == domain.KindMeeting && r.IntN(4) == 0 {
		out = append(out, ev(cometchat.TriggerRecordingGenerated, domain.RecordingGenerated{
			URL: fmt.Sprintf("https://recordings.example.test/%s/%s.mp4", app, id), StartTime: start + 5,
			Duration: float64(length-5) + 0.433, RecordingDate: time.Unix(start, 0).UTC().Format(time.DateOnly),
		}))
		if r.IntN(2) == 0 {
			out = append(out, ev(cometchat.TriggerTranscriptionGenerated, domain.TranscriptionGenerated{
				TID: "tid-" + id, URL: fmt.Sprintf("https://transcripts.example.test/%s/%s.json", app, id),
				StartTime: start + 5, EndTime: end, TranscriptDate: time.Unix(start, 0).UTC().Format(time.DateOnly),
			}))
		}
	}
	return out
}

// Appender is the part of an event store that Fill writes to.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
}

// Fill appends a corpus to store in chunks of chunk events (default 4096):
// within a chunk, one concurrent Append per stream carries that stream's
// events in arrival order, so that the store's group commit writes the chunk
// in a few fsynced commits; chunks are written one after the other. It
// returns the number of events appended.
func Fill(ctx context.Context, store Appender, cfg Config, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = 4096
	}
	events, err := Generate(cfg)
	if err != nil {
		return 0, err
	}
	var (
		n      int
		order  []string
		byName = map[string][]eventstore.Event{}
	)
	flush := func() error {
		var wg sync.WaitGroup
		errs := make([]error, len(order))
		for i, s := range order {
			wg.Go(func() {
				if _, err := store.Append(ctx, s, eventstore.Any, byName[s]...); err != nil {
					errs[i] = fmt.Errorf("eventgen: append to %s: %w", s, err)
				}
			})
		}
		wg.Wait()
		clear(byName)
		order = order[:0]
		return errors.Join(errs...)
	}
	pendingEvents := 0
	for it, err := range events {
		if err != nil {
			return n, err
		}
		if _, ok := byName[it.Stream]; !ok {
			order = append(order, it.Stream)
		}
		byName[it.Stream] = append(byName[it.Stream], it.Stored)
		pendingEvents++
		if pendingEvents == chunk {
			if err := flush(); err != nil {
				return n, err
			}
			n += pendingEvents
			pendingEvents = 0
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n + pendingEvents, nil
}
