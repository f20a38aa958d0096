package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/internal/boltscrub"
)

// reqOp is what the committer does with a request.
type reqOp uint8

const (
	opAppend reqOp = iota
	// opDelete deletes the request's streams (deleteStreams).
	opDelete
	// opScrub zeroes the file's free pages.
	opScrub
)

// Keys of the meta bucket written by DeleteStreams: the newest position
// ever written (the events bucket's last key may be older once the newest
// events are deleted: positions are never reused) and the count of events
// deleted (Stats without a filter is the head minus it).
var (
	keySeq     = []byte("seq")
	keyDeleted = []byte("deleted")
)

var _ eventstore.StreamDeleter = (*Store)(nil)

// DeleteStreams deletes every event of the streams, with their revision and
// ID indexes and their heads, in one transaction made durable before it
// returns (eventstore.StreamDeleter). The streams' positions are not
// reused; ReadAll and subscriptions no longer yield their events; an
// append to such a stream starts it again at revision 0. The freed pages
// of the file still hold the deleted records until Scrub. Missing streams
// are skipped.
func (s *Store) DeleteStreams(ctx context.Context, streams ...string) error {
	if len(streams) == 0 {
		return nil
	}
	return s.maintenance(ctx, opDelete, streams)
}

// Scrub overwrites every free page of the log file with zeros and fsyncs
// it, so that no page of the file keeps the bytes of a deleted record (or
// of a record that Rewrite replaced). It runs in the committer (appends
// wait), once no read transaction is open: it stops new ones from
// beginning (reads wait too), waits for those running (read batches are
// short), and zeroes only pages that bbolt lists as free, which no
// transaction can read. Cost: one read of every page header and one write
// per free page (1.4 s on a log of 1,000,000 events, BENCHMARKS.md).
func (s *Store) Scrub(ctx context.Context) error {
	return s.maintenance(ctx, opScrub, nil)
}

func (s *Store) maintenance(ctx context.Context, op reqOp, streams []string) error {
	what := "delete streams"
	if op == opScrub {
		what = "scrub"
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := s.enter(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer s.ops.Done()
	req := &appendReq{reply: make(chan appendReply, 1), op: op, ctx: ctx, abandoned: ctx.Done(), streams: streams}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	select {
	case r := <-req.reply:
		if r.err != nil {
			return fmt.Errorf("%s: %w", what, r.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: outcome unknown: %w", what, ctx.Err())
	}
}

// maintain carries out a maintenance request in the committer.
func (s *Store) maintain(r *appendReq) {
	err := s.broken()
	if err == nil {
		select {
		case <-r.abandoned:
			err = r.ctx.Err()
		default:
			if r.op == opScrub {
				err = s.scrub(r.ctx)
			} else {
				err = s.deleteStreams(r.streams)
			}
		}
	}
	r.reply <- appendReply{err: err}
}

// deleteStreams deletes the streams in one transaction.
func (s *Store) deleteStreams(names []string) error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable(err)
	}
	events, index, streams, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIndex), tx.Bucket(bucketStreams), tx.Bucket(bucketMeta)
	var deltas []categoryDelta
	var removed uint64
	var first string
	for _, stream := range names {
		if streams.Get([]byte(stream)) == nil {
			continue
		}
		if first == "" {
			first = stream
		}
		prefix := appendStreamPrefix(nil, stream)
		var keys, positions [][]byte
		c := index.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			// The prefix ends the stream name: a longer name has another
			// length byte, so no other stream's keys follow it here.
			keys = append(keys, bytes.Clone(k))
			if k[len(prefix)] == tagRev {
				positions = append(positions, bytes.Clone(v))
			}
		}
		for _, p := range positions {
			if err := events.Delete(p); err != nil {
				_ = tx.Rollback()
				return unavailable(err)
			}
		}
		for _, k := range keys {
			if err := index.Delete(k); err != nil {
				_ = tx.Rollback()
				return unavailable(err)
			}
		}
		if err := streams.Delete([]byte(stream)); err != nil {
			_ = tx.Rollback()
			return unavailable(err)
		}
		removed += uint64(len(positions))
		if cat := category(stream); cat != "" {
			deltas = append(deltas, categoryDelta{category: cat, events: uint64(len(positions))})
		}
	}
	if first == "" {
		return tx.Rollback()
	}
	deleted := s.deleted.Load() + removed
	if err := errors.Join(meta.Put(keySeq, u64(s.seq)), meta.Put(keyDeleted, u64(deleted))); err != nil {
		_ = tx.Rollback()
		return unavailable(err)
	}
	s.commitMu.Lock()
	err = s.commitTx(tx)
	if err != nil {
		// As checkAfterFailure: a commit whose sync failed may show in the
		// file; the store then stops until reopened.
		var shown bool
		verr := s.db.View(func(tx *bolt.Tx) error {
			shown = tx.Bucket(bucketStreams).Get([]byte(first)) == nil
			return nil
		})
		if verr != nil || shown {
			ferr := fmt.Errorf("a stream deletion whose sync failed is visible in the file: %w", err)
			s.brokenErr.Store(&ferr)
			s.log.Error("EVENT LOG FAILED: a stream deletion's sync failed; restart meetingd", "path", s.path, "err", err)
			s.publish(s.seq)
		}
	}
	s.commitMu.Unlock()
	if err != nil {
		s.failures.Add(1)
		return unavailable(err)
	}
	s.deleted.Store(deleted)
	s.cats.remove(deltas)
	s.commits.Add(1)
	return nil
}

// scrub zeroes the free pages (see Scrub).
func (s *Store) scrub(ctx context.Context) error {
	wait := time.Millisecond
	for {
		s.commitMu.Lock()
		if s.db.Stats().OpenTxN == 0 {
			break // commitMu is held: no read transaction begins now
		}
		s.commitMu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
	defer s.commitMu.Unlock()
	// A write transaction releases the pages freed before it (no reader is
	// left to need them) and keeps any other writer out.
	tx, err := s.db.Begin(true)
	if err != nil {
		return unavailable(err)
	}
	zeroed, err := boltscrub.FreePages(ctx, tx)
	_ = tx.Rollback()
	if err != nil {
		return unavailable(err)
	}
	s.log.Info("event log free pages scrubbed", "pages", zeroed)
	return nil
}
