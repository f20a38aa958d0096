package readmodel

import (
	"bytes"
	"runtime"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// parallelSortMin is the length from which sortByKey sorts on several CPUs.
const parallelSortMin = 1 << 16

// sortByKey sorts s by cmp (which compares keys, in increasing byte
// order), and returns the sorted slice (s itself, or a new slice when the work was
// split). A large slice is cut into one part per CPU, the parts are sorted
// at once, and then merged: sorting the index entries of a whole rebuilt
// log (millions of participant entries) took a second on one goroutine
// while the other CPU was idle (BenchmarkRebuild in projections).
// Keys must be distinct, as index keys are.
func sortByKey[T any](s []T, cmp func(x, y T) int) []T {
	parts := min(runtime.GOMAXPROCS(0), len(s)/(parallelSortMin/2))
	if parts < 2 || len(s) < parallelSortMin {
		slices.SortFunc(s, cmp)
		return s
	}
	bounds := make([]int, parts+1)
	for i := range bounds {
		bounds[i] = i * len(s) / parts
	}
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() { slices.SortFunc(s[bounds[i]:bounds[i+1]], cmp) })
	}
	wg.Wait()
	// Merge neighbouring runs, in rounds, each round's merges at once.
	src, dst := s, make([]T, len(s))
	for width := 1; width < parts; width *= 2 {
		for lo := 0; lo < parts; lo += 2 * width {
			mid, hi := min(lo+width, parts), min(lo+2*width, parts)
			a, b, out := src[bounds[lo]:bounds[mid]], src[bounds[mid]:bounds[hi]], dst[bounds[lo]:bounds[hi]]
			wg.Go(func() { merge(out, a, b, cmp) })
		}
		wg.Wait()
		src, dst = dst, src
	}
	return src
}

// merge writes the sorted runs a and b, merged, to out (len(a)+len(b) long).
func merge[T any](out, a, b []T, cmp func(x, y T) int) {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if cmp(b[j], a[i]) < 0 {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
}

// timed is a time index entry and the meeting row stored under the same key.
type timed struct{ k, summary, row []byte }

// bucketEntries are entries to put in one bucket.
type bucketEntries struct {
	b       *bolt.Bucket
	entries []entry
}

// putInOrder puts the time index entries and their rows, then the entries
// of each other bucket, each bucket in key order: one B-tree walk per
// bucket instead of a random descent per entry (participant keys are
// scattered across their index).
func putInOrder(byTime, rows *bolt.Bucket, times []timed, others ...bucketEntries) error {
	times = sortByKey(times, func(x, y timed) int { return bytes.Compare(x.k, y.k) })
	for _, t := range times {
		if err := byTime.Put(t.k, t.summary); err != nil {
			return err
		}
	}
	for _, t := range times {
		if err := rows.Put(t.k, t.row); err != nil {
			return err
		}
	}
	for _, o := range others {
		for _, e := range sortByKey(o.entries, compareEntries) {
			if err := o.b.Put(e.k, e.v); err != nil {
				return err
			}
		}
	}
	return nil
}

func compareEntries(x, y entry) int { return bytes.Compare(x.k, y.k) }
