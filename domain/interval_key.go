package domain

// IntervalKey identifies an interval of a session (API.md "Report
// semantics"): the participant's identity and the interval's joined_at. Two
// reports of the same interval (a join and the leave that closes it, an
// ended's all_occupants entry, a retry) have the same key.
type IntervalKey struct {
	Participant string
	JoinedAt    int64
}

// IntervalKeyOf returns the key of the interval o reports, and false for an
// occupant the fold ignores (no identity or no join time). The fold keys its
// intervals with it, so the intake's count of a session's intervals and the
// reports' join counts cannot disagree.
func IntervalKeyOf(o Occupant) (IntervalKey, bool) {
	id := o.Identity()
	if id == "" || o.JoinedAt <= 0 {
		return IntervalKey{}, false
	}
	return IntervalKey{Participant: id, JoinedAt: o.JoinedAt}, true
}

// AppendIntervalKeys appends to dst the keys of the participant intervals ev
// reports (a join, a leave, an ended's all_occupants, a reconciliation's
// matched intervals; the reconciliation's unmatched participants are kept
// apart by the fold and are not the session's intervals), repeats included,
// and returns the extended slice. Events of other types report none.
func AppendIntervalKeys(dst []IntervalKey, ev Event) []IntervalKey {
	add := func(o Occupant) {
		if k, ok := IntervalKeyOf(o); ok {
			dst = append(dst, k)
		}
	}
	switch p := ev.Payload.(type) {
	case ParticipantJoined:
		add(p.Occupant)
	case ParticipantLeft:
		add(p.Occupant)
	case SessionEnded:
		for _, o := range p.AllOccupants {
			add(o)
		}
	case SessionReconciled:
		for _, o := range p.Intervals {
			add(o)
		}
	}
	return dst
}
