package benchreport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Runner executes a Plan's invocations.
type Runner struct {
	// Dir is the module root the commands run in.
	Dir string
	// GoCmd is the go command (default "go").
	GoCmd string
	// Output receives the invocations' output as it comes (progress for
	// the operator, and the raw results); nil discards it.
	Output io.Writer
	// Getenv reads the environment (Invocation.Needs); nil uses os.Getenv.
	Getenv func(string) string
}

func (r Runner) goCmd() string {
	if r.GoCmd == "" {
		return "go"
	}
	return r.GoCmd
}

// Run executes the plan's invocations in order, a round at a time, up to
// p.Rounds rounds: round-robin, so that a change of the machine's load
// during the run affects every figure and its baseline alike. A round
// starts only if the budget left (zero: no limit) holds as long as the
// longest round so far; the first always runs. It returns the samples read
// from the output and what became of each invocation (its time summed over
// the rounds). A failed invocation does not stop the run (its figures are
// reported as not measured); ctx ending does.
func (r Runner) Run(ctx context.Context, p Plan, budget time.Duration) (Samples, []InvocationResult, error) {
	out := r.Output
	if out == nil {
		out = io.Discard
	}
	getenv := r.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	samples := Samples{}
	results := make([]InvocationResult, len(p.Invocations))
	for i, inv := range p.Invocations {
		results[i] = InvocationResult{Invocation: inv, Command: inv.CommandLine(r.goCmd())}
	}
	start := time.Now()
	if err := r.build(ctx, p, out); err != nil {
		return samples, results, err
	}
	var longest time.Duration
	for round := range max(p.Rounds, 1) {
		if round > 0 && budget > 0 && time.Since(start)+longest > budget {
			fmt.Fprintf(out, "benchreport: stopping after %d rounds: another (up to %s) would overrun the budget of %s\n",
				round, longest.Round(time.Second), budget)
			break
		}
		roundStart := time.Now()
		for i, inv := range p.Invocations {
			res := &results[i]
			fmt.Fprintf(out, "benchreport: round %d/%d, %d/%d: %s\n", round+1, max(p.Rounds, 1), i+1, len(p.Invocations), res.Command)
			if inv.Needs != "" && getenv(inv.Needs) == "" {
				res.Err = "not run: " + inv.Needs + " is not set"
				fmt.Fprintf(out, "benchreport: %s\n", res.Err)
				continue
			}
			if inv.Prepare != nil {
				if err := inv.Prepare(); err != nil {
					res.Rounds++
					if res.Err == "" {
						res.Err = "failed to prepare: " + err.Error()
					}
					fmt.Fprintf(out, "benchreport: %s\n", res.Err)
					continue
				}
			}
			var buf bytes.Buffer
			cmd := exec.CommandContext(ctx, r.goCmd(), inv.GoArgs()...)
			cmd.Dir = r.Dir
			cmd.Stdout = io.MultiWriter(&buf, out)
			cmd.Stderr = cmd.Stdout
			t := time.Now()
			err := cmd.Run()
			res.Took += time.Since(t)
			res.Rounds++
			if ctx.Err() != nil {
				return samples, results, fmt.Errorf("benchreport: %s: %w", res.Command, ctx.Err())
			}
			if err != nil && res.Err == "" {
				res.Err = failure(err, buf.Bytes())
			}
			if perr := samples.Parse(bytes.NewReader(buf.Bytes()), inv.Pkg); perr != nil {
				fmt.Fprintf(out, "benchreport: unreadable result lines (ignored): %v\n", perr)
			}
		}
		longest = max(longest, time.Since(roundStart))
		fmt.Fprintf(out, "benchreport: round %d took %s\n", round+1, time.Since(roundStart).Round(time.Second))
	}
	return samples, results, nil
}

// build compiles the test binaries of every package of the plan, in one
// `go test` that runs no test, so that compiling (of packages other helpers
// are editing too) happens before the rounds instead of in the first one.
// A failure is not fatal: the invocations report it.
func (r Runner) build(ctx context.Context, p Plan, out io.Writer) error {
	args := []string{"test", "-run", "^$"}
	seen := map[string]bool{}
	for _, inv := range p.Invocations {
		if !seen[inv.Pkg] {
			seen[inv.Pkg] = true
			args = append(args, "./"+inv.Pkg)
		}
	}
	fmt.Fprintf(out, "benchreport: building the test binaries: %s %s\n", r.goCmd(), strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, r.goCmd(), args...)
	cmd.Dir = r.Dir
	cmd.Stdout, cmd.Stderr = out, out
	t := time.Now()
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		fmt.Fprintf(out, "benchreport: building failed (%v): the invocations will say where\n", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("benchreport: building the test binaries: %w", ctx.Err())
	}
	fmt.Fprintf(out, "benchreport: built in %s\n", time.Since(t).Round(time.Second))
	return nil
}

// failure summarises a failed `go test`: the exit status and the first
// line that says why (a --- FAIL or panic line, else the last line).
func failure(err error, output []byte) string {
	lines := strings.Split(strings.TrimSpace(string(output)), "\n")
	why := ""
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "--- FAIL") || strings.HasPrefix(t, "panic:") || strings.HasPrefix(t, "--- SKIP") {
			why = t
			if i+1 < len(lines) {
				why += " " + strings.TrimSpace(lines[i+1])
			}
			break
		}
	}
	if why == "" && len(lines) > 0 {
		why = strings.TrimSpace(lines[len(lines)-1])
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Sprintf("failed (%s): %s", exit, why)
	}
	return fmt.Sprintf("failed: %v", err)
}

// ReadMachine describes this machine now; goVersion is `go env GOVERSION`.
func ReadMachine(goVersion string, now time.Time) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: goVersion, Date: now, LoadStart: LoadAverage()}
	m.OS = runtime.GOOS + "/" + runtime.GOARCH
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(rel))
	}
	m.CPU = "unknown"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(info), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// LoadAverage returns the 1, 5 and 15-minute load averages of
// /proc/loadavg, or "unknown".
func LoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// GoVersion asks the go command for its version.
func GoVersion(ctx context.Context, goCmd string) string {
	out, err := exec.CommandContext(ctx, goCmd, "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version() + " (of benchreport; `go env GOVERSION` failed)"
	}
	return strings.TrimSpace(string(out))
}
