package projections_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// memLog is a hand-written in-memory event log: positions are 1, 2, 3…;
// SubscribeAll catches up and then waits for appends.
type memLog struct {
	mu     sync.Mutex
	events []eventstore.RecordedEvent
	wake   chan struct{}
}

func newMemLog() *memLog { return &memLog{wake: make(chan struct{})} }

func (l *memLog) append(stream string, e eventstore.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := uint64(len(l.events) + 1)
	l.events = append(l.events, eventstore.RecordedEvent{Event: e, Stream: stream, Position: eventstore.Position{Commit: p, Prepare: p}, RecordedAt: time.Unix(1700000000, 0)})
	close(l.wake)
	l.wake = make(chan struct{})
}

// after returns the events after from that match f, the position of the
// newest event, and a channel closed at the next append.
func (l *memLog) after(from eventstore.Position, f eventstore.Filter) ([]eventstore.RecordedEvent, eventstore.Position, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []eventstore.RecordedEvent
	for _, e := range l.events[min(int(from.Commit), len(l.events)):] {
		if f.Match(e.Stream) {
			out = append(out, e)
		}
	}
	n := uint64(len(l.events))
	return out, eventstore.Position{Commit: n, Prepare: n}, l.wake
}

func (l *memLog) ReadAll(ctx context.Context, from eventstore.Position, f eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		evs, _, _ := l.after(from, f)
		for _, e := range evs {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (l *memLog) SubscribeAll(ctx context.Context, from eventstore.Position, f eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for {
			evs, head, wake := l.after(from, f)
			for _, e := range evs {
				if !yield(e, nil) {
					return
				}
			}
			from = head
			select {
			case <-ctx.Done():
				yield(eventstore.RecordedEvent{}, ctx.Err())
				return
			case <-wake:
			}
		}
	}
}

func (l *memLog) Stats(ctx context.Context, f eventstore.Filter) (eventstore.Stats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var st eventstore.Stats
	for _, e := range l.events {
		if f.Match(e.Stream) {
			st.Events++
			st.Head = e.Position
		}
	}
	return st, nil
}

// memState is a hand-written StateStore that keeps the last committed batch
// state, and can be told to fail.
type memState struct {
	mu       sync.Mutex
	facts    map[reports.SessionKey][]byte
	meetings map[reports.SessionKey]domain.Meeting
	cp       projections.Checkpoint
	writes   int
	failNext int
	asked    map[reports.SessionKey]bool // by LoadFacts
}

func newMemState() *memState {
	return &memState{facts: map[reports.SessionKey][]byte{}, meetings: map[reports.SessionKey]domain.Meeting{}}
}

var errInjected = errors.New("injected failure")

func (s *memState) Write(ctx context.Context, b projections.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errInjected
	}
	s.writes++
	for _, u := range b.Sessions {
		raw, err := codec.MarshalFacts(u.Facts)
		if err != nil {
			return err
		}
		s.facts[u.Key] = raw
		s.meetings[u.Key] = u.Meeting
	}
	s.cp = b.Checkpoint
	return nil
}

func (s *memState) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.facts)
	clear(s.meetings)
	s.cp = projections.Checkpoint{}
	return nil
}

func (s *memState) Checkpoint(ctx context.Context) (projections.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp, nil
}

func (s *memState) LoadFacts(ctx context.Context, keys []reports.SessionKey) (map[reports.SessionKey]*domain.Facts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[reports.SessionKey]*domain.Facts{}
	if s.asked == nil {
		s.asked = map[reports.SessionKey]bool{}
	}
	for _, k := range keys {
		s.asked[k] = true
		if raw, ok := s.facts[k]; ok {
			f := &domain.Facts{}
			if err := codec.UnmarshalFacts(raw, f); err != nil {
				return nil, err
			}
			out[k] = f
		}
	}
	return out, nil
}

func (s *memState) meeting(k reports.SessionKey) (domain.Meeting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.meetings[k]
	return m, ok
}

// wasAsked reports whether LoadFacts was asked for k: the runner folds an
// event of a session it has not seen in the same call.
func (s *memState) wasAsked(k reports.SessionKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[k]
}

func (s *memState) checkpoint() projections.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp
}

// recSink records the checkpoints of the batches it acknowledged and can fail.
type recSink struct {
	mu       sync.Mutex
	failNext int
	acked    []projections.Checkpoint
	state    *memState // to check the sink is written before the state store
	early    bool
	resets   int
}

func (s *recSink) Write(ctx context.Context, b projections.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errInjected
	}
	if s.state != nil && s.state.checkpoint() == b.Checkpoint {
		s.early = true // the state store committed before the sink acknowledged
	}
	s.acked = append(s.acked, b.Checkpoint)
	return nil
}

func (s *recSink) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acked = nil
	s.resets++
	return nil
}

func (s *recSink) resetCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resets
}

// idLog is a memLog with an identity, as the embedded store has.
type idLog struct {
	*memLog
	id string
}

func (l idLog) LogID() string { return l.id }
