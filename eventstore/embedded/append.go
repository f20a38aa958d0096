package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
)

// appendReq is one Append handed to the committer.
type appendReq struct {
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.Event
	// abandoned is the caller's ctx.Done(): a request whose caller has gone
	// by the time the committer takes it is skipped (nothing is written).
	abandoned <-chan struct{}
	reply     chan appendReply // buffered (1): the committer never blocks
	// op is what the committer does with the request: an append, or a
	// maintenance operation (delete.go) done in a transaction of its own.
	op      reqOp
	ctx     context.Context // of a maintenance operation
	streams []string        // to delete (opDelete)
}

// newAppendReq makes a request for Store.reqPool.
func newAppendReq() any { return &appendReq{reply: make(chan appendReply, 1)} }

// recycle returns r to pool. A request goes back only once the committer has
// replied to it or never got it: one whose caller gave up waiting may still
// be in the committer's hands.
func (r *appendReq) recycle(pool *sync.Pool) {
	*r = appendReq{reply: r.reply}
	pool.Put(r)
}

type appendReply struct {
	res eventstore.AppendResult
	err error
}

// errAbandoned answers a request skipped because its caller's ctx is done.
var errAbandoned = errors.New("append abandoned by its caller")

// Append appends events to stream if expected holds; it returns once the
// commit that holds them is fsynced. Concurrent appends share commits (see
// the package documentation). If ctx ends while the append waits for its
// commit, Append returns the ctx error and the events may or may not be
// stored: appending them again is then answered as a duplicate.
//
// A storage failure fails every append of the commit with
// eventstore.ErrUnavailable, and nothing of it is written. Should a failure
// leave the file in doubt (its last sync failed after the commit was
// switched in), the store refuses appends and fails Ping until reopened.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events, s.Limits().Check(stream, events)); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if err := s.enter(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	defer s.ops.Done()

	req := s.reqPool.Get().(*appendReq)
	req.stream, req.expected, req.events, req.abandoned = stream, expected, events, ctx.Done()
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		req.recycle(&s.reqPool)
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, ctx.Err())
	}
	select {
	case r := <-req.reply:
		// The committer is done with req once it has replied.
		req.recycle(&s.reqPool)
		switch {
		case errors.Is(r.err, errAbandoned):
			return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, ctx.Err())
		case r.err != nil:
			return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, r.err)
		}
		return r.res, nil
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("append %s: outcome unknown: %w", stream, ctx.Err())
	}
}

// Limits returns the bounds Append enforces: eventstore.MaxStreamNameBytes
// and Config.MaxAppendBytes.
func (s *Store) Limits() eventstore.Limits {
	return eventstore.Limits{MaxStreamNameBytes: MaxStreamNameBytes, MaxAppendBytes: s.cfg.MaxAppendBytes}
}

// commitLoop is the committer: it takes one request, gathers every other
// request already waiting (up to MaxBatchEvents events) and commits them in
// one write transaction, so that concurrent appends share one round of
// fsyncs. Positions are assigned here, in commit order.
func (s *Store) commitLoop() {
	defer close(s.committerDone)
	var batch []*appendReq
	for {
		select {
		case r := <-s.reqs:
			if r.op != opAppend {
				s.maintain(r)
				continue
			}
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
		n := len(batch[0].events)
		var after *appendReq // a maintenance request met while gathering
	gather:
		for n < s.cfg.MaxBatchEvents {
			select {
			case r := <-s.reqs:
				if r.op != opAppend {
					after = r
					break gather
				}
				batch = append(batch, r)
				n += len(r.events)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch)
		if after != nil {
			s.maintain(after)
		}
	}
}

// commit writes batch in one transaction and answers every request in it.
func (s *Store) commit(batch []*appendReq) {
	replies := make([]appendReply, len(batch))
	before := s.seq
	var written int
	err := s.broken()
	if err == nil {
		written, err = s.write(batch, replies, s.cfg.Now())
		if err != nil {
			s.failures.Add(1)
		}
	}
	if err != nil {
		s.seq = before
		err = unavailable(err)
		for i := range replies {
			if !errors.Is(replies[i].err, errAbandoned) {
				replies[i] = appendReply{err: err}
			}
		}
	} else if s.seq != before {
		s.commits.Add(1)
		s.appends.Add(uint64(written))
		s.events.Add(s.seq - before)
		s.publish(s.seq)
	}
	for i, r := range batch {
		r.reply <- replies[i]
	}
}

// write applies batch in one write transaction, filling replies, and
// commits it if it wrote anything. It returns the number of appends that
// wrote events, and a storage error (after which nothing is written).
func (s *Store) write(batch []*appendReq, replies []appendReply, now time.Time) (int, error) {
	tx, err := s.db.Begin(true)
	if err != nil {
		return 0, err
	}
	before := s.seq
	w := writer{
		tx:      tx,
		events:  tx.Bucket(bucketEvents),
		index:   tx.Bucket(bucketIndex),
		streams: tx.Bucket(bucketStreams),
		seq:     &s.seq,
		now:     now,
		key:     s.keyBuf[:0],
		deltas:  s.catDeltas[:0],
		vals:    make([]byte, 0, valuesSize(batch)),
	}
	w.indexCur, w.streamsCur = w.index.Cursor(), w.streams.Cursor()
	w.events.FillPercent = 1 // append-only: keep leaf pages full
	defer func() {
		clear(w.deltas) // they alias the requests' stream names
		s.keyBuf, s.catDeltas = w.key[:0], w.deltas[:0]
	}()
	written := 0
	for i, r := range batch {
		select {
		case <-r.abandoned:
			replies[i].err = errAbandoned
			continue
		default:
		}
		res, wrote, err := w.apply(r)
		var rejected *rejection
		switch {
		case errors.As(err, &rejected):
			replies[i].err = rejected.err
		case err != nil:
			_ = tx.Rollback()
			return 0, err
		default:
			replies[i].res = res
			if wrote {
				written++
			}
		}
	}
	if written == 0 {
		// Nothing to make durable: what the duplicates and rejections were
		// judged against is already committed.
		return 0, tx.Rollback()
	}
	s.commitMu.Lock()
	err = s.commitTx(tx)
	if err != nil {
		// Still under commitMu: no read transaction begins before the
		// file has been checked (and the store stopped if the commit is
		// in doubt).
		s.checkAfterFailure(before, err)
	}
	s.commitMu.Unlock()
	if err != nil {
		return 0, err
	}
	s.cats.add(w.deltas)
	return written, nil
}

// rejection is an append refused on its merits (concurrency, partial
// duplicate); the rest of the batch goes on.
type rejection struct{ err error }

func (r *rejection) Error() string { return r.err.Error() }

type writer struct {
	tx                     *bolt.Tx
	events, index, streams *bolt.Bucket
	// indexCur and streamsCur serve the lookups: a cursor repositioned by
	// Seek reuses its stack, where Bucket.Get allocates a new cursor.
	indexCur, streamsCur *bolt.Cursor
	seq                  *uint64
	now                  time.Time
	// key is scratch space for keys: bbolt copies the keys it stores.
	key []byte
	// deltas collects what the transaction's appends add to their streams'
	// categories, applied once it is committed.
	deltas []categoryDelta
	// vals holds the values written in the transaction, which bbolt
	// references (it does not copy them) until the commit: one allocation
	// per commit instead of four per event.
	vals []byte
}

// valuesSize is the room the values of batch take in writer.vals.
func valuesSize(batch []*appendReq) int {
	n := 0
	for _, r := range batch {
		for i := range r.events {
			n += recordSize(&r.events[i], r.stream) + 8 + 8
		}
		n += 16
	}
	return n
}

// since returns what was appended to w.vals since it was start long.
func (w *writer) since(start int) []byte {
	return w.vals[start:len(w.vals):len(w.vals)]
}

// get is Bucket.Get through the cursor c of the bucket.
func get(c *bolt.Cursor, key []byte) []byte {
	if k, v := c.Seek(key); bytes.Equal(k, key) {
		return v
	}
	return nil
}

// apply appends r within the transaction (seeing the batch's earlier
// appends). It reports whether it wrote anything.
func (w *writer) apply(r *appendReq) (eventstore.AppendResult, bool, error) {
	var head streamHead
	w.key = append(w.key[:0], r.stream...)
	v := get(w.streamsCur, w.key)
	exists := v != nil
	if exists {
		h, err := decodeHead(v)
		if err != nil {
			return eventstore.AppendResult{}, false, fmt.Errorf("stream %s: %w", r.stream, err)
		}
		head = h
	}

	present, dupPos := 0, uint64(0)
	for i := range r.events {
		w.key = appendIDKey(w.key[:0], r.stream, r.events[i].ID)
		if p := get(w.indexCur, w.key); p != nil {
			present++
			if len(p) == 8 {
				dupPos = max(dupPos, be64(p))
			}
		}
	}
	switch {
	case present == len(r.events):
		return eventstore.AppendResult{Duplicate: true, NextRevision: head.last, Position: position(dupPos)}, false, nil
	case present > 0:
		return eventstore.AppendResult{}, false, &rejection{fmt.Errorf("%w: %d of %d events", eventstore.ErrPartialDuplicate, present, len(r.events))}
	case !r.expected.Check(exists, head.last):
		state := "does not exist"
		if exists {
			state = fmt.Sprintf("is at revision %d", head.last)
		}
		return eventstore.AppendResult{}, false, &rejection{fmt.Errorf("%w: expected %s, stream %s", eventstore.ErrConcurrency, r.expected, state)}
	}

	rev := uint64(0)
	if exists {
		rev = head.last + 1
	}
	for i := range r.events {
		e := &r.events[i]
		*w.seq++
		start := len(w.vals)
		w.vals = binary.BigEndian.AppendUint64(w.vals, *w.seq)
		pos := w.since(start)
		start = len(w.vals)
		w.vals = appendRecord(w.vals, e, r.stream, rev, w.now)
		rec := w.since(start)
		if err := w.events.Put(pos, rec); err != nil {
			return eventstore.AppendResult{}, false, err
		}
		w.key = appendIDKey(w.key[:0], r.stream, e.ID)
		if err := w.index.Put(w.key, pos); err != nil {
			return eventstore.AppendResult{}, false, err
		}
		w.key = appendRevKey(w.key[:0], r.stream, rev)
		if err := w.index.Put(w.key, pos); err != nil {
			return eventstore.AppendResult{}, false, err
		}
		rev++
	}
	head = streamHead{last: rev - 1, lastPos: *w.seq}
	if cat := category(r.stream); cat != "" {
		w.deltas = append(w.deltas, categoryDelta{category: cat, events: uint64(len(r.events)), lastPos: head.lastPos})
	}
	w.key = append(w.key[:0], r.stream...)
	start := len(w.vals)
	w.vals = head.append(w.vals)
	if err := w.streams.Put(w.key, w.since(start)); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	return eventstore.AppendResult{NextRevision: head.last, Position: position(head.lastPos)}, true, nil
}

// checkAfterFailure looks at the file after a failed commit; the committer
// calls it holding commitMu, so that no reader begins a transaction until it
// has decided. bbolt writes the meta page that switches to a commit's pages,
// then syncs it; when only that sync fails, the in-memory rollback leaves the
// file (and every new read transaction) showing the commit, whose durability
// is unknown. The store then fails-stop: every later call (appends, reads,
// subscriptions, Stats, Ping, Health) fails with eventstore.ErrUnavailable, so
// that no reader ever sees the commit in doubt, until the process reopens the
// file: Open syncs it again, which settles the commit, and the callers'
// retries of its appends are answered as duplicates.
func (s *Store) checkAfterFailure(before uint64, cause error) {
	var head uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); len(k) == 8 {
			head = be64(k)
		}
		return nil
	})
	if err == nil && head <= before {
		// Rolled back cleanly: later commits may succeed. (head < before
		// when DeleteStreams removed the newest events.)
		return
	}
	if err == nil {
		err = fmt.Errorf("a commit whose sync failed is visible in the file (head %d, last durable %d): %w", head, before, cause)
	}
	s.brokenErr.Store(&err)
	s.log.Error("EVENT LOG FAILED: a commit's sync failed and its durability is unknown; the store refuses every "+
		"append and read from now on, and /healthz and /readyz answer 503: restart meetingd (reopening the log "+
		"settles the commit in doubt, and retried appends are answered as duplicates)",
		"path", s.path, "last_durable_position", before, "err", err)
	// Wake the subscriptions waiting for a new head: they find the store
	// failed and end with its error.
	s.publish(before)
}

// broken returns the reason the store has stopped, or nil.
func (s *Store) broken() error {
	if p := s.brokenErr.Load(); p != nil {
		return fmt.Errorf("event log failed, restart meetingd to reopen it: %w", *p)
	}
	return nil
}

// publish makes pos the durable head and wakes the subscriptions waiting
// for it. Only the committer calls it.
func (s *Store) publish(pos uint64) {
	old := s.head.Load()
	s.head.Store(&headState{pos: pos, changed: make(chan struct{})})
	close(old.changed)
}
