package intake

import (
	"testing"

	"github.com/meetingd/meetingd/domain"
)

func TestForgetDropsEverySession(t *testing.T) {
	s := newSessions(nil, 10, 1<<20, nil)
	for _, stream := range []string{"a", "b", "c"} {
		ss := s.get(stream)
		ss.mu.Lock()
		ss.add(domain.IntervalKey{})
		s.resize(ss)
		ss.mu.Unlock()
	}
	held := s.get("a")
	s.forget()
	if s.lru.Len() != 0 || len(s.index) != 0 || s.size != 0 {
		t.Fatalf("after forget: %d in the LRU, %d indexed, size %d", s.lru.Len(), len(s.index), s.size)
	}
	// A session held across forget is accounted no more; a new get starts afresh.
	held.mu.Lock()
	s.resize(held)
	held.mu.Unlock()
	if s.size != 0 {
		t.Fatalf("a forgotten session was accounted: %d", s.size)
	}
	if got := s.get("a"); got == held || len(got.keys) != 0 {
		t.Fatal("get after forget returned the forgotten set")
	}
}
