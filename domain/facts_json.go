package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
)

// MarshalJSON returns the stored form of the facts (deterministic): the
// bytes encoding/json writes for factsJSON, written directly.
func (f *Facts) MarshalJSON() ([]byte, error) {
	return f.AppendJSON(make([]byte, 0, f.jsonSizeHint()))
}

// AppendJSON appends the stored form of the facts (MarshalJSON's bytes) to
// dst.
func (f *Facts) AppendJSON(dst []byte) ([]byte, error) {
	o := beginObject(dst)
	o.int("v", factsVersion)
	o.str("app_id", f.appID)
	o.str("session_id", f.sessionID)
	o.boolOmitEmpty("saw_call", f.sawCall)
	o.intOmitEmpty("started_at", f.startedAt)
	o.intOmitEmpty("end_created_at", f.endCreatedAt)
	o.intOmitEmpty("destroyed_at", f.destroyedAt)
	o.intOmitEmpty("reconciled_started_at", f.reconStarted)
	o.intOmitEmpty("reconciled_ended_at", f.reconEnded)
	o.boolOmitEmpty("abandoned", f.abandoned)
	o.intOmitEmpty("abandoned_last_event_at", f.abandonedAt)
	o.intOmitEmpty("first_at", f.firstAt)
	o.intOmitEmpty("last_at", f.lastAt)
	if len(f.people) > 0 {
		o.key("people")
		o.buf = appendPeopleJSON(o.buf, f.people)
	}
	if len(f.unmatched) > 0 {
		o.key("unmatched")
		o.buf = appendPeopleJSON(o.buf, f.unmatched)
	}
	if len(f.records) > 0 {
		appendArray(&o, "recordings", valuesByKey(f.records), func(ro *jsonObject, r recordingFact) {
			ro.recording(r.RecordingGenerated)
			ro.boolOmitEmpty("webhook", r.webhook)
		})
	}
	if len(f.scripts) > 0 {
		appendArray(&o, "transcriptions", valuesByKey(f.scripts), func(to *jsonObject, t TranscriptionGenerated) { to.transcription(t) })
	}
	if f.ring != (ringFacts{}) {
		o.key("ringing")
		o.buf = f.ring.appendJSON(o.buf)
	}
	b, err := o.result()
	if err != nil {
		return dst, fmt.Errorf("marshal facts: %w", err)
	}
	return b, nil
}

// jsonSizeHint estimates the length of the stored form, so that
// MarshalJSON allocates once in the common case.
func (f *Facts) jsonSizeHint() int {
	n := 256 + len(f.appID) + len(f.sessionID)
	for _, ps := range f.people {
		n += 96 + len(ps.id) + len(ps.name) + 24*len(ps.ivs)
	}
	for _, ps := range f.unmatched {
		n += 96 + len(ps.id) + len(ps.name) + 24*len(ps.ivs)
	}
	return n + 128*(len(f.records)+len(f.scripts))
}

// appendPeopleJSON appends people as the array of personJSON, sorted by id.
func appendPeopleJSON(dst []byte, people map[string]*person) []byte {
	sorted := make([]*person, 0, len(people))
	for _, ps := range people {
		sorted = append(sorted, ps)
	}
	slices.SortFunc(sorted, func(a, b *person) int { return cmp.Compare(a.id, b.id) })
	dst = append(dst, '[')
	for i, ps := range sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		o := beginObject(dst)
		o.str("id", ps.id)
		o.strOmitEmpty("name", ps.name)
		o.intOmitEmpty("name_at", ps.nameAt)
		o.strOmitEmpty("platform", ps.platform)
		o.strOmitEmpty("sdk", ps.sdk)
		o.intOmitEmpty("client_at", ps.clientAt)
		o.boolOmitEmpty("client", ps.hasClient)
		o.boolOmitEmpty("audio_yes", ps.audioYes)
		o.boolOmitEmpty("audio_no", ps.audioNo)
		o.key("intervals")
		o.buf = append(o.buf, '[')
		for k, iv := range ps.ivs {
			if k > 0 {
				o.buf = append(o.buf, ',')
			}
			o.buf = append(o.buf, '[')
			o.buf = strconv.AppendInt(o.buf, iv.j, 10)
			o.buf = append(o.buf, ',')
			o.buf = strconv.AppendInt(o.buf, iv.l, 10)
			o.buf = append(o.buf, ']')
		}
		o.buf = append(o.buf, ']')
		dst = o.end()
	}
	return append(dst, ']')
}

// valuesByKey returns m's values in the order of their keys: the order in
// which encoding/json writes a map.
func valuesByKey[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// ringActionsByName and ringAttrsByName index ringActions and
// ringAttrNames in the order of their names: encoding/json's order of map
// keys (TestRingNameOrder).
var (
	ringActionsByName = [numRingActions]int{2, 3, 0, 1, 4} // busy cancelled initiated rejected unanswered
	ringAttrsByName   = [numRingAttrs]int{0, 1, 4, 2, 3}   // initiator initiator_name media receiver receiver_type
)

// appendJSON appends the ringing facts as ringJSON.
func (r *ringFacts) appendJSON(dst []byte) []byte {
	o := beginObject(dst)
	if r.at != ([numRingActions]int64{}) {
		o.key("at")
		m := beginObject(o.buf)
		for _, i := range ringActionsByName {
			m.intOmitEmpty(ringActions[i], r.at[i]) // 0 = not seen: not in the map
		}
		o.buf = m.end()
	}
	o.intOmitEmpty("first_at", r.firstAt)
	if r.attrs != ([numRingAttrs]pick{}) {
		named := false
		for _, p := range r.attrs {
			named = named || p.Val != ""
		}
		if named {
			o.key("attrs")
			m := beginObject(o.buf)
			for _, i := range ringAttrsByName {
				if p := r.attrs[i]; p.Val != "" {
					m.key(ringAttrNames[i])
					po := beginObject(m.buf)
					po.intOmitEmpty("r", int64(p.Rank))
					po.str("v", p.Val)
					m.buf = po.end()
				}
			}
			o.buf = m.end()
		}
	}
	return o.end()
}
