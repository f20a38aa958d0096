package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Facts is everything known about one session: a set of facts that only
// grows. Apply adds an event's facts, Merge adds another Facts'; both are
// commutative, associative and idempotent (a join-semilattice), so any
// permutation of a session's events, with any duplicates, and any split into
// batches folded separately and merged, gives the same Facts and therefore
// the same Meeting. Every reported number is derived by Meeting at read time.
//
// The facts and how each one merges:
//   - intervals, keyed by (participant identity, joined_at): left_at is the
//     maximum seen, 0 meaning open, so a closed copy replaces an open one and
//     of two closed copies the later left_at wins;
//   - per participant: the display name with the newest provider timestamp
//     (ties: the lexicographically greatest name), platform and SDK of the
//     newest join that sent client information (ties: the greatest pair), and
//     whether any report said audio-only and whether any said not;
//   - start: the earliest SessionStarted created_at;
//     end: the earliest SessionEnded created_at and the latest destroyed_at;
//     the REST API's earliest startedAt and latest endedAt, kept apart;
//   - abandonment: whether any SessionAbandoned was seen and its latest
//     LastEventAt;
//   - the earliest and the newest CometChat timestamp of any kind;
//   - whether any event said "call";
//   - recordings by URL, transcripts by URL (a webhook's copy beats the REST
//     API's; otherwise the greatest by start, duration/end, date);
//   - ringing: the latest time of each action, the earliest ringing time, and
//     initiator, receiver and media (an initiated event's value beats the
//     others'; ties: the lexicographically smallest);
//   - unmatched REST participants: like intervals, but kept apart;
//   - each interval's medium flags: whether any of its reports said audio
//     and whether any said not (or-ed, see media.go);
//   - the REST API's usage per participant: the latest fetch's (ties: the
//     greatest figures).
//   - the organiser's plan: the one with the greatest stream revision
//     (PlanSet.Revision; equal revisions by content).
//
// The zero Facts is empty and takes its app and session from the first event
// applied; NewFacts fixes them up front. State returns the facts as plain
// data (package codec stores it, versioned and deterministic; the projection
// runner keeps it between batches) and MergeState adds such data back.
// Apply, Merge and MergeState must not run concurrently with any other
// method; Meeting, State and Clone only read.
type Facts struct {
	appID, sessionID string

	sawCall bool // some event said "call"

	startedAt    int64 // min SessionStarted.CreatedAt
	endCreatedAt int64 // min SessionEnded.CreatedAt
	destroyedAt  int64 // max SessionEnded.DestroyedAt
	reconStarted int64 // min SessionReconciled.StartedAt
	reconEnded   int64 // max SessionReconciled.EndedAt
	abandoned    bool
	abandonedAt  int64 // max SessionAbandoned.LastEventAt
	firstAt      int64 // min CometChat timestamp of any kind
	lastAt       int64 // max CometChat timestamp of any kind

	people    map[string]*person
	unmatched map[string]*person
	records   map[string]recordingFact
	scripts   map[string]TranscriptionGenerated
	ring      ringFacts
	usage     map[string]providerFact // the REST API's usage, by participant
	// plan is the organiser's plan that wins (plan.go), nil without one.
	plan *PlanSet

	// dirty records whether the current Apply or Merge added a fact.
	dirty bool
}

// NewFacts returns the empty Facts of one session.
func NewFacts(appID, sessionID string) *Facts {
	return &Facts{appID: appID, sessionID: sessionID}
}

// AppID returns the session's app id.
func (f *Facts) AppID() string { return f.appID }

// SessionID returns the session id.
func (f *Facts) SessionID() string { return f.sessionID }

// ErrOtherSession is returned by Merge for Facts of another session.
var ErrOtherSession = errors.New("facts of another session")

// Apply adds the facts of one event and reports whether anything was new
// (false for a duplicate). Events of another app or session, and payloads
// this version does not know, are ignored (false).
func (f *Facts) Apply(ev Event) bool {
	if !f.adopt(ev.AppID, ev.SessionID) {
		return false
	}
	f.dirty = false
	if ev.Kind == KindCall {
		f.setBool(&f.sawCall)
	}
	switch p := ev.Payload.(type) {
	case SessionStarted:
		f.minPos(&f.startedAt, p.CreatedAt)
		f.seen(p.CreatedAt)
	case ParticipantJoined:
		o := p.Occupant
		var clientFlag *bool
		if p.Client != nil {
			clientFlag = p.Client.AudioOnly
		}
		if ps := f.occupant(&f.people, o, o.JoinedAt, clientFlag); ps != nil && p.Client != nil {
			ps.client(f, p.Client.Platform, p.Client.SDK, o.JoinedAt)
			ps.audio(f, p.Client.AudioOnly)
		}
	case ParticipantLeft:
		f.occupant(&f.people, p.Occupant, max(p.Occupant.JoinedAt, p.Occupant.LeftAt), nil)
	case SessionEnded:
		f.minPos(&f.endCreatedAt, p.CreatedAt)
		f.maxPos(&f.destroyedAt, p.DestroyedAt)
		f.seen(p.CreatedAt)
		f.seen(p.DestroyedAt)
		for _, o := range p.AllOccupants {
			f.occupant(&f.people, o, max(o.JoinedAt, o.LeftAt), nil)
		}
	case RecordingGenerated:
		f.recording(p, true)
	case TranscriptionGenerated:
		f.transcript(p)
	case CallRinging:
		f.ringing(p)
	case SessionAbandoned:
		f.setBool(&f.abandoned)
		f.maxPos(&f.abandonedAt, p.LastEventAt)
	case PlanSet:
		f.setPlan(&p)
	case SessionReconciled:
		f.minPos(&f.reconStarted, p.StartedAt)
		f.maxPos(&f.reconEnded, p.EndedAt)
		f.seen(p.StartedAt)
		f.seen(p.EndedAt)
		for _, o := range p.Intervals {
			f.occupant(&f.people, o, max(o.JoinedAt, o.LeftAt), nil)
		}
		for _, o := range p.Unmatched {
			f.occupant(&f.unmatched, o, max(o.JoinedAt, o.LeftAt), nil)
		}
		for _, r := range p.Recordings {
			f.recording(r, false)
		}
		for _, u := range p.Usage {
			f.providerUsage(p.FetchedAt, u)
		}
	}
	return f.dirty
}

// Merge adds every fact of o to f and reports whether anything was new.
func (f *Facts) Merge(o *Facts) (bool, error) {
	if o == nil {
		return false, nil
	}
	if o.appID != "" || o.sessionID != "" {
		if !f.adopt(o.appID, o.sessionID) {
			return false, fmt.Errorf("merge %s/%s into %s/%s: %w", o.appID, o.sessionID, f.appID, f.sessionID, ErrOtherSession)
		}
	}
	f.dirty = false
	if o.sawCall {
		f.setBool(&f.sawCall)
	}
	f.minPos(&f.startedAt, o.startedAt)
	f.minPos(&f.endCreatedAt, o.endCreatedAt)
	f.maxPos(&f.destroyedAt, o.destroyedAt)
	f.minPos(&f.reconStarted, o.reconStarted)
	f.maxPos(&f.reconEnded, o.reconEnded)
	if o.abandoned {
		f.setBool(&f.abandoned)
	}
	f.maxPos(&f.abandonedAt, o.abandonedAt)
	f.seen(o.firstAt)
	f.seen(o.lastAt)
	mergePeople(f, &f.people, o.people)
	mergePeople(f, &f.unmatched, o.unmatched)
	for _, r := range o.records {
		f.recordingFact(r)
	}
	for _, t := range o.scripts {
		f.transcript(t)
	}
	f.ring.merge(f, &o.ring)
	for id, p := range o.usage {
		f.providerFact(id, p)
	}
	f.setPlan(o.plan)
	return f.dirty, nil
}

// Clone returns an independent copy of f.
func (f *Facts) Clone() *Facts {
	c := NewFacts(f.appID, f.sessionID)
	_, _ = c.Merge(f) // same session: cannot fail
	return c
}

// Fold folds events (of one session) from scratch and derives the Meeting.
func Fold(events []Event) Meeting {
	var f Facts
	for _, ev := range events {
		f.Apply(ev)
	}
	return f.Meeting()
}

func (f *Facts) adopt(appID, sessionID string) bool {
	if f.appID == "" && f.sessionID == "" {
		f.appID, f.sessionID = appID, sessionID
		return true
	}
	return f.appID == appID && f.sessionID == sessionID
}

func (f *Facts) setBool(b *bool) {
	if !*b {
		*b = true
		f.dirty = true
	}
}

// minPos lowers *dst to v; 0 means unknown on either side.
func (f *Facts) minPos(dst *int64, v int64) {
	if v > 0 && (*dst == 0 || v < *dst) {
		*dst = v
		f.dirty = true
	}
}

func (f *Facts) maxPos(dst *int64, v int64) {
	if v > *dst {
		*dst = v
		f.dirty = true
	}
}

// seen widens [firstAt, lastAt] by a CometChat timestamp.
func (f *Facts) seen(t int64) {
	f.minPos(&f.firstAt, t)
	f.maxPos(&f.lastAt, t)
}

// interval is [j, l) in Unix seconds; l == 0 while open; m holds the
// medium flags its reports carried (mediaSaidAudio, mediaSaidVideo).
type interval struct {
	j, l int64
	m    uint8
}

// person is what is known of one participant.
type person struct {
	id            string
	name          string
	nameAt        int64
	platform, sdk string
	clientAt      int64
	hasClient     bool
	audioYes      bool // some report said audio-only
	audioNo       bool // some report said not audio-only
	ivs           []interval
}

// occupant adds an occupant's interval, name and audio flag to the people of
// *m; nameAt is the CometChat time the name was true at; extra is a further
// audio-only flag of the same report (a join's initial_config), nil when
// none. It returns the person, or nil for an occupant without identity or
// join time.
func (f *Facts) occupant(m *map[string]*person, o Occupant, nameAt int64, extra *bool) *person {
	k, ok := IntervalKeyOf(o)
	if !ok {
		return nil
	}
	l := o.LeftAt
	if l != 0 && l < o.JoinedAt {
		l = o.JoinedAt // a leave before the join: an empty interval
	}
	f.seen(o.JoinedAt)
	f.seen(l)
	ps := f.person(m, k.Participant)
	ps.interval(f, k.JoinedAt, l, mediaFlags(o.AudioOnly, extra))
	ps.named(f, o.Name, nameAt)
	ps.audio(f, o.AudioOnly)
	return ps
}

func (f *Facts) person(m *map[string]*person, id string) *person {
	if *m == nil {
		*m = make(map[string]*person)
	}
	ps := (*m)[id]
	if ps == nil {
		ps = &person{id: id}
		(*m)[id] = ps
		f.dirty = true
	}
	return ps
}

// interval adds (j, l) with medium flags m, keeping ivs sorted by j with one
// entry per j: left_at is the maximum, flags are or-ed.
func (ps *person) interval(f *Facts, j, l int64, m uint8) {
	i, found := slices.BinarySearchFunc(ps.ivs, j, func(iv interval, j int64) int {
		switch {
		case iv.j < j:
			return -1
		case iv.j > j:
			return 1
		}
		return 0
	})
	if found {
		if l > ps.ivs[i].l {
			ps.ivs[i].l = l
			f.dirty = true
		}
		if m|ps.ivs[i].m != ps.ivs[i].m {
			ps.ivs[i].m |= m
			f.dirty = true
		}
		return
	}
	ps.ivs = slices.Insert(ps.ivs, i, interval{j, l, m})
	f.dirty = true
}

func (ps *person) named(f *Facts, name string, at int64) {
	if name == "" {
		return
	}
	if ps.name == "" || at > ps.nameAt || (at == ps.nameAt && name > ps.name) {
		if name != ps.name || at != ps.nameAt {
			ps.name, ps.nameAt = name, at
			f.dirty = true
		}
	}
}

func (ps *person) client(f *Facts, platform, sdk string, at int64) {
	if platform == "" && sdk == "" {
		return
	}
	newer := !ps.hasClient || at > ps.clientAt ||
		(at == ps.clientAt && (platform > ps.platform || (platform == ps.platform && sdk > ps.sdk)))
	if newer {
		ps.platform, ps.sdk, ps.clientAt, ps.hasClient = platform, sdk, at, true
		f.dirty = true
	}
}

// audio records an audio-only flag, when one was sent.
func (ps *person) audio(f *Facts, v *bool) {
	if v != nil {
		ps.audioFlag(f, *v)
	}
}

func (ps *person) audioFlag(f *Facts, audioOnly bool) {
	switch {
	case audioOnly && !ps.audioYes:
		ps.audioYes = true
		f.dirty = true
	case !audioOnly && !ps.audioNo:
		ps.audioNo = true
		f.dirty = true
	}
}

func mergePeople(f *Facts, dst *map[string]*person, src map[string]*person) {
	for id, o := range src {
		ps := f.person(dst, id)
		for _, iv := range o.ivs {
			ps.interval(f, iv.j, iv.l, iv.m)
		}
		ps.named(f, o.name, o.nameAt)
		if o.hasClient {
			ps.client(f, o.platform, o.sdk, o.clientAt)
		}
		if o.audioYes {
			ps.audioFlag(f, true)
		}
		if o.audioNo {
			ps.audioFlag(f, false)
		}
	}
}

// recordingFact is a recording and whether a webhook (rather than the REST
// API) reported it.
type recordingFact struct {
	RecordingGenerated
	webhook bool
}

// beats orders two reports of the same recording URL.
func (a recordingFact) beats(b recordingFact) bool {
	if a.webhook != b.webhook {
		return a.webhook
	}
	if a.StartTime != b.StartTime {
		return a.StartTime > b.StartTime
	}
	if a.Duration != b.Duration {
		return a.Duration > b.Duration
	}
	return a.RecordingDate > b.RecordingDate
}

func (f *Facts) recording(r RecordingGenerated, webhook bool) {
	if r.URL == "" {
		return
	}
	f.seen(r.StartTime)
	f.recordingFact(recordingFact{r, webhook})
}

func (f *Facts) recordingFact(r recordingFact) {
	if f.records == nil {
		f.records = make(map[string]recordingFact)
	}
	old, ok := f.records[r.URL]
	if !ok || r.beats(old) {
		f.records[r.URL] = r
		f.dirty = true
	}
}

// transcriptBeats orders two reports of the same transcript URL.
func transcriptBeats(a, b TranscriptionGenerated) bool {
	switch {
	case a.StartTime != b.StartTime:
		return a.StartTime > b.StartTime
	case a.EndTime != b.EndTime:
		return a.EndTime > b.EndTime
	case a.TID != b.TID:
		return a.TID > b.TID
	}
	return a.TranscriptDate > b.TranscriptDate
}

func (f *Facts) transcript(t TranscriptionGenerated) {
	if t.URL == "" {
		return
	}
	f.seen(t.StartTime)
	f.seen(t.EndTime)
	if f.scripts == nil {
		f.scripts = make(map[string]TranscriptionGenerated)
	}
	old, ok := f.scripts[t.URL]
	if !ok || transcriptBeats(t, old) {
		f.scripts[t.URL] = t
		f.dirty = true
	}
}

// Ringing actions, in the order that breaks ties between terminal actions
// reported at the same second (the first wins). Their names are stored in
// the facts.
var ringActions = [...]string{RingInitiated, RingRejected, RingBusy, RingCancelled, RingUnanswered}

const numRingActions = len(ringActions)

// ringFacts are the ringing flow's facts.
type ringFacts struct {
	at      [numRingActions]int64 // latest time of each action; 0 = not seen
	firstAt int64                 // earliest initiatedAt/sentAt
	// initiator, initiator's name, receiver, receiver type, media
	attrs [numRingAttrs]Pick
}

const (
	attrInitiator = iota
	attrInitiatorName
	attrReceiver
	attrReceiverType
	attrMedia
	numRingAttrs
)

// Pick is a value chosen among several reports: a higher rank wins, then the
// lexicographically smallest value; "" never wins.
type Pick struct {
	Rank int8   `json:"r,omitempty"`
	Val  string `json:"v"`
}

func (p *Pick) offer(f *Facts, rank int8, val string) {
	if val == "" {
		return
	}
	if p.Val == "" || rank > p.Rank || (rank == p.Rank && val < p.Val) {
		if rank != p.Rank || val != p.Val {
			p.Rank, p.Val = rank, val
			f.dirty = true
		}
	}
}

func (f *Facts) ringing(r CallRinging) {
	at := max(r.SentAt, r.UpdatedAt)
	f.seen(r.SentAt)
	f.seen(r.UpdatedAt)
	f.seen(r.InitiatedAt)
	start := r.InitiatedAt
	if start <= 0 {
		start = r.SentAt
	}
	f.minPos(&f.ring.firstAt, start)
	var rank int8
	if i := ringAction(r.Action); i >= 0 {
		f.maxPos(&f.ring.at[i], at)
		if i == 0 {
			rank = 1
		}
	}
	f.ring.attrs[attrInitiator].offer(f, rank, r.Sender)
	f.ring.attrs[attrInitiatorName].offer(f, rank, r.SenderName)
	f.ring.attrs[attrReceiver].offer(f, rank, r.Receiver)
	f.ring.attrs[attrReceiverType].offer(f, rank, r.ReceiverType)
	f.ring.attrs[attrMedia].offer(f, rank, r.Media)
}

func ringAction(action string) int {
	for i, a := range ringActions {
		if strings.EqualFold(action, a) {
			return i
		}
	}
	return -1
}

func (r *ringFacts) merge(f *Facts, o *ringFacts) {
	for i := range r.at {
		f.maxPos(&r.at[i], o.at[i])
	}
	f.minPos(&r.firstAt, o.firstAt)
	for i := range r.attrs {
		r.attrs[i].offer(f, o.attrs[i].Rank, o.attrs[i].Val)
	}
}

// FactsState is the content of Facts as plain data, every collection sorted
// by key, so that equal Facts have equal states: what package codec stores
// (the field names are those of the stored form). Building it from Facts
// (State) and merging it back (MergeState) loses nothing.
type FactsState struct {
	AppID          string                   `json:"app_id"`
	SessionID      string                   `json:"session_id"`
	SawCall        bool                     `json:"saw_call,omitempty"`
	StartedAt      int64                    `json:"started_at,omitempty"`
	EndCreatedAt   int64                    `json:"end_created_at,omitempty"`
	DestroyedAt    int64                    `json:"destroyed_at,omitempty"`
	ReconStarted   int64                    `json:"reconciled_started_at,omitempty"`
	ReconEnded     int64                    `json:"reconciled_ended_at,omitempty"`
	Abandoned      bool                     `json:"abandoned,omitempty"`
	AbandonedAt    int64                    `json:"abandoned_last_event_at,omitempty"`
	FirstAt        int64                    `json:"first_at,omitempty"`
	LastAt         int64                    `json:"last_at,omitempty"`
	People         []PersonState            `json:"people,omitempty"`
	Unmatched      []PersonState            `json:"unmatched,omitempty"`
	Recordings     []RecordingState         `json:"recordings,omitempty"`
	Transcriptions []TranscriptionGenerated `json:"transcriptions,omitempty"`
	Ringing        *RingingState            `json:"ringing,omitempty"`
	ProviderUsage  []ProviderUsageState     `json:"provider_usage,omitempty"`
	// Plan is the plan that wins, nil without one.
	Plan *PlanSet `json:"plan,omitempty"`
}

// PersonState is what is known of one participant.
type PersonState struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	NameAt   int64  `json:"name_at,omitempty"`
	Platform string `json:"platform,omitempty"`
	SDK      string `json:"sdk,omitempty"`
	ClientAt int64  `json:"client_at,omitempty"`
	Client   bool   `json:"client,omitempty"`
	AudioYes bool   `json:"audio_yes,omitempty"`
	AudioNo  bool   `json:"audio_no,omitempty"`
	// Intervals are [joined_at, left_at] pairs sorted by joined_at, left_at
	// 0 while open.
	Intervals [][2]int64 `json:"intervals"`
	// Media are the intervals' medium flags, parallel to Intervals (bit 1:
	// a report said audio, bit 2: a report said not); nil when no interval
	// carried one.
	Media []int8 `json:"media,omitempty"`
}

// RecordingState is a recording and whether a webhook reported it.
type RecordingState struct {
	RecordingGenerated
	Webhook bool `json:"webhook,omitempty"`
}

// RingingState is the ringing flow's facts.
type RingingState struct {
	// At maps an action (initiated, rejected, busy, cancelled, unanswered)
	// to its latest time.
	At      map[string]int64 `json:"at,omitempty"`
	FirstAt int64            `json:"first_at,omitempty"`
	// Attrs maps an attribute (initiator, initiator_name, receiver,
	// receiver_type, media) to the value chosen.
	Attrs map[string]Pick `json:"attrs,omitempty"`
}

var ringAttrNames = [numRingAttrs]string{"initiator", "initiator_name", "receiver", "receiver_type", "media"}

// State returns the facts as plain data.
func (f *Facts) State() FactsState {
	s := FactsState{
		AppID: f.appID, SessionID: f.sessionID,
		SawCall:   f.sawCall,
		StartedAt: f.startedAt, EndCreatedAt: f.endCreatedAt, DestroyedAt: f.destroyedAt,
		ReconStarted: f.reconStarted, ReconEnded: f.reconEnded,
		Abandoned: f.abandoned, AbandonedAt: f.abandonedAt, FirstAt: f.firstAt, LastAt: f.lastAt,
		People: peopleState(f.people), Unmatched: peopleState(f.unmatched),
		ProviderUsage: f.usageState(),
	}
	if len(f.records) > 0 {
		s.Recordings = make([]RecordingState, 0, len(f.records))
		for _, url := range sortedKeys(f.records) {
			r := f.records[url]
			s.Recordings = append(s.Recordings, RecordingState{r.RecordingGenerated, r.webhook})
		}
	}
	if len(f.scripts) > 0 {
		s.Transcriptions = make([]TranscriptionGenerated, 0, len(f.scripts))
		for _, url := range sortedKeys(f.scripts) {
			s.Transcriptions = append(s.Transcriptions, f.scripts[url])
		}
	}
	if f.ring != (ringFacts{}) {
		rs := &RingingState{FirstAt: f.ring.firstAt}
		for i, at := range f.ring.at {
			if at != 0 {
				if rs.At == nil {
					rs.At = make(map[string]int64, numRingActions)
				}
				rs.At[ringActions[i]] = at
			}
		}
		for i, p := range f.ring.attrs {
			if p.Val != "" {
				if rs.Attrs == nil {
					rs.Attrs = make(map[string]Pick, numRingAttrs)
				}
				rs.Attrs[ringAttrNames[i]] = p
			}
		}
		s.Ringing = rs
	}
	if f.plan != nil {
		s.Plan = clonePlan(f.plan)
	}
	return s
}

// peopleState returns people sorted by id; their intervals share one
// allocation.
func peopleState(m map[string]*person) []PersonState {
	if len(m) == 0 {
		return nil
	}
	out := make([]PersonState, 0, len(m))
	n := 0
	for _, ps := range m {
		n += len(ps.ivs)
	}
	ivs := make([][2]int64, n)
	for _, id := range sortedKeys(m) {
		ps := m[id]
		own := ivs[:len(ps.ivs):len(ps.ivs)]
		ivs = ivs[len(ps.ivs):]
		var media []int8
		for i, iv := range ps.ivs {
			own[i] = [2]int64{iv.j, iv.l}
			if iv.m != 0 && media == nil {
				media = make([]int8, len(ps.ivs))
			}
			if media != nil {
				media[i] = int8(iv.m)
			}
		}
		out = append(out, PersonState{
			ID: ps.id, Name: ps.name, NameAt: ps.nameAt, Platform: ps.platform, SDK: ps.sdk,
			ClientAt: ps.clientAt, Client: ps.hasClient, AudioYes: ps.audioYes, AudioNo: ps.audioNo,
			Intervals: own, Media: media,
		})
	}
	return out
}

// MergeState merges facts given as plain data into f (a Merge): data that
// is unsorted, duplicated or inconsistent still yields well-formed facts.
func (f *Facts) MergeState(s FactsState) error {
	o := &Facts{
		appID: s.AppID, sessionID: s.SessionID, sawCall: s.SawCall,
		startedAt: s.StartedAt, endCreatedAt: s.EndCreatedAt, destroyedAt: s.DestroyedAt,
		reconStarted: s.ReconStarted, reconEnded: s.ReconEnded,
		abandoned: s.Abandoned, abandonedAt: s.AbandonedAt, firstAt: s.FirstAt, lastAt: s.LastAt,
	}
	o.people = peopleFromState(s.People)
	o.unmatched = peopleFromState(s.Unmatched)
	for _, u := range s.ProviderUsage {
		o.providerUsage(u.FetchedAt, ParticipantUsage{Participant: u.Participant, AudioMinutes: u.AudioMinutes, VideoMinutes: u.VideoMinutes})
	}
	for _, r := range s.Recordings {
		o.recordingFact(recordingFact{r.RecordingGenerated, r.Webhook})
	}
	for _, t := range s.Transcriptions {
		o.transcript(t)
	}
	if s.Ringing != nil {
		o.ring.firstAt = s.Ringing.FirstAt
		for name, at := range s.Ringing.At {
			if i := ringAction(name); i >= 0 {
				o.ring.at[i] = at
			}
		}
		for i, name := range ringAttrNames {
			if p, ok := s.Ringing.Attrs[name]; ok {
				o.ring.attrs[i] = p
			}
		}
	}
	if s.Plan != nil {
		o.plan = clonePlan(s.Plan)
	}
	_, err := f.Merge(o)
	return err
}

// peopleFromState rebuilds people through the merge primitives, so that
// hand-edited or unsorted data still yields well-formed facts.
func peopleFromState(in []PersonState) map[string]*person {
	if len(in) == 0 {
		return nil
	}
	var scratch Facts
	m := make(map[string]*person, len(in))
	for _, pj := range in {
		if pj.ID == "" {
			continue
		}
		ps := scratch.person(&m, pj.ID)
		for i, iv := range pj.Intervals {
			if j, l := iv[0], iv[1]; j > 0 {
				if l != 0 && l < j {
					l = j
				}
				var m uint8
				if i < len(pj.Media) {
					m = uint8(pj.Media[i]) & mediaMask
				}
				ps.interval(&scratch, j, l, m)
			}
		}
		ps.named(&scratch, pj.Name, pj.NameAt)
		if pj.Client {
			ps.client(&scratch, pj.Platform, pj.SDK, pj.ClientAt)
		}
		if pj.AudioYes {
			ps.audioFlag(&scratch, true)
		}
		if pj.AudioNo {
			ps.audioFlag(&scratch, false)
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
