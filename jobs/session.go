package jobs

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/reports"
)

// Store is the part of the event store the jobs use (eventstore.Store).
// Safe for concurrent use; every call honours ctx; Append is durable when it
// returns without error and fails with eventstore.ErrConcurrency when the
// expected revision does not hold.
type Store interface {
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
}

// OpenMeetings finds meetings without a known end by their newest CometChat
// timestamp (projections/readmodel implements it). Safe for concurrent use;
// honours ctx. The index may lag the log; the jobs re-check every candidate
// against the log.
type OpenMeetings interface {
	OpenMeetings(ctx context.Context, q reports.OpenQuery) ([]reports.OpenMeeting, error)
}

// session is one session's stream, read and folded.
type session struct {
	key      reports.SessionKey
	stream   string
	events   []domain.Event
	facts    *domain.Facts
	revision uint64 // of the last event read
}

// errNoStream means the session has no events in the log.
var errNoStream = errors.New("no events")

// loadSession reads and folds the session's stream. Events this version
// cannot decode are skipped, as the projections skip them.
func loadSession(ctx context.Context, store Store, key reports.SessionKey) (*session, error) {
	s := &session{key: key, stream: domain.StreamName(key.AppID, key.SessionID), facts: domain.NewFacts(key.AppID, key.SessionID)}
	n := 0
	for rec, err := range store.ReadStream(ctx, s.stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, fmt.Errorf("read %s: %w", s.stream, errNoStream)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.stream, err)
		}
		n++
		s.revision = rec.Revision
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			continue
		}
		s.events = append(s.events, ev)
		s.facts.Apply(ev)
	}
	if n == 0 {
		return nil, fmt.Errorf("read %s: %w", s.stream, errNoStream)
	}
	return s, nil
}

// appendOwn appends one of meetingd's own events to the session's stream
// (source names the job: "job:stale-closer" or "job:reconcile"),
// expecting the revision the decision was made on. Its id derives from the
// content, so repeating it stores nothing (Duplicate).
func appendOwn(ctx context.Context, store Store, s *session, p domain.Payload, source string, now time.Time) (eventstore.AppendResult, error) {
	ev := domain.Event{AppID: s.key.AppID, SessionID: s.key.SessionID, Kind: s.facts.Meeting().Kind, Payload: p}
	data, err := codec.MarshalEvent(ev)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	// The metadata of every writer (intake.Metadata), without a webhook.
	meta, err := intake.Metadata{ReceivedAt: now.UTC(), Source: source}.Marshal()
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := store.Append(ctx, s.stream, eventstore.Exact(s.revision), eventstore.Event{
		ID: domain.EventID(ev), Type: ev.Type(), Data: data, Metadata: meta,
	})
	if err != nil {
		return res, fmt.Errorf("append %s to %s: %w", ev.Type(), s.stream, err)
	}
	return res, nil
}

// pages yields the open meetings of q, page after page.
func pages(ctx context.Context, idx OpenMeetings, q reports.OpenQuery) iter.Seq2[reports.OpenMeeting, error] {
	return func(yield func(reports.OpenMeeting, error) bool) {
		for {
			page, err := idx.OpenMeetings(ctx, q)
			if err != nil {
				yield(reports.OpenMeeting{}, fmt.Errorf("list open meetings: %w", err))
				return
			}
			for _, m := range page {
				if !yield(m, nil) {
					return
				}
			}
			if len(page) < q.Limit {
				return
			}
			last := page[len(page)-1]
			q.After = &last
		}
	}
}

// runErrors keeps the first few errors of a run and counts the rest.
type runErrors struct {
	errs []error
	n    int
}

const keptErrors = 5

func (r *runErrors) add(err error) {
	r.n++
	if len(r.errs) < keptErrors {
		r.errs = append(r.errs, err)
	}
}

func (r *runErrors) err() error {
	if r.n == 0 {
		return nil
	}
	if r.n > len(r.errs) {
		r.errs = append(r.errs, fmt.Errorf("… and %d more errors", r.n-len(r.errs)))
	}
	return errors.Join(r.errs...)
}
