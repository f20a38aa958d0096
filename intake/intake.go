package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// Appender is the part of the event log that intake writes to.
// Append must be durable when it returns without error.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	// Limits are the bounds past which Append refuses an append
	// (eventstore.ErrInvalidEvent). Ingest checks them before appending, so
	// that what the store cannot hold is quarantined, never refused.
	Limits() eventstore.Limits
}

// ErrTooLarge means a payload cannot be stored even as a quarantine record
// with its body compressed: nothing was stored.
var ErrTooLarge = errors.New("payload too large for the event store")

// The stream names fit every store: the longest name built from ids that
// the decoder accepts is within the contract's bound (this fails to compile
// otherwise).
var _ [eventstore.MaxStreamNameBytes - domain.MaxStreamNameBytes]struct{}

// Outcome says what became of a webhook.
type Outcome string

const (
	// Accepted: a new event was appended to its session's stream.
	Accepted Outcome = "accepted"
	// Duplicate: the same event (by content) was stored before.
	Duplicate Outcome = "duplicate"
	// Quarantined: the payload is CometChat-shaped but unusable, or its
	// event exceeds the store's limits; it was stored in its app's
	// quarantine stream (domain.QuarantineStream) with the reason.
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

// LegacyQuarantineStream held every app's quarantined payloads before each
// app got a stream of its own; MigrateQuarantine copies its records.
const LegacyQuarantineStream = "quarantine"

// TypeQuarantined is the event type of a quarantine record.
const TypeQuarantined = "intake.quarantined.v1"

// QuarantineRecord is the data of a quarantine record.
type QuarantineRecord struct {
	AppID      string    `json:"app_id"`
	Trigger    string    `json:"trigger"`
	Field      string    `json:"field,omitempty"`
	Reason     string    `json:"reason"`
	ReceivedAt time.Time `json:"received_at"`
	// Body is the webhook body as received (not stored when the intake
	// seals bodies: BodySealed holds it).
	Body json.RawMessage `json:"body,omitempty"`
	// BodySealed is the body sealed under the record's own key (see
	// Sealer.SealBody), gzip-compressed first when BodySealedGzip is set.
	BodySealed     []byte `json:"body_sealed,omitempty"`
	BodySealedGzip bool   `json:"body_sealed_gzip,omitempty"`
	// BodyGzip replaces Body in a record that would not fit the store with
	// the body as it is: the whole body, gzip-compressed (base64 in JSON).
	// Expand restores Body.
	BodyGzip []byte `json:"body_gzip,omitempty"`
}

// maxExpanded bounds what Expand decompresses: far more than any body the
// intake takes (1 MiB).
const maxExpanded = 16 << 20

// BodyOpener opens a body that Sealer.SealBody sealed.
type BodyOpener interface {
	OpenBody(ctx context.Context, app string, id uuid.UUID, sealed []byte) ([]byte, error)
}

// Unseal restores Body from BodySealed (record id, of the record's app),
// expanded. It returns an error wrapping privacy.ErrErased once the
// record's key is erased; Body stays empty then.
func (r *QuarantineRecord) Unseal(ctx context.Context, open BodyOpener, id uuid.UUID) error {
	if len(r.BodySealed) == 0 {
		return nil
	}
	body, err := open.OpenBody(ctx, r.AppID, id, r.BodySealed)
	if err != nil {
		return err
	}
	r.BodySealed = nil
	if r.BodySealedGzip {
		r.BodyGzip, r.BodySealedGzip = body, false
		return r.Expand()
	}
	r.Body = body
	return nil
}

// Expand restores Body from BodyGzip, if the record holds it compressed.
func (r *QuarantineRecord) Expand() error {
	if len(r.BodyGzip) == 0 {
		return nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.BodyGzip))
	if err != nil {
		return fmt.Errorf("quarantine record body: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxExpanded+1))
	if err != nil {
		return fmt.Errorf("quarantine record body: %w", err)
	}
	if len(body) > maxExpanded {
		return fmt.Errorf("quarantine record body: over %d bytes uncompressed", maxExpanded)
	}
	r.Body, r.BodyGzip = body, nil
	return nil
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
	// Sealer, when set, seals the personal data of every event and
	// quarantined body before it is stored, and derives the ids that an
	// identity determines with a keyed hash (package privacy/envelope). nil
	// stores them as they are.
	Sealer Sealer
}

// Sealer is what the intake needs of privacy/envelope.Envelope.
type Sealer interface {
	Seal(ctx context.Context, ev domain.Event) (domain.Event, error)
	Open(ctx context.Context, ev *domain.Event) error
	EventID(ev domain.Event) uuid.UUID
	BodyID(body []byte) uuid.UUID
	SealBody(ctx context.Context, app string, id uuid.UUID, body []byte) ([]byte, error)
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
	dec   cometchat.Decoder
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
	s := &Service{cfg: cfg, log: log, store: store, dec: cometchat.Decoder{Now: cfg.Now, MaxFuture: cfg.MaxFuture},
		sessions: newSessions(store, cfg.MaxSessionIntervals, cfg.SessionCacheBytes, log)}
	if cfg.Sealer != nil {
		s.sessions.open = cfg.Sealer.Open
	}
	return s, nil
}

// Ingest stores one webhook body. source names the way it arrived ("http",
// "import"). It returns an error wrapping cometchat.ErrMalformed for a body that
// is not a CometChat webhook at all (nothing is stored), or the store's error
// (nothing acknowledged). Any Result returned with a nil error is durable.
func (s *Service) Ingest(ctx context.Context, body []byte, source string) (Result, error) {
	now := s.cfg.Now().UTC()
	wh, err := s.dec.Decode(body)
	var verr *cometchat.ValidationError
	switch {
	case errors.As(err, &verr):
		return s.quarantine(ctx, body, invalid(body, verr), now)
	case err != nil:
		return Result{}, err
	}
	ev := wh.Event
	id := domain.EventID(ev)
	toStore := ev
	if s.cfg.Sealer != nil {
		id = s.cfg.Sealer.EventID(ev)
		if toStore, err = s.cfg.Sealer.Seal(ctx, ev); err != nil {
			return Result{}, fmt.Errorf("ingest: %w", err)
		}
	}
	data, err := codec.MarshalEvent(toStore)
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	meta, err := Metadata{WebhookID: wh.WebhookID, Region: wh.Region, ReceivedAt: now, Source: source}.Marshal()
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	stream := domain.StreamName(ev.AppID, ev.SessionID)
	stored := eventstore.Event{ID: id, Type: ev.Type(), Data: data, Metadata: meta}
	if err := s.store.Limits().Check(stream, []eventstore.Event{stored}); err != nil {
		// Valid, but more than the store takes in one append (KurrentDB's
		// MaxAppendSize): kept, with the reason, rather than refused.
		return s.quarantine(ctx, body, cause{
			app: ev.AppID, trigger: ev.Trigger, reason: "the event exceeds the event store's limits: " + err.Error(),
		}, now)
	}
	res, err := s.sessions.append(ctx, stream, ev, stored)
	if errors.As(err, &verr) { // over the session's limit of intervals
		return s.quarantine(ctx, body, cause{app: ev.AppID, trigger: ev.Trigger, field: verr.Field, reason: verr.Error()}, now)
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

// cause is why a payload is quarantined.
type cause struct {
	app           string
	trigger       domain.Trigger
	field, reason string
}

// invalid is the cause of a payload that failed validation.
func invalid(body []byte, verr *cometchat.ValidationError) cause {
	// The app id is recovered best-effort for scoping the quarantine listing.
	var head struct {
		AppID any `json:"appId"`
	}
	_ = json.Unmarshal(body, &head)
	app, _ := head.AppID.(string)
	return cause{app: app, trigger: verr.Trigger, field: verr.Field, reason: verr.Error()}
}

// quarantine stores body in its app's quarantine stream (the stream of
// unknown apps when the app id is missing or invalid). A record that would
// exceed the store's limits keeps the body gzip-compressed; one that does
// not fit even so fails with ErrTooLarge.
func (s *Service) quarantine(ctx context.Context, body []byte, c cause, now time.Time) (Result, error) {
	rec := QuarantineRecord{
		AppID: c.app, Trigger: string(c.trigger), Field: c.field, Reason: c.reason,
		ReceivedAt: now, Body: json.RawMessage(body),
	}
	stream := domain.QuarantineStream(c.app)
	sum := sha256.Sum256(body)
	e := eventstore.Event{ID: uuid.NewSHA1(quarantineNamespace, sum[:]), Type: TypeQuarantined}
	var err error
	if s.cfg.Sealer != nil {
		e.ID = s.cfg.Sealer.BodyID(body)
		rec.Body = nil
		if rec.BodySealed, err = s.cfg.Sealer.SealBody(ctx, c.app, e.ID, body); err != nil {
			return Result{}, fmt.Errorf("quarantine: %w", err)
		}
	}
	if e.Data, err = json.Marshal(rec); err != nil {
		return Result{}, fmt.Errorf("quarantine: %w", err)
	}
	limits := s.store.Limits()
	if limits.Check(stream, []eventstore.Event{e}) != nil {
		z, err := compress(body)
		if err != nil {
			return Result{}, fmt.Errorf("quarantine: %w", err)
		}
		rec.Body = nil
		if s.cfg.Sealer != nil {
			if rec.BodySealed, err = s.cfg.Sealer.SealBody(ctx, c.app, e.ID, z); err != nil {
				return Result{}, fmt.Errorf("quarantine: %w", err)
			}
			rec.BodySealedGzip = true
		} else {
			rec.BodyGzip = z
		}
		if e.Data, err = json.Marshal(rec); err != nil {
			return Result{}, fmt.Errorf("quarantine: %w", err)
		}
		if err := limits.Check(stream, []eventstore.Event{e}); err != nil {
			return Result{}, fmt.Errorf("quarantine %s: %w (%d bytes, compressed): %v", c.trigger, ErrTooLarge, len(body), err)
		}
	}
	if _, err := s.store.Append(ctx, stream, eventstore.Any, e); err != nil {
		return Result{}, fmt.Errorf("quarantine %s: %w", c.trigger, err)
	}
	return Result{Outcome: Quarantined, EventID: e.ID, Trigger: c.trigger, Reason: c.reason, Stream: stream}, nil
}

func compress(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
// refuse (cometchat.ErrMalformed).
func (s *Service) IngestFor(ctx context.Context, app string, body []byte, source string) (Result, error) {
	if app != "" {
		got, err := s.dec.AppID(body)
		switch {
		case errors.Is(err, cometchat.ErrMalformed):
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
