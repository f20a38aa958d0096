package intake

import "container/list"

// Forget drops every session's cached interval keys (which hold
// participant identities): an erasure calls it so that no copy of an
// erased identity stays in memory. The sets are read again from the log when
// next needed (where an erased identity reads as its pseudonym); a session
// dropped while in use stays correct, as an evicted one does (its appends
// are conditional).
func (s *Service) Forget() { s.sessions.forget() }

// forget evicts every session (see resize).
func (s *sessions) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*session).accounted = 0
	}
	s.lru = list.List{}
	s.index = make(map[string]*list.Element)
	s.size = 0
}
