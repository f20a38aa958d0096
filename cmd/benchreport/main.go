package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/meetingd/meetingd/internal/benchreport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defData := os.Getenv("MEETINGD_BENCH_DIR")
	if defData == "" {
		defData = filepath.Join(os.TempDir(), "meetingd-bench")
	}
	var (
		out     = fs.String("o", "BENCHMARKS.md", "the report to write")
		data    = fs.String("data", defData, "directory that keeps the generated data sets between runs (default $MEETINGD_BENCH_DIR)")
		rounds  = fs.Int("rounds", 0, "rounds of the invocations (0: the plan's, 3; 1 with -quick)")
		budget  = fs.Duration("budget", 13*time.Minute, "start no round that would end after this much time from the start (0: no limit)")
		quick   = fs.Bool("quick", false, "small data sets and one round, to check the harness (not the issue's figures)")
		from    = fs.String("from", "", "render from this file of saved benchmark output instead of running")
		command = fs.String("command", "make bench", "how the run was started, for the report")
		goCmd   = fs.String("go", "go", "the go command")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rounds < 0 {
		return fmt.Errorf("-rounds %d: want 0 or more", *rounds)
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	plan := benchreport.MeetingdPlan(benchreport.Options{DataDir: *data, Quick: *quick, Rounds: *rounds})
	start := time.Now()
	machine := benchreport.ReadMachine(benchreport.GoVersion(ctx, *goCmd), start)
	rep := benchreport.Report{Machine: machine, Command: *command, Module: plan.Module}

	var (
		samples benchreport.Samples
		runs    []benchreport.InvocationResult
	)
	if *from != "" {
		raw, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		samples = benchreport.Samples{}
		if err := samples.Parse(bytes.NewReader(raw), *from); err != nil {
			fmt.Fprintln(stderr, "benchreport: unreadable result lines (ignored):", err)
		}
		for _, inv := range plan.Invocations {
			runs = append(runs, benchreport.InvocationResult{Invocation: inv, Command: inv.CommandLine(*goCmd), Err: "read from " + *from})
		}
	} else {
		rawPath := filepath.Join(*data, "bench-raw.txt")
		raw, err := os.Create(rawPath)
		if err != nil {
			return err
		}
		defer raw.Close()
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		r := benchreport.Runner{Dir: wd, GoCmd: *goCmd, Output: io.MultiWriter(stdout, raw)}
		samples, runs, err = r.Run(ctx, plan, *budget)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "benchreport: raw output in %s\n", rawPath)
	}
	rep.Machine.LoadEnd = benchreport.LoadAverage()
	rep.Wall = time.Since(start)
	rep.Runs, rep.Samples = runs, samples
	rep.Rows = benchreport.Evaluate(plan, samples, rep.Machine, runs)

	if old, err := os.ReadFile(*out); err == nil {
		rep.Kept = benchreport.KeptText(old)
	}
	var buf bytes.Buffer
	if err := benchreport.Render(&buf, rep); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	met := 0
	for _, row := range rep.Rows {
		if row.Status == benchreport.Met {
			met++
		}
	}
	fmt.Fprintf(stdout, "benchreport: wrote %s in %s: %d of %d targets met\n", *out, rep.Wall.Round(time.Second), met, len(rep.Rows))
	return nil
}
