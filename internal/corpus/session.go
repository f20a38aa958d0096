package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// builder generates one session's events.
type builder struct {
	r   *rand.Rand
	app *app
	s   *Session
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

func (b *builder) add(e Event) { b.s.Events = append(b.s.Events, e) }

// meetingSizes is the distribution of a meeting's number of people.
var meetingSizes = []int{1, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 10, 12, 15, 20}

// devices are the (platform, sdk) pairs of initial_config.
var devices = [][2]string{{"web", "react"}, {"web", "javascript"}, {"android", "android"}, {"ios", "ios"}, {"web", "angular"}}

// presence is one interval of one person, as it really happened.
type presence struct {
	u      user
	name   string
	j, l   int64
	audio  bool
	device [2]string
}

// How a meeting's end is (not) reported.
const (
	fateEnded   = "ended"   // meeting_ended delivered
	fateLostEnd = "no-end"  // it ended, but meeting_ended never arrived
	fateOngoing = "ongoing" // still running: no end, the people still in never left
)

func (b *builder) meeting(start int64) {
	r := b.r
	end := start + 120 + r.Int64N(90*60)
	if b.chance(0.1) {
		// Ended on the dot of a booked length. At 800 s and 4,000 s an odd
		// number of attended seconds makes a ratio that ends in a half at
		// the fifth decimal (e.g. 401/800 = 0.50125), which rounds up.
		end = start + []int64{800, 4000}[r.IntN(2)]
	}
	fate := fateEnded
	switch x := r.Float64(); {
	case x < 0.06:
		fate = fateOngoing
	case x < 0.12:
		fate = fateLostEnd
	}
	b.s.Scenario = "meeting/" + fate

	n := min(meetingSizes[r.IntN(len(meetingSizes))], len(b.app.users))
	var people []presence
	var prevJoin, prevLeft int64
	for k, ui := range r.Perm(len(b.app.users))[:n] {
		u := b.app.users[ui]
		var j0 int64
		switch {
		case k == 0: // the host, a second or two around the start (sometimes before it)
			j0 = start - 2 + r.Int64N(4)
		case b.chance(0.1): // two people in the same second
			j0 = prevJoin
		case b.chance(0.1) && prevLeft < end-1: // joins in the second the previous one left
			j0 = prevLeft
		case b.chance(0.7):
			j0 = start + r.Int64N(90)
		default: // late join
			j0 = start + r.Int64N((end-start)*2/3)
		}
		prevJoin = j0
		audio := b.chance(0.2)
		renamed := u.sendsUID && b.chance(0.15)
		ivs, second := b.intervals(j0, end)
		prevLeft = ivs[0][1]
		for m, iv := range ivs {
			p := presence{u: u, name: u.name, j: iv[0], l: iv[1], audio: audio, device: devices[r.IntN(len(devices))]}
			if renamed && m > 0 {
				p.name = u.name + " (mobile)"
			}
			if second && m == len(ivs)-1 { // a phone with video joins while the first device is in
				p.audio, p.device = false, [2]string{"android", "android"}
			}
			people = append(people, p)
		}
	}

	if b.chance(0.92) {
		b.add(Event{Trigger: "meeting_started", Type: "meet", CreatedAt: start})
	}
	for _, p := range people {
		b.emit(p, "meeting", "meet", end, fate == fateOngoing)
	}
	if fate == fateEnded {
		b.add(b.ended("meeting_ended", "meet", start, end, people))
		b.media(start, end, 0.25, 0.12)
	}
	if len(b.s.Events) == 0 { // every webhook of the session was lost: keep one
		b.add(Event{Trigger: "meeting_started", Type: "meet", CreatedAt: start})
	}
}

// intervals returns a person's presences [joined, left] from j0 to at most
// end: one, or rejoins after gaps; an early leave, or staying to the end;
// rarely (second) a last one from a second device that joins while the first
// is in.
func (b *builder) intervals(j0, end int64) (ivs [][2]int64, second bool) {
	r := b.r
	count := 1
	if b.chance(0.2) {
		count++
	}
	if b.chance(0.1) {
		count++
	}
	for cur, c := j0, 0; c < count && cur < end-1; c++ {
		l := cur + 1 + r.Int64N(end-cur-1) // early leave, in (cur, end)
		if c == count-1 && b.chance(0.6) {
			l = end // stays to the end
		}
		ivs = append(ivs, [2]int64{cur, l})
		if l >= end-1 {
			break
		}
		cur = l + 1 + r.Int64N(min(300, end-l-1)) // back after a gap
	}
	if first := ivs[0]; b.chance(0.05) && first[1]-first[0] >= 2 {
		j := first[0] + 1 + r.Int64N(first[1]-first[0]-1)
		ivs = append(ivs, [2]int64{j, j + 1 + r.Int64N(end-j)})
		second = true
	}
	return ivs, second
}

// emit emits a person's join and leave, each of which may be lost. A
// leave at the end is sent less often (meeting_ended's all_occupants has
// it), and never while the session is ongoing.
func (b *builder) emit(p presence, prefix, typ string, end int64, ongoing bool) {
	occ := Occupant{Name: p.name, JoinedAt: p.j, AudioCall: p.audio}
	if p.u.sendsUID {
		occ.UID = p.u.uid
	}
	if b.chance(0.93) {
		join := occ
		e := Event{Trigger: prefix + "_participant_joined", Type: typ, Occupant: &join}
		if b.chance(0.85) {
			e.Client = &Client{Platform: p.device[0], SDK: p.device[1], AudioOnly: p.audio}
			if b.chance(0.08) { // initial_config disagrees with the occupant's audio_call
				e.Client.AudioOnly = !p.audio
			}
		}
		b.add(e)
	}
	sendLeave := b.chance(0.9)
	if p.l == end {
		sendLeave = !ongoing && b.chance(0.6)
	}
	if sendLeave {
		left := occ
		left.LeftAt = p.l
		if b.chance(0.08) { // the leave's audio_call disagrees with the join's
			left.AudioCall = !p.audio
		}
		b.add(Event{Trigger: prefix + "_participant_left", Type: typ, Occupant: &left})
	}
}

// ended is *_ended: all_occupants lists everyone still in at the end and
// some of those who left before; sometimes it is empty or not sent.
func (b *builder) ended(trigger, typ string, start, end int64, people []presence) Event {
	e := Event{Trigger: trigger, Type: typ, CreatedAt: start, DestroyedAt: end}
	switch {
	case b.chance(0.8):
		e.AllOccupants = []Occupant{}
		for _, p := range people {
			if p.l == end || b.chance(0.5) {
				o := Occupant{Name: p.name, JoinedAt: p.j, LeftAt: p.l, AudioCall: p.audio}
				if b.chance(0.05) { // all_occupants disagrees
					o.AudioCall = !p.audio
				}
				if p.u.sendsUID {
					o.UID = p.u.uid
				}
				e.AllOccupants = append(e.AllOccupants, o)
			}
		}
	case b.chance(0.5):
		e.AllOccupants = []Occupant{}
	}
	return e
}

// media adds recordings and a transcription, generated after the end.
func (b *builder) media(start, end int64, pRecording, pTranscript float64) {
	r := b.r
	if b.chance(pRecording) {
		for k := range 1 + r.IntN(2) {
			at := start + r.Int64N(max(1, (end-start)/2))
			dur := float64(end-at) - float64(r.IntN(5000))/1000
			b.add(Event{Trigger: "recording_generated", Recording: &Recording{
				URL:       fmt.Sprintf("https://recordings.cometchat.example/%s/%s/%d.mp4", b.app.id, b.s.SessionID, k+1),
				StartTime: at, Duration: max(dur, 0.5), Date: time.Unix(at, 0).UTC().Format(time.DateOnly),
			}})
		}
	}
	if b.chance(pTranscript) {
		at := start + r.Int64N(60)
		b.add(Event{Trigger: "transcription_generated", Transcription: &Transcription{
			TID:       fmt.Sprintf("tid-%08x", r.Uint32()),
			URL:       fmt.Sprintf("https://transcripts.cometchat.example/%s/%s.json", b.app.id, b.s.SessionID),
			StartTime: at, EndTime: end, Date: time.Unix(at, 0).UTC().Format(time.DateOnly),
		}})
	}
}

// Outcomes of a generated 1:1 call.
var callOutcomes = []struct {
	name  string
	share float64
}{
	{"answered", 0.50}, {"unanswered", 0.12}, {"rejected", 0.12}, {"busy", 0.08}, {"cancelled", 0.10}, {"initiated", 0.08},
}

// call generates a 1:1 ringing call placed at t0.
func (b *builder) call(i int, t0 int64) {
	r := b.r
	perm := r.Perm(len(b.app.users))
	caller, callee := b.app.users[perm[0]], b.app.users[perm[1]]
	media := "audio"
	if b.chance(0.5) {
		media = "video"
	}
	outcome := callOutcomes[len(callOutcomes)-1].name
	x := r.Float64()
	for _, o := range callOutcomes {
		if x < o.share {
			outcome = o.name
			break
		}
		x -= o.share
	}
	b.s.Scenario = "call/" + outcome
	callID := strconv.Itoa(40000 + i)
	ring := func(action string, at int64) Event {
		return Event{Trigger: "call_" + action, Ringing: &Ringing{
			CallID: callID, Action: action, Sender: caller.uid, SenderName: caller.name,
			Receiver: callee.uid, Media: media, SentAt: at, InitiatedAt: t0,
		}}
	}
	answerAfter := 3 + r.Int64N(40)
	initiated := outcome == "initiated" || b.chance(0.95)
	if initiated {
		b.add(ring("initiated", t0))
	}
	switch outcome {
	case "initiated":
	case "answered":
		t1 := t0 + answerAfter
		end := t1 + 20 + r.Int64N(1800)
		if b.chance(0.92) {
			b.add(Event{Trigger: "call_started", Type: "call", CreatedAt: t1})
		}
		audio := media == "audio"
		people := []presence{
			{u: caller, name: caller.name, j: t1, l: end, audio: audio, device: devices[r.IntN(len(devices))]},
			{u: callee, name: callee.name, j: t1 + r.Int64N(3), l: end, audio: audio, device: devices[r.IntN(len(devices))]},
		}
		if b.chance(0.1) && end-people[1].j > 10 { // the callee drops out and calls back in
			drop := people[1].j + 1 + r.Int64N(end-people[1].j-5)
			back := people[1]
			back.j = drop + 1 + r.Int64N(3)
			people[1].l = drop
			people = append(people, back)
		}
		for _, p := range people {
			b.emit(p, "call", "call", end, false)
		}
		if b.chance(0.9) {
			b.add(b.ended("call_ended", "call", t1, end, people))
			b.media(t1, end, 0.1, 0.05)
		}
	default: // rejected, busy, cancelled or unanswered
		if !initiated || b.chance(0.97) {
			b.add(ring(outcome, t0+answerAfter))
		}
	}
	if len(b.s.Events) == 0 {
		b.add(ring("initiated", t0))
	}
}
