package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/internal/metricstest"
	"github.com/meetingd/meetingd/jobs"
)

func newScheduler(t *testing.T, clk *clock, logs *strings.Builder) (*jobs.Scheduler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := jobs.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	if logs == nil {
		logs = &w
	}
	s, err := jobs.New(jobs.Config{Now: clk.Now}, m, slog.New(slog.NewJSONHandler(&syncWriter{w: logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func runs(t *testing.T, reg *prometheus.Registry, job string, o jobs.Outcome) float64 {
	t.Helper()
	return metricstest.Find(t, reg, "meetingd_job_runs_total", map[string]string{"job": job, "outcome": string(o)}).GetCounter().GetValue()
}

// TestSchedulerNoOverlap holds one run of a job inside the job and starts
// more: they are skipped, never run alongside it, and counted; once it
// returns, the next run goes.
func TestSchedulerNoOverlap(t *testing.T) {
	clk := newClock(time.Unix(1_700_000_000, 0))
	s, reg := newScheduler(t, clk, nil)
	entered := make(chan struct{})
	release := make(chan struct{})
	var mu sync.Mutex
	inside, most, calls := 0, 0, 0
	job := jobs.JobFunc(func(ctx context.Context) (jobs.Summary, error) {
		mu.Lock()
		inside++
		calls++
		most = max(most, inside)
		first := calls == 1
		mu.Unlock()
		defer func() { mu.Lock(); inside--; mu.Unlock() }()
		if first {
			close(entered)
			<-release
		}
		return nil, nil
	})
	if err := s.Add(jobs.Spec{Name: "slow", Schedule: "@every 1m", Job: job}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan jobs.Outcome)
	go func() {
		o, _ := s.RunOnce(ctx, "slow")
		done <- o
	}()
	<-entered
	// While the first run is inside the job, every other start is skipped.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o, err := s.RunOnce(ctx, "slow"); o != jobs.Skipped || err != nil {
				t.Errorf("overlapping run: %s %v, want skipped", o, err)
			}
		}()
	}
	wg.Wait()
	close(release)
	if o := <-done; o != jobs.Succeeded {
		t.Fatalf("first run: %s", o)
	}
	if o, err := s.RunOnce(ctx, "slow"); o != jobs.Succeeded || err != nil {
		t.Fatalf("run after the first returned: %s %v", o, err)
	}
	if most != 1 {
		t.Errorf("%d runs were inside the job at once", most)
	}
	if got := runs(t, reg, "slow", jobs.Skipped); got != 8 {
		t.Errorf("skipped runs %v, want 8", got)
	}
	if got := runs(t, reg, "slow", jobs.Succeeded); got != 2 {
		t.Errorf("successful runs %v, want 2", got)
	}
}

// TestSchedulerMeasures: durations and the last success come from the
// injected clock; a failure and a panic are failed runs that release the
// guard; every run writes one log line.
func TestSchedulerMeasures(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	clk := newClock(start)
	var logs strings.Builder
	s, reg := newScheduler(t, clk, &logs)
	mode := "ok"
	job := jobs.JobFunc(func(ctx context.Context) (jobs.Summary, error) {
		clk.Advance(1500 * time.Millisecond) // the run "takes" 1.5s
		switch mode {
		case "fail":
			return nil, errors.New("boom")
		case "panic":
			panic("kaboom")
		}
		return jobs.Summary{slog.Int("changed", 3)}, nil
	})
	if err := s.Add(jobs.Spec{Name: "j", Schedule: "*/5 * * * *", Job: job}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if o, err := s.RunOnce(ctx, "j"); o != jobs.Succeeded || err != nil {
		t.Fatalf("%s %v", o, err)
	}
	lastOK := metricstest.Find(t, reg, "meetingd_job_last_success_timestamp_seconds", map[string]string{"job": "j"}).GetGauge().GetValue()
	if want := float64(start.Add(1500*time.Millisecond).UnixNano()) / 1e9; lastOK != want {
		t.Errorf("last success %v, want %v", lastOK, want)
	}
	mode = "fail"
	if o, err := s.RunOnce(ctx, "j"); o != jobs.Failed || err == nil || err.Error() != "boom" {
		t.Fatalf("failing run: %s %v", o, err)
	}
	mode = "panic"
	if o, err := s.RunOnce(ctx, "j"); o != jobs.Failed || err == nil || !strings.Contains(err.Error(), "panic: kaboom") {
		t.Fatalf("panicking run: %s %v", o, err)
	}
	mode = "ok"
	if o, _ := s.RunOnce(ctx, "j"); o != jobs.Succeeded {
		t.Fatalf("run after a panic: %s (the guard must be released)", o)
	}
	if got := runs(t, reg, "j", jobs.Failed); got != 2 {
		t.Errorf("failed runs %v, want 2", got)
	}
	h := metricstest.Find(t, reg, "meetingd_job_duration_seconds", map[string]string{"job": "j"}).GetHistogram()
	if h.GetSampleCount() != 4 || h.GetSampleSum() != 6 {
		t.Errorf("duration histogram: %d runs, %vs in all; want 4 runs of 1.5s", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := metricstest.Find(t, reg, "meetingd_job_last_success_timestamp_seconds", map[string]string{"job": "j"}).GetGauge().GetValue(); got != float64(start.Add(6*time.Second).UnixNano())/1e9 {
		t.Errorf("last success %v after the fourth run", got)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines for 4 runs:\n%s", len(lines), logs.String())
	}
	for i, want := range []string{`"msg":"job run"`, `"msg":"job run failed"`, `"msg":"job run failed"`, `"msg":"job run"`} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], `"job":"j"`) || !strings.Contains(lines[i], `"duration_seconds":1.5`) {
			t.Errorf("line %d = %s, want %s with the job and its duration", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[0], `"changed":3`) {
		t.Errorf("summary missing from %s", lines[0])
	}
}

func TestSchedulerAddValidates(t *testing.T) {
	s, _ := newScheduler(t, newClock(time.Now()), nil)
	nop := jobs.JobFunc(func(context.Context) (jobs.Summary, error) { return nil, nil })
	if err := s.Add(jobs.Spec{Name: "a", Schedule: "@every 1m", Job: nop}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec jobs.Spec
		want string
	}{
		{jobs.Spec{Name: "b", Schedule: "every minute", Job: nop}, "schedule"},
		{jobs.Spec{Name: "c", Schedule: "* * * * * *", Job: nop}, "schedule"},
		{jobs.Spec{Name: "a", Schedule: "@hourly", Job: nop}, "added twice"},
		{jobs.Spec{Schedule: "@hourly"}, "needs a name"},
	}
	for _, tc := range tests {
		if err := s.Add(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Add(%+v) = %v, want %q", tc.spec, err, tc.want)
		}
	}
	if _, err := s.RunOnce(context.Background(), "nope"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("RunOnce(unknown) = %v", err)
	}
}

// TestSchedulerRunStops: Run schedules the jobs and, when its ctx ends,
// cancels the running ones and returns only after they have.
func TestSchedulerRunStops(t *testing.T) {
	s, _ := newScheduler(t, newClock(time.Now()), nil)
	entered := make(chan struct{})
	var returned sync.Mutex
	finished := false
	job := jobs.JobFunc(func(ctx context.Context) (jobs.Summary, error) {
		close(entered)
		<-ctx.Done()
		returned.Lock()
		finished = true
		returned.Unlock()
		return nil, ctx.Err()
	})
	if err := s.Add(jobs.Spec{Name: "long", Schedule: "@yearly", Job: job}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, _ = s.RunOnce(ctx, "long") }()
	<-entered
	go func() { errc <- s.Run(ctx) }()
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	returned.Lock()
	defer returned.Unlock()
	if !finished {
		t.Fatal("Run returned while a run was still going")
	}
}
