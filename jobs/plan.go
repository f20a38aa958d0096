package jobs

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// known is what a session's events already tell, as the reconciliation
// needs it.
type known struct {
	started, ended bool
	// uids are the occupant uids the webhooks carried.
	uids map[string]bool
	// names maps a display name to the identities that carried it.
	names map[string]map[string]bool
	// people and unmatched map identity → joined_at → left_at (the latest;
	// 0 while open), like the fold.
	people, unmatched map[string]map[int64]int64
	recordings        map[string]bool
	// usage holds the provider usage figures recorded before.
	usage map[domain.ParticipantUsage]bool
}

func knownOf(events []domain.Event) *known {
	k := &known{
		uids: map[string]bool{}, names: map[string]map[string]bool{},
		people: map[string]map[int64]int64{}, unmatched: map[string]map[int64]int64{},
		recordings: map[string]bool{}, usage: map[domain.ParticipantUsage]bool{},
	}
	person := func(o domain.Occupant, webhook bool) {
		id := o.Identity()
		if id == "" || o.JoinedAt <= 0 {
			return
		}
		if webhook && o.UID != "" {
			k.uids[o.UID] = true
		}
		if o.Name != "" {
			if k.names[o.Name] == nil {
				k.names[o.Name] = map[string]bool{}
			}
			k.names[o.Name][id] = true
		}
		addInterval(k.people, id, o.JoinedAt, o.LeftAt)
	}
	for _, ev := range events {
		switch p := ev.Payload.(type) {
		case domain.SessionStarted:
			k.started = k.started || p.CreatedAt > 0
		case domain.ParticipantJoined:
			person(p.Occupant, true)
		case domain.ParticipantLeft:
			person(p.Occupant, true)
		case domain.SessionEnded:
			k.ended = k.ended || p.DestroyedAt > 0
			for _, o := range p.AllOccupants {
				person(o, true)
			}
		case domain.RecordingGenerated:
			k.recordings[p.URL] = true
		case domain.SessionReconciled:
			k.started = k.started || p.StartedAt > 0
			k.ended = k.ended || p.EndedAt > 0
			for _, o := range p.Intervals {
				person(o, false)
			}
			for _, o := range p.Unmatched {
				if id := o.Identity(); id != "" && o.JoinedAt > 0 {
					addInterval(k.unmatched, id, o.JoinedAt, o.LeftAt)
				}
			}
			for _, r := range p.Recordings {
				k.recordings[r.URL] = true
			}
			for _, u := range p.Usage {
				k.usage[u] = true
			}
		}
	}
	return k
}

// addInterval records [j, l) as the fold does: the latest left_at wins, 0 is open.
func addInterval(m map[string]map[int64]int64, id string, j, l int64) {
	if m[id] == nil {
		m[id] = map[int64]int64{}
	}
	if old, ok := m[id][j]; !ok || l > old {
		m[id][j] = l
	}
}

// match finds the webhook identity of a participant the Calls API reported:
// its uid when the webhooks carried that uid; else, when the API gave a
// name, the one identity that carried that name (leaving out identities
// that are another uid than the participant's). It never guesses: no
// candidate, or several, is no match ("").
func (k *known) match(p cometchat.Participant) (id string, byName bool) {
	if p.UID != "" && k.uids[p.UID] {
		return p.UID, false
	}
	if p.Name == "" {
		return "", false
	}
	var found []string
	for cand := range k.names[p.Name] {
		if k.uids[cand] && p.UID != "" && cand != p.UID {
			continue // another user's uid: not this participant
		}
		found = append(found, cand)
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

// Plan returns the SessionReconciled that adds to the session's events
// what the call tells and they do not (without FetchedAt), and whether
// there is anything:
//
//   - StartedAt, when no meeting_started/call_started (nor an earlier
//     reconciliation) gave a start;
//   - EndedAt, when CometChat says the call ended and no end is known;
//   - for each participant matched to a webhook identity (see match): the
//     missing leave of its latest open interval that began before the API's
//     leftAt, or the API's interval when it overlaps none that is known
//     (a join whose webhooks were lost). A leave the webhooks gave is never
//     replaced;
//   - participants that match no identity, or several, as Unmatched (shown
//     apart, never merged), once per interval;
//   - recordings whose URL is not known;
//   - CometChat's usage (totalAudioMinutes, totalVideoMinutes) of each
//     participant matched to a webhook identity, summed over its entries
//     (one per device), unless the same figures were recorded before:
//     provider facts that the meeting report compares with its own figures
//     (provider_usage), never merged into them. Unmatched participants'
//     usage is not recorded (it could not be compared).
//
// Participants who never joined (no joinedAt) are ignored.
func Plan(events []domain.Event, call cometchat.Call) (domain.SessionReconciled, bool) {
	k := knownOf(events)
	var out domain.SessionReconciled
	if !k.started && call.StartedAt > 0 {
		out.StartedAt = call.StartedAt
	}
	if end, ok := call.Ended(); ok && !k.ended {
		out.EndedAt = end
	}

	// Match first, then drop name matches that several API users share.
	type entry struct {
		p      cometchat.Participant
		id     string
		byName bool
	}
	var entries []entry
	nameUIDs := map[string]map[string]bool{} // identity matched by name → API uids
	for _, p := range call.Participants {
		if p.JoinedAt <= 0 {
			continue
		}
		id, byName := k.match(p)
		entries = append(entries, entry{p, id, byName})
		if byName {
			if nameUIDs[id] == nil {
				nameUIDs[id] = map[string]bool{}
			}
			nameUIDs[id][p.UID] = true
		}
	}
	usage := map[string]*domain.ParticipantUsage{}
	slices.SortStableFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.p.JoinedAt, b.p.JoinedAt), cmp.Compare(a.p.LeftAt, b.p.LeftAt))
	})
	for _, e := range entries {
		if e.byName && len(nameUIDs[e.id]) > 1 {
			e.id = "" // two API users answer to one name: ambiguous
		}
		if e.id == "" {
			if o, ok := k.newUnmatched(e.p); ok {
				out.Unmatched = append(out.Unmatched, o)
			}
			continue
		}
		if o, ok := k.newInterval(e.id, e.p.JoinedAt, e.p.LeftAt); ok {
			out.Intervals = append(out.Intervals, o)
		}
		if e.p.HasUsage {
			u := usage[e.id]
			if u == nil {
				u = &domain.ParticipantUsage{Participant: e.id}
				usage[e.id] = u
			}
			u.AudioMinutes += e.p.AudioMinutes
			u.VideoMinutes += e.p.VideoMinutes
		}
	}
	for _, id := range slices.Sorted(maps.Keys(usage)) {
		if u := *usage[id]; !k.usage[u] {
			out.Usage = append(out.Usage, u)
		}
	}

	for _, r := range call.Recordings {
		if r.URL == "" || k.recordings[r.URL] {
			continue
		}
		k.recordings[r.URL] = true
		d := r.Duration
		if d == 0 && r.EndTime > r.StartTime && r.StartTime > 0 {
			d = float64(r.EndTime - r.StartTime)
		}
		out.Recordings = append(out.Recordings, domain.RecordingGenerated{URL: r.URL, StartTime: r.StartTime, Duration: d})
	}
	some := out.StartedAt > 0 || out.EndedAt > 0 || len(out.Intervals) > 0 || len(out.Unmatched) > 0 || len(out.Recordings) > 0 ||
		len(out.Usage) > 0
	return out, some
}

// newInterval decides what the API's interval [j, l) (l = 0: still present)
// adds to identity id's known intervals, and records it.
func (k *known) newInterval(id string, j, l int64) (domain.Occupant, bool) {
	ivs := k.people[id]
	occ := func(j, l int64) (domain.Occupant, bool) {
		addInterval(k.people, id, j, l)
		o := domain.Occupant{JoinedAt: j, LeftAt: l}
		if k.uids[id] {
			o.UID = id
		} else {
			o.Name = id
		}
		return o, true
	}
	if old, ok := ivs[j]; ok {
		if old == 0 && l > 0 {
			return occ(j, l) // the same join: its missing leave
		}
		return domain.Occupant{}, false
	}
	if l > 0 {
		// The latest open interval that began before the API's leave: the
		// leave the webhooks missed.
		var open int64 = -1
		for jj, ll := range ivs {
			if ll == 0 && jj <= l && jj > open {
				open = jj
			}
		}
		if open >= 0 {
			return occ(open, l)
		}
	}
	for jj, ll := range ivs {
		if jj <= until(l) && j <= until(ll) {
			return domain.Occupant{}, false // overlaps a known presence
		}
	}
	return occ(j, l) // a presence the webhooks missed altogether
}

// until reads a left_at: 0 (open) is forever.
func until(l int64) int64 {
	if l == 0 {
		return math.MaxInt64
	}
	return l
}

// newUnmatched returns an unmatched participant's interval unless it is
// already recorded.
func (k *known) newUnmatched(p cometchat.Participant) (domain.Occupant, bool) {
	o := domain.Occupant{UID: p.UID, Name: p.Name, JoinedAt: p.JoinedAt, LeftAt: p.LeftAt}
	id := o.Identity()
	if id == "" {
		return o, false
	}
	if old, ok := k.unmatched[id][p.JoinedAt]; ok && (old == 0 && p.LeftAt == 0 || old != 0 && old >= p.LeftAt) {
		return o, false
	}
	addInterval(k.unmatched, id, p.JoinedAt, p.LeftAt)
	return o, true
}
