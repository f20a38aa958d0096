package domain

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Meeting derives the read model from the facts. It is a pure function of the
// facts (no clock): the same facts always give the same Meeting. The rules,
// beyond API.md's "Report semantics (exact)":
//
// Kind: "call" if any event said call (ringing events, or an event of
// Kind "call"), else "meeting" (also when only recordings are known).
//
// Status, first match wins:
//   - "ended" when a SessionEnded was seen; ended_at is its
//     destroyed_at (the latest, if several disagree);
//   - "ended" when the Calls REST API (SessionReconciled) gave an end;
//     ended_at is that (the latest). A SessionEnded's destroyed_at wins over it;
//   - "ended" for a call that was never answered (no SessionStarted, no
//     participant interval) and whose ringing reached rejected, busy,
//     cancelled or unanswered: it ends when ringing ended (the latest such
//     action), and started_at is the same instant, so its duration is 0 like
//     every missed call's (the ringing time is not call time, as for answered
//     calls, whose started_at is their SessionStarted's). initiated_at tells when it
//     was placed;
//   - "abandoned" when a SessionAbandoned was seen whose LastEventAt is not
//     older than the newest provider timestamp of the session: an event that
//     happened after the abandonment decision's horizon proves the session
//     was still alive, and the meeting is live again until the stale-meeting
//     job decides anew. Any end above supersedes abandonment. An abandoned
//     meeting ends at its latest joined_at/left_at (at started_at if it has no
//     interval);
//   - "live" otherwise: ended_at is null.
//
// started_at, first known of: the earliest SessionStarted
// created_at; the REST API's startedAt; the earliest SessionEnded created_at;
// the earliest joined_at; for a missed call, when ringing ended; the earliest
// ringing time; the earliest provider timestamp of any kind. Times are never
// the arrival time.
//
// duration_seconds = ended_at − started_at, at least 0. While live, the
// meeting is measured up to its newest provider timestamp (last_event_at):
// duration_seconds = last_event_at − started_at, and open intervals count up
// to last_event_at, so that attended_seconds ≤ duration_seconds and the ratio
// means something; both grow as events arrive.
//
// Participants: one row per identity with at least one interval. Intervals
// are shown as the provider reported them (not clipped); an open one shows
// left_at null while live and the meeting's end once ended or abandoned.
// attended_seconds is the union of the intervals, open ones closed as above,
// clipped to [started_at, ended_at]. join_count counts distinct intervals,
// also those outside the meeting. first_joined_at is the earliest joined_at;
// last_left_at is the latest left_at (open intervals closed at the end), null
// while the participant is present in a live meeting. name is the name with
// the newest provider timestamp (join: joined_at; leave and all_occupants:
// left_at), ties to the lexicographically greatest. platform and sdk come
// together from the newest join that sent client information.
// video_seconds is the union of the participant's video intervals (see
// isAudio: an interval is audio only when it carried a flag and every flag
// of every report of it said audio), clipped like attended_seconds;
// audio_seconds is attended_seconds − video_seconds, the audio intervals less
// what video ones also cover. audio_only is true
// when every report that carried a flag (Occupant.AudioOnly,
// ClientInfo.AudioOnly) said audio-only, false if any said otherwise,
// absent if none carried one. Rows are sorted by first_joined_at, then
// participant.
//
// peak_concurrent counts distinct participants present at one instant of
// [started_at, ended_at), intervals half-open [join, leave): a participant on
// two devices counts once, one leaving at t and another joining at t never
// overlap, a zero-length interval counts for nothing. While live, a
// participant still present counts (their interval is open-ended).
//
// Calls: outcome is "answered" when the call started (a SessionStarted, the REST
// API's startedAt or any participant interval); else the ringing action with
// the latest time among rejected, busy, cancelled, unanswered (ties in that
// order); else "answered" if the call ended (a SessionEnded or the REST
// API's end); else "initiated" if the initiated step was seen; else none.
// initiator, initiator_name, receiver, receiver_type and media come from the
// ringing events, the initiated step's first; initiated_at is the earliest
// ringing time (initiatedAt, else sentAt).
//
// audio_seconds and video_seconds of the meeting sum its rows'.
// provider_usage (when a reconciliation recorded CometChat's per-participant
// minutes) compares them with meetingd's rows of the same participants.
//
// Recordings and transcriptions are listed once per URL, sorted by start time
// then URL, whenever they arrive (also after the end; they do not move
// ended_at). Unmatched REST participants are listed apart as rows computed
// the same way and count in no total.
func (f *Facts) Meeting() Meeting {
	if m, ok := f.scheduled(); ok {
		return m
	}
	m := Meeting{
		AppID: f.appID, SessionID: f.sessionID, Kind: KindMeeting,
		LastEventAt:    unixUTC(f.lastAt),
		Recordings:     f.recordings(),
		Transcriptions: f.transcriptions(),
	}
	if f.sawCall {
		m.Kind = KindCall
	}

	started := f.startedAt > 0 || f.reconStarted > 0 || len(f.people) > 0
	termAt, term := f.ring.terminal()
	missed := m.Kind == KindCall && !started && term >= 0 && f.destroyedAt == 0 && f.reconEnded == 0

	var end int64
	switch {
	case f.destroyedAt > 0:
		m.Status, end = StatusEnded, f.destroyedAt
	case f.reconEnded > 0:
		m.Status, end = StatusEnded, f.reconEnded
	case missed:
		m.Status, end = StatusEnded, termAt
	case f.abandoned && f.abandonedAt >= f.lastAt:
		m.Status = StatusAbandoned
	default:
		m.Status = StatusLive
	}

	var firstJoin, lastSeen int64
	for _, ps := range f.people {
		for _, iv := range ps.ivs {
			if firstJoin == 0 || iv.j < firstJoin {
				firstJoin = iv.j
			}
			lastSeen = max(lastSeen, iv.j, iv.l)
		}
	}
	var missedAt int64
	if missed {
		missedAt = termAt
	}
	start := firstPositive(f.startedAt, f.reconStarted, f.endCreatedAt, firstJoin, missedAt, f.ring.firstAt, f.firstAt)
	m.StartedAt = unixUTC(start)

	live := m.Status == StatusLive
	if m.Status == StatusAbandoned {
		end = max(lastSeen, start)
	}
	winEnd := max(f.lastAt, start) // live: up to the newest timestamp
	if !live {
		winEnd = max(end, start)
		e := unixUTC(end)
		m.EndedAt = &e
	}
	m.DurationSeconds = winEnd - start

	w := window{live: live, start: start, end: winEnd, openEnd: end, duration: m.DurationSeconds}
	rows, edges := w.rows(f.people, true)
	m.Participants = rows
	m.ParticipantCount = len(m.Participants)
	for _, r := range m.Participants {
		m.TotalAttendanceSeconds += r.AttendedSeconds
		m.AudioSeconds += r.AudioSeconds
		m.VideoSeconds += r.VideoSeconds
	}
	m.ProviderUsage = f.providerUsageOf(m.Participants)
	m.PeakConcurrent = peak(edges)
	f.applyPlan(&m, w) // after the counts: absent roster rows count in none
	if len(f.unmatched) > 0 {
		m.UnmatchedParticipants, _ = w.rows(f.unmatched, false)
	}

	if m.Kind == KindCall {
		switch {
		case started:
			m.Outcome = OutcomeAnswered
		case term >= 0:
			m.Outcome = Outcome(ringActions[term])
		case f.destroyedAt > 0 || f.reconEnded > 0:
			m.Outcome = OutcomeAnswered
		case f.ring.at[0] > 0:
			m.Outcome = OutcomeInitiated
		}
		m.Initiator = f.ring.attrs[attrInitiator].Val
		m.InitiatorName = f.ring.attrs[attrInitiatorName].Val
		m.Receiver = f.ring.attrs[attrReceiver].Val
		m.ReceiverType = f.ring.attrs[attrReceiverType].Val
		m.Media = f.ring.attrs[attrMedia].Val
		if f.ring.firstAt > 0 {
			t := unixUTC(f.ring.firstAt)
			m.InitiatedAt = &t
		}
	}
	return m
}

// terminal returns the latest terminal ringing action (index into
// ringActions) and its time, or -1.
func (r *ringFacts) terminal() (int64, int) {
	best, at := -1, int64(0)
	for i := 1; i < numRingActions; i++ {
		if r.at[i] > at { // strictly later: ties keep the earlier action in ringActions
			best, at = i, r.at[i]
		}
	}
	return at, best
}

// window is how a meeting's intervals are measured.
type window struct {
	live bool
	// start and end bound attendance: [start, end]; end ≥ start.
	start, end int64
	// openEnd closes open intervals once the meeting has ended (unclamped).
	openEnd  int64
	duration int64
}

// edge is a participant arriving (+1) or leaving (−1) at t.
type edge struct {
	t     int64
	delta int
}

const forever = math.MaxInt64

// rows computes the attendance rows of people, sorted, and, when wantEdges,
// each participant's presence edges (for the peak).
func (w window) rows(people map[string]*person, wantEdges bool) ([]Attendance, []edge) {
	rows := make([]Attendance, 0, len(people))
	var edges []edge
	var att, pk, vid []interval
	for _, ps := range people {
		if len(ps.ivs) == 0 {
			continue
		}
		r := Attendance{
			Participant: ps.id, Name: ps.name, JoinCount: len(ps.ivs),
			Platform: ps.platform, SDK: ps.sdk,
			FirstJoinedAt: unixUTC(ps.ivs[0].j), // ivs are sorted by j
			Intervals:     make([]Interval, len(ps.ivs)),
		}
		if ps.audioYes || ps.audioNo {
			b := !ps.audioNo
			r.AudioOnly = &b
		}
		att, pk = att[:0], pk[:0]
		var lastLeft int64
		present := false
		for i, iv := range ps.ivs {
			r.Intervals[i].JoinedAt = unixUTC(iv.j)
			l, lPeak := iv.l, iv.l
			switch {
			case iv.l != 0:
				t := unixUTC(iv.l)
				r.Intervals[i].LeftAt = &t
			case w.live:
				present = true
				l, lPeak = w.end, forever
			default:
				l = max(iv.j, w.openEnd)
				lPeak = l
				t := unixUTC(l)
				r.Intervals[i].LeftAt = &t
			}
			lastLeft = max(lastLeft, l)
			if a, b := max(iv.j, w.start), min(l, w.end); b > a {
				att = append(att, interval{a, b, iv.m})
			}
			peakEnd := w.end
			if w.live {
				peakEnd = forever
			}
			if a, b := max(iv.j, w.start), min(lPeak, peakEnd); b > a {
				pk = append(pk, interval{a, b, 0})
			}
		}
		if !present {
			t := unixUTC(lastLeft)
			r.LastLeftAt = &t
		}
		r.VideoSeconds, vid = videoSeconds(att, vid)
		for _, s := range union(att) {
			r.AttendedSeconds += s.l - s.j
		}
		r.AudioSeconds = r.AttendedSeconds - r.VideoSeconds
		r.AttendanceRatio = ratio(r.AttendedSeconds, w.duration)
		if wantEdges {
			for _, s := range union(pk) {
				edges = append(edges, edge{s.j, +1}, edge{s.l, -1})
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Attendance) int {
		if c := a.FirstJoinedAt.Compare(b.FirstJoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Participant, b.Participant)
	})
	return rows, edges
}

// union merges intervals [j, l) in place (sorting them) and returns the
// disjoint, non-touching result.
func union(s []interval) []interval {
	if len(s) < 2 {
		return s
	}
	slices.SortFunc(s, func(a, b interval) int { return cmp.Compare(a.j, b.j) })
	out := s[:1]
	for _, iv := range s[1:] {
		last := &out[len(out)-1]
		if iv.j <= last.l {
			last.l = max(last.l, iv.l)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// peak returns the largest number of overlapping [t+1, t−1) spans; at the
// same instant departures count before arrivals.
func peak(edges []edge) int {
	slices.SortFunc(edges, func(a, b edge) int {
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.delta, b.delta)
	})
	n, best := 0, 0
	for _, e := range edges {
		n += e.delta
		best = max(best, n)
	}
	return best
}

// ratio is attended/duration rounded half up to 4 decimals, in integers so
// that no binary rounding error moves a half.
func ratio(attended, duration int64) float64 {
	if duration <= 0 || attended <= 0 {
		return 0
	}
	n := (attended*20000 + duration) / (2 * duration)
	return float64(n) / 10000
}

func (f *Facts) recordings() []Recording {
	out := make([]Recording, 0, len(f.records))
	for _, r := range f.records {
		out = append(out, Recording{
			URL: r.URL, StartedAt: unixPtr(r.StartTime), DurationSeconds: r.Duration, RecordingDate: r.RecordingDate,
		})
	}
	slices.SortFunc(out, func(a, b Recording) int {
		return cmp.Or(cmpTimePtr(a.StartedAt, b.StartedAt), cmp.Compare(a.URL, b.URL))
	})
	return out
}

func (f *Facts) transcriptions() []Transcription {
	out := make([]Transcription, 0, len(f.scripts))
	for _, t := range f.scripts {
		out = append(out, Transcription{URL: t.URL, StartedAt: unixPtr(t.StartTime), EndedAt: unixPtr(t.EndTime)})
	}
	slices.SortFunc(out, func(a, b Transcription) int {
		return cmp.Or(cmpTimePtr(a.StartedAt, b.StartedAt), cmp.Compare(a.URL, b.URL))
	})
	return out
}

// cmpTimePtr orders unknown (nil) times last.
func cmpTimePtr(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

func firstPositive(vs ...int64) int64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// unixUTC converts Unix seconds to a UTC time; 0 (unknown) is the zero Time.
func unixUTC(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

func unixPtr(sec int64) *time.Time {
	if sec <= 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}
