package benchreport

import "time"

// The attendance-plan figures of `make bench` (issue 19): a series
// gradebook of 40 sessions × 200 participants on both stores, and a meeting
// with a 10,000-member roster on the embedded store, each beside a
// baseline of the same run.

// planInvocations are the benchmarks of the plan figures.
func planInvocations(quick bool) []Invocation {
	readN, chN := "300x", "30x"
	if quick {
		readN, chN = "50x", "5x"
	}
	return []Invocation{
		{Pkg: "projections/readmodel", Bench: "^BenchmarkPlans$", Benchtime: readN, Count: 1, Timeout: 10 * time.Minute},
		{Pkg: "clickhouse", Bench: "^BenchmarkSeries40x200$", Benchtime: chN, Count: 1, Timeout: 10 * time.Minute, Needs: ClickHouseEnv},
	}
}

var (
	planMiss = func(bench string) Metric {
		return Metric{Pkg: "projections/readmodel", Bench: bench, Unit: "miss-p99-µs", Scale: 1e-3, As: "ms"}
	}
	chSeries = Metric{Pkg: "clickhouse", Bench: "Series40x200", Unit: "ms/report", As: "ms"}
)

// planFigures are the plan figures.
func planFigures() []Figure {
	return []Figure{
		{Name: "Series gradebook, 40 sessions × 200 participants (read model, in process)", Value: readmodelP99("Plans/series-40x200"),
			Baseline: planMiss("Plans/series-40x200"), BaselineName: "lookup of an absent meeting, same store", Target: under(50),
			Unmet: planNote("The gradebook is one range scan of the series index (40 values) and the aggregation of 8,000 rows.")},
		{Name: "A meeting with a 10,000-member roster (read model, in process)", Value: readmodelP99("Plans/roster-10000"),
			Baseline: planMiss("Plans/roster-10000"), BaselineName: "lookup of an absent meeting, same store", Target: under(20),
			Unmet: planNote("The meeting is one lookup and the decoding of its 10,000 rows (about 3.5 MB of JSON, read by the participants scanner).")},
		{Name: "ClickHouse series gradebook, 40 sessions × 200 participants (mean)", Value: chSeries, Baseline: chRoundTrip,
			BaselineName: "`SELECT 1` round trip", Target: under(50),
			Unmet: planNote("The gradebook is one query of the plans table (argMax per session of the series) and the aggregation in Go.")},
	}
}

func planNote(what string) func(Lookup, Row) string {
	return func(l Lookup, r Row) string {
		return shortBy(r) + " " + what + " The baseline (" + r.Figure.BaselineName + ") is " +
			formatNumber(r.Baseline.Median) + " ms in the same run." + contention(l)
	}
}
