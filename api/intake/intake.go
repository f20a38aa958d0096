package intake

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// Appender is the part of the event log that intake writes to.
// Append must be durable when it returns without error.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
}

// Outcome says what became of a webhook.
type Outcome string

const (
	// Accepted: a new event was appended to its session's stream.
	Accepted Outcome = "accepted"
	// Duplicate: the same event (by content) was stored before.
	Duplicate Outcome = "duplicate"
	// Quarantined: the payload is CometChat-shaped but unusable; it was stored
	// in the quarantine stream with the reason.
	Quarantined Outcome = "quarantined"
)

// Result describes a stored webhook.
type Result struct {
	Outcome Outcome
	// EventID is the event's (or the quarantine record's) ID.
	EventID uuid.UUID
	// Trigger is the payload's trigger, when it had one.
	Trigger domain.Trigger
	// Reason explains a quarantine.
	Reason string
	// Stream is where the webhook was stored.
	Stream string
}

// QuarantineStream holds every quarantined payload, of every app.
const QuarantineStream = "quarantine"

// TypeQuarantined is the event type of a quarantine record.
const TypeQuarantined = "intake.quarantined.v1"

// Quarantined is the data of a quarantine record.
type QuarantineRecord struct {
	AppID      string          `json:"app_id"`
	Trigger    string          `json:"trigger"`
	Field      string          `json:"field,omitempty"`
	Reason     string          `json:"reason"`
	ReceivedAt time.Time       `json:"received_at"`
	Body       json.RawMessage `json:"body"`
}

// Metadata is stored with every accepted event: how it was delivered.
type Metadata struct {
	WebhookID  string    `json:"webhook_id,omitempty"`
	Region     string    `json:"region,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Source is "http" or "import".
	Source string `json:"source"`
}

// Config configures a Service.
type Config struct {
	// Now returns the current time (injected for tests). Default time.Now.
	Now func() time.Time
	// MaxFuture is how far in the future a CometChat timestamp may lie before
	// the payload is quarantined. Default 24h.
	MaxFuture time.Duration
	// MaxSessionIntervals is how many intervals a session may hold; a
	// webhook that would add more is quarantined. Default
	// DefaultMaxSessionIntervals (API.md "Limits").
	MaxSessionIntervals int
	// SessionCacheBytes bounds the memory of the sessions' interval sets kept
	// between webhooks (least recently used sessions are read again from
	// their streams). Default DefaultSessionCacheBytes.
	SessionCacheBytes int64
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxFuture == 0 {
		c.MaxFuture = 24 * time.Hour
	}
	if c.MaxSessionIntervals == 0 {
		c.MaxSessionIntervals = DefaultMaxSessionIntervals
	}
	if c.SessionCacheBytes == 0 {
		c.SessionCacheBytes = DefaultSessionCacheBytes
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.MaxFuture < 0 {
		errs = append(errs, fmt.Errorf("intake: MaxFuture must not be negative"))
	}
	if c.MaxSessionIntervals < 0 {
		errs = append(errs, fmt.Errorf("intake: MaxSessionIntervals must not be negative"))
	}
	if c.SessionCacheBytes < 0 {
		errs = append(errs, fmt.Errorf("intake: SessionCacheBytes must not be negative"))
	}
	return errors.Join(errs...)
}

// Service ingests webhooks. It is safe for concurrent use.
type Service struct {
	cfg   Config
	log   *slog.Logger
	store Appender
	dec   domain.Decoder
	// sessions appends the session events, holding each session to
	// MaxSessionIntervals.
	sessions *sessions
}

// New returns a Service that appends to store. A nil log logs nothing.
func New(cfg Config, store Log, log *slog.Logger) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("intake: nil store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log, store: store, dec: domain.Decoder{Now: cfg.Now, MaxFuture: cfg.MaxFuture},
		sessions: newSessions(store, cfg.MaxSessionIntervals, cfg.SessionCacheBytes, log)}, nil
}

// Ingest stores one webhook body. source names the way it arrived ("http",
// "import"). It returns an error wrapping domain.ErrMalformed for a body that
// is not a CometChat webhook at all (nothing is stored), or the store's error
// (nothing acknowledged). Any Result returned with a nil error is durable.
func (s *Service) Ingest(ctx context.Context, body []byte, source string) (Result, error) {
	now := s.cfg.Now().UTC()
	wh, err := s.dec.Decode(body)
	var verr *domain.ValidationError
	switch {
	case errors.As(err, &verr):
		return s.quarantine(ctx, body, verr, now)
	case err != nil:
		return Result{}, err
	}
	ev := wh.Event
	data, err := ev.Marshal()
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	meta, err := Metadata{WebhookID: wh.WebhookID, Region: wh.Region, ReceivedAt: now, Source: source}.marshal()
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	id := domain.EventID(ev)
	stream := domain.StreamName(ev.AppID, ev.SessionID)
	res, err := s.sessions.append(ctx, stream, ev, eventstore.Event{ID: id, Type: ev.Type(), Data: data, Metadata: meta})
	if errors.As(err, &verr) {
		return s.quarantine(ctx, body, verr, now) // over the session's limit of intervals
	}
	if err != nil {
		return Result{}, fmt.Errorf("ingest %s: %w", ev.Trigger, err)
	}
	out := Result{Outcome: Accepted, EventID: id, Trigger: ev.Trigger, Stream: stream}
	if res.Duplicate {
		out.Outcome = Duplicate
	}
	return out, nil
}

func (s *Service) quarantine(ctx context.Context, body []byte, verr *domain.ValidationError, now time.Time) (Result, error) {
	// The app id is recovered best-effort for scoping the quarantine listing.
	var head struct {
		AppID any `json:"appId"`
	}
	_ = json.Unmarshal(body, &head)
	app, _ := head.AppID.(string)
	rec := QuarantineRecord{
		AppID: app, Trigger: string(verr.Trigger), Field: verr.Field, Reason: verr.Error(),
		ReceivedAt: now, Body: json.RawMessage(body),
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return Result{}, fmt.Errorf("quarantine: %w", err)
	}
	sum := sha256.Sum256(body)
	id := uuid.NewSHA1(quarantineNamespace, sum[:])
	if _, err := s.store.Append(ctx, QuarantineStream, eventstore.Any, eventstore.Event{ID: id, Type: TypeQuarantined, Data: data}); err != nil {
		return Result{}, fmt.Errorf("quarantine %s: %w", verr.Trigger, err)
	}
	return Result{Outcome: Quarantined, EventID: id, Trigger: verr.Trigger, Reason: verr.Error(), Stream: QuarantineStream}, nil
}

// ErrForeignApp is returned by IngestFor for a webhook whose appId is not
// the app of the credentials it came with (or cannot be read): nothing is
// stored, neither an event nor a quarantine record.
var ErrForeignApp = errors.New("webhook for another app than its credentials")

// IngestFor is Ingest for a delivery authenticated with credentials of one
// app ("" : credentials of every app, the same as Ingest). The body's appId,
// read as the decoder reads it, must be app before anything is appended,
// whether the webhook would be accepted or quarantined; otherwise the error
// wraps ErrForeignApp. A body that is not a webhook at all is Ingest's to
// refuse (domain.ErrMalformed).
func (s *Service) IngestFor(ctx context.Context, app string, body []byte, source string) (Result, error) {
	if app != "" {
		got, err := s.dec.AppID(body)
		switch {
		case errors.Is(err, domain.ErrMalformed):
		case err != nil:
			return Result{}, fmt.Errorf("%w: %v; these credentials deliver app %q's webhooks only", ErrForeignApp, err, app)
		case got != app:
			return Result{}, fmt.Errorf("%w: the body's appId is %q; these credentials deliver app %q's webhooks only", ErrForeignApp, got, app)
		}
	}
	return s.Ingest(ctx, body, source)
}

// quarantineNamespace is the UUIDv5 namespace of quarantine record ids: the
// same body quarantined twice is stored once.
var quarantineNamespace = uuid.MustParse("0b8e2f7c-93a1-5d4e-8f6a-717561726e74")
