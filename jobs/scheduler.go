package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one kind of scheduled work.
//
// Run does one run and returns what the run's log line should tell (for
// example how many meetings it changed). It must return promptly when ctx
// ends. The Scheduler never runs the same Job twice at once.
type Job interface {
	Run(ctx context.Context) (Summary, error)
}

// Summary is what a run reports: attributes of its log line.
type Summary []slog.Attr

// JobFunc adapts a function to Job.
type JobFunc func(ctx context.Context) (Summary, error)

// Run calls f.
func (f JobFunc) Run(ctx context.Context) (Summary, error) { return f(ctx) }

// Spec is a job and when to run it.
type Spec struct {
	// Name labels the job's metrics and log lines. Required, unique.
	Name string
	// Schedule is a cron expression with five fields ("*/15 * * * *") or a
	// descriptor ("@every 10m", "@hourly"), in UTC.
	Schedule string
	Job      Job
	// Timeout bounds one run (0: no bound but the scheduler's shutdown).
	Timeout time.Duration
}

// Outcome is how a run went.
type Outcome string

const (
	Succeeded Outcome = "success"
	Failed    Outcome = "failure"
	// Skipped: the previous run of the same job was still running.
	Skipped Outcome = "skipped"
)

// Config configures a Scheduler.
type Config struct {
	// Now is the clock of the runs' durations and success times (default
	// time.Now). The cron schedule itself follows the wall clock.
	Now func() time.Time
	// StopTimeout bounds the wait for running jobs when Run's ctx ends
	// (default 30s); their ctx is cancelled first.
	StopTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 30 * time.Second
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	if c.StopTimeout < 0 {
		return errors.New("jobs: StopTimeout must not be negative")
	}
	return nil
}

// parser reads the five-field cron syntax and the @descriptors.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule checks a schedule as Spec.Schedule takes it.
func ParseSchedule(s string) error {
	if _, err := parser.Parse(s); err != nil {
		return fmt.Errorf("schedule %q: %w", s, err)
	}
	return nil
}

// Scheduler runs jobs on their schedules (robfig/cron). Every run goes
// through one guard per job: a run that finds the previous one still going
// is skipped (never queued, never overlapping); a panic is recovered and
// counted as a failure; each run is measured and logged once.
//
// Add is called before Run; RunOnce may be called at any time, also
// concurrently with the schedule (it shares the guard).
type Scheduler struct {
	cfg    Config
	m      *Metrics
	log    *slog.Logger
	mu     sync.Mutex
	specs  []Spec
	guards map[string]*guard
	// inflight counts the runs going, scheduled or RunOnce's.
	inflight tracker
}

// tracker counts runs in flight and tells when there are none.
type tracker struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0
}

func (t *tracker) add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.zero = make(chan struct{})
	}
	t.n++
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n--; t.n == 0 {
		close(t.zero)
	}
}

// idle returns a channel that is closed once no run is going.
func (t *tracker) idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return t.zero
}

// guard serializes one job's runs.
type guard struct {
	spec    Spec
	running atomic.Bool
}

// New returns a Scheduler without jobs. m may be nil (no metrics).
func New(cfg Config, m *Metrics, log *slog.Logger) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = newMetrics()
	}
	return &Scheduler{cfg: cfg, m: m, log: log, guards: map[string]*guard{}}, nil
}

// Add registers a job.
func (s *Scheduler) Add(spec Spec) error {
	var errs []error
	if spec.Name == "" {
		errs = append(errs, errors.New("jobs: a job needs a name"))
	}
	if spec.Job == nil {
		errs = append(errs, fmt.Errorf("jobs: %s: no job", spec.Name))
	}
	if spec.Timeout < 0 {
		errs = append(errs, fmt.Errorf("jobs: %s: Timeout must not be negative", spec.Name))
	}
	if err := ParseSchedule(spec.Schedule); err != nil {
		errs = append(errs, fmt.Errorf("jobs: %s: %w", spec.Name, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.guards[spec.Name]; dup {
		errs = append(errs, fmt.Errorf("jobs: %s: added twice", spec.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.specs = append(s.specs, spec)
	s.guards[spec.Name] = &guard{spec: spec}
	s.m.declare(spec.Name)
	return nil
}

// Run runs the jobs on their schedules until ctx ends, then stops starting
// new runs, cancels the running ones and waits for them (up to StopTimeout).
func (s *Scheduler) Run(ctx context.Context) error {
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithParser(parser),
		cron.WithLogger(cronLogger{s.log}),
		// A backstop: the guard recovers the job's own panics.
		cron.WithChain(cron.Recover(cronLogger{s.log})),
	)
	s.mu.Lock()
	specs := append([]Spec(nil), s.specs...)
	s.mu.Unlock()
	for _, spec := range specs {
		name := spec.Name
		if _, err := c.AddFunc(spec.Schedule, func() { _, _ = s.RunOnce(ctx, name) }); err != nil {
			return fmt.Errorf("jobs: %s: %w", name, err)
		}
		s.log.Info("job scheduled", "job", name, "schedule", spec.Schedule)
	}
	c.Start()
	<-ctx.Done()
	stopped := c.Stop() // no new scheduled runs
	all := make(chan struct{})
	go func() {
		<-stopped.Done()
		<-s.inflight.idle() // RunOnce's too; their ctx is done if it derives from Run's
		close(all)
	}()
	timer := time.NewTimer(s.cfg.StopTimeout)
	defer timer.Stop()
	select {
	case <-all:
		return nil
	case <-timer.C:
		return fmt.Errorf("jobs: runs still going %s after shutdown began", s.cfg.StopTimeout)
	}
}

// ErrUnknownJob is returned by RunOnce for a name that was never added.
var ErrUnknownJob = errors.New("jobs: unknown job")

// RunOnce runs the named job now, through its guard, and returns the
// outcome: Skipped (nil error) while another run of it is going, Failed
// with the run's error (or the recovered panic), or Succeeded.
func (s *Scheduler) RunOnce(ctx context.Context, name string) (Outcome, error) {
	s.mu.Lock()
	g := s.guards[name]
	s.mu.Unlock()
	if g == nil {
		return Failed, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	if !g.running.CompareAndSwap(false, true) {
		s.m.runs.WithLabelValues(name, string(Skipped)).Inc()
		s.log.Warn("job run skipped: the previous run is still going", "job", name)
		return Skipped, nil
	}
	defer g.running.Store(false)
	s.inflight.add()
	defer s.inflight.done()
	s.m.running.WithLabelValues(name).Set(1)
	defer s.m.running.WithLabelValues(name).Set(0)

	if g.spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.spec.Timeout)
		defer cancel()
	}
	start := s.cfg.Now()
	sum, err := protect(ctx, g.spec.Job)
	end := s.cfg.Now()
	d := end.Sub(start)
	s.m.duration.WithLabelValues(name).Observe(d.Seconds())
	attrs := append([]slog.Attr{slog.String("job", name), slog.Float64("duration_seconds", d.Seconds())}, sum...)
	if err != nil {
		s.m.runs.WithLabelValues(name, string(Failed)).Inc()
		s.log.LogAttrs(ctx, slog.LevelError, "job run failed", append(attrs, slog.String("error", err.Error()))...)
		return Failed, err
	}
	s.m.runs.WithLabelValues(name, string(Succeeded)).Inc()
	s.m.lastSuccess.WithLabelValues(name).Set(float64(end.UnixNano()) / 1e9)
	s.log.LogAttrs(ctx, slog.LevelInfo, "job run", attrs...)
	return Succeeded, nil
}

// protect runs the job, turning a panic into an error.
func protect(ctx context.Context, j Job) (sum Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return j.Run(ctx)
}

// cronLogger sends robfig/cron's own messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}
