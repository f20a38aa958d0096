package domain

import "encoding/json"

// Test-only hooks of package domain.

// FactsJSONByStdlib returns the stored form of f as encoding/json writes
// its factsJSON: the reference that the hand-written MarshalJSON must match
// byte for byte (the code MarshalJSON replaced).
func FactsJSONByStdlib(f *Facts) ([]byte, error) {
	return json.Marshal(f.storedForm())
}

// RingNameOrders returns the names of the ringing actions and attributes in
// the order the stored form writes them.
func RingNameOrders() (actions, attrs []string) {
	for _, i := range ringActionsByName {
		actions = append(actions, ringActions[i])
	}
	for _, i := range ringAttrsByName {
		attrs = append(attrs, ringAttrNames[i])
	}
	return actions, attrs
}

// storedForm builds the factsJSON of f.
func (f *Facts) storedForm() factsJSON {
	w := factsJSON{
		V: factsVersion, AppID: f.appID, SessionID: f.sessionID,
		SawCall:   f.sawCall,
		StartedAt: f.startedAt, EndCreatedAt: f.endCreatedAt, DestroyedAt: f.destroyedAt,
		ReconStarted: f.reconStarted, ReconEnded: f.reconEnded,
		Abandoned: f.abandoned, AbandonedAt: f.abandonedAt, FirstAt: f.firstAt, LastAt: f.lastAt,
		People: peopleJSON(f.people), Unmatched: peopleJSON(f.unmatched),
	}
	for _, url := range sortedKeys(f.records) {
		r := f.records[url]
		w.Recordings = append(w.Recordings, recordingJSON{r.RecordingGenerated, r.webhook})
	}
	for _, url := range sortedKeys(f.scripts) {
		w.Transcriptions = append(w.Transcriptions, f.scripts[url])
	}
	if f.ring != (ringFacts{}) {
		rj := &ringJSON{FirstAt: f.ring.firstAt}
		for i, at := range f.ring.at {
			if at != 0 {
				if rj.At == nil {
					rj.At = make(map[string]int64)
				}
				rj.At[ringActions[i]] = at
			}
		}
		for i, p := range f.ring.attrs {
			if p.Val != "" {
				if rj.Attrs == nil {
					rj.Attrs = make(map[string]pick)
				}
				rj.Attrs[ringAttrNames[i]] = p
			}
		}
		w.Ringing = rj
	}
	return w
}

func peopleJSON(m map[string]*person) []personJSON {
	if len(m) == 0 {
		return nil
	}
	out := make([]personJSON, 0, len(m))
	for _, id := range sortedKeys(m) {
		ps := m[id]
		pj := personJSON{
			ID: ps.id, Name: ps.name, NameAt: ps.nameAt, Platform: ps.platform, SDK: ps.sdk,
			ClientAt: ps.clientAt, Client: ps.hasClient, AudioYes: ps.audioYes, AudioNo: ps.audioNo,
			Intervals: make([][2]int64, len(ps.ivs)),
		}
		for i, iv := range ps.ivs {
			pj.Intervals[i] = [2]int64{iv.j, iv.l}
		}
		out = append(out, pj)
	}
	return out
}
