package esdb

import (
	"context"
	"errors"
	"fmt"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/meetingd/meetingd/eventstore"
)

var _ eventstore.StreamDeleter = (*Store)(nil)

// DeleteStreams soft-deletes each stream (KurrentDB's DeleteStream, not a
// tombstone): reads of it answer "not found" at once, and an append
// re-creates it as new data (its revisions continue after the deleted
// ones), so a session deleted by retention whose id CometChat sends again
// starts afresh. A tombstone would refuse that stream forever. The events
// stay in the database's chunk files, in reads of $all and in Stats, until a
// scavenge reclaims them: run one after retention (PRIVACY.md). A stream
// already deleted or never written is skipped.
func (s *Store) DeleteStreams(ctx context.Context, streams ...string) error {
	if err := s.enter(); err != nil {
		return fmt.Errorf("delete streams: %w", err)
	}
	defer s.ops.Done()
	for _, stream := range streams {
		if err := s.deleteStream(ctx, stream); err != nil {
			return fmt.Errorf("delete stream %s: %w", stream, err)
		}
	}
	return nil
}

func (s *Store) deleteStream(ctx context.Context, stream string) error {
	unlock, err := s.locks.lock(ctx, stream)
	if err != nil {
		return err
	}
	defer unlock()
	s.cache.take(stream) // what Append knew of it is gone
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	_, err = call(rctx, s, func(ctx context.Context, c *kdb.Client) (*kdb.DeleteResult, error) {
		return c.DeleteStream(ctx, stream, kdb.DeleteStreamOptions{ExpectedRevision: kdb.Any{}})
	}, nil)
	err = s.translate(ctx, err)
	// A missing (or deleted) stream: nothing to delete.
	if err == nil || errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	return err
}
