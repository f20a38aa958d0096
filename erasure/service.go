package erasure

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/privacy"
)

// ErrNotFound is an erasure id unknown to the app.
var ErrNotFound = errors.New("erasure: not found")

// InvalidError is a request that breaks a rule; Field names the parameter.
type InvalidError struct{ Field, Reason string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// MaxParticipant bounds the identity of a request, in bytes (as the
// webhook decoder bounds ids).
const MaxParticipant = 1024

// StreamLog is the part of the event log the service uses.
type StreamLog interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// Log is the part of the event log the processor uses.
type Log interface {
	StreamLog
	ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error]
}

// KeyEraser erases a subject's key (privacy.Keyring).
type KeyEraser interface {
	Erase(ctx context.Context, s privacy.Subject) error
}

// Service takes erasure requests and answers their state. Safe for
// concurrent use.
type Service struct {
	log  StreamLog
	keys KeyEraser
	now  func() time.Time
	rand io.Reader
	// wake, when set, is told of each new request (the local Processor).
	wake func()
}

// NewService returns the service. A nil now is time.Now, a nil random
// crypto/rand; wake (may be nil) is called after each accepted request.
func NewService(log StreamLog, keys KeyEraser, now func() time.Time, random io.Reader, wake func()) (*Service, error) {
	if log == nil || keys == nil {
		return nil, errors.New("erasure: the service needs a log and a keyring")
	}
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	if wake == nil {
		wake = func() {}
	}
	return &Service{log: log, keys: keys, now: now, rand: random, wake: wake}, nil
}

// Request erases participant of app: the key first, then the request event
// (see the package doc). requestedBy labels who asked (no personal data:
// the token's app or label). The answer is pending.
func (s *Service) Request(ctx context.Context, app, participant, requestedBy string) (Erasure, error) {
	switch {
	case participant == "":
		return Erasure{}, &InvalidError{"participant", "required"}
	case len(participant) > MaxParticipant:
		return Erasure{}, &InvalidError{"participant", fmt.Sprintf("longer than %d bytes", MaxParticipant)}
	case !utf8.ValidString(participant):
		return Erasure{}, &InvalidError{"participant", "not valid UTF-8"}
	}
	subject := privacy.Subject{AppID: app, Participant: participant}
	if err := s.keys.Erase(ctx, subject); err != nil {
		return Erasure{}, fmt.Errorf("erasure: erase key: %w", err)
	}
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return Erasure{}, fmt.Errorf("erasure: id: %w", err)
	}
	r := requested{ID: id.String(), AppID: app, Pseudonym: subject.Pseudonym(), RequestedBy: requestedBy,
		RequestedAt: s.now().UTC().Truncate(time.Second)}
	ev, err := event(TypeRequested, r.ID, "", r)
	if err != nil {
		return Erasure{}, err
	}
	if _, err := s.log.Append(ctx, Stream(app), eventstore.Any, ev); err != nil {
		return Erasure{}, fmt.Errorf("erasure: append request: %w", err)
	}
	s.wake()
	return Erasure{ID: r.ID, AppID: app, Participant: r.Pseudonym, Status: StatusPending, Sessions: []string{},
		RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt}, nil
}

// Get returns one erasure of app, or ErrNotFound.
func (s *Service) Get(ctx context.Context, app, id string) (Erasure, error) {
	byID, _, err := load(ctx, s.log, app)
	if err != nil {
		return Erasure{}, err
	}
	e, ok := byID[id]
	if !ok {
		return Erasure{}, fmt.Errorf("erasure %s: %w", id, ErrNotFound)
	}
	return *e, nil
}

// load folds app's erasure stream.
func load(ctx context.Context, log StreamLog, app string) (map[string]*Erasure, []string, error) {
	byID := map[string]*Erasure{}
	var order []string
	for ev, err := range log.ReadStream(ctx, Stream(app), 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("erasure: read %s: %w", Stream(app), err)
		}
		if err := fold(byID, &order, ev); err != nil {
			return nil, nil, err
		}
	}
	return byID, order, nil
}
