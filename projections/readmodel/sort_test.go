package readmodel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

func TestSortByKey(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, procs := range []int{1, 2, 5} {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		for _, n := range []int{0, 1, 2, 1000, parallelSortMin - 1, parallelSortMin, 3*parallelSortMin + 17} {
			t.Run(fmt.Sprintf("procs=%d/n=%d", procs, n), func(t *testing.T) {
				s := make([]entry, n)
				for i := range s {
					s[i] = entry{k: fmt.Appendf(nil, "%016x-%d", r.Uint64(), i), v: []byte{byte(i)}}
				}
				want := slices.Clone(s)
				slices.SortFunc(want, func(x, y entry) int { return bytes.Compare(x.k, y.k) })
				got := sortByKey(s, compareEntries)
				if !slices.EqualFunc(got, want, func(x, y entry) bool { return bytes.Equal(x.k, y.k) && bytes.Equal(x.v, y.v) }) {
					t.Fatal("sortByKey differs from slices.SortFunc")
				}
			})
		}
	}
}
