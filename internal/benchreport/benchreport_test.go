package benchreport

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const mod = "github.com/meetingd/meetingd"

func parseCanned(t *testing.T) (Samples, error) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "canned.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := Samples{}
	return s, s.Parse(bytes.NewReader(raw), "canned.txt")
}

func TestParse(t *testing.T) {
	s, err := parseCanned(t)
	if err == nil || !strings.Contains(err.Error(), "canned.txt:") {
		t.Errorf("Parse error = %v, want the malformed BenchmarkBroken line reported with its position", err)
	}
	tests := []struct {
		name string
		key  Key
		want []float64
	}{
		{"custom unit, three runs in order", Key{mod + "/api", "IntakeHTTP", "webhooks/s"}, []float64{2389, 2500, 2200}},
		{"ns/op kept as printed, not tidied to sec/op", Key{mod + "/api", "BareFiberHTTP", "ns/op"}, []float64{343402, 300000, 350000}},
		{"MB/s kept as printed", Key{mod + "/eventstore/embedded", "AppendParallel", "MB/s"}, []float64{6.10}},
		{"sub-benchmark without GOMAXPROCS", Key{mod + "/projections", "Rebuild/readall", "events/s"}, []float64{223590}},
		{"package from the latest pkg line", Key{mod + "/cmd/meetingd", "Serve", "hwm-intake-MiB"}, []float64{350}},
		{"non-ASCII unit", Key{mod + "/projections/readmodel", "MeetingsPage/month-live-100", "p99-µs"}, []float64{45000}},
		{"malformed line contributes nothing", Key{mod + "/projections/readmodel", "Broken", "ns/op"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, s[tc.key]); diff != "" {
				t.Errorf("values of %v (-want +got):\n%s", tc.key, diff)
			}
		})
	}
}

func TestStat(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Stat
		ok     bool
	}{
		{"none", nil, Stat{}, false},
		{"one", []float64{3}, Stat{Median: 3, Min: 3, Max: 3, N: 1}, true},
		{"odd count: the middle value", []float64{9, 1, 5}, Stat{Median: 5, Min: 1, Max: 9, N: 3}, true},
		{"even count: mean of the middle two", []float64{4, 1, 10, 2}, Stat{Median: 3, Min: 1, Max: 10, N: 4}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := Key{"p", "B", "u"}
			got, ok := Samples{k: tc.values}.Stat(k)
			if ok != tc.ok || got != tc.want {
				t.Errorf("Stat(%v) = %+v, %v; want %+v, %v", tc.values, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	s := Samples{
		{mod + "/a", "Fast", "ops/s"}:  {100, 120, 110},
		{mod + "/a", "Base", "ops/s"}:  {200, 200, 200},
		{mod + "/a", "Slow", "ns/op"}:  {4000},
		{mod + "/a", "Raw", "ns/op"}:   {1000},
		{mod + "/a", "Lat", "p99-µs"}:  {12000},
		{mod + "/a", "Zero", "ops/s"}:  {0},
		{mod + "/a", "Other", "ops/s"}: {1},
	}
	m := func(bench, unit string) Metric { return Metric{Pkg: "a", Bench: bench, Unit: unit} }
	rate := func(bench string) Metric {
		return Metric{Pkg: "a", Bench: bench, Unit: "ns/op", Scale: 1e9, Reciprocal: true, As: "ops/s"}
	}
	lat := Metric{Pkg: "a", Bench: "Lat", Unit: "p99-µs", Scale: 1e-3, As: "ms"}
	note := func(l Lookup, r Row) string {
		v, _ := l.Median(m("Other", "ops/s"))
		return "why: ratio " + formatNumber(r.Ratio) + ", other " + formatNumber(v)
	}
	tests := []struct {
		name       string
		fig        Figure
		wantStatus Status
		wantRatio  float64
		wantValue  float64
		wantNote   string // substring
	}{
		{"ratio target met", Figure{Value: m("Fast", "ops/s"), Baseline: m("Base", "ops/s"), Target: ratio(0.5)}, Met, 0.55, 110, ""},
		{"ratio target unmet, note reads the run", Figure{Value: m("Fast", "ops/s"), Baseline: m("Base", "ops/s"), Target: ratio(0.6), Unmet: note},
			Unmet, 0.55, 110, "why: ratio 0.55, other 1.00"},
		{"ns/op as a rate", Figure{Value: rate("Slow"), Baseline: rate("Raw"), Target: ratio(0.5)}, Unmet, 0.25, 250_000, "No explanation"},
		{"value under a limit, µs shown as ms", Figure{Value: lat, Baseline: m("Base", "ops/s"), Target: under(10)}, Unmet, 0.06, 12, "No explanation"},
		{"value at least a limit", Figure{Value: m("Base", "ops/s"), Baseline: m("Fast", "ops/s"), Target: atLeast(200)}, Met, 200.0 / 110, 200, ""},
		{"premise fails: unmet although the figure passes", Figure{Value: m("Fast", "ops/s"), Baseline: m("Base", "ops/s"), Target: ratio(0.5),
			Premise: func(Lookup) string { return "not at the load" }}, Unmet, 0.55, 110, "not at the load"},
		{"premise holds", Figure{Value: m("Fast", "ops/s"), Baseline: m("Base", "ops/s"), Target: ratio(0.5),
			Premise: func(Lookup) string { return "" }}, Met, 0.55, 110, ""},
		{"missing value", Figure{Value: m("Absent", "ops/s"), Baseline: m("Base", "ops/s"), Target: ratio(1)}, NotMeasured, 0, 0,
			"BenchmarkAbsent (a) reported no ops/s: failed (exit status 1): --- FAIL: BenchmarkAbsent"},
		{"zero baseline", Figure{Value: m("Fast", "ops/s"), Baseline: m("Zero", "ops/s"), Target: ratio(1)}, NotMeasured, 0, 110, "median is 0"},
	}
	runs := []InvocationResult{{Invocation: Invocation{Pkg: "a", Bench: "^Benchmark(Absent|Other)$"}, Err: "failed (exit status 1): --- FAIL: BenchmarkAbsent"}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := Evaluate(Plan{Module: mod, Figures: []Figure{tc.fig}}, s, Machine{}, runs)
			r := rows[0]
			if r.Status != tc.wantStatus {
				t.Errorf("status = %v, want %v", r.Status, tc.wantStatus)
			}
			if diff := cmp.Diff(tc.wantRatio, r.Ratio, cmp.Comparer(near)); diff != "" {
				t.Errorf("ratio (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantValue, r.Value.Median, cmp.Comparer(near)); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.Note, tc.wantNote) || (tc.wantNote == "" && r.Note != "") {
				t.Errorf("note = %q, want it to contain %q", r.Note, tc.wantNote)
			}
		})
	}
}

func near(a, b float64) bool { return a == b || (a-b)*(a-b) < 1e-18+1e-12*a*a }

// TestRenderGolden renders the meetingd plan's report of canned output
// (three rounds of the api benchmarks, one of the others, no ClickHouse).
func TestRenderGolden(t *testing.T) {
	s, _ := parseCanned(t)
	p := MeetingdPlan(Options{DataDir: "/data"})
	date := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	m := Machine{CPU: "AMD EPYC", Cores: 2, LoadStart: "10.44 9.53 9.17", LoadEnd: "8.01 9.00 9.10",
		GoVersion: "go1.26.8", OS: "linux/amd64, kernel 6.1.0", Date: date}
	var runs []InvocationResult
	for _, inv := range p.Invocations {
		r := InvocationResult{Invocation: inv, Command: inv.CommandLine("go"), Took: 42 * time.Second, Rounds: 1}
		if inv.Needs != "" {
			r.Err, r.Took, r.Rounds = "not run: "+inv.Needs+" is not set", 0, 0
		}
		runs = append(runs, r)
	}
	rep := Report{Machine: m, Command: "make bench", Wall: 13*time.Minute + 7*time.Second, Runs: runs,
		Samples: s, Module: p.Module, Rows: Evaluate(p, s, m, runs)}
	var got bytes.Buffer
	if err := Render(&got, rep); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "BENCHMARKS.golden.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("Render (-%s +got); rerun with -update if the change is meant:\n%s", golden, diff)
	}
}

func TestEveryFigureOfThePlanIsRunAndExplained(t *testing.T) {
	p := MeetingdPlan(Options{DataDir: "/data"})
	for _, f := range p.Figures {
		for _, m := range []Metric{f.Value, f.Baseline} {
			ran := false
			for _, inv := range p.Invocations {
				ran = ran || (inv.Pkg == m.Pkg && matches(inv.Bench, m.Bench))
			}
			if !ran {
				t.Errorf("%q: no invocation runs Benchmark%s of %s", f.Name, m.Bench, m.Pkg)
			}
		}
		if f.Unmet == nil {
			t.Errorf("%q has no note for an unmet target", f.Name)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.012345, "0.0123"}, {1.234, "1.23"}, {12.34, "12.3"}, {123.4, "123"},
		{1234.5, "1,235"}, {1234567, "1,234,567"}, {-98765, "-98,765"},
	}
	for _, tc := range tests {
		if got := formatNumber(tc.in); got != tc.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	inv := Invocation{Pkg: "projections", Bench: "^BenchmarkRebuild$/^readall$", Count: 1, Benchtime: "1x",
		Timeout: 30 * time.Minute, Args: []string{"-projections.dir", "/tmp/it's here"}}
	want := `go test -run '^$' -bench '^BenchmarkRebuild$/^readall$' -count 1 -benchtime 1x -timeout 30m0s ./projections -projections.dir '/tmp/it'\''s here'`
	if got := inv.CommandLine("go"); got != want {
		t.Errorf("CommandLine =\n%s\nwant\n%s", got, want)
	}
}

func TestShareEventLog(t *testing.T) {
	tests := []struct {
		name            string
		inner, outer    string // markers before ("" = absent)
		wantIn, wantOut string // after
	}{
		{"projections built it", "1000", "", "1000", "1000"},
		{"meetingd built it", "", "1000", "1000", "1000"},
		{"neither: both benchmarks build", "", "", "", ""},
		{"another size is left to be rebuilt", "20", "", "20", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inner, outer := filepath.Join(dir, "eventstore", "bench-events"), filepath.Join(dir, "bench-events")
			if err := os.MkdirAll(filepath.Dir(inner), 0o755); err != nil {
				t.Fatal(err)
			}
			for path, v := range map[string]string{inner: tc.inner, outer: tc.outer} {
				if v != "" {
					if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := shareEventLog(dir, 1000); err != nil {
				t.Fatal(err)
			}
			read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
			if got := read(inner); got != tc.wantIn {
				t.Errorf("inner marker = %q, want %q", got, tc.wantIn)
			}
			if got := read(outer); got != tc.wantOut {
				t.Errorf("outer marker = %q, want %q", got, tc.wantOut)
			}
		})
	}
}

// TestRunner runs a plan against a fake go command that prints canned
// results, fails one invocation, and has one that needs a variable unset.
func TestRunner(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	fakeGo := filepath.Join(dir, "go")
	script := `#!/bin/sh
case "$*" in
"test -run ^$ ./ok ./bad ./ch") echo "ok	example.com/m/ok	0.01s" ;;
*./ok*) printf 'pkg: example.com/m/ok\nBenchmarkA-2 1 5 ns/op 7 things/s\n' ;;
*./bad*) printf -- '--- FAIL: BenchmarkB\n    b_test.go:1: boom\nFAIL\n'; exit 1 ;;
*) echo "unexpected $*"; exit 2 ;;
esac
`
	if err := os.WriteFile(fakeGo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	prepared := 0
	p := Plan{Module: "example.com/m", Rounds: 3, Invocations: []Invocation{
		{Pkg: "ok", Bench: "A", Prepare: func() error { prepared++; return nil }},
		{Pkg: "bad", Bench: "B"},
		{Pkg: "ch", Bench: "C", Needs: "BENCHREPORT_TEST_UNSET"},
	}}
	var out bytes.Buffer
	r := Runner{Dir: dir, GoCmd: fakeGo, Output: &out, Getenv: func(string) string { return "" }}
	s, runs, err := r.Run(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{7, 7, 7}, s[Key{"example.com/m/ok", "A", "things/s"}]); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if prepared != 3 {
		t.Errorf("Prepare ran %d times, want once per round (3)", prepared)
	}
	wantErr := []string{"", "failed (exit status 1): --- FAIL: BenchmarkB b_test.go:1: boom", "not run: BENCHREPORT_TEST_UNSET is not set"}
	wantRounds := []int{3, 3, 0}
	for i, run := range runs {
		if run.Err != wantErr[i] || run.Rounds != wantRounds[i] {
			t.Errorf("run %d: Err %q, Rounds %d; want %q, %d", i, run.Err, run.Rounds, wantErr[i], wantRounds[i])
		}
	}
	if !strings.Contains(out.String(), "built in") || strings.Contains(out.String(), "building failed") {
		t.Errorf("output does not show the test binaries built first:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "round 3/3") {
		t.Errorf("output does not show the third round:\n%s", out.String())
	}
}

func TestRunnerBudgetStopsStartingRounds(t *testing.T) {
	dir := t.TempDir()
	fakeGo := filepath.Join(dir, "go")
	if err := os.WriteFile(fakeGo, []byte("#!/bin/sh\nprintf 'pkg: m/a\\nBenchmarkA 1 1 ns/op\\n'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := Plan{Module: "m", Rounds: 5, Invocations: []Invocation{{Pkg: "a", Bench: "A"}}}
	// A budget of one nanosecond: the first round always runs, no other.
	s, runs, err := Runner{Dir: dir, GoCmd: fakeGo}.Run(context.Background(), p, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s[Key{"m/a", "A", "ns/op"}]); got != 1 || runs[0].Rounds != 1 {
		t.Errorf("%d values, %d rounds; want 1 and 1", got, runs[0].Rounds)
	}
}

// TestKeptText: the hand-written sections of a previous report survive the
// next one unchanged; a report without them renders none.
func TestKeptText(t *testing.T) {
	section := "## JSON engine (hand-written)\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
	for _, c := range []struct {
		name, old, want string
	}{
		{"none", "# Benchmarks\n\n## Results\n", ""},
		{"kept", "# Benchmarks\n\n" + KeptBegin + "\n" + section + KeptEnd + "\n\n## How\n", section},
		{"unterminated", "# Benchmarks\n\n" + KeptBegin + "\n" + section, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := KeptText([]byte(c.old))
			if got != c.want {
				t.Fatalf("KeptText = %q, want %q", got, c.want)
			}
			var b bytes.Buffer
			if err := Render(&b, Report{Kept: got}); err != nil {
				t.Fatal(err)
			}
			if again := KeptText(b.Bytes()); again != c.want {
				t.Fatalf("rendered and read again: %q, want %q", again, c.want)
			}
		})
	}
}
