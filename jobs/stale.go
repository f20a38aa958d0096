package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// StaleConfig configures a StaleCloser.
type StaleConfig struct {
	// After is MEETINGD_STALE_AFTER: a live meeting whose newest CometChat
	// timestamp is older than this (now − LastEventAt > After) becomes
	// abandoned. Required.
	After time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PageSize is how many candidates one index read returns (default 500).
	PageSize int
	// MaxAttempts bounds the re-reads of one session when webhooks keep
	// landing while it is decided (default 3); it is then left for the next run.
	MaxAttempts int
}

func (c *StaleConfig) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
}

// Validate reports every problem of c.
func (c StaleConfig) Validate() error {
	var errs []error
	if c.After <= 0 {
		errs = append(errs, errors.New("jobs: stale closer: After must be positive"))
	}
	if c.PageSize < 1 || c.PageSize > reports.MaxLimit {
		errs = append(errs, fmt.Errorf("jobs: stale closer: PageSize must be in 1..%d", reports.MaxLimit))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("jobs: stale closer: MaxAttempts must be positive"))
	}
	return errors.Join(errs...)
}

// StaleJobName is the stale closer's name in metrics and logs.
const StaleJobName = "stale-closer"

// StaleCloser is the job that abandons stale meetings: for every live
// meeting whose newest CometChat timestamp is older than After, it appends
// domain.SessionAbandoned with that timestamp as LastEventAt, so the fold
// shows the meeting abandoned until a newer event (or an end) arrives.
type StaleCloser struct {
	cfg   StaleConfig
	store Store
	index OpenMeetings
	m     *Metrics
	log   *slog.Logger
}

// NewStaleCloser returns the job. m may be nil.
func NewStaleCloser(cfg StaleConfig, store Store, index OpenMeetings, m *Metrics, log *slog.Logger) (*StaleCloser, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || index == nil {
		return nil, errors.New("jobs: stale closer: nil store or index")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &StaleCloser{cfg: cfg, store: store, index: index, m: m, log: log}, nil
}

// Run abandons every stale meeting and reports how many it looked at and
// abandoned. Sessions that fail are counted and reported as the run's error
// after the others were done.
func (c *StaleCloser) Run(ctx context.Context) (Summary, error) {
	now := c.cfg.Now()
	// LastEventAt < now − After  ⇔  now − LastEventAt > After.
	q := reports.OpenQuery{Status: domain.StatusLive, To: now.Add(-c.cfg.After), Limit: c.cfg.PageSize}
	var candidates, abandoned, conflicts int
	var errs runErrors
	for om, err := range pages(ctx, c.index, q) {
		if err != nil {
			return nil, err
		}
		candidates++
		done, retries, err := c.close(ctx, om.Key, now)
		conflicts += retries
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("stale closer: %w", ctx.Err())
		case err != nil:
			errs.add(fmt.Errorf("session %s/%s: %w", om.Key.AppID, om.Key.SessionID, err))
		case done:
			abandoned++
		}
	}
	c.m.count(StaleJobName, "abandoned", abandoned)
	c.m.count(StaleJobName, "conflict", conflicts)
	c.m.count(StaleJobName, "error", errs.n)
	return Summary{
		slog.Int("candidates", candidates), slog.Int("abandoned", abandoned),
		slog.Int("conflicts", conflicts), slog.Int("errors", errs.n),
	}, errs.err()
}

// close decides one session on the log and abandons it when it is stale:
// true when an event was appended. A concurrent append makes it re-read
// and decide again (retries counts those).
func (c *StaleCloser) close(ctx context.Context, key reports.SessionKey, now time.Time) (done bool, retries int, err error) {
	for range c.cfg.MaxAttempts {
		s, err := loadSession(ctx, c.store, key)
		if errors.Is(err, errNoStream) {
			return false, retries, nil
		}
		if err != nil {
			return false, retries, err
		}
		m := s.facts.Meeting()
		if !Stale(m, now, c.cfg.After) {
			return false, retries, nil // an event arrived that the index has not seen yet, or an end
		}
		res, err := appendOwn(ctx, c.store, s, domain.SessionAbandoned{
			LastEventAt: m.LastEventAt.Unix(), DecidedAt: now.Unix(),
		}, "job:"+StaleJobName, now)
		if errors.Is(err, eventstore.ErrConcurrency) {
			retries++
			continue
		}
		if err != nil {
			return false, retries, err
		}
		if !res.Duplicate {
			c.log.Info("meeting abandoned", "app_id", key.AppID, "session_id", key.SessionID,
				"last_event_at", m.LastEventAt, "stale_for", now.Sub(m.LastEventAt).String())
		}
		return !res.Duplicate, retries, nil
	}
	return false, retries, fmt.Errorf("still changing after %d attempts; left for the next run", c.cfg.MaxAttempts)
}

// Stale reports whether the stale closer abandons m at now: it is live, has
// a CometChat timestamp, and the newest one is more than after before now.
func Stale(m domain.Meeting, now time.Time, after time.Duration) bool {
	return m.Status == domain.StatusLive && !m.LastEventAt.IsZero() && now.Sub(m.LastEventAt) > after
}
