package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/meetingd/meetingd/eventstore"
)

// systemStreams matches the streams of the server's own events ($-prefixed:
// stream metadata, statistics, system projections' links), which the zero
// Filter leaves out.
const nonSystemStreams = `^[^$]`

// ReadStream yields stream's events from revision from on, a page of
// ReadPageSize events per request. A stream with no events yields a single
// ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		if stream == "" {
			yield(eventstore.RecordedEvent{}, fmt.Errorf("read stream: empty name: %w", eventstore.ErrInvalidEvent))
			return
		}
		next := from
		for {
			page, err := s.readPageAdmitted(ctx, stream, next)
			if err != nil {
				if errors.Is(err, eventstore.ErrStreamNotFound) && next != from {
					return // deleted while we read; what was read stands
				}
				yield(eventstore.RecordedEvent{}, fmt.Errorf("read stream %s: %w", stream, err))
				return
			}
			for i := range page {
				rec, ok := toRecorded(&page[i])
				if !ok {
					continue
				}
				if !yield(rec, nil) {
					return
				}
				next = rec.Revision + 1
			}
			if len(page) < s.cfg.ReadPageSize {
				return
			}
		}
	}
}

func (s *Store) readPageAdmitted(ctx context.Context, stream string, from uint64) ([]kdb.ResolvedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.ops.Done()
	ctx, cancel := s.closing(ctx)
	defer cancel()
	return s.readPage(ctx, stream, from, s.cfg.ReadPageSize)
}

// readPage reads up to n events of stream from revision from.
func (s *Store) readPage(ctx context.Context, stream string, from uint64, n int) ([]kdb.ResolvedEvent, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	var start kdb.StreamPosition = kdb.Revision(from)
	if from > math.MaxInt64 { // beyond any revision the server can hold (it counts in int64)
		start = kdb.End{}
	}
	page, err := call(rctx, s, func(ctx context.Context, c *kdb.Client) ([]kdb.ResolvedEvent, error) {
		rs, err := c.ReadStream(ctx, stream, kdb.ReadStreamOptions{Direction: kdb.Forwards, From: start}, uint64(n))
		if err != nil {
			return nil, err
		}
		return collect(rs)
	}, nil)
	return page, s.translate(ctx, err)
}

// collect drains a library read.
func collect(rs *kdb.ReadStream) ([]kdb.ResolvedEvent, error) {
	defer rs.Close()
	var out []kdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *ev)
	}
}

// head returns the position of the newest event of $all (system events
// included), or false when $all is empty.
func (s *Store) head(ctx context.Context) (eventstore.Position, bool, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	evs, err := call(rctx, s, func(ctx context.Context, c *kdb.Client) ([]kdb.ResolvedEvent, error) {
		rs, err := c.ReadAll(ctx, kdb.ReadAllOptions{Direction: kdb.Backwards, From: kdb.End{}}, 1)
		if err != nil {
			return nil, err
		}
		return collect(rs)
	}, nil)
	if err != nil {
		return eventstore.Position{}, false, s.translate(ctx, err)
	}
	for i := range evs {
		if ev := evs[i].OriginalEvent(); ev != nil {
			return toPosition(ev.Position), true, nil
		}
	}
	return eventstore.Position{}, false, nil
}

// ReadAll yields the events after from that pass filter, in global order, up
// to the head of $all at the time of the call. The client reads $all with a
// server-side filter only through a subscription, so ReadAll is a
// subscription that stops at that head.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		head, ok, err := s.headAdmitted(ctx)
		if err != nil {
			yield(eventstore.RecordedEvent{}, fmt.Errorf("read all: %w", err))
			return
		}
		if !ok || head.Compare(from) <= 0 {
			return
		}
		stopped := false
		st := &cursor{resume: from, last: from, until: &head}
		err = s.follow(ctx, st, filter, func(rec eventstore.RecordedEvent) bool {
			if !yield(rec, nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			yield(eventstore.RecordedEvent{}, fmt.Errorf("read all: %w", err))
		}
	}
}

func (s *Store) headAdmitted(ctx context.Context) (eventstore.Position, bool, error) {
	if err := s.enter(); err != nil {
		return eventstore.Position{}, false, err
	}
	defer s.ops.Done()
	ctx, cancel := s.closing(ctx)
	defer cancel()
	return s.head(ctx)
}

// SubscribeAll yields the events after from that pass filter: first those
// stored, then new ones, in global order. When the subscription drops it
// resubscribes after the last event or checkpoint it saw (exclusive), with
// exponential backoff between ResubscribeMinBackoff and ResubscribeMaxBackoff,
// so the consumer sees neither a gap nor a repetition. It ends when ctx is done
// (yielding ctx's error), when the store closes (ErrClosed), or when the
// cluster refuses the subscription for good (permission).
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		stopped := false
		st := &cursor{resume: from, last: from}
		err := s.follow(ctx, st, filter, func(rec eventstore.RecordedEvent) bool {
			if !yield(rec, nil) {
				stopped = true
				return false
			}
			return true
		})
		if stopped {
			return
		}
		if err == nil {
			err = errors.New("subscription ended")
		}
		yield(eventstore.RecordedEvent{}, fmt.Errorf("subscribe all: %w", err))
	}
}

// cursor is the state of a (re)subscription to $all.
type cursor struct {
	// resume is where the next subscription starts (exclusive): the later of
	// the last event delivered and the last checkpoint.
	resume eventstore.Position
	// last is the position of the last event seen; later events at or
	// before it are repeats and are dropped.
	last eventstore.Position
	// until, when set, bounds the subscription: it ends once it has passed
	// *until (an event or checkpoint at or after it, or caught-up).
	until *eventstore.Position
	// events counts the events delivered, for Stats.
	events        uint64
	lastDelivered eventstore.Position
}

// boundedAttempts is how many consecutive failed subscriptions a bounded
// read (ReadAll, Stats) tolerates before it reports the error.
const boundedAttempts = 3

// follow subscribes to $all from st.resume and hands the events that pass
// filter to emit until emit returns false (nil), the bound is passed (nil),
// ctx is done, the store closes, or an error is final.
func (s *Store) follow(ctx context.Context, st *cursor, filter eventstore.Filter, emit func(eventstore.RecordedEvent) bool) error {
	backoff := s.cfg.ResubscribeMinBackoff
	failures := 0
	for {
		progressed, done, err := s.followOnce(ctx, st, filter, emit)
		if done {
			return nil
		}
		err = s.translate(ctx, err)
		if ctx.Err() != nil || s.isClosed() || errors.Is(err, eventstore.ErrClosed) {
			if s.isClosed() {
				return eventstore.ErrClosed
			}
			return ctx.Err()
		}
		if progressed {
			failures, backoff = 0, s.cfg.ResubscribeMinBackoff
		}
		failures++
		if errors.Is(err, errPermission) || (st.until != nil && (failures >= boundedAttempts || !transient(err))) {
			return err
		}
		s.log.Warn("esdb: subscription to $all dropped; resubscribing",
			"after", st.resume.String(), "in", backoff, "attempt", failures, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.done:
			t.Stop()
			return eventstore.ErrClosed
		}
		backoff = min(2*backoff, s.cfg.ResubscribeMaxBackoff)
	}
}

// followOnce runs one subscription. progressed reports whether it moved
// st.resume; done whether emit or the bound ended it.
func (s *Store) followOnce(ctx context.Context, st *cursor, filter eventstore.Filter, emit func(eventstore.RecordedEvent) bool) (progressed, done bool, err error) {
	if err := s.enter(); err != nil {
		return false, false, err
	}
	ctx, cancel := s.closing(ctx)
	defer cancel()
	// The handshake, and in a bounded read every wait for the next message,
	// is bounded by RequestTimeout: a silent server fails the call instead of
	// hanging it.
	var timedOut atomic.Bool
	idle := time.AfterFunc(s.cfg.RequestTimeout, func() {
		timedOut.Store(true)
		cancel()
	})
	defer idle.Stop()
	sub, err := s.subscribe(ctx, st.resume, filter)
	s.ops.Done()
	if err != nil {
		if timedOut.Load() {
			err = fmt.Errorf("%w: no subscription confirmation within %s", eventstore.ErrUnavailable, s.cfg.RequestTimeout)
		}
		return false, false, err
	}
	defer sub.Close()
	if st.until == nil {
		idle.Stop()
	}
	match := matcher(filter)
	for {
		msg := sub.Recv()
		if st.until != nil {
			idle.Reset(s.cfg.RequestTimeout)
		}
		switch {
		case msg.SubscriptionDropped != nil:
			err := msg.SubscriptionDropped.Error
			if timedOut.Load() {
				err = fmt.Errorf("%w: no message from the server within %s", eventstore.ErrUnavailable, s.cfg.RequestTimeout)
			}
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return progressed, false, err
		case msg.EventAppeared != nil:
			rec, ok := toRecorded(msg.EventAppeared)
			if !ok || rec.Position.Compare(st.last) <= 0 {
				continue
			}
			if st.until != nil && rec.Position.Compare(*st.until) > 0 {
				return progressed, true, nil
			}
			st.last = rec.Position
			if rec.Position.Compare(st.resume) > 0 {
				st.resume = rec.Position
				progressed = true
			}
			if match(rec.Stream) {
				st.events++
				st.lastDelivered = rec.Position
				if !emit(rec) {
					return progressed, true, nil
				}
			}
			if st.until != nil && rec.Position.Compare(*st.until) >= 0 {
				return progressed, true, nil
			}
		case msg.CheckPointReached != nil:
			cp := toPosition(*msg.CheckPointReached)
			if cp.Compare(st.resume) > 0 {
				st.resume = cp
				progressed = true
			}
			if st.until != nil && cp.Compare(*st.until) >= 0 {
				return progressed, true, nil
			}
		case msg.CaughtUp != nil:
			if st.until != nil {
				return progressed, true, nil
			}
		}
	}
}

// subscribe opens a catch-up subscription to $all after from (exclusive)
// with filter applied by the server, and waits for its confirmation.
func (s *Store) subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (*kdb.Subscription, error) {
	opts := kdb.SubscribeToAllOptions{
		From:               allFrom(from),
		Filter:             serverFilter(filter),
		MaxSearchWindow:    s.cfg.FilterWindow,
		CheckpointInterval: s.cfg.CheckpointMultiplier,
	}
	sub, err := call(ctx, s, func(ctx context.Context, c *kdb.Client) (*kdb.Subscription, error) {
		return c.SubscribeToAll(ctx, opts)
	}, func(sub *kdb.Subscription) { _ = sub.Close() })
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// serverFilter is the server-side filter for f: its stream prefixes, or for
// the zero Filter every stream but the server's own.
func serverFilter(f eventstore.Filter) *kdb.SubscriptionFilter {
	if len(f.StreamPrefixes) == 0 || slices.Contains(f.StreamPrefixes, "") {
		return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Regex: nonSystemStreams}
	}
	return &kdb.SubscriptionFilter{Type: kdb.StreamFilterType, Prefixes: slices.Clone(f.StreamPrefixes)}
}

// matcher applies the same selection on the client, in case a server ignores
// part of the filter.
func matcher(f eventstore.Filter) func(stream string) bool {
	if len(f.StreamPrefixes) == 0 || slices.Contains(f.StreamPrefixes, "") {
		return func(stream string) bool { return !strings.HasPrefix(stream, "$") }
	}
	return f.Match
}
