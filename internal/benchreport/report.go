package benchreport

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Machine describes where and when the run happened.
type Machine struct {
	CPU       string
	Cores     int
	LoadStart string // /proc/loadavg's first three fields at the start
	LoadEnd   string // and at the end
	GoVersion string
	OS        string
	Date      time.Time
}

// InvocationResult is what became of one invocation.
type InvocationResult struct {
	Invocation Invocation
	Command    string
	// Took is the time of its runs, Rounds their number.
	Took   time.Duration
	Rounds int
	// Err is why the invocation first failed or was not run; empty on success.
	Err string
}

// Status of a row.
type Status int

// The statuses of a row.
const (
	Met Status = iota
	Unmet
	NotMeasured
)

func (s Status) String() string {
	switch s {
	case Met:
		return "met"
	case Unmet:
		return "**not met**"
	}
	return "**not measured**"
}

// Row is a Figure evaluated.
type Row struct {
	Figure          Figure
	Value, Baseline Stat // converted as the metrics say
	HasValue        bool
	HasBaseline     bool
	Ratio           float64 // Value.Median ÷ Baseline.Median
	Status          Status
	// Note explains an unmet or unmeasured target.
	Note string
}

// Report is a whole run, ready to render.
type Report struct {
	Machine Machine
	// Command is how the run was started ("make bench").
	Command string
	Wall    time.Duration
	Runs    []InvocationResult
	Rows    []Row
	Samples Samples
	Module  string
	// Kept is the hand-written text of the previous BENCHMARKS.md between
	// KeptBegin and KeptEnd (KeptText), rendered again unchanged.
	Kept string
}

// Evaluate turns samples into rows: medians, ratios, targets and notes.
// runs tells why figures are missing (a failed or skipped invocation).
func Evaluate(p Plan, s Samples, m Machine, runs []InvocationResult) []Row {
	lk := Lookup{module: p.Module, samples: s, Machine: m}
	rows := make([]Row, 0, len(p.Figures))
	for _, f := range p.Figures {
		r := Row{Figure: f}
		r.Value, r.HasValue = convertedStat(s, p.Module, f.Value)
		r.Baseline, r.HasBaseline = convertedStat(s, p.Module, f.Baseline)
		switch {
		case !r.HasValue || !r.HasBaseline || r.Baseline.Median == 0:
			r.Status = NotMeasured
			r.Note = missingNote(f, r, runs)
		default:
			r.Ratio = r.Value.Median / r.Baseline.Median
			v := r.Value.Median
			if f.Target.OnRatio {
				v = r.Ratio
			}
			r.Status = Met
			premise := ""
			if f.Premise != nil {
				premise = f.Premise(lk)
			}
			if premise != "" {
				r.Status = Unmet
				r.Note = premise
				if !f.Target.Met(v) && f.Unmet != nil {
					r.Note += " " + f.Unmet(lk, r)
				}
			} else if !f.Target.Met(v) {
				r.Status = Unmet
				if f.Unmet != nil {
					r.Note = f.Unmet(lk, r)
				}
				if r.Note == "" {
					r.Note = "No explanation was written for this figure: investigate before relying on it."
				}
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func convertedStat(s Samples, module string, m Metric) (Stat, bool) {
	st, ok := s.Stat(m.key(module))
	if !ok {
		return Stat{}, false
	}
	lo, hi := m.convert(st.Min), m.convert(st.Max)
	return Stat{Median: m.convert(st.Median), Min: min(lo, hi), Max: max(lo, hi), N: st.N}, true
}

// missingNote says why a figure or its baseline has no value.
func missingNote(f Figure, r Row, runs []InvocationResult) string {
	var missing []Metric
	if !r.HasValue {
		missing = append(missing, f.Value)
	}
	if !r.HasBaseline {
		missing = append(missing, f.Baseline)
	}
	if len(missing) == 0 {
		return "The baseline's median is 0: no ratio can be computed."
	}
	note, skipped := "", false
	for _, m := range missing {
		why := "no invocation of the plan ran it"
		for _, run := range runs {
			if run.Invocation.Pkg == m.Pkg && matches(run.Invocation.Bench, m.Bench) {
				why = "its invocation printed no " + m.Unit + " result"
				if run.Err != "" {
					why = run.Err
				}
				skipped = skipped || (run.Invocation.Needs != "" && strings.HasPrefix(run.Err, "not run:"))
				break
			}
		}
		note += fmt.Sprintf("Benchmark%s (%s) reported no %s: %s. ", m.Bench, m.Pkg, m.Unit, why)
	}
	if skipped {
		return note + "make bench sets it by starting the test server (scripts/clickhouse.sh start); run it there."
	}
	return note + "Run the invocation by hand (its command is listed below) to see why."
}

// matches tells whether a -bench expression selects the benchmark named
// name, as go test does: each slash-separated part of the expression must
// match the name's part at the same level (the plans' expressions have no
// slashes inside brackets).
func matches(expr, name string) bool {
	exprs, names := strings.Split(expr, "/"), strings.Split("Benchmark"+name, "/")
	for i := range min(len(exprs), len(names)) {
		re, err := regexp.Compile(exprs[i])
		if err != nil || !re.MatchString(names[i]) {
			return false
		}
	}
	return true
}
