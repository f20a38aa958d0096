package erasure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/meetingd/meetingd/eventstore"
)

// Derived is the primary derived store (the embedded read models, through
// the projection runner so that the runner never writes the old state
// back): Pseudonymise rewrites every session of app naming an identity
// whose pseudonym is pseudonym and returns the session ids rewritten.
// Idempotent: a second call finds nothing left to rewrite.
type Derived interface {
	Pseudonymise(ctx context.Context, app, pseudonym string) ([]string, error)
}

// Rewriter rewrites another copy of the given sessions of app (ClickHouse,
// the notification outbox, a cache) from the rewritten read models, so
// that it no longer holds the identity whose pseudonym is pseudonym.
// Idempotent.
type Rewriter interface {
	Rewrite(ctx context.Context, app, pseudonym string, sessions []string) error
}

// Scrubber removes the bytes a rewrite left in free space (the free pages
// of a file overwritten).
type Scrubber interface {
	Scrub(ctx context.Context) error
}

// Config configures the Processor.
type Config struct {
	// Poll is how often the log is scanned for erasures accepted by other
	// replicas (default 1m); requests of this process wake it at once.
	Poll time.Duration
	// Retry is the wait after a failed erasure (default 10s).
	Retry time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.Poll <= 0 {
		c.Poll = time.Minute
	}
	if c.Retry <= 0 {
		c.Retry = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Processor carries out pending erasures; see the package doc.
type Processor struct {
	cfg       Config
	log       Log
	derived   Derived
	rewriters []Rewriter
	scrubbers []Scrubber
	slog      *slog.Logger
	wake      chan struct{}
}

// NewProcessor returns a processor. A nil logger logs nothing.
func NewProcessor(cfg Config, log Log, derived Derived, rewriters []Rewriter, scrubbers []Scrubber, logger *slog.Logger) (*Processor, error) {
	cfg.setDefaults()
	if log == nil || derived == nil {
		return nil, errors.New("erasure: the processor needs a log and the read models")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{cfg: cfg, log: log, derived: derived, rewriters: rewriters, scrubbers: scrubbers,
		slog: logger, wake: make(chan struct{}, 1)}, nil
}

// Wake asks Run to look for new erasures now (Service's wake).
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes pending erasures until ctx ends (then it returns nil): at
// start, on Wake, every Poll, and again after Retry when one failed.
func (p *Processor) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-timer.C:
		}
		wait := p.cfg.Poll
		if _, err := p.ProcessPending(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.slog.Error("erasure failed; retrying", "err", err, "retry", p.cfg.Retry)
			wait = p.cfg.Retry
		}
		timer.Stop()
		timer.Reset(wait)
	}
}

// ProcessPending carries out every erasure of the log not yet done, oldest
// first, and returns how many it completed.
func (p *Processor) ProcessPending(ctx context.Context) (int, error) {
	pending, err := p.pending(ctx)
	if err != nil {
		return 0, err
	}
	for i, e := range pending {
		if err := p.process(ctx, e); err != nil {
			return i, fmt.Errorf("erasure %s: %w", e.ID, err)
		}
	}
	return len(pending), nil
}

// pending reads every erasure stream and returns the erasures not done.
func (p *Processor) pending(ctx context.Context) ([]*Erasure, error) {
	byID := map[string]*Erasure{}
	var order []string
	for ev, err := range p.log.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{StreamPrefix}}) {
		if err != nil {
			return nil, fmt.Errorf("erasure: read erasures: %w", err)
		}
		if err := fold(byID, &order, ev); err != nil {
			return nil, err
		}
	}
	var out []*Erasure
	for _, id := range order {
		if e := byID[id]; e.Status != StatusDone {
			out = append(out, e)
		}
	}
	return out, nil
}

// progressChunk bounds the sessions of one erasure.progress.v1 event.
const progressChunk = 2000

// process carries out one erasure (steps of the package doc).
func (p *Processor) process(ctx context.Context, e *Erasure) error {
	start := p.cfg.Now()
	found, err := p.derived.Pseudonymise(ctx, e.AppID, e.Participant)
	if err != nil {
		return fmt.Errorf("read models: %w", err)
	}
	sessions := union(e.Sessions, found)
	// In chunks, so that each event stays far below a store's event size
	// limit (KurrentDB: 1 MiB) whatever the number of sessions.
	for chunk := range slices.Chunk(found, progressChunk) {
		ev, err := event(TypeProgress, e.ID, strings.Join(chunk, "\x00"), progress{ID: e.ID, Sessions: chunk, At: p.cfg.Now().UTC()})
		if err != nil {
			return err
		}
		if _, err := p.log.Append(ctx, Stream(e.AppID), eventstore.Any, ev); err != nil {
			return fmt.Errorf("append progress: %w", err)
		}
	}
	for _, r := range p.rewriters {
		if err := r.Rewrite(ctx, e.AppID, e.Participant, sessions); err != nil {
			return err
		}
	}
	for _, s := range p.scrubbers {
		if err := s.Scrub(ctx); err != nil {
			return err
		}
	}
	// The sessions are in the progress events; done marks the end.
	ev, err := event(TypeDone, e.ID, "", progress{ID: e.ID, Sessions: []string{}, At: p.cfg.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if _, err := p.log.Append(ctx, Stream(e.AppID), eventstore.Any, ev); err != nil {
		return fmt.Errorf("append done: %w", err)
	}
	p.slog.Info("erasure done", "id", e.ID, "app", e.AppID, "pseudonym", e.Participant,
		"sessions", len(sessions), "took", p.cfg.Now().Sub(start))
	return nil
}
