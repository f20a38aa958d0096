package benchreport

import (
	"path/filepath"
	"strconv"
	"time"
)

// erasureInvocations runs BenchmarkErase on a store of z.meetings meetings
// (each of its subjects in 1 % of them), kept in dataDir between runs.
func erasureInvocations(z sizes, dataDir string) []Invocation {
	return []Invocation{
		{Pkg: "projections/readmodel", Bench: "^BenchmarkErase$", Benchtime: "1x", Count: 1, Timeout: 60 * time.Minute,
			Args: []string{"-readmodel.erasemeetings", strconv.Itoa(z.meetings),
				"-readmodel.erasedir", filepath.Join(dataDir, "erase-"+strconv.Itoa(z.meetings))}},
	}
}

var (
	eraseTotal   = Metric{Pkg: "projections/readmodel", Bench: "Erase", Unit: "erase-s", As: "s"}
	eraseCompact = Metric{Pkg: "projections/readmodel", Bench: "Erase", Unit: "compact-alone-s", As: "s"}
)

func erasureFigures(z sizes) []Figure {
	return []Figure{
		{Name: "Erasure of a participant present in " + formatNumber(float64(z.meetings/100)) + " of " + formatNumber(float64(z.meetings)) +
			" meetings, embedded read models (rewrite of the meetings, free pages zeroed)", Value: eraseTotal,
			Baseline: eraseCompact, BaselineName: "compacting the same store into a new file", Target: under(60),
			Unmet: func(l Lookup, r Row) string {
				return "The rewrite scans every session record of the app (a SHA-256 per attendee) and the scrub reads every page header." + contention(l)
			}},
	}
}
