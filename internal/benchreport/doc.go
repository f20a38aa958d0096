// Package benchreport runs meetingd's benchmarks and writes BENCHMARKS.md.
//
// A Plan names the `go test -bench` invocations to run and the Figures to
// report. Each Figure pairs a metric of one benchmark with the metric of a
// baseline benchmark measured in the same run (the machine is shared and
// noisy, so only ratios and same-run comparisons mean much), and evaluates a
// target against the figure or against the ratio. Output of the invocations
// is read with golang.org/x/perf/benchfmt; every metric is summarised by its
// median over the -count runs.
//
// The parts are separate so that tests can feed canned output: Parse reads
// benchmark output into Samples, Evaluate turns Samples and a Plan into a
// Report, Render writes the Report as Markdown, and Runner executes a Plan.
package benchreport
