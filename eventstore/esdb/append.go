package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/meetingd/meetingd/eventstore"
)

// Append appends events to stream if expected holds, durably (acknowledged by
// the cluster's quorum). See the package documentation for how duplicates are
// recognised; in short, the store reads the stream's new tail, classifies the
// event IDs against what the stream holds, and appends with the exact
// revision it read, so that the server deduplicates durably and detects any
// concurrent append (then the store re-reads and retries, AppendAttempts
// times at most).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	if err := validate(stream, events, s.Limits()); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if err := s.enter(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	defer s.ops.Done()
	res, err := s.append(ctx, stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return res, nil
}

func validate(stream string, events []eventstore.Event, limits eventstore.Limits) error {
	var rule error
	if strings.HasPrefix(stream, "$") {
		rule = errors.New("stream names starting with $ belong to the server")
	}
	return eventstore.ValidateAppend(stream, events, rule, limits.Check(stream, events))
}

// Limits returns the bounds Append enforces: eventstore.MaxStreamNameBytes
// (KurrentDB has no stream-name limit of its own below it) and
// Config.MaxAppendBytes.
func (s *Store) Limits() eventstore.Limits {
	return eventstore.Limits{MaxStreamNameBytes: eventstore.MaxStreamNameBytes, MaxAppendBytes: s.cfg.MaxAppendBytes}
}

func (s *Store) append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.Event) (eventstore.AppendResult, error) {
	// Appends to one stream are serialised in this process: they would only
	// make each other retry, and a duplicate is then always recognised as one.
	unlock, err := s.locks.lock(ctx, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer unlock()

	st := s.cache.take(stream)
	if st == nil {
		st = newStreamState()
	}
	keep := false
	defer func() {
		if keep {
			s.cache.put(stream, st)
		}
	}()
	if err := s.catchUp(ctx, stream, st); err != nil {
		return eventstore.AppendResult{}, err
	}
	keep = true
	for attempt := 1; ; attempt++ {
		present, maxRev := st.classify(events)
		switch {
		case present == len(events):
			return s.duplicate(ctx, stream, st, maxRev)
		case present > 0:
			return eventstore.AppendResult{}, fmt.Errorf("%w: %d of %d events", eventstore.ErrPartialDuplicate, present, len(events))
		}
		if !expected.Check(st.exists, st.last) {
			return eventstore.AppendResult{}, fmt.Errorf("%w: expected %s, stream %s", eventstore.ErrConcurrency, expected, st.describe())
		}
		base := st.next()
		wr, err := s.write(ctx, stream, st, events)
		if err == nil {
			for i, e := range events {
				st.add(e.ID, base+uint64(i), eventstore.Position{})
			}
			if wr.NextExpectedVersion != st.last {
				keep = false // the server disagrees with what we read: forget it
			}
			res := eventstore.AppendResult{
				NextRevision: st.last,
				Position:     eventstore.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition},
			}
			if res.Position.IsZero() { // old servers omit it on an idempotent write
				dup, err := s.duplicate(ctx, stream, st, st.last)
				if err != nil {
					return eventstore.AppendResult{}, err
				}
				res.Position = dup.Position
			}
			return res, nil
		}
		if !errors.Is(err, eventstore.ErrConcurrency) {
			keep = false // the outcome may be unknown (timeout): read afresh next time
			return eventstore.AppendResult{}, err
		}
		if attempt >= s.cfg.AppendAttempts {
			keep = false
			return eventstore.AppendResult{}, fmt.Errorf("%w: stream moved under %d attempts: %v", eventstore.ErrUnavailable, attempt, err)
		}
		// Another writer won the race: let it finish its burst, with jitter
		// so that two losers do not collide again, then read what it wrote.
		if err := sleep(ctx, retryDelay(attempt)); err != nil {
			keep = false
			return eventstore.AppendResult{}, err
		}
		if err := s.catchUp(ctx, stream, st); err != nil {
			keep = false
			return eventstore.AppendResult{}, err
		}
	}
}

// retryDelay is a random delay below 2^attempt ms, at most 64 ms.
func retryDelay(attempt int) time.Duration {
	ceiling := time.Millisecond << min(attempt, 6)
	return rand.N(ceiling)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (st *streamState) describe() string {
	if !st.exists {
		return "does not exist"
	}
	return fmt.Sprintf("is at revision %d", st.last)
}

// catchUp reads the events of stream that st does not know yet.
func (s *Store) catchUp(ctx context.Context, stream string, st *streamState) error {
	for {
		page, err := s.readPage(ctx, stream, st.next(), s.cfg.ReadPageSize)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			if st.exists { // deleted behind our back
				*st = *newStreamState()
			}
			return nil
		}
		if err != nil {
			return err
		}
		for i := range page {
			if rec, ok := toRecorded(&page[i]); ok {
				st.add(rec.ID, rec.Revision, rec.Position)
			}
		}
		if len(page) < s.cfg.ReadPageSize {
			return nil
		}
	}
}

// duplicate describes the stored copies of an append whose IDs are all in
// the stream; rev is the highest revision among them.
func (s *Store) duplicate(ctx context.Context, stream string, st *streamState, rev uint64) (eventstore.AppendResult, error) {
	pos := st.pos[rev]
	if pos.IsZero() { // written by this process: read its position
		page, err := s.readPage(ctx, stream, rev, 1)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		for i := range page {
			if rec, ok := toRecorded(&page[i]); ok {
				st.add(rec.ID, rec.Revision, rec.Position)
			}
		}
		pos = st.pos[rev]
	}
	return eventstore.AppendResult{Duplicate: true, NextRevision: st.last, Position: pos}, nil
}

// write appends events after the last revision st knows (or to a new
// stream): an exact expectation, so that the server's idempotence is durable.
func (s *Store) write(ctx context.Context, stream string, st *streamState, events []eventstore.Event) (*kdb.WriteResult, error) {
	var exp kdb.ExpectedRevision = kdb.NoStream{}
	if st.exists {
		exp = kdb.Revision(st.last)
	}
	data := make([]kdb.EventData, len(events))
	for i, e := range events {
		ct := kdb.ContentTypeJson
		if len(e.Data) > 0 && !json.Valid(e.Data) {
			ct = kdb.ContentTypeBinary
		}
		data[i] = kdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: e.Metadata}
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	wr, err := call(rctx, s, func(ctx context.Context, c *kdb.Client) (*kdb.WriteResult, error) {
		return c.AppendToStream(ctx, stream, kdb.AppendToStreamOptions{ExpectedRevision: exp}, data...)
	}, nil)
	if err != nil {
		return nil, s.translate(ctx, err)
	}
	return wr, nil
}
