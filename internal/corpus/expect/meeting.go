package expect

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/meetingd/meetingd/internal/corpus"
)

// Meeting is GET /v1/meetings/{sessionId} as API.md specifies it (fields
// API.md does not name are left out; decoding a server's answer into a
// Meeting ignores them).
type Meeting struct {
	AppID                  string          `json:"app_id"`
	SessionID              string          `json:"session_id"`
	Kind                   string          `json:"kind"`
	Status                 string          `json:"status"`
	StartedAt              time.Time       `json:"started_at"`
	EndedAt                *time.Time      `json:"ended_at"`
	DurationSeconds        int64           `json:"duration_seconds"`
	ParticipantCount       int             `json:"participant_count"`
	PeakConcurrent         int             `json:"peak_concurrent"`
	TotalAttendanceSeconds int64           `json:"total_attendance_seconds"`
	AudioSeconds           int64           `json:"audio_seconds"`
	VideoSeconds           int64           `json:"video_seconds"`
	Recordings             []Recording     `json:"recordings"`
	Transcriptions         []Transcription `json:"transcriptions"`
	// Participants is nil in the meeting list.
	Participants []Row `json:"participants,omitempty"`
	// For calls.
	Outcome   string `json:"outcome,omitempty"`
	Initiator string `json:"initiator,omitempty"`
	Receiver  string `json:"receiver,omitempty"`
	Media     string `json:"media,omitempty"`
}

// Recording is a meeting's recording.
type Recording struct {
	URL             string     `json:"recording_url"`
	StartedAt       *time.Time `json:"started_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	RecordingDate   string     `json:"recording_date"`
}

// Transcription is a meeting's transcript.
type Transcription struct {
	URL       string     `json:"transcript_url"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

// Row is an attendance row.
type Row struct {
	Participant     string     `json:"participant"`
	Name            string     `json:"name"`
	FirstJoinedAt   time.Time  `json:"first_joined_at"`
	LastLeftAt      *time.Time `json:"last_left_at"`
	AttendedSeconds int64      `json:"attended_seconds"`
	AttendanceRatio float64    `json:"attendance_ratio"`
	JoinCount       int        `json:"join_count"`
	Intervals       []Interval `json:"intervals"`
	AudioSeconds    int64      `json:"audio_seconds"`
	VideoSeconds    int64      `json:"video_seconds"`
	AudioOnly       *bool      `json:"audio_only,omitempty"`
	Platform        string     `json:"platform,omitempty"`
	SDK             string     `json:"sdk,omitempty"`
}

// Interval is one presence, left_at null while open.
type Interval struct {
	JoinedAt time.Time  `json:"joined_at"`
	LeftAt   *time.Time `json:"left_at"`
}

// person gathers what the events say about one participant.
type person struct {
	id     string
	name   string
	nameAt int64
	// left by joined_at; 0 while open (a closed copy replaces an open one).
	left              map[int64]int64
	audioYes, audioNo bool
	// said maps joined_at to the flags that the reports of that interval
	// carried: [0] some said audio, [1] some said not.
	said          map[int64][2]bool
	platform, sdk string
	clientAt      int64
	hasClient     bool
}

func (p *person) named(name string, at int64) {
	if p.name == "" || at > p.nameAt || (at == p.nameAt && name > p.name) {
		p.name, p.nameAt = name, at
	}
}

// flag records an audio flag of the report of the interval joined at j.
func (p *person) flag(j int64, audio bool) {
	f := p.said[j]
	if audio {
		p.audioYes, f[0] = true, true
	} else {
		p.audioNo, f[1] = true, true
	}
	p.said[j] = f
}

// ringing gathers a call's ringing events.
type ringing struct {
	initiated bool
	firstAt   int64
	// terminal action with the latest time.
	term   string
	termAt int64
	// from call_initiated, else from any ringing event.
	initiator, receiver, media string
	fromInitiated              bool
}

// Compute returns the meeting report of one session from its delivered events.
func Compute(s corpus.Session) Meeting {
	var (
		call                           bool
		startedAt, endCreated, destroy int64
		firstAt, lastAt                int64
		people                         = map[string]*person{}
		recs                           = map[string]Recording{}
		trs                            = map[string]Transcription{}
		ring                           ringing
	)
	seen := func(t int64) {
		if t <= 0 {
			return
		}
		if firstAt == 0 || t < firstAt {
			firstAt = t
		}
		lastAt = max(lastAt, t)
	}
	earliest := func(cur *int64, t int64) {
		if t > 0 && (*cur == 0 || t < *cur) {
			*cur = t
		}
	}
	occupant := func(o corpus.Occupant, nameAt int64) *person {
		id := o.UID
		if id == "" {
			id = o.Name
		}
		p := people[id]
		if p == nil {
			p = &person{id: id, left: map[int64]int64{}, said: map[int64][2]bool{}}
			people[id] = p
		}
		p.left[o.JoinedAt] = max(p.left[o.JoinedAt], o.LeftAt)
		p.named(o.Name, nameAt)
		p.flag(o.JoinedAt, o.AudioCall)
		seen(o.JoinedAt)
		seen(o.LeftAt)
		return p
	}

	for _, e := range s.Events {
		if strings.HasPrefix(e.Trigger, "call_") || e.Type == "call" {
			call = true
		}
		switch e.Trigger {
		case "meeting_started", "call_started":
			earliest(&startedAt, e.CreatedAt)
			seen(e.CreatedAt)
		case "meeting_participant_joined", "call_participant_joined":
			p := occupant(*e.Occupant, e.Occupant.JoinedAt)
			if c := e.Client; c != nil {
				p.flag(e.Occupant.JoinedAt, c.AudioOnly)
				at := e.Occupant.JoinedAt
				if !p.hasClient || at > p.clientAt || (at == p.clientAt && c.Platform+"\x00"+c.SDK > p.platform+"\x00"+p.sdk) {
					p.platform, p.sdk, p.clientAt, p.hasClient = c.Platform, c.SDK, at, true
				}
			}
		case "meeting_participant_left", "call_participant_left":
			occupant(*e.Occupant, max(e.Occupant.JoinedAt, e.Occupant.LeftAt))
		case "meeting_ended", "call_ended":
			earliest(&endCreated, e.CreatedAt)
			destroy = max(destroy, e.DestroyedAt)
			seen(e.CreatedAt)
			seen(e.DestroyedAt)
			for _, o := range e.AllOccupants {
				occupant(o, max(o.JoinedAt, o.LeftAt))
			}
		case "recording_generated":
			r := e.Recording
			recs[r.URL] = Recording{URL: r.URL, StartedAt: at(r.StartTime), DurationSeconds: r.Duration, RecordingDate: r.Date}
			seen(r.StartTime)
		case "transcription_generated":
			t := e.Transcription
			trs[t.URL] = Transcription{URL: t.URL, StartedAt: at(t.StartTime), EndedAt: at(t.EndTime)}
			seen(t.StartTime)
			seen(t.EndTime)
		default: // the ringing flow
			r := e.Ringing
			seen(r.SentAt)
			seen(r.InitiatedAt)
			earliest(&ring.firstAt, cmp.Or(r.InitiatedAt, r.SentAt))
			if r.Action == "initiated" {
				ring.initiated = true
			} else if r.SentAt > ring.termAt {
				ring.term, ring.termAt = r.Action, r.SentAt
			}
			if !ring.fromInitiated || r.Action == "initiated" {
				ring.initiator, ring.receiver, ring.media = r.Sender, r.Receiver, r.Media
				ring.fromInitiated = r.Action == "initiated"
			}
		}
	}

	m := Meeting{AppID: s.AppID, SessionID: s.SessionID, Kind: "meeting", Recordings: []Recording{}, Transcriptions: []Transcription{}}
	if call {
		m.Kind = "call"
	}
	var firstJoin int64
	for _, p := range people {
		for j := range p.left {
			earliest(&firstJoin, j)
		}
	}
	answered := startedAt > 0 || len(people) > 0
	missed := call && !answered && ring.term != "" && destroy == 0

	var start, end int64
	switch {
	case startedAt > 0:
		start = startedAt
	case endCreated > 0:
		start = endCreated
	case firstJoin > 0:
		start = firstJoin
	case missed:
		start = ring.termAt
	case ring.firstAt > 0:
		start = ring.firstAt
	default:
		start = firstAt
	}
	switch {
	case destroy > 0:
		m.Status, end = "ended", destroy
	case missed:
		m.Status, end = "ended", ring.termAt
	default:
		m.Status = "live"
	}
	m.StartedAt = time.Unix(start, 0).UTC()
	live := m.Status == "live"
	// window is what attendance is measured in: [start, windowEnd].
	windowEnd := max(end, start)
	if live {
		windowEnd = max(lastAt, start)
	} else {
		m.EndedAt = at(end)
	}
	m.DurationSeconds = windowEnd - start

	var presence [][2]int64 // every participant's merged presence, for the peak
	for _, p := range people {
		row, pres := attendance(p, live, start, windowEnd, end, m.DurationSeconds)
		m.Participants = append(m.Participants, row)
		m.TotalAttendanceSeconds += row.AttendedSeconds
		m.AudioSeconds += row.AudioSeconds
		m.VideoSeconds += row.VideoSeconds
		presence = append(presence, pres...)
	}
	m.ParticipantCount = len(m.Participants)
	m.PeakConcurrent = peak(presence)
	slices.SortFunc(m.Participants, func(a, b Row) int {
		return cmp.Or(a.FirstJoinedAt.Compare(b.FirstJoinedAt), cmp.Compare(a.Participant, b.Participant))
	})

	for _, r := range recs {
		m.Recordings = append(m.Recordings, r)
	}
	slices.SortFunc(m.Recordings, func(a, b Recording) int { return cmp.Compare(a.URL, b.URL) })
	for _, t := range trs {
		m.Transcriptions = append(m.Transcriptions, t)
	}
	slices.SortFunc(m.Transcriptions, func(a, b Transcription) int { return cmp.Compare(a.URL, b.URL) })

	if call {
		switch {
		case answered:
			m.Outcome = "answered"
		case ring.term != "":
			m.Outcome = ring.term
		case destroy > 0:
			m.Outcome = "answered"
		case ring.initiated:
			m.Outcome = "initiated"
		}
		m.Initiator, m.Receiver, m.Media = ring.initiator, ring.receiver, ring.media
	}
	return m
}

// attendance computes p's row, and p's presence for the peak: the union of
// its intervals within the meeting, half-open, open-ended while live.
func attendance(p *person, live bool, start, windowEnd, end, duration int64) (Row, [][2]int64) {
	joins := make([]int64, 0, len(p.left))
	for j := range p.left {
		joins = append(joins, j)
	}
	slices.Sort(joins)
	row := Row{Participant: p.id, Name: p.name, JoinCount: len(joins), FirstJoinedAt: time.Unix(joins[0], 0).UTC()}
	if p.audioYes || p.audioNo {
		v := !p.audioNo
		row.AudioOnly = &v
	}
	row.Platform, row.SDK = p.platform, p.sdk
	var attended, presence [][2]int64
	var spans []span // the clipped intervals with their medium
	var lastLeft int64
	stillIn := false
	for _, j := range joins {
		l := p.left[j]
		iv := Interval{JoinedAt: time.Unix(j, 0).UTC()}
		presentUntil := l
		switch {
		case l != 0:
			iv.LeftAt = at(l)
		case live:
			stillIn = true
			l, presentUntil = windowEnd, math.MaxInt64
		default: // open, but the meeting has ended: it ends with the meeting
			l = max(j, end)
			presentUntil = l
			iv.LeftAt = at(l)
		}
		row.Intervals = append(row.Intervals, iv)
		lastLeft = max(lastLeft, l)
		attended = append(attended, [2]int64{max(j, start), min(l, windowEnd)})
		// API.md: audio when a flag was sent and every flag said audio.
		f := p.said[j]
		spans = append(spans, span{max(j, start), min(l, windowEnd), f[0] && !f[1]})
		presenceEnd := min(presentUntil, windowEnd)
		if live {
			presenceEnd = presentUntil
		}
		presence = append(presence, [2]int64{max(j, start), presenceEnd})
	}
	if !stillIn {
		row.LastLeftAt = at(lastLeft)
	}
	for _, iv := range union(attended) {
		row.AttendedSeconds += iv[1] - iv[0]
	}
	row.AttendanceRatio = ratio(row.AttendedSeconds, duration)
	row.AudioSeconds, row.VideoSeconds = media(spans)
	return row, union(presence)
}

// span is a clipped interval [a, b) and whether it is audio.
type span struct {
	a, b  int64
	audio bool
}

// media splits a participant's time by medium over elementary segments:
// between consecutive boundaries of any span, a segment covered by a video
// span is video, else one covered only by audio spans is audio (API.md:
// the audio intervals less what the video ones also cover).
func media(spans []span) (audio, video int64) {
	var cuts []int64
	for _, s := range spans {
		if s.b > s.a {
			cuts = append(cuts, s.a, s.b)
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		anyAudio, anyVideo := false, false
		for _, s := range spans {
			if s.a <= lo && hi <= s.b {
				if s.audio {
					anyAudio = true
				} else {
					anyVideo = true
				}
			}
		}
		switch {
		case anyVideo:
			video += hi - lo
		case anyAudio:
			audio += hi - lo
		}
	}
	return audio, video
}

// union merges intervals [a, b) by sorting; empty ones vanish and touching
// ones join.
func union(ivs [][2]int64) [][2]int64 {
	var in [][2]int64
	for _, iv := range ivs {
		if iv[1] > iv[0] {
			in = append(in, iv)
		}
	}
	slices.SortFunc(in, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]int64
	for _, iv := range in {
		if n := len(out); n > 0 && iv[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], iv[1])
			continue
		}
		out = append(out, iv)
	}
	return out
}

// peak is the most intervals [a, b) that overlap at one instant: a sweep in
// which a departure at t comes before an arrival at t.
func peak(ivs [][2]int64) int {
	type edge struct {
		t int64
		d int
	}
	var edges []edge
	for _, iv := range ivs {
		edges = append(edges, edge{iv[0], +1}, edge{iv[1], -1})
	}
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.d, b.d)) })
	n, best := 0, 0
	for _, e := range edges {
		n += e.d
		best = max(best, n)
	}
	return best
}

// ratio is attended / duration rounded half up to 4 decimals, 0 when the
// duration is 0 (integers only: no binary rounding moves a half).
func ratio(attended, duration int64) float64 {
	if duration <= 0 {
		return 0
	}
	q, r := attended*10000/duration, attended*10000%duration
	if 2*r >= duration {
		q++
	}
	return float64(q) / 10000
}

func at(sec int64) *time.Time {
	if sec <= 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}
