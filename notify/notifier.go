package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"iter"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// Clock is the notifier's time: finality and backoff are decided by it
// (clockwork's real clock in production, its fake clock in tests).
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) clockwork.Timer
}

// Log is the part of the event log the notifier follows.
type Log interface {
	SubscribeAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error]
	Stats(ctx context.Context, filter eventstore.Filter) (eventstore.Stats, error)
}

// MeetingSource answers GET /v1/meetings/{id}'s question (reports.Store).
type MeetingSource interface {
	Meeting(ctx context.Context, key reports.SessionKey) (domain.Meeting, error)
}

// Config tunes the Notifier.
type Config struct {
	// FinalAfter is the quiet time after which an ended or abandoned
	// meeting is final (MEETINGD_FINAL_AFTER, default 2m).
	FinalAfter time.Duration
	// RetryMin is the first retry delay (MEETINGD_NOTIFY_RETRY_MIN, default
	// 5s); it doubles per attempt, with ±20 % jitter, up to RetryMax
	// (default 2h).
	RetryMin, RetryMax time.Duration
	// RetryFor is how long a delivery is attempted before it is failed
	// (dead-lettered), from its first attempt (default 24h).
	RetryFor time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// PerEndpoint bounds the attempts in flight to one subscription
	// (default 8); MaxInFlight those of all together (default 256).
	PerEndpoint, MaxInFlight int
	// Policy says which endpoints are allowed.
	Policy URLPolicy
	// BatchSize and BatchAge flush the projection's batch (defaults 2000
	// events, 100ms).
	BatchSize int
	BatchAge  time.Duration
	// RestartMax bounds the wait before the notifier starts again after a
	// failure of its store or of the log (default 30s; see Run).
	RestartMax time.Duration
	// Clock decides finality and backoff (default: the real clock).
	Clock Clock
	// Jitter returns a number in [0, 1) (default math/rand/v2).
	Jitter func() float64
	// TLS is the client's TLS configuration (tests: a test server's roots).
	TLS *tls.Config
	// Registry receives the metrics; nil measures nothing.
	Registry prometheus.Registerer
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.FinalAfter, 2*time.Minute)
	def(&c.RetryMin, 5*time.Second)
	def(&c.RetryMax, max(2*time.Hour, c.RetryMin))
	def(&c.RetryFor, 24*time.Hour)
	def(&c.Timeout, 10*time.Second)
	def(&c.BatchAge, 100*time.Millisecond)
	def(&c.RestartMax, 30*time.Second)
	if c.PerEndpoint == 0 {
		c.PerEndpoint = 8
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 256
	}
	if c.BatchSize == 0 {
		c.BatchSize = 2000
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Jitter == nil {
		c.Jitter = mrand.Float64
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.FinalAfter <= 0 || c.RetryMin <= 0 || c.RetryMax < c.RetryMin || c.RetryFor <= 0 || c.Timeout <= 0 || c.BatchAge <= 0 || c.RestartMax <= 0 {
		errs = append(errs, errors.New("notify: FinalAfter, RetryMin, RetryFor, Timeout, BatchAge and RestartMax must be positive, RetryMax at least RetryMin"))
	}
	if c.PerEndpoint < 1 || c.MaxInFlight < c.PerEndpoint || c.BatchSize < 1 {
		errs = append(errs, errors.New("notify: PerEndpoint and BatchSize must be positive, MaxInFlight at least PerEndpoint"))
	}
	return errors.Join(errs...)
}

// Deps are what the Notifier reads and writes.
type Deps struct {
	Log      Log
	Store    *Store
	Meetings MeetingSource
	// Projected returns the position up to which the read models have
	// folded the log (projections.Runner.Committed).
	Projected func() eventstore.Position
	// Render turns a meeting into the GET /v1/meetings/{id} answer.
	Render func(domain.Meeting) any
}

// Notifier decides which notifications are owed and delivers them. Run
// runs it; Deliveries and Retry may be called at any time.
type Notifier struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	m    *metrics
	disp *dispatcher
	// cp is the committed checkpoint of the projection.
	cp atomic.Pointer[eventstore.Position]
}

// Checkpoint returns the position up to which the notifier has committed
// its projection of the log.
func (n *Notifier) Checkpoint() eventstore.Position {
	if p := n.cp.Load(); p != nil {
		return *p
	}
	return eventstore.Start
}

// New returns a Notifier. A nil log logs nothing.
func New(cfg Config, deps Deps, log *slog.Logger) (*Notifier, error) {
	cfg.setDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Log == nil || deps.Store == nil || deps.Meetings == nil || deps.Projected == nil || deps.Render == nil {
		errs = append(errs, errors.New("notify: Log, Store, Meetings, Projected and Render are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registry, deps.Store, cfg.Clock)
	if err != nil {
		return nil, err
	}
	n := &Notifier{cfg: cfg, deps: deps, log: log, m: m}
	n.disp = newDispatcher(n)
	return n, nil
}

// Run follows the log and delivers until ctx ends; attempts in flight are
// then cancelled and left pending (attempted again, with the same id, on
// the next start). It returns nil once ctx ends.
//
// A failure of its own store or of the log (a full disk, a lost connection
// to KurrentDB) does not end it, and so never takes the intake down with
// it: the failure is logged and counted (meetingd_notify_restarts_total),
// and the notifier starts again from its committed checkpoint after a
// backoff (100 ms doubling to RestartMax, reset once a run has lasted
// RestartMax). Restarting is safe because the outbox's decisions and its
// checkpoint commit together and every delivery keeps its id.
func (n *Notifier) Run(ctx context.Context) error {
	b := &backoff.ExponentialBackOff{
		InitialInterval: 100 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2,
		MaxInterval: n.cfg.RestartMax,
	}
	b.Reset()
	for {
		started := time.Now()
		err := n.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) >= n.cfg.RestartMax {
			b.Reset()
		}
		wait := b.NextBackOff()
		n.m.restarts.Inc()
		n.log.Error("notifier failed; restarting from its checkpoint", "error", err, "in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// runOnce runs the outbox and the dispatcher until ctx ends or one fails.
func (n *Notifier) runOnce(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.runOutbox(gctx) })
	g.Go(func() error { return n.disp.run(gctx) })
	err := g.Wait()
	if err == nil && ctx.Err() == nil {
		err = errors.New("notify: stopped without an error") // never expected: restart all the same
	}
	return err
}

// backoff returns the next attempt of d after a failure at now; ok false
// when its retry window is over (dead-letter).
func (n *Notifier) backoff(d Delivery, now time.Time) (time.Time, bool) {
	end := d.RetryFrom.Add(n.cfg.RetryFor)
	if !now.Before(end) {
		return time.Time{}, false
	}
	exp := math.Min(float64(n.cfg.RetryMin)*math.Pow(2, float64(max(d.Attempts-1, 0))), float64(n.cfg.RetryMax))
	delay := time.Duration(exp * (0.8 + 0.4*n.cfg.Jitter()))
	next := now.Add(delay)
	if next.After(end) {
		next = end // one last attempt at the end of the window
	}
	return next, true
}
