package plans

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// Log is the part of the event log that plans are written to and read from.
type Log interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	Limits() eventstore.Limits
}

// ErrNoPlan is returned by Get for a session without a plan.
var ErrNoPlan = errors.New("plans: the session has no plan")

// maxConflicts bounds the appends lost to concurrent writers of the same
// stream (webhooks of a live meeting) before Set gives up.
const maxConflicts = 16

// Config configures a Service.
type Config struct {
	// Now returns the current time (SetAt of the events). Default time.Now.
	Now func() time.Time
}

// Service stores and reads plans.
type Service struct {
	log Log
	now func() time.Time
	sl  *slog.Logger
}

// New returns a Service over log. A nil logger logs nothing.
func New(cfg Config, log Log, logger *slog.Logger) (*Service, error) {
	if log == nil {
		return nil, errors.New("plans: nil log")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{log: log, now: cfg.Now, sl: logger}, nil
}

// Stored is a plan as stored: the event and its place in the stream.
type Stored struct {
	Plan    domain.PlanSet
	EventID uuid.UUID
	// Duplicate is true when Set found the same append already stored.
	Duplicate bool
}

// Set validates p and appends it to the session's stream as the session's
// plan, replacing any earlier one. p.Revision and p.SetAt are assigned
// here.
func (s *Service) Set(ctx context.Context, app, session string, p domain.PlanSet) (Stored, error) {
	if err := p.Validate(); err != nil {
		return Stored{}, err
	}
	p.SetAt = s.now().Unix()
	stream := domain.StreamName(app, session)
	for conflicts := 0; ; conflicts++ {
		next, _, err := s.scan(ctx, stream)
		if err != nil {
			return Stored{}, err
		}
		expected := eventstore.NoStream
		if next > 0 {
			expected = eventstore.Exact(next - 1)
		}
		p.Revision = next
		ev := domain.Event{AppID: app, SessionID: session, Payload: p}
		data, err := codec.MarshalEvent(ev)
		if err != nil {
			return Stored{}, fmt.Errorf("plans: %w", err)
		}
		stored := eventstore.Event{ID: domain.EventID(ev), Type: domain.TypePlanSet, Data: data,
			Metadata: []byte(`{"source":"plan"}`)}
		if err := s.log.Limits().Check(stream, []eventstore.Event{stored}); err != nil {
			return Stored{}, fmt.Errorf("plans: the plan exceeds the event store's limits: %w", err)
		}
		res, err := s.log.Append(ctx, stream, expected, stored)
		switch {
		case errors.Is(err, eventstore.ErrConcurrency) && conflicts < maxConflicts:
			continue // a webhook came between: read again, take the next revision
		case err != nil:
			return Stored{}, fmt.Errorf("plans: append to %s: %w", stream, err)
		}
		s.sl.Info("plan stored", "app_id", app, "session_id", session, "revision", p.Revision, "roster", len(p.Roster))
		return Stored{Plan: p, EventID: stored.ID, Duplicate: res.Duplicate}, nil
	}
}

// Get returns the session's current plan (the greatest revision), or
// ErrNoPlan.
func (s *Service) Get(ctx context.Context, app, session string) (Stored, error) {
	_, st, err := s.scan(ctx, domain.StreamName(app, session))
	if err != nil {
		return Stored{}, err
	}
	if st == nil {
		return Stored{}, ErrNoPlan
	}
	return *st, nil
}

// scan reads stream and returns its next revision and its latest plan.
func (s *Service) scan(ctx context.Context, stream string) (next uint64, latest *Stored, err error) {
	for rec, err := range s.log.ReadStream(ctx, stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0, nil, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("plans: read %s: %w", stream, err)
		}
		next = rec.Revision + 1
		if rec.Type != domain.TypePlanSet {
			continue
		}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			s.sl.Warn("plans: stored plan unreadable", "stream", stream, "revision", rec.Revision, "error", err)
			continue
		}
		p, ok := ev.Payload.(domain.PlanSet)
		if ok && (latest == nil || p.Revision >= latest.Plan.Revision) {
			latest = &Stored{Plan: p, EventID: rec.ID}
		}
	}
	return next, latest, nil
}
