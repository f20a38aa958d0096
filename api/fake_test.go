package api_test

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
)

// memStore is a hand-written in-memory fake of the event log: appends dedupe
// by event id, streams keep order, and failWith makes every append fail.
type memStore struct {
	mu       sync.Mutex
	streams  map[string][]eventstore.RecordedEvent
	ids      map[uuid.UUID]bool
	pos      uint64
	appends  int
	failWith error
	limits   eventstore.Limits
	reads    map[string]int // ReadStream calls per stream
	block    bool           // ReadStream waits for ctx to end
}

func newMemStore() *memStore {
	return &memStore{streams: map[string][]eventstore.RecordedEvent{}, ids: map[uuid.UUID]bool{}, reads: map[string]int{}}
}

func (m *memStore) Append(ctx context.Context, stream string, _ eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	if m.failWith != nil {
		return eventstore.AppendResult{}, m.failWith
	}
	if len(events) > 0 && m.ids[events[0].ID] {
		return eventstore.AppendResult{Duplicate: true}, nil
	}
	for _, e := range events {
		m.pos++
		m.ids[e.ID] = true
		m.streams[stream] = append(m.streams[stream], eventstore.RecordedEvent{
			Event: e, Stream: stream, Revision: uint64(len(m.streams[stream])),
			Position: eventstore.Position{Commit: m.pos, Prepare: m.pos}, RecordedAt: time.Unix(1700000000, 0),
		})
	}
	return eventstore.AppendResult{NextRevision: uint64(len(m.streams[stream]) - 1)}, nil
}

func (m *memStore) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		m.mu.Lock()
		m.reads[stream]++
		evs := append([]eventstore.RecordedEvent(nil), m.streams[stream]...)
		block := m.block
		m.mu.Unlock()
		if block {
			<-ctx.Done()
			yield(eventstore.RecordedEvent{}, ctx.Err())
			return
		}
		if len(evs) == 0 {
			yield(eventstore.RecordedEvent{}, eventstore.ErrStreamNotFound)
			return
		}
		for _, e := range evs[min(int(from), len(evs)):] {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (m *memStore) count(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.streams[stream])
}

func (m *memStore) Ping(context.Context) error { return nil }

func (m *memStore) Limits() eventstore.Limits {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.limits
}

// readsOf returns how many times stream was read.
func (m *memStore) readsOf(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads[stream]
}
