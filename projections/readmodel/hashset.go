package readmodel

// idSet is a set of participant identity hashes (summary.hashes), for the
// distinct counts of the bucketed reports: open addressing with linear
// probing in a power-of-two table, at most half full. It costs about half of
// a Go map's insert (the reports insert every row of every meeting of a
// range) and reset keeps its table. The zero value is an empty set.
type idSet struct {
	slots   []uint64 // 0 marks an empty slot; the hash 0 is kept in hasZero
	n       int
	hasZero bool
}

// add inserts h.
func (s *idSet) add(h uint64) {
	if h == 0 {
		s.hasZero = true
		return
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := mix(h) & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

// len returns the number of distinct hashes added since the last reset.
func (s *idSet) len() int {
	if s.hasZero {
		return s.n + 1
	}
	return s.n
}

// reset empties the set, keeping its table.
func (s *idSet) reset() {
	if s.n > 0 {
		clear(s.slots)
	}
	s.n, s.hasZero = 0, false
}

func (s *idSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(64, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

// mix spreads a hash's bits over the low ones used as the slot index (the
// FNV-1a hashes are good, but a cheap finaliser costs nothing here).
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}
