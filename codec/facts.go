package codec

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/meetingd/meetingd/domain"
)

// factsVersion is the version of the stored form of Facts.
const factsVersion = 1

// storedFacts is the stored form of Facts: the state behind a version.
type storedFacts struct {
	V int `json:"v"`
	domain.FactsState
}

// MarshalFacts returns the stored form of the facts (deterministic: equal
// facts give equal bytes), written directly: the bytes encoding/json writes
// for storedFacts.
func MarshalFacts(f *domain.Facts) ([]byte, error) {
	s := f.State()
	return appendFacts(make([]byte, 0, factsSizeHint(&s)), &s)
}

// UnmarshalFacts merges facts from their stored form into f (into an empty
// Facts of the session, that restores them; into a non-empty one it is a
// Merge).
func UnmarshalFacts(data []byte, f *domain.Facts) error {
	var w storedFacts
	if err := unmarshal(data, &w); err != nil {
		return fmt.Errorf("unmarshal facts: %w", err)
	}
	if w.V != factsVersion {
		return fmt.Errorf("unmarshal facts: unsupported version %d (want %d): rebuild the read models", w.V, factsVersion)
	}
	if err := f.MergeState(w.FactsState); err != nil {
		return fmt.Errorf("unmarshal facts: %w", err)
	}
	return nil
}

// appendFacts appends the stored form of the facts s (MarshalFacts's
// bytes) to dst. Map keys are written as they are: s comes from
// Facts.State, whose names need no escaping.
func appendFacts(dst []byte, s *domain.FactsState) ([]byte, error) {
	o := beginObject(dst)
	o.int("v", factsVersion)
	o.str("app_id", s.AppID)
	o.str("session_id", s.SessionID)
	o.boolOmitEmpty("saw_call", s.SawCall)
	o.intOmitEmpty("started_at", s.StartedAt)
	o.intOmitEmpty("end_created_at", s.EndCreatedAt)
	o.intOmitEmpty("destroyed_at", s.DestroyedAt)
	o.intOmitEmpty("reconciled_started_at", s.ReconStarted)
	o.intOmitEmpty("reconciled_ended_at", s.ReconEnded)
	o.boolOmitEmpty("abandoned", s.Abandoned)
	o.intOmitEmpty("abandoned_last_event_at", s.AbandonedAt)
	o.intOmitEmpty("first_at", s.FirstAt)
	o.intOmitEmpty("last_at", s.LastAt)
	if len(s.People) > 0 {
		o.key("people")
		o.buf = appendPeopleJSON(o.buf, s.People)
	}
	if len(s.Unmatched) > 0 {
		o.key("unmatched")
		o.buf = appendPeopleJSON(o.buf, s.Unmatched)
	}
	if len(s.Recordings) > 0 {
		appendArray(&o, "recordings", s.Recordings, func(ro *jsonObject, r domain.RecordingState) {
			ro.recording(r.RecordingGenerated)
			ro.boolOmitEmpty("webhook", r.Webhook)
		})
	}
	if len(s.Transcriptions) > 0 {
		appendArray(&o, "transcriptions", s.Transcriptions, func(to *jsonObject, t domain.TranscriptionGenerated) { to.transcription(t) })
	}
	if s.Ringing != nil {
		o.key("ringing")
		o.buf = appendRingingJSON(o.buf, s.Ringing)
	}
	if len(s.ProviderUsage) > 0 {
		appendArray(&o, "provider_usage", s.ProviderUsage, func(uo *jsonObject, u domain.ProviderUsageState) {
			uo.str("participant", u.Participant)
			uo.intOmitEmpty("fetched_at", u.FetchedAt)
			uo.float("audio_minutes", u.AudioMinutes)
			uo.float("video_minutes", u.VideoMinutes)
		})
	}
	if s.Plan != nil {
		// Rare and small beside the intervals: the general encoder.
		plan, err := marshal(s.Plan)
		if err != nil {
			return dst, fmt.Errorf("marshal facts: %w", err)
		}
		o.key("plan")
		o.buf = append(o.buf, plan...)
	}
	b, err := o.result()
	if err != nil {
		return dst, fmt.Errorf("marshal facts: %w", err)
	}
	return b, nil
}

// factsSizeHint estimates the length of the stored form, so that
// MarshalFacts allocates once in the common case.
func factsSizeHint(s *domain.FactsState) int {
	n := 256 + len(s.AppID) + len(s.SessionID)
	for i := range s.People {
		n += 96 + len(s.People[i].ID) + len(s.People[i].Name) + 24*len(s.People[i].Intervals)
	}
	for i := range s.Unmatched {
		n += 96 + len(s.Unmatched[i].ID) + len(s.Unmatched[i].Name) + 24*len(s.Unmatched[i].Intervals)
	}
	return n + 128*(len(s.Recordings)+len(s.Transcriptions)) + 96*len(s.ProviderUsage)
}

// appendPeopleJSON appends people (sorted by id) as an array.
func appendPeopleJSON(dst []byte, people []domain.PersonState) []byte {
	dst = append(dst, '[')
	for i := range people {
		ps := &people[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		o := beginObject(dst)
		o.str("id", ps.ID)
		o.strOmitEmpty("name", ps.Name)
		o.intOmitEmpty("name_at", ps.NameAt)
		o.strOmitEmpty("platform", ps.Platform)
		o.strOmitEmpty("sdk", ps.SDK)
		o.intOmitEmpty("client_at", ps.ClientAt)
		o.boolOmitEmpty("client", ps.Client)
		o.boolOmitEmpty("audio_yes", ps.AudioYes)
		o.boolOmitEmpty("audio_no", ps.AudioNo)
		o.key("intervals")
		if ps.Intervals == nil {
			o.null()
		} else {
			o.buf = append(o.buf, '[')
			for k, iv := range ps.Intervals {
				if k > 0 {
					o.buf = append(o.buf, ',')
				}
				o.buf = append(o.buf, '[')
				o.buf = strconv.AppendInt(o.buf, iv[0], 10)
				o.buf = append(o.buf, ',')
				o.buf = strconv.AppendInt(o.buf, iv[1], 10)
				o.buf = append(o.buf, ']')
			}
			o.buf = append(o.buf, ']')
		}
		if len(ps.Media) > 0 {
			o.key("media")
			o.buf = append(o.buf, '[')
			for k, m := range ps.Media {
				if k > 0 {
					o.buf = append(o.buf, ',')
				}
				o.buf = strconv.AppendInt(o.buf, int64(m), 10)
			}
			o.buf = append(o.buf, ']')
		}
		dst = o.end()
	}
	return append(dst, ']')
}

// appendRingingJSON appends the ringing facts; map members in the order of
// their names, as encoding/json writes a map.
func appendRingingJSON(dst []byte, r *domain.RingingState) []byte {
	o := beginObject(dst)
	if r.At != nil {
		o.key("at")
		m := beginObject(o.buf)
		for _, name := range slices.Sorted(maps.Keys(r.At)) {
			m.int(name, r.At[name])
		}
		o.buf = m.end()
	}
	o.intOmitEmpty("first_at", r.FirstAt)
	if r.Attrs != nil {
		o.key("attrs")
		m := beginObject(o.buf)
		for _, name := range slices.Sorted(maps.Keys(r.Attrs)) {
			p := r.Attrs[name]
			m.key(name)
			po := beginObject(m.buf)
			po.intOmitEmpty("r", int64(p.Rank))
			po.str("v", p.Val)
			m.buf = po.end()
		}
		o.buf = m.end()
	}
	return o.end()
}
