package domain

import (
	"math"
	"slices"
)

// Medium flags of an interval: what the reports of the interval (its join,
// its leave, the all_occupants entry of the end, the REST API's copy) said.
// A report's Occupant.AudioOnly (CometChat's occupant.audio_call) and, for
// a join, ClientInfo.AudioOnly (initial_config.is_audio_only) each add one
// flag. The flags of every report of an interval are or-ed, so the medium
// does not depend on the order or the number of copies.
const (
	mediaSaidAudio uint8 = 1 << iota // some flag said audio
	mediaSaidVideo                   // some flag said not audio
	mediaMask      = mediaSaidAudio | mediaSaidVideo
)

// mediaFlags returns the flags of one report's audio-only values (nil:
// not sent).
func mediaFlags(vs ...*bool) uint8 {
	var m uint8
	for _, v := range vs {
		switch {
		case v == nil:
		case *v:
			m |= mediaSaidAudio
		default:
			m |= mediaSaidVideo
		}
	}
	return m
}

// isAudio is the medium rule of API.md: an interval is audio when at least
// one of its reports carried a flag and every flag said audio; otherwise
// (no flag, or any flag saying video) it is video.
func isAudio(m uint8) bool { return m&mediaMask == mediaSaidAudio }

// providerFact is the provider's usage of one participant as last fetched.
type providerFact struct {
	at           int64 // SessionReconciled.FetchedAt
	audio, video float64
}

// beats orders two fetches of the same participant's usage: the later
// fetch wins; at the same second the greater figures (audio, then video).
func (a providerFact) beats(b providerFact) bool {
	if a.at != b.at {
		return a.at > b.at
	}
	if a.audio != b.audio {
		return a.audio > b.audio
	}
	return a.video > b.video
}

// providerUsage records a participant's usage fetched at at; values that
// are not finite and non-negative are not facts (the decoder refuses them).
func (f *Facts) providerUsage(at int64, u ParticipantUsage) {
	if u.Participant == "" || !validMinutes(u.AudioMinutes) || !validMinutes(u.VideoMinutes) {
		return
	}
	f.providerFact(u.Participant, providerFact{at, u.AudioMinutes, u.VideoMinutes})
}

func (f *Facts) providerFact(id string, p providerFact) {
	if f.usage == nil {
		f.usage = make(map[string]providerFact)
	}
	old, ok := f.usage[id]
	if !ok || p.beats(old) {
		f.usage[id] = p
		f.dirty = true
	}
}

func validMinutes(v float64) bool { return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// ProviderUsageState is the stored form of one participant's provider usage.
type ProviderUsageState struct {
	Participant  string  `json:"participant"`
	FetchedAt    int64   `json:"fetched_at,omitempty"`
	AudioMinutes float64 `json:"audio_minutes"`
	VideoMinutes float64 `json:"video_minutes"`
}

func (f *Facts) usageState() []ProviderUsageState {
	if len(f.usage) == 0 {
		return nil
	}
	out := make([]ProviderUsageState, 0, len(f.usage))
	for _, id := range sortedKeys(f.usage) {
		p := f.usage[id]
		out = append(out, ProviderUsageState{Participant: id, FetchedAt: p.at, AudioMinutes: p.audio, VideoMinutes: p.video})
	}
	return out
}

// videoSeconds returns the video seconds of one participant: the length of
// the union of the clipped spans (each carrying its interval's flags) whose
// interval is video. scratch is reused and returned.
func videoSeconds(spans []interval, scratch []interval) (int64, []interval) {
	scratch = scratch[:0]
	for _, s := range spans {
		if !isAudio(s.m) {
			scratch = append(scratch, s)
		}
	}
	var n int64
	for _, s := range union(scratch) {
		n += s.l - s.j
	}
	return n, scratch
}

// providerUsageOf compares the provider's figures with the rows.
func (f *Facts) providerUsageOf(rows []Attendance) *ProviderUsage {
	if len(f.usage) == 0 {
		return nil
	}
	pu := &ProviderUsage{Participants: len(f.usage)}
	var audio, video int64
	for id, p := range f.usage {
		pu.AudioSeconds += int64(math.Round(p.audio * 60))
		pu.VideoSeconds += int64(math.Round(p.video * 60))
		if i := slices.IndexFunc(rows, func(r Attendance) bool { return r.Participant == id }); i >= 0 {
			audio += rows[i].AudioSeconds
			video += rows[i].VideoSeconds
		}
	}
	pu.AudioDifferenceSeconds = audio - pu.AudioSeconds
	pu.VideoDifferenceSeconds = video - pu.VideoSeconds
	return pu
}
