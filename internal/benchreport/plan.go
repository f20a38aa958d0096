package benchreport

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Plan is what a run executes and what it reports.
type Plan struct {
	// Module is the module path: Invocation and Metric packages are
	// directories relative to it.
	Module string
	// Invocations run in order, one package each, so that no two
	// benchmarks share the machine with each other.
	Invocations []Invocation
	// Rounds is how many times the invocations run, round-robin (at
	// least 1): each metric gets Rounds × Count values.
	Rounds int
	// Figures are the rows of the report's table, in order.
	Figures []Figure
}

// Invocation is one `go test -bench` run of one package.
type Invocation struct {
	// Pkg is the package directory relative to the module root: "api".
	Pkg string
	// Bench is the -bench regular expression.
	Bench string
	// Count is -count: the number of runs whose median is reported.
	Count int
	// Benchtime is -benchtime ("1x", "2s"); empty leaves go test's default.
	Benchtime string
	// Timeout is -timeout.
	Timeout time.Duration
	// Args are the test binary's own flags (after the package).
	Args []string
	// Needs names an environment variable the invocation requires (the
	// ClickHouse DSN); without it the invocation is not run and its
	// figures are reported as not measured.
	Needs string
	// Prepare, when set, runs before each run of the invocation; an error
	// fails that run.
	Prepare func() error
}

// Args returns the arguments of `go` that run the invocation.
func (i Invocation) GoArgs() []string {
	args := []string{"test", "-run", "^$", "-bench", i.Bench, "-count", strconv.Itoa(max(i.Count, 1))}
	if i.Benchtime != "" {
		args = append(args, "-benchtime", i.Benchtime)
	}
	if i.Timeout > 0 {
		args = append(args, "-timeout", i.Timeout.String())
	}
	args = append(args, "./"+i.Pkg)
	return append(args, i.Args...)
}

// CommandLine is the invocation as a shell command, for the report.
func (i Invocation) CommandLine(goCmd string) string {
	words := []string{goCmd}
	for _, a := range i.GoArgs() {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Metric selects one metric of one benchmark and how to show it.
type Metric struct {
	// Pkg is the package directory relative to the module root.
	Pkg string
	// Bench is the benchmark name without "Benchmark" and GOMAXPROCS.
	Bench string
	// Unit is the unit the benchmark prints.
	Unit string
	// Scale multiplies the median (zero means 1); with Reciprocal the
	// figure is Scale ÷ median instead (ns/op → ops/s: Scale 1e9).
	Scale      float64
	Reciprocal bool
	// As is the unit shown; empty shows Unit.
	As string
}

// key is the metric's Key in Samples of module.
func (m Metric) key(module string) Key {
	return Key{Pkg: strings.TrimSuffix(module+"/"+m.Pkg, "/"), Bench: m.Bench, Unit: m.Unit}
}

func (m Metric) convert(v float64) float64 {
	scale := m.Scale
	if scale == 0 {
		scale = 1
	}
	if m.Reciprocal {
		return scale / v
	}
	return v * scale
}

func (m Metric) unit() string {
	if m.As != "" {
		return m.As
	}
	return m.Unit
}

// Target is what a figure must reach.
type Target struct {
	// OnRatio applies Limit to figure ÷ baseline instead of the figure.
	OnRatio bool
	// AtLeast wants ≥ Limit; otherwise < Limit.
	AtLeast bool
	Limit   float64
}

// Met tells whether v (the figure or the ratio) reaches the target.
func (t Target) Met(v float64) bool {
	if t.AtLeast {
		return v >= t.Limit
	}
	return v < t.Limit
}

func (t Target) describe(unit string) string {
	op := "<"
	if t.AtLeast {
		op = "≥"
	}
	limit := formatNumber(t.Limit)
	if t.Limit == math.Trunc(t.Limit) {
		limit = groupThousands(strconv.FormatFloat(t.Limit, 'f', 0, 64))
	}
	if t.OnRatio {
		return fmt.Sprintf("ratio %s %s", op, limit)
	}
	return fmt.Sprintf("%s %s %s", op, limit, unit)
}

// Figure is one row of the report: a metric beside its baseline.
type Figure struct {
	// Name says what is measured, for a reader of BENCHMARKS.md.
	Name string
	// Value is the figure; Baseline is measured in the same run.
	Value    Metric
	Baseline Metric
	// BaselineName says what the baseline is.
	BaselineName string
	Target       Target
	// Premise, when set, checks that the run measured what the target is
	// about (the load the figure is quoted at); a non-empty answer says
	// why not, and the target counts as not met whatever the figure.
	Premise func(Lookup) string
	// Unmet explains, when the target is not met, why and what would meet
	// it. It gets the evaluated row and can read any median of the run.
	Unmet func(Lookup, Row) string
}

// Lookup gives notes access to the run's medians and machine.
type Lookup struct {
	module  string
	samples Samples
	Machine Machine
}

// Median returns the median of a metric of the run (converted as m says).
func (l Lookup) Median(m Metric) (float64, bool) {
	st, ok := l.samples.Stat(m.key(l.module))
	if !ok {
		return 0, false
	}
	return m.convert(st.Median), true
}
