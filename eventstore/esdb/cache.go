package esdb

import (
	"container/list"
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// keyedMutex is one mutex per key, alive while someone holds or waits for it.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while locked
	refs int
}

func newKeyedMutex() *keyedMutex { return &keyedMutex{m: map[string]*keyLock{}} }

// lock locks key, or gives up when ctx is done.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
		return func() {
			<-l.ch
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedMutex) release(key string, l *keyLock) {
	k.mu.Lock()
	l.refs--
	if l.refs == 0 {
		delete(k.m, key)
	}
	k.mu.Unlock()
}

// streamState is what Append knows of a stream: a prefix of it, since streams
// only grow. Appends to one stream are serialised by the keyed mutex, so a
// state is used by one goroutine at a time.
type streamState struct {
	exists bool
	last   uint64                // revision of the last known event, when exists
	ids    map[uuid.UUID]uint64  // event ID → revision
	pos    []eventstore.Position // by revision; zero when not known (written by us)
}

func newStreamState() *streamState { return &streamState{ids: map[uuid.UUID]uint64{}} }

// next is the revision of the first event not known.
func (st *streamState) next() uint64 {
	if !st.exists {
		return 0
	}
	return st.last + 1
}

// add records the event at revision rev.
func (st *streamState) add(id uuid.UUID, rev uint64, pos eventstore.Position) {
	st.ids[id] = rev
	for uint64(len(st.pos)) <= rev {
		st.pos = append(st.pos, eventstore.Position{})
	}
	st.pos[rev] = pos
	if !st.exists || rev > st.last {
		st.exists, st.last = true, rev
	}
}

// classify counts how many of events the state holds and returns the highest
// revision among them.
func (st *streamState) classify(events []eventstore.Event) (present int, maxRev uint64) {
	for _, e := range events {
		if rev, ok := st.ids[e.ID]; ok {
			present++
			maxRev = max(maxRev, rev)
		}
	}
	return present, maxRev
}

// streamCache keeps the states of the most recently appended streams.
type streamCache struct {
	mu    sync.Mutex
	size  int
	order *list.List // of *cacheEntry, most recent first
	m     map[string]*list.Element
}

type cacheEntry struct {
	stream string
	st     *streamState
}

func newStreamCache(size int) *streamCache {
	return &streamCache{size: size, order: list.New(), m: map[string]*list.Element{}}
}

// take removes and returns the state of stream, or nil.
func (c *streamCache) take(stream string) *streamState {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[stream]
	if !ok {
		return nil
	}
	c.order.Remove(el)
	delete(c.m, stream)
	return el.Value.(*cacheEntry).st
}

// put stores st as the most recent state of stream.
func (c *streamCache) put(stream string, st *streamState) {
	if c.size == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[stream]; ok {
		c.order.Remove(el)
	}
	c.m[stream] = c.order.PushFront(&cacheEntry{stream: stream, st: st})
	for c.order.Len() > c.size {
		el := c.order.Back()
		c.order.Remove(el)
		delete(c.m, el.Value.(*cacheEntry).stream)
	}
}
