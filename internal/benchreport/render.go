package benchreport

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Render writes the report as the Markdown of BENCHMARKS.md.
func Render(w io.Writer, r Report) error {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Benchmarks\n\n")
	p("Written by `%s` (internal/benchreport) on %s: do not edit by hand, the next run rewrites it.\n\n",
		r.Command, r.Machine.Date.UTC().Format("2006-01-02 15:04 MST"))
	p("Each figure is the median of the runs of its benchmark (rounds × `-count`, n in the table) and stands beside a baseline ")
	p("measured in the same run of `%s`, because the machine is shared and noisy: the ratio is figure ÷ baseline. ", r.Command)
	p("A target applies to the figure itself, or to the ratio where it says so.\n\n")

	p("## Machine\n\n")
	p("| | |\n| --- | --- |\n")
	p("| CPU | %s |\n", cell(r.Machine.CPU))
	p("| Cores | %d |\n", r.Machine.Cores)
	p("| Load average (1, 5, 15 min) at start | %s |\n", cell(r.Machine.LoadStart))
	p("| Load average at end | %s |\n", cell(r.Machine.LoadEnd))
	p("| Go | %s |\n", cell(r.Machine.GoVersion))
	p("| OS | %s |\n", cell(r.Machine.OS))
	p("| Date | %s |\n", r.Machine.Date.UTC().Format(time.RFC3339))
	p("| Wall time of the run | %s |\n\n", r.Wall.Round(time.Second))

	p("## Results\n\n")
	met := 0
	for _, row := range r.Rows {
		if row.Status == Met {
			met++
		}
	}
	p("%d of %d targets met.\n\n", met, len(r.Rows))
	p("| Figure | Value | Baseline (same run) | Ratio | Target | Met |\n")
	p("| --- | ---: | --- | ---: | --- | --- |\n")
	for _, row := range r.Rows {
		f := row.Figure
		value, base, ratio := "—", "—", "—"
		if row.HasValue {
			value = fmt.Sprintf("%s %s (n=%d)", formatNumber(row.Value.Median), f.Value.unit(), row.Value.N)
		}
		if row.HasBaseline {
			base = fmt.Sprintf("%s %s", formatNumber(row.Baseline.Median), f.Baseline.unit())
		}
		base = cell(f.BaselineName) + ": " + base
		if row.Status != NotMeasured {
			ratio = formatNumber(row.Ratio)
		}
		p("| %s | %s | %s | %s | %s | %s |\n", cell(f.Name), value, base, ratio, f.Target.describe(f.Value.unit()), row.Status)
	}
	p("\n")

	var notes []Row
	for _, row := range r.Rows {
		if row.Status != Met {
			notes = append(notes, row)
		}
	}
	if len(notes) > 0 {
		p("## Targets not met\n\n")
		for _, row := range notes {
			p("- **%s** (%s): %s\n", row.Figure.Name, strings.Trim(row.Status.String(), "*"), oneLine(row.Note))
		}
		p("\n")
	}

	if r.Kept != "" {
		p("%s\n%s%s\n\n", KeptBegin, r.Kept, KeptEnd)
	}

	p("## How the figures were measured\n\n")
	p("`%s` runs `go run ./cmd/benchreport`, which builds the test binaries of these packages first, then ran these ", r.Command)
	p("commands in order, one package at a time, and the whole list once per round (round-robin, so that a change of ")
	p("the machine's load touches a figure and its baseline alike; a round starts only if it fits in the time budget). ")
	p("The doc comment of each `Benchmark<Name>` in `<package>/*_test.go` says what it measures; the data sets of ")
	p("1,000,000 events and meetings are built by the first run and kept between runs.\n\n")
	p("| Command | Rounds | Took (all rounds) | Result |\n| --- | ---: | ---: | --- |\n")
	for _, run := range r.Runs {
		res := "ok"
		if run.Err != "" {
			res = cell(run.Err)
		}
		p("| `%s` | %d | %s | %s |\n", strings.ReplaceAll(run.Command, "|", `\|`), run.Rounds, run.Took.Round(time.Second), res)
	}
	p("\n")

	p("## All measurements\n\n")
	p("Every metric every benchmark printed, as printed (units of the benchmark), over the runs of `-count`.\n\n")
	p("| Package | Benchmark | Metric | Median | Min | Max | n |\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, k := range r.Samples.Keys() {
		st, _ := r.Samples.Stat(k)
		p("| %s | %s | %s | %s | %s | %s | %d |\n", cell(strings.TrimPrefix(strings.TrimPrefix(k.Pkg, r.Module), "/")),
			cell(k.Bench), cell(k.Unit), formatNumber(st.Median), formatNumber(st.Min), formatNumber(st.Max), st.N)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// formatNumber shows about three significant digits, with thousands
// separators on large numbers: 1,234,567; 123; 12.3; 1.23; 0.0123.
func formatNumber(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a >= 1000:
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func groupThousands(digits string) string {
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return sign + b.String()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// KeptBegin and KeptEnd enclose hand-written sections of BENCHMARKS.md
// (measurements that make bench does not take, such as a micro-benchmark
// comparison behind a design decision): a new report keeps them.
const (
	KeptBegin = "<!-- kept by benchreport: begin -->"
	KeptEnd   = "<!-- kept by benchreport: end -->"
)

// KeptText returns the text between KeptBegin and KeptEnd in a previous
// report, or "" when it has none.
func KeptText(old []byte) string {
	s := string(old)
	i := strings.Index(s, KeptBegin)
	if i < 0 {
		return ""
	}
	s = s[i+len(KeptBegin):]
	j := strings.Index(s, KeptEnd)
	if j < 0 {
		return ""
	}
	return strings.TrimPrefix(s[:j], "\n")
}
