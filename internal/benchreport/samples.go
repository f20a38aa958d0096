package benchreport

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Key names one metric of one benchmark.
type Key struct {
	// Pkg is the package's import path, as `go test` prints it ("pkg:").
	Pkg string
	// Bench is the benchmark's name without "Benchmark" and without the
	// GOMAXPROCS suffix: "IntakeHTTP", "Rebuild/readall".
	Bench string
	// Unit is the unit as the benchmark printed it: "ns/op", "p99-ms".
	Unit string
}

func (k Key) String() string { return k.Pkg + "." + k.Bench + " " + k.Unit }

// Samples holds every value read of every metric, in the order read.
type Samples map[Key][]float64

// Parse reads benchmark output (the format of `go test -bench`, read with
// benchfmt) and adds its values to s. Lines that are not results are
// ignored; malformed result lines are returned as errors after the whole
// input has been read, so one bad line does not lose the rest.
func (s Samples) Parse(r io.Reader, fileName string) error {
	rd := benchfmt.NewReader(r, fileName)
	var errs []error
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			errs = append(errs, rec)
		case *benchfmt.Result:
			pkg := rec.GetConfig("pkg")
			base, parts := rec.Name.Parts()
			name := string(base)
			for _, p := range parts {
				if !strings.HasPrefix(string(p), "-") { // "-N" is GOMAXPROCS
					name += string(p)
				}
			}
			for _, v := range rec.Values {
				unit, val := v.Unit, v.Value
				if v.OrigUnit != "" { // benchfmt tidies ns/op to sec/op: keep what was printed
					unit, val = v.OrigUnit, v.OrigValue
				}
				k := Key{Pkg: pkg, Bench: name, Unit: unit}
				s[k] = append(s[k], val)
			}
		}
	}
	if err := rd.Err(); err != nil {
		errs = append(errs, fmt.Errorf("benchreport: reading %s: %w", fileName, err))
	}
	return errors.Join(errs...)
}

// Stat summarises the values of one metric.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Stat returns the summary of k's values; ok is false when there are none.
func (s Samples) Stat(k Key) (st Stat, ok bool) {
	v := s[k]
	if len(v) == 0 {
		return Stat{}, false
	}
	return Stat{Median: median(v), Min: slices.Min(v), Max: slices.Max(v), N: len(v)}, true
}

// Keys returns the keys in a stable order: by package, benchmark, unit.
func (s Samples) Keys() []Key {
	keys := make([]Key, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		return strings.Compare(a.Pkg+"\x00"+a.Bench+"\x00"+a.Unit, b.Pkg+"\x00"+b.Bench+"\x00"+b.Unit)
	})
	return keys
}

// median of a non-empty slice; the mean of the middle two for an even count.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
