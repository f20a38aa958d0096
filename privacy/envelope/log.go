package envelope

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/privacy"
)

// Store is the part of an event store that Log wraps.
type Store interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	Limits() eventstore.Limits
}

// Log is a Store whose events are sealed as they are appended and opened as
// they are read, for the writers and readers of a few streams at a time
// (the jobs, the plans, the audit trail and the quarantine of /v1); the
// intake and the projections seal and open on their hot paths themselves.
// Quarantine records are read with their bodies opened (no body once the
// record's key is erased). Events it does not decode pass as they are.
type Log struct {
	store Store
	env   *Envelope
}

// NewLog returns store seen through env.
func NewLog(store Store, env *Envelope) *Log { return &Log{store: store, env: env} }

// Limits are the store's.
func (l *Log) Limits() eventstore.Limits { return l.store.Limits() }

// Append seals the personal data of events of the domain's types; ids and
// every other field are kept.
func (l *Log) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	sealed := make([]eventstore.Event, len(events))
	for i, e := range events {
		sealed[i] = e
		ev, err := codec.UnmarshalEvent(e.Type, e.Data)
		if errors.Is(err, domain.ErrUnknownEventType) {
			continue
		}
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("envelope: append to %s: %w", stream, err)
		}
		if ev, err = l.env.Seal(ctx, ev); err != nil {
			return eventstore.AppendResult{}, err
		}
		if sealed[i].Data, err = codec.MarshalEvent(ev); err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("envelope: append to %s: %w", stream, err)
		}
	}
	return l.store.Append(ctx, stream, expected, sealed...)
}

// ReadStream yields the stream's events with their personal data opened.
func (l *Log) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for rec, err := range l.store.ReadStream(ctx, stream, from) {
			if err == nil {
				err = l.open(ctx, &rec)
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

func (l *Log) open(ctx context.Context, rec *eventstore.RecordedEvent) error {
	if rec.Type == intake.TypeQuarantined {
		var q intake.QuarantineRecord
		if json.Unmarshal(rec.Data, &q) != nil || len(q.BodySealed) == 0 {
			return nil
		}
		if err := q.Unseal(ctx, l.env, rec.ID); err != nil && !errors.Is(err, privacy.ErrErased) {
			return fmt.Errorf("envelope: quarantine record %s: %w", rec.ID, err)
		}
		q.BodySealed, q.BodySealedGzip = nil, false
		data, err := json.Marshal(q)
		if err != nil {
			return fmt.Errorf("envelope: quarantine record %s: %w", rec.ID, err)
		}
		rec.Data = data
		return nil
	}
	data, err := l.env.OpenData(ctx, rec.Type, rec.Data)
	if err != nil {
		return fmt.Errorf("envelope: %s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	rec.Data = data
	return nil
}
