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

// maxConflicts bounds the conditional appends of one leader's turn that lose
// a race with another writer of the session (another replica, a job, a plain
// append of this process): each loss reads the events missed and tries again.
const maxConflicts = 32

// maxAheadRevisions bounds the revisions past session.read that a session
// remembers holding plain appends of this process (session.ahead); past it
// they are forgotten, and the next conditional append reads them instead.
const maxAheadRevisions = 64

// keyBytes is the approximate memory of one cached interval key beyond its
// participant's bytes: the map entry, the string header and the time.
const keyBytes = 64

// sessionBytes is the approximate memory of a cached session beyond its
// keys (a session without intervals, known from its plain appends, is
// cached too, and counts).
const sessionBytes = 256

// sessions enforces the per-session interval limit.
//
// An event that reports no interval the session lacks (a start, a
// duplicate, a leave closing a known interval, an ended listing known
// occupants) is appended as is (eventstore.Any), concurrently, sharing the
// store's group commits. The events that add intervals are appended on
// condition that the stream is at the revision up to which the session's set
// of interval keys is known (expected revision), so the limit is exact with
// any number of writers (replicas) on one log: the condition fails when
// anyone appended meanwhile, and the writer reads what it missed and checks
// again. The interval-adding webhooks of one session waiting at the same
// time are appended together, in one conditional append, by whichever of
// them leads (combine.go): the limit is checked over all of them in order,
// and the session costs one commit per turn, not one per webhook.
//
// No read precedes an append: the set is trusted as it is, and the
// condition proves it current. The revision it was read to advances with
// every append of this process, plain ones included, so that a replica
// alone on its sessions reads a stream only on first use (and a session that
// this process started, never: its first event was ours). A set that is
// behind the stream still refuses rightly: every interval it lacks is in the
// session, so a webhook over the limit by the set is over it by the stream.
//
// The sets are kept in an LRU of bounded total size; an evicted session is
// read again when next needed.
type sessions struct {
	store Log
	log   *slog.Logger
	max   int   // intervals per session
	cap   int64 // bytes of all cached sets
	// open, when set, opens the sealed personal data of a stored event
	// (Config.Sealer) before its interval keys are taken.
	open func(context.Context, *domain.Event) error

	mu    sync.Mutex
	lru   list.List // of *session, most recent first
	index map[string]*list.Element
	size  int64 // bytes of the sets of the sessions in lru
}

// session is the cached state of one session's stream. Every field is
// guarded by mu, which is never held across I/O.
type session struct {
	stream string
	mu     sync.Mutex
	// gen counts the resets: a plain append that began before one does not
	// advance read.
	gen uint64
	// read is the number of the stream's first events whose keys are all in
	// keys (revisions 0…read-1).
	read uint64
	keys map[domain.IntervalKey]struct{}
	// ahead holds revisions past read of plain appends of this process
	// (whose keys were all in keys): read moves over them once the gap
	// before them is known.
	ahead map[uint64]struct{}
	// bytes is the approximate memory of the session (sessionBytes, its
	// name and its keys); accounted is the part of it counted in
	// sessions.size.
	bytes, accounted int64
	// queue holds the interval-adding appends waiting for the leader;
	// leading is set while one of their callers leads (combine.go).
	queue   []*request
	leading bool
	// plain counts the plain appends in flight begun since the leader last
	// planned: it waits for them, so that its conditional append does not
	// lose a race with this process's own plain appends.
	plain *sync.WaitGroup
}

func newSessions(store Log, maxIntervals int, cacheBytes int64, log *slog.Logger) *sessions {
	return &sessions{store: store, log: log, max: maxIntervals, cap: cacheBytes, index: map[string]*list.Element{}}
}

// append appends e, the event ev, to stream, unless it would make the session
// hold more than the limit of intervals: then it returns a
// *cometchat.ValidationError naming the limit and appends nothing.
func (s *sessions) append(ctx context.Context, stream string, ev domain.Event, e eventstore.Event) (eventstore.AppendResult, error) {
	keys := domain.AppendIntervalKeys(nil, ev)
	ss := s.get(stream)
	ss.mu.Lock()
	if ss.knowsAll(keys) {
		gen := ss.gen
		ss.mu.Unlock()
		return s.appendKnown(ctx, ss, gen, e)
	}
	r := &request{ctx: ctx, ev: ev, e: e, keys: keys, done: make(chan reply, 1)}
	ss.queue = append(ss.queue, r)
	lead := !ss.leading
	ss.leading = true
	ss.mu.Unlock()
	if lead {
		s.lead(ss, r)
	}
	return s.await(ctx, ss, r)
}

// appendKnown appends e, whose intervals the session holds already (read at
// generation gen), without condition, and notes its revision.
func (s *sessions) appendKnown(ctx context.Context, ss *session, gen uint64, e eventstore.Event) (eventstore.AppendResult, error) {
	ss.mu.Lock()
	if ss.plain == nil {
		ss.plain = &sync.WaitGroup{}
	}
	inFlight := ss.plain
	inFlight.Add(1)
	ss.mu.Unlock()
	res, err := s.store.Append(ctx, ss.stream, eventstore.Any, e)
	ss.mu.Lock()
	if err == nil && !res.Duplicate && ss.gen == gen {
		ss.note(res.NextRevision)
	}
	ss.mu.Unlock()
	inFlight.Done()
	return res, err
}

// settlePlain waits for the plain appends of ss begun so far (they move
// the revision the set is known to).
func (ss *session) settlePlain() {
	ss.mu.Lock()
	inFlight := ss.plain
	ss.plain = nil
	ss.mu.Unlock()
	if inFlight != nil {
		inFlight.Wait()
	}
}

// knowsAll reports whether ss holds every key of keys.
func (ss *session) knowsAll(keys []domain.IntervalKey) bool {
	for _, k := range keys {
		if _, ok := ss.keys[k]; !ok {
			return false
		}
	}
	return true
}

// note records that revision rev holds an event whose keys ss holds.
func (ss *session) note(rev uint64) {
	switch {
	case rev < ss.read:
	case rev == ss.read:
		ss.read++
		ss.advance()
	case len(ss.ahead) < maxAheadRevisions:
		if ss.ahead == nil {
			ss.ahead = map[uint64]struct{}{}
		}
		ss.ahead[rev] = struct{}{}
	}
}

// advance moves read over the noted revisions that follow it and forgets
// those before it.
func (ss *session) advance() {
	for len(ss.ahead) > 0 {
		if _, ok := ss.ahead[ss.read]; !ok {
			break
		}
		delete(ss.ahead, ss.read)
		ss.read++
	}
	for rev := range ss.ahead {
		if rev < ss.read {
			delete(ss.ahead, rev)
		}
	}
}

// expected is the condition of an append that relies on ss's set.
func (ss *session) expected() eventstore.ExpectedRevision {
	if ss.read == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(ss.read - 1)
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
	ss.gen++
	ss.read, ss.keys, ss.ahead, ss.bytes = 0, map[domain.IntervalKey]struct{}{}, nil, sessionBytes+int64(len(ss.stream))
}

// catchUp reads the stream's events that ss has not read and adds their
// keys. Should the stream no longer hold the last event ss read (deleted or
// truncated by the log's retention), it reads the stream again from its
// start. Only a session's leader calls it.
func (s *sessions) catchUp(ctx context.Context, ss *session) error {
	for {
		ss.mu.Lock()
		from, gen := ss.read, ss.gen
		ss.mu.Unlock()
		got, gone, err := s.readKeys(ctx, ss.stream, from)
		if err != nil {
			return err
		}
		ss.mu.Lock()
		if gone && ss.gen == gen {
			ss.reset()
			ss.mu.Unlock()
			continue
		}
		if ss.gen == gen {
			for _, k := range got {
				if k.rev < ss.read {
					continue // a plain append of this process, noted meanwhile
				}
				for _, key := range k.keys {
					ss.add(key)
				}
				ss.read = k.rev + 1
			}
			ss.advance()
			s.resize(ss)
		}
		ss.mu.Unlock()
		return nil
	}
}

// keyed is the interval keys of the event at a revision.
type keyed struct {
	rev  uint64
	keys []domain.IntervalKey
}

// readKeys reads the keys of the stream's events from revision from on. It
// reads the event before from too, and reports gone when it is not there.
func (s *sessions) readKeys(ctx context.Context, stream string, from uint64) (got []keyed, gone bool, err error) {
	gone = from > 0
	for rec, err := range s.store.ReadStream(ctx, stream, max(from, 1)-1) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("read %s for its intervals: %w", stream, err)
		}
		if rec.Revision < from {
			gone = rec.Revision != from-1
			continue
		}
		k := keyed{rev: rec.Revision}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err == nil && s.open != nil {
			err = s.open(ctx, &ev)
		}
		switch {
		case err == nil:
			k.keys = domain.AppendIntervalKeys(nil, ev)
		case !errors.Is(err, domain.ErrUnknownEventType):
			// Not a session fact of this version (or damaged): it holds no
			// interval the reports would count.
			s.log.Warn("intake: stored event unreadable, its intervals not counted",
				"stream", stream, "revision", rec.Revision, "err", err)
		}
		got = append(got, k)
	}
	return got, gone, nil
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
	ss := &session{stream: stream, keys: map[domain.IntervalKey]struct{}{}, bytes: sessionBytes + int64(len(stream))}
	s.index[stream] = s.lru.PushFront(ss)
	s.account(ss)
	return ss
}

// resize accounts for the new size of ss's set and evicts the least recently
// used sessions while the cache is over its bound (never ss itself). A
// session evicted while in use stays correct: its appends are conditional.
// The caller holds ss.mu.
func (s *sessions) resize(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.index[ss.stream]
	if !ok || el.Value.(*session) != ss {
		return // evicted meanwhile: not accounted
	}
	s.account(ss)
}

// account counts the size of ss, which is in the LRU, and evicts as resize
// does. The caller holds s.mu.
func (s *sessions) account(ss *session) {
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
