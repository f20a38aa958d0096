package domain

import (
	"crypto/sha256"
	"encoding/hex"
)

// Pseudonymise returns the facts with the identity of one participant (the
// ids for which match is true), and every display name attached to it,
// replaced by pseudonym: the people and the
// REST API's unmatched occupants with that id (id and name), the REST usage
// of that participant, the ringing initiator or receiver (and the
// initiator's name), and the plan's roster entries with that uid. It is what
// folding the session's events gives once their subject is erased and its
// events decode to the pseudonym, so a rebuild reproduces it; intervals,
// times, media and every other fact are kept, so every count, duration and
// ratio derived from them is unchanged. It reports whether anything changed.
//
// A participant whose id already is pseudonym (erased before) is merged
// with the renamed one, as the fold would merge them.
func (s FactsState) Pseudonymise(match func(id string) bool, pseudonym string) (FactsState, bool) {
	changed := false
	is := func(id string) bool { return id != "" && id != pseudonym && match(id) }
	people := func(in []PersonState) []PersonState {
		out := make([]PersonState, 0, len(in))
		for _, p := range in {
			if is(p.ID) {
				p.ID, p.Name, changed = pseudonym, pseudonym, true
			}
			out = append(out, p)
		}
		return out
	}
	s.People, s.Unmatched = people(s.People), people(s.Unmatched)
	if len(s.ProviderUsage) > 0 {
		usage := make([]ProviderUsageState, len(s.ProviderUsage))
		for i, u := range s.ProviderUsage {
			if is(u.Participant) {
				u.Participant, changed = pseudonym, true
			}
			usage[i] = u
		}
		s.ProviderUsage = usage
	}
	if r := s.Ringing; r != nil && len(r.Attrs) > 0 {
		attrs := make(map[string]Pick, len(r.Attrs))
		for k, v := range r.Attrs {
			attrs[k] = v
		}
		if p, ok := attrs["initiator"]; ok && is(p.Val) {
			p.Val, changed = pseudonym, true
			attrs["initiator"] = p
			if n, ok := attrs["initiator_name"]; ok {
				n.Val = pseudonym
				attrs["initiator_name"] = n
			}
		}
		if p, ok := attrs["receiver"]; ok && is(p.Val) {
			p.Val, changed = pseudonym, true
			attrs["receiver"] = p
		}
		rc := *r
		rc.Attrs = attrs
		s.Ringing = &rc
	}
	if p := s.Plan; p != nil && len(p.Roster) > 0 {
		pc := *p
		pc.Roster = make([]RosterEntry, len(p.Roster))
		for i, e := range p.Roster {
			if is(e.Participant) {
				e.Participant, e.Name, changed = pseudonym, pseudonym, true
			}
			pc.Roster[i] = e
		}
		s.Plan = &pc
	}
	return s, changed
}

// PseudonymOf returns a match function for Pseudonymise: the ids of app
// whose Pseudonym is pseudonym. It needs no identity: an erasure names its
// subject only by the pseudonym.
func PseudonymOf(app, pseudonym string) func(id string) bool {
	return func(id string) bool { return Pseudonym(app, id) == pseudonym }
}

// Pseudonym is what erased data shows instead of participant of app:
// "erased-" and the first 12 hex digits of SHA-256(app + "/" + participant)
// (API.md; privacy.Subject.Pseudonym is the same function).
func Pseudonym(app, participant string) string {
	sum := sha256.Sum256([]byte(app + "/" + participant))
	return "erased-" + hex.EncodeToString(sum[:6])
}
