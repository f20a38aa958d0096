package embedded

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
)

// ReadStream yields stream's events from revision from on, in batches of
// ReadBatchSize per read transaction, up to the stream's last event when the
// iteration starts. A stream with no events yields one
// eventstore.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		fail := func(err error) { yield(eventstore.RecordedEvent{}, fmt.Errorf("read stream %s: %w", stream, err)) }
		prefix := revPrefix(stream)
		var last uint64
		first := true
		for rev := from; ; {
			if err := s.usable(ctx); err != nil {
				fail(err)
				return
			}
			batch, err := s.readStreamBatch(prefix, stream, rev, first, &last)
			if err != nil {
				fail(err)
				return
			}
			first = false
			for _, e := range batch {
				if !yield(e, nil) {
					return
				}
			}
			if len(batch) < s.cfg.ReadBatchSize {
				return
			}
			rev = batch[len(batch)-1].Revision + 1
			if rev > last {
				return
			}
		}
	}
}

// readStreamBatch reads up to ReadBatchSize events of stream from revision
// rev on, no further than *last; the first batch sets *last.
func (s *Store) readStreamBatch(prefix []byte, stream string, rev uint64, first bool, last *uint64) ([]eventstore.RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.ops.Done()
	var out []eventstore.RecordedEvent
	var a arena
	err := s.view(func(tx *bolt.Tx) error {
		if first {
			v := tx.Bucket(bucketStreams).Get([]byte(stream))
			if v == nil {
				return eventstore.ErrStreamNotFound
			}
			h, err := decodeHead(v)
			if err != nil {
				return err
			}
			*last = h.last
		}
		if rev > *last {
			return nil
		}
		events := tx.Bucket(bucketEvents)
		c := tx.Bucket(bucketIndex).Cursor()
		for k, v := c.Seek(revKey(prefix, rev)); k != nil && len(out) < s.cfg.ReadBatchSize; k, v = c.Next() {
			if len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) || len(v) != 8 {
				break
			}
			if be64(k[len(prefix):]) > *last {
				break
			}
			pos := be64(v)
			rec := events.Get(v)
			if rec == nil {
				return fmt.Errorf("revision index points at missing position %d", pos)
			}
			e, err := decodeRecord(rec, pos, &a)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// ReadAll yields the events after from that pass filter, in position order,
// up to the durable head when the iteration starts; it reads ReadBatchSize
// positions per read transaction.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		if err := s.usable(ctx); err != nil {
			yield(eventstore.RecordedEvent{}, fmt.Errorf("read all: %w", err))
			return
		}
		upto := s.head.Load().pos
		for cur := after(from); cur < upto; {
			if err := ctx.Err(); err != nil {
				yield(eventstore.RecordedEvent{}, fmt.Errorf("read all: %w", err))
				return
			}
			batch, next, err := s.readAllBatch(cur, upto, filter)
			if err != nil {
				yield(eventstore.RecordedEvent{}, fmt.Errorf("read all: %w", err))
				return
			}
			for _, e := range batch {
				if !yield(e, nil) {
					return
				}
			}
			cur = next
		}
	}
}

// SubscribeAll yields the events after from that pass filter: it catches up
// in batches as ReadAll does, then waits for the committer's broadcast of a
// new durable head. Only durable events are yielded, in position order. It
// ends by yielding the ctx error when ctx is done, eventstore.ErrClosed when
// the store closes, or a read error.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		fail := func(err error) { yield(eventstore.RecordedEvent{}, fmt.Errorf("subscribe all: %w", err)) }
		cur := after(from)
		for {
			if err := s.usable(ctx); err != nil {
				fail(err)
				return
			}
			h := s.head.Load()
			if cur < h.pos {
				batch, next, err := s.readAllBatch(cur, h.pos, filter)
				if err != nil {
					fail(err)
					return
				}
				for _, e := range batch {
					if !yield(e, nil) {
						return
					}
				}
				cur = next
				continue
			}
			select {
			case <-h.changed:
			case <-ctx.Done():
				fail(ctx.Err())
				return
			case <-s.done:
				fail(eventstore.ErrClosed)
				return
			}
		}
	}
}

// usable returns ctx's error, eventstore.ErrClosed after Close, or the
// failure of a store that has stopped (checkAfterFailure).
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	if err := s.broken(); err != nil {
		return unavailable(err)
	}
	return nil
}

// after returns the last position not to yield for a read after from.
func after(from eventstore.Position) uint64 {
	if from.Prepare < from.Commit && from.Commit > 0 {
		// Not a position of this store: {c, p} with p < c is before {c, c}.
		return from.Commit - 1
	}
	return from.Commit
}

// readAllBatch scans positions (cur, upto], at most ReadBatchSize of them,
// and returns the events that pass filter and the last position scanned.
func (s *Store) readAllBatch(cur, upto uint64, filter eventstore.Filter) ([]eventstore.RecordedEvent, uint64, error) {
	if err := s.enter(); err != nil {
		return nil, cur, err
	}
	defer s.ops.Done()
	out := make([]eventstore.RecordedEvent, 0, min(uint64(s.cfg.ReadBatchSize), upto-cur))
	var a arena
	next := cur
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		scanned := 0
		for k, v := c.Seek(u64(cur + 1)); k != nil && scanned < s.cfg.ReadBatchSize; k, v = c.Next() {
			pos := be64(k)
			if pos > upto {
				break
			}
			scanned++
			next = pos
			if len(filter.StreamPrefixes) > 0 {
				stream, err := recordStream(v)
				if err != nil {
					return fmt.Errorf("decode event at position %d: %w", pos, err)
				}
				if !filter.Match(view(stream)) {
					continue
				}
			}
			e, err := decodeRecord(v, pos, &a)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		if scanned == 0 {
			next = upto // nothing left up to upto
		}
		return nil
	})
	return out, next, err
}

// Stats counts the events whose stream passes filter and finds the newest
// one. Without a filter it answers from the durable head (positions have no
// gaps); with one it scans the streams under each prefix, ReadBatchSize
// streams per read transaction, so appends made during the scan may or may
// not be counted.
func (s *Store) Stats(ctx context.Context, filter eventstore.Filter) (eventstore.Stats, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
	}
	prefixes := disjoint(filter.StreamPrefixes)
	if len(prefixes) == 0 {
		if err := s.enter(); err != nil {
			return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
		}
		defer s.ops.Done()
		h := s.head.Load().pos
		if h == 0 {
			return eventstore.Stats{}, nil
		}
		return eventstore.Stats{Events: h - min(h, s.deleted.Load()), Head: position(h)}, nil
	}
	var st eventstore.Stats
	for _, p := range prefixes {
		if isCategory(p) {
			if err := s.enter(); err != nil {
				return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
			}
			c := s.cats.get(p)
			s.ops.Done()
			addEvents(&st, c.Events, c.Head.Commit)
			continue
		}
		from := []byte(p)
		for from != nil {
			if err := ctx.Err(); err != nil {
				return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
			}
			var err error
			from, err = s.statsBatch([]byte(p), from, &st)
			if err != nil {
				return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
			}
		}
	}
	return st, nil
}

// statsBatch adds to st the streams with prefix from key from on, at most
// ReadBatchSize of them, and returns the key to go on from (nil when done).
func (s *Store) statsBatch(prefix, from []byte, st *eventstore.Stats) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.ops.Done()
	var next []byte
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketStreams).Cursor()
		n := 0
		for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if n == s.cfg.ReadBatchSize {
				next = bytes.Clone(k)
				return nil
			}
			n++
			h, err := decodeHead(v)
			if err != nil {
				return fmt.Errorf("stream %s: %w", k, err)
			}
			st.Events += h.last + 1
			if h.lastPos > st.Head.Commit {
				st.Head = position(h.lastPos)
			}
		}
		return nil
	})
	return next, err
}

// disjoint returns the prefixes without those that another one covers, or
// nil when one of them is empty (which selects everything).
func disjoint(prefixes []string) []string {
	if len(prefixes) == 0 || slices.Contains(prefixes, "") {
		return nil
	}
	ps := slices.Clone(prefixes)
	slices.Sort(ps)
	out := ps[:0]
	for _, p := range ps {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}
