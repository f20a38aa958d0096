package readmodel

import (
	"math/rand/v2"
	"testing"
)

// TestIDSet compares idSet with a map over random hashes with repeats, the
// zero hash included, across resets.
func TestIDSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s idSet
	for round := range 20 {
		want := map[uint64]bool{}
		n := r.IntN(5000)
		for range n {
			h := r.Uint64N(uint64(1 + n/2)) // repeats, and 0 now and then
			if round%3 == 0 {
				h = r.Uint64()
			}
			want[h] = true
			s.add(h)
		}
		if s.len() != len(want) {
			t.Fatalf("round %d: len %d, want %d", round, s.len(), len(want))
		}
		s.reset()
		if s.len() != 0 {
			t.Fatalf("round %d: len %d after reset", round, s.len())
		}
	}
}

func BenchmarkIDSet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	hs := make([]uint64, 12000)
	for i := range hs {
		hs[i] = participantHash(string(rune('a'+r.IntN(26))) + string(rune(r.IntN(5000))))
	}
	b.Run("idset", func(b *testing.B) {
		var s idSet
		for b.Loop() {
			for _, h := range hs {
				s.add(h)
			}
			s.reset()
		}
	})
	b.Run("map", func(b *testing.B) {
		m := map[uint64]struct{}{}
		for b.Loop() {
			for _, h := range hs {
				m[h] = struct{}{}
			}
			clear(m)
		}
	})
}
