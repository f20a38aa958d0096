// Command benchreport runs meetingd's benchmarks and rewrites BENCHMARKS.md
// (make bench runs it from the module root):
//
//	go run ./cmd/benchreport [-o BENCHMARKS.md] [-data DIR] [-rounds N] [-budget 13m] [-quick]
//
// It runs the invocations of benchreport.MeetingdPlan round-robin, reads
// their output with golang.org/x/perf/benchfmt, and writes the table of
// figures beside their same-run baselines. The raw output is kept in
// DIR/bench-raw.txt; -from renders a report from such a file instead of
// running anything.
package main
