package reportstest

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// Times of the scenarios: three weeks from Monday 2024-02-26 00:00 UTC.
var (
	base = time.Date(2024, 2, 26, 0, 0, 0, 0, time.UTC)
	// sunday is Sunday 2024-03-03 00:00; monday the Monday after.
	sunday = time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC)
	monday = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
)

func unix(t time.Time) int64 { return t.Unix() }

var idSeq atomic.Uint64

// runID keeps ids unique across runs against a shared database.
var runID = fmt.Sprintf("%x", time.Now().UnixNano())

// uniqueApp returns an app id no other test of this process or run uses.
func uniqueApp(name string) string {
	return fmt.Sprintf("rt-%s-%d-%s", runID, idSeq.Add(1), name)
}

// person is a participant of the scenarios.
type person struct{ uid, name string }

func (p person) identity() string {
	if p.uid != "" {
		return p.uid
	}
	return p.name
}

// pool holds identities chosen to trip key encodings: one uid a prefix of
// another, name-only guests, separators, quotes and non-ASCII.
var pool = []person{
	{"u-ann", "Ann"},
	{"u-anna", "Anna"},
	{"u-bob", "Bob"},
	{"u-carl", "Carl"},
	{"", "Guest Zoë"},
	{"", `weird, "quoted" | name`},
	{"u-dee", "Dee"},
	{"u/e\x01", "Eve"},
}

// builder accumulates the events of one session.
type builder struct {
	app, id string
	kind    domain.Kind
	events  []domain.Event
}

func newSession(app, id string) *builder {
	return &builder{app: app, id: id, kind: domain.KindMeeting}
}

func (b *builder) add(trigger domain.Trigger, p domain.Payload) *builder {
	kind := b.kind
	if _, ok := p.(domain.SessionAbandoned); ok {
		kind, trigger = "", ""
	}
	b.events = append(b.events, domain.Event{AppID: b.app, SessionID: b.id, Kind: kind, Trigger: trigger, Payload: p})
	return b
}

func (b *builder) started(at int64) *builder {
	return b.add(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: at})
}

func (b *builder) join(p person, at int64) *builder {
	return b.add(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{
		Occupant: domain.Occupant{UID: p.uid, Name: p.name, JoinedAt: at},
	})
}

func (b *builder) leave(p person, joined, left int64) *builder {
	return b.add(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{
		Occupant: domain.Occupant{UID: p.uid, Name: p.name, JoinedAt: joined, LeftAt: left},
	})
}

func (b *builder) ended(created, destroyed int64) *builder {
	return b.add(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: created, DestroyedAt: destroyed})
}

func (b *builder) abandoned(lastEventAt int64) *builder {
	return b.add("", domain.SessionAbandoned{LastEventAt: lastEventAt, DecidedAt: lastEventAt + 6*3600})
}

// missedCall makes b a ringing-flow call that nobody answered.
func (b *builder) missedCall(at int64, from, to person) *builder {
	b.kind = domain.KindCall
	b.add(cometchat.TriggerCallInitiated, domain.CallRinging{
		Action: "initiated", CallID: b.id, Sender: from.uid, SenderName: from.name, Receiver: to.uid,
		ReceiverType: "user", Media: "video", SentAt: at,
	})
	return b.add(cometchat.TriggerCallUnanswered, domain.CallRinging{
		Action: "unanswered", CallID: b.id, Sender: from.uid, Receiver: to.uid, Media: "video", SentAt: at + 45,
	})
}

// version is one state of a session: the fold of some of its events.
type version struct {
	key   reports.SessionKey
	facts *domain.Facts
	m     domain.Meeting
}

// fold folds events with the domain fold; the rows' media split is
// withMedia's.
func fold(app, id string, events []domain.Event) version {
	f := domain.NewFacts(app, id)
	for _, ev := range events {
		f.Apply(ev)
	}
	return version{key: reports.SessionKey{AppID: app, SessionID: id}, facts: f, m: withMedia(f.Meeting())}
}

// final is the fold of every event of b.
func (b *builder) final() version { return fold(b.app, b.id, b.events) }

// upTo is the fold of b's first n events.
func (b *builder) upTo(n int) version { return fold(b.app, b.id, b.events[:min(n, len(b.events))]) }

// batch makes a batch of versions.
func batch(v uint64, vs ...version) projections.Batch {
	b := projections.Batch{
		Version:    v,
		Checkpoint: projections.Checkpoint{Position: eventstore.Position{Commit: v, Prepare: v}, Events: v},
	}
	for _, x := range vs {
		b.Sessions = append(b.Sessions, projections.SessionUpdate{Key: x.key, Facts: x.facts, Meeting: x.m})
	}
	return b
}

// randomSession builds a realistic session of app: a start somewhere in the
// three weeks, up to five participants with one or two intervals each (some
// joining before the start, some never leaving), and an end, an abandonment
// or neither. Some sessions have no meeting_started (started_at then comes
// from the end or the earliest join).
func randomSession(r *rand.Rand, app, id string) *builder {
	b := newSession(app, id)
	start := unix(base) + r.Int64N(21*86400)
	length := 60 + r.Int64N(3*3600)
	end := start + length
	withStart := r.IntN(5) != 0
	people := r.IntN(6)
	if people == 0 {
		withStart = true // a session needs some timestamp
	}
	if withStart {
		b.started(start)
	}
	var latest int64 = start
	perm := r.Perm(len(pool))
	for _, i := range perm[:people] {
		p := pool[i]
		j := start + r.Int64N(length) - 120
		if !withStart {
			j = start + r.Int64N(length)
		}
		for range 1 + r.IntN(2) {
			b.join(p, j)
			latest = max(latest, j)
			if r.IntN(4) == 0 {
				break // stays: the interval remains open
			}
			l := j + 1 + r.Int64N(max(end-j, 1)+300)
			b.leave(p, j, l)
			latest = max(latest, l)
			if j = l + 1 + r.Int64N(600); j >= end {
				break
			}
		}
	}
	switch r.IntN(5) {
	case 0: // live
	case 1:
		b.abandoned(latest + 60)
	default:
		b.ended(start, max(end, latest))
	}
	return b
}

// specials are sessions on the boundaries the buckets and the list order
// care about.
func specials(app string) []*builder {
	sun := unix(sunday)
	mon := unix(monday)
	ann, anna, bob, zoe := pool[0], pool[1], pool[2], pool[4]
	var out []*builder
	add := func(b *builder) { out = append(out, b) }

	// Starts a minute before midnight Sunday, ends in the next week.
	s := sun + 86400 - 30
	add(newSession(app, "edge-sun").started(s).join(ann, s).join(bob, s+10).leave(bob, s+10, s+900).ended(s, s+1800))
	// Starts in the last second of the week.
	s = sun + 86400 - 1
	add(newSession(app, "edge-sun-last").started(s).join(zoe, s).ended(s, s+60))
	// Starts exactly at Monday 00:00 (the first instant of a week, day and hour).
	add(newSession(app, "edge-mon").started(mon).join(ann, mon).leave(ann, mon, mon+600).join(zoe, mon+5).ended(mon, mon+1200))
	// Two meetings one second apart across an hour boundary.
	h := mon + 86400 + 11*3600
	add(newSession(app, "edge-hour-a").started(h-1).join(anna, h-1).ended(h-1, h+300))
	add(newSession(app, "edge-hour-b").started(h).join(anna, h).join(ann, h+1).ended(h, h+600))
	// Two meetings with the same started_at: ordered by session id.
	tie := mon + 2*86400 + 12*3600
	add(newSession(app, "tie-a").started(tie).join(bob, tie).ended(tie, tie+100))
	add(newSession(app, "tie-b").started(tie).join(bob, tie).ended(tie, tie+200))
	// Session ids that are prefixes of each other.
	p := mon + 3*86400 + 9*3600
	add(newSession(app, "s").started(p).join(zoe, p).ended(p, p+60))
	add(newSession(app, "s-1").started(p+1).join(zoe, p+1).abandoned(p + 1))
	// A missed call: ended, zero duration, no participants.
	add(newSession(app, "call-missed").missedCall(mon+4*86400, ann, bob))
	// Live meetings in the same hour as ended ones.
	add(newSession(app, "live-1").started(h+30).join(bob, h+30))
	add(newSession(app, "live-2").started(sun+86400-10).join(ann, sun+86400-10))
	return out
}
