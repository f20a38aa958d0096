package esdb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/meetingd/meetingd/eventstore"
)

// statsState is the running count of one filter's events: Stats scans $all
// (filtered by the server) only from where the previous call stopped.
type statsState struct {
	lock    chan struct{} // a mutex that gives up with ctx
	scanned eventstore.Position
	count   uint64
	head    eventstore.Position
}

// Stats returns the number of events that pass filter and the position of the
// newest of them. The store counts them by reading $all through a filtered
// subscription: the first call for a filter reads every matching event since
// the beginning (its cost grows with the log; the server skips the others
// without sending them), later calls read only what was appended since, so a
// periodic caller pays for the new events only. Events removed by the server
// (stream deletion, $maxAge/$maxCount scavenges) stay counted until restart.
func (s *Store) Stats(ctx context.Context, filter eventstore.Filter) (eventstore.Stats, error) {
	if err := s.enter(); err != nil {
		return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
	}
	head, ok, err := func() (eventstore.Position, bool, error) {
		defer s.ops.Done()
		ctx, cancel := s.closing(ctx)
		defer cancel()
		return s.head(ctx)
	}()
	if err != nil {
		return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
	}

	st := s.statsFor(filter)
	select {
	case st.lock <- struct{}{}:
		defer func() { <-st.lock }()
	case <-ctx.Done():
		return eventstore.Stats{}, fmt.Errorf("stats: %w", ctx.Err())
	}
	if ok && head.Compare(st.scanned) > 0 {
		f := &cursor{resume: st.scanned, last: st.scanned, until: &head}
		err := s.follow(ctx, f, filter, func(eventstore.RecordedEvent) bool { return true })
		// Whatever was scanned counts, even if the scan stopped early.
		st.count += f.events
		if f.events > 0 {
			st.head = f.lastDelivered
		}
		st.scanned = f.resume
		if err != nil {
			return eventstore.Stats{}, fmt.Errorf("stats: %w", err)
		}
		if head.Compare(st.scanned) > 0 {
			st.scanned = head
		}
	}
	return eventstore.Stats{Events: st.count, Head: st.head}, nil
}

func (s *Store) statsFor(f eventstore.Filter) *statsState {
	key := ""
	if len(f.StreamPrefixes) > 0 && !slices.Contains(f.StreamPrefixes, "") {
		p := slices.Clone(f.StreamPrefixes)
		slices.Sort(p)
		key = strings.Join(slices.Compact(p), "\x00")
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	st := s.stats[key]
	if st == nil {
		st = &statsState{lock: make(chan struct{}, 1)}
		s.stats[key] = st
	}
	return st
}
