package intake

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// Log is the part of the event log that intake uses: it appends, and reads a
// session's stream to learn the intervals the session already holds.
type Log interface {
	Appender
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
}

// Defaults of the session limit.
const (
	// DefaultMaxSessionIntervals is API.md's limit: a session holds at most
	// 10,000 intervals.
	DefaultMaxSessionIntervals = 10_000
	// DefaultSessionCacheBytes bounds the memory of the sessions' interval
	// sets kept between webhooks.
	DefaultSessionCacheBytes = 32 << 20
)

// maxConflicts bounds the appends of one webhook that lose a race with
// another writer of its session (another replica, a job): each loss reads the
// other writer's events and tries again.
const maxConflicts = 32

// keyBytes is the approximate memory of one cached interval key beyond its
// participant's bytes: the map entry, the string header and the time.
const keyBytes = 64

// sessions enforces the per-session interval limit. An event that reports no
// interval the session lacks (a start, a duplicate, a leave closing a known
// interval, an ended listing known occupants) is appended as is. One that
// adds intervals is checked against the session's set of interval keys and
// appended on condition that the stream has not changed since that set was
// read (expected revision), so the limit is exact even with several writers
// (replicas) on one log: a writer that lost the race reads the events it
// missed and checks again. Webhooks of one session that add intervals are
// serialised in the process; other sessions proceed in parallel.
//
// The sets are read from the streams on first use and kept in an LRU of
// bounded total size; an evicted session is read again when next needed.
type sessions struct {
	store Log
	log   *slog.Logger
	max   int   // intervals per session
	cap   int64 // bytes of all cached sets

	mu    sync.Mutex
	lru   list.List // of *session, most recent first
	index map[string]*list.Element
	size  int64 // bytes of the sets of the sessions in lru
}

// session is the cached state of one session's stream.
type session struct {
	stream string
	// mu serialises the appends that add intervals to the session.
	mu sync.Mutex
	// read is the number of the stream's events whose keys are in keys.
	read uint64
	keys map[domain.IntervalKey]struct{}
	// bytes is the approximate memory of keys; accounted is the part of it
	// counted in sessions.size.
	bytes, accounted int64
}

func newSessions(store Log, maxIntervals int, cacheBytes int64, log *slog.Logger) *sessions {
	return &sessions{store: store, log: log, max: maxIntervals, cap: cacheBytes, index: map[string]*list.Element{}}
}

// append appends e, the event ev, to stream, unless it would make the session
// hold more than the limit of intervals: then it returns a
// *cometchat.ValidationError naming the limit and appends nothing.
func (s *sessions) append(ctx context.Context, stream string, ev domain.Event, e eventstore.Event) (eventstore.AppendResult, error) {
	keys := domain.AppendIntervalKeys(nil, ev)
	if len(keys) == 0 {
		return s.store.Append(ctx, stream, eventstore.Any, e)
	}
	ss := s.get(stream)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	conflict := false
	for conflicts := 0; ; conflicts++ {
		before := ss.read
		if err := s.catchUp(ctx, ss); err != nil {
			return eventstore.AppendResult{}, err
		}
		if conflict && ss.read == before {
			// The append conflicted, yet the stream has nothing past what
			// was read: it was shortened (deleted by retention). Read it anew.
			ss.reset()
			if err := s.catchUp(ctx, ss); err != nil {
				return eventstore.AppendResult{}, err
			}
		}
		added := ss.missing(keys)
		if len(added) == 0 {
			res, err := s.store.Append(ctx, stream, eventstore.Any, e)
			if err == nil && !res.Duplicate && res.NextRevision == ss.read {
				ss.read++ // no writer came between: this event is read too
			}
			return res, err
		}
		if len(ss.keys)+len(added) > s.max {
			return eventstore.AppendResult{}, &cometchat.ValidationError{Trigger: ev.Trigger, Field: limitField(ev),
				Reason: fmt.Sprintf("session would hold more than %d intervals (it holds %d, this webhook adds %d)", s.max, len(ss.keys), len(added))}
		}
		expected := eventstore.NoStream
		if ss.read > 0 {
			expected = eventstore.Exact(ss.read - 1)
		}
		res, err := s.store.Append(ctx, stream, expected, e)
		switch {
		case errors.Is(err, eventstore.ErrConcurrency) && conflicts < maxConflicts:
			conflict = true
			continue // another writer appended: read its events, check again
		case errors.Is(err, eventstore.ErrConcurrency):
			return res, fmt.Errorf("session %s: %d appends lost to other writers: %w: %w", stream, conflicts+1, eventstore.ErrUnavailable, err)
		case err != nil:
			return res, err
		}
		if !res.Duplicate {
			for _, k := range added {
				ss.add(k)
			}
			ss.read = res.NextRevision + 1
			s.resize(ss)
		}
		return res, nil
	}
}

// limitField names the field that brought the intervals.
func limitField(ev domain.Event) string {
	if _, ok := ev.Payload.(domain.SessionEnded); ok {
		return "data.all_occupants"
	}
	return "data.occupant"
}

// missing returns the distinct keys that ss lacks.
func (ss *session) missing(keys []domain.IntervalKey) []domain.IntervalKey {
	var added []domain.IntervalKey
	var seen map[domain.IntervalKey]struct{}
	if len(keys) > 1 {
		seen = make(map[domain.IntervalKey]struct{}, len(keys))
	}
	for _, k := range keys {
		if _, ok := ss.keys[k]; ok {
			continue
		}
		if seen != nil {
			if _, ok := seen[k]; ok {
				continue
			}
			seen[k] = struct{}{}
		}
		added = append(added, k)
	}
	return added
}

// add adds k to ss's set.
func (ss *session) add(k domain.IntervalKey) {
	if _, ok := ss.keys[k]; !ok {
		ss.keys[k] = struct{}{}
		ss.bytes += keyBytes + int64(len(k.Participant))
	}
}

// reset forgets what ss read, to read the stream again from its start.
func (ss *session) reset() {
	ss.read, ss.keys, ss.bytes = 0, map[domain.IntervalKey]struct{}{}, 0
}

// catchUp adds the keys of the stream's events that ss has not read.
func (s *sessions) catchUp(ctx context.Context, ss *session) error {
	var buf []domain.IntervalKey
	for rec, err := range s.store.ReadStream(ctx, ss.stream, ss.read) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s for its intervals: %w", ss.stream, err)
		}
		ss.read = rec.Revision + 1
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			// Not a session fact of this version (or damaged): it holds no
			// interval the reports would count.
			if !errors.Is(err, domain.ErrUnknownEventType) {
				s.log.Warn("intake: stored event unreadable, its intervals not counted",
					"stream", ss.stream, "revision", rec.Revision, "err", err)
			}
			continue
		}
		buf = domain.AppendIntervalKeys(buf[:0], ev)
		for _, k := range buf {
			ss.add(k)
		}
	}
	s.resize(ss)
	return nil
}

// get returns the cached session of stream, or a new empty one, as the most
// recently used.
func (s *sessions) get(stream string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.index[stream]; ok {
		s.lru.MoveToFront(el)
		return el.Value.(*session)
	}
	ss := &session{stream: stream, keys: map[domain.IntervalKey]struct{}{}}
	s.index[stream] = s.lru.PushFront(ss)
	return ss
}

// resize accounts for the new size of ss's set and evicts the least recently
// used sessions while the cache is over its bound (never ss itself). A
// session evicted while in use stays correct: its appends are conditional.
func (s *sessions) resize(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.index[ss.stream]
	if !ok || el.Value.(*session) != ss {
		return // evicted meanwhile: not accounted
	}
	s.size += ss.bytes - ss.accounted
	ss.accounted = ss.bytes
	for s.size > s.cap {
		last := s.lru.Back()
		old := last.Value.(*session)
		if old == ss {
			break
		}
		s.lru.Remove(last)
		delete(s.index, old.stream)
		s.size -= old.accounted
		old.accounted = 0
	}
}
