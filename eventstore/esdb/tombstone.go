package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/meetingd/meetingd/eventstore"
)

// Tombstone deletes stream for good (a hard delete): the server writes a
// $streamDeleted event at its end, reads of the stream then fail with
// ErrStreamNotFound, appends to it fail, and the stream can never be written
// again. The events' bytes stay in the server's chunks, and in reads of $all,
// until a scavenge removes them (PRIVACY.md says how an operator schedules
// one). Deleting a stream that is deleted already, or that never existed, is
// not an error. The stream's cached tail is dropped.
func (s *Store) Tombstone(ctx context.Context, stream string) error {
	if stream == "" || strings.HasPrefix(stream, "$") {
		return fmt.Errorf("tombstone %q: %w", stream, eventstore.ErrInvalidEvent)
	}
	if err := s.enter(); err != nil {
		return fmt.Errorf("tombstone %s: %w", stream, err)
	}
	defer s.ops.Done()
	ctx, cancel := s.closing(ctx)
	defer cancel()
	unlock, err := s.locks.lock(ctx, stream)
	if err != nil {
		return fmt.Errorf("tombstone %s: %w", stream, err)
	}
	defer unlock()
	s.cache.take(stream)
	rctx, rcancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer rcancel()
	_, err = call(rctx, s, func(ctx context.Context, c *kdb.Client) (*kdb.DeleteResult, error) {
		return c.TombstoneStream(ctx, stream, kdb.TombstoneStreamOptions{ExpectedRevision: kdb.Any{}})
	}, nil)
	var e *kdb.Error
	if errors.As(err, &e) && e.Code() == kdb.ErrorCodeStreamDeleted {
		return nil
	}
	if err = s.translate(ctx, err); err != nil {
		return fmt.Errorf("tombstone %s: %w", stream, err)
	}
	return nil
}
