package intake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
)

// maxCombined bounds the events of one combined conditional append (the
// store's MaxAppendBytes bounds its size too).
const maxCombined = 256

// request is one interval-adding append waiting in its session's queue.
type request struct {
	ctx  context.Context
	ev   domain.Event
	e    eventstore.Event
	keys []domain.IntervalKey
	// done receives the answer, or the lead; at most one message is ever
	// pending (a request handed the lead answers itself).
	done chan reply
	// led is set, under the session's mu, once the request is handed the
	// lead: it may no longer leave the queue on its own.
	led bool
	// answered is set by the leader that answered it.
	answered bool
}

// reply answers a request.
type reply struct {
	// lead hands the request's caller the lead of its session.
	lead bool
	// known: the session holds every interval of the event; the caller
	// appends it without condition.
	known bool
	gen   uint64 // of the set that knew them
	res   eventstore.AppendResult
	err   error
}

// await waits for r's answer, leading its session when handed the lead.
func (s *sessions) await(ctx context.Context, ss *session, r *request) (eventstore.AppendResult, error) {
	cancelled := ctx.Done()
	for {
		select {
		case m := <-r.done:
			switch {
			case m.lead:
				s.lead(ss, r)
				continue
			case m.known:
				return s.appendKnown(ctx, ss, m.gen, r.e)
			}
			return m.res, m.err
		case <-cancelled:
			ss.mu.Lock()
			if i := slices.Index(ss.queue, r); i >= 0 && !r.led {
				ss.queue = slices.Delete(ss.queue, i, i+1)
				ss.mu.Unlock()
				return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", ss.stream, ctx.Err())
			}
			ss.mu.Unlock()
			// In a leader's turn, or handed the lead: its answer comes
			// (a turn's appends end once all its callers are gone).
			cancelled = nil
		}
	}
}

// lead takes turns appending the queue of ss until own is answered, then
// hands the lead to the first request still waiting, if any.
func (s *sessions) lead(ss *session, own *request) {
	for !own.answered {
		ss.mu.Lock()
		batch := ss.queue
		ss.queue = nil
		ss.mu.Unlock()
		if len(batch) == 0 { // cannot happen: own stays queued until answered
			answer(own, reply{err: fmt.Errorf("append %s: request lost from its session's queue", ss.stream)})
			break
		}
		s.turn(ss, batch)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.queue) == 0 {
		ss.leading = false
		return
	}
	next := ss.queue[0]
	next.led = true
	next.done <- reply{lead: true}
}

// answer answers r.
func answer(r *request, m reply) {
	r.answered = true
	r.done <- m
}

// unanswered returns the requests of reqs not answered yet, in order.
func unanswered(reqs []*request) []*request {
	var out []*request
	for _, r := range reqs {
		if !r.answered {
			out = append(out, r)
		}
	}
	return out
}

// turn answers every request of reqs. Those whose caller is gone get its
// ctx error; the others are appended in their order, in one conditional
// append (more when the store's size bound or maxCombined splits them, or
// another writer intervenes). A request over the limit is refused once the
// requests before it in the turn are stored; on a set that is behind the
// stream too (refusal is monotone: the intervals the set lacks only make
// the session fuller).
func (s *sessions) turn(ss *session, reqs []*request) {
	var pending []*request
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			answer(r, reply{err: fmt.Errorf("append %s: %w", ss.stream, err)})
			continue
		}
		pending = append(pending, r)
	}
	if len(pending) == 0 {
		return
	}
	ctx, stop := whileAnyWaits(pending)
	defer stop()
	for conflicts := 0; len(pending) > 0; pending = unanswered(pending) {
		ss.settlePlain()
		p := s.plan(ss, pending)
		if len(p.reqs) == 0 {
			p.answerKnown()
			p.refuse()
			continue
		}
		res, err := s.store.Append(ctx, ss.stream, p.expected, p.events...)
		// The known ones only now: their plain appends would race with it.
		p.answerKnown()
		lost := errors.Is(err, eventstore.ErrConcurrency) || errors.Is(err, eventstore.ErrPartialDuplicate)
		switch {
		case err == nil:
			s.applied(ss, p, res)
			p.refuse()
		case lost && conflicts < maxConflicts:
			// Another writer appended: read its events, plan again.
			conflicts++
			if err := s.catchUp(ctx, ss); err != nil {
				fail(unanswered(pending), err)
				return
			}
		case lost:
			fail(unanswered(pending), fmt.Errorf("session %s: %d appends lost to other writers: %w: %w",
				ss.stream, conflicts+1, eventstore.ErrUnavailable, err))
			return
		default:
			fail(p.all(), err)
		}
	}
}

// fail answers every request of reqs with err.
func fail(reqs []*request, err error) {
	for _, r := range reqs {
		answer(r, reply{err: err})
	}
}

// plan is one conditional append of a turn.
type plan struct {
	expected eventstore.ExpectedRevision
	gen      uint64
	reqs     []*request // appended, in order, one event each
	events   []eventstore.Event
	added    []domain.IntervalKey // the keys the append adds to the set
	// same are requests whose event is the event of an earlier request of
	// the append (the same webhook delivered twice): duplicates once it is
	// stored.
	same  []*request
	known []*request // every interval already in the set
	over  []overLimit
}

// overLimit is a request refused for the session's limit, and why.
type overLimit struct {
	r   *request
	err error
}

// all returns the requests whose answer depends on the append.
func (p *plan) all() []*request { return append(slices.Clip(p.reqs), p.same...) }

// answerKnown lets the callers of the requests whose intervals the set
// holds append them without condition.
func (p *plan) answerKnown() {
	for _, r := range p.known {
		answer(r, reply{known: true, gen: p.gen})
	}
}

// refuse answers the requests over the limit.
func (p *plan) refuse() {
	for _, o := range p.over {
		answer(o.r, reply{err: o.err})
	}
}

// plan sorts reqs against the session's set: those with no new interval,
// those over the limit, and the rest, up to the append's bounds, appended
// together in their order.
func (s *sessions) plan(ss *session, reqs []*request) plan {
	limits := s.store.Limits()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	p := plan{expected: ss.expected(), gen: ss.gen}
	adding := map[domain.IntervalKey]struct{}{}
	ids := map[uuid.UUID]struct{}{}
	size := 0
	var seen map[domain.IntervalKey]struct{}
	for _, r := range reqs {
		var fresh []domain.IntervalKey
		lacking := false
		clear(seen)
		for _, k := range r.keys {
			if _, ok := ss.keys[k]; ok {
				continue
			}
			lacking = true
			if _, ok := adding[k]; ok {
				continue
			}
			if len(r.keys) > 1 {
				if seen == nil {
					seen = map[domain.IntervalKey]struct{}{}
				}
				if _, ok := seen[k]; ok {
					continue
				}
				seen[k] = struct{}{}
			}
			fresh = append(fresh, k)
		}
		if !lacking {
			p.known = append(p.known, r)
			continue
		}
		if _, ok := ids[r.e.ID]; ok {
			p.same = append(p.same, r)
			continue
		}
		if n := len(ss.keys) + len(p.added); n+len(fresh) > s.max {
			p.over = append(p.over, overLimit{r, &cometchat.ValidationError{Trigger: r.ev.Trigger, Field: limitField(r.ev),
				Reason: fmt.Sprintf("session would hold more than %d intervals (it holds %d, this webhook adds %d)", s.max, n, len(fresh))}})
			continue
		}
		sz := eventstore.AppendSize(r.e)
		if len(p.reqs) > 0 && (len(p.reqs) == maxCombined || (limits.MaxAppendBytes > 0 && size+sz > limits.MaxAppendBytes)) {
			break // the rest in the next append
		}
		size += sz
		ids[r.e.ID] = struct{}{}
		for _, k := range fresh {
			adding[k] = struct{}{}
		}
		p.added = append(p.added, fresh...)
		p.reqs = append(p.reqs, r)
		p.events = append(p.events, r.e)
	}
	return p
}

// applied answers the requests of p, appended with result res, and adds
// their intervals to the set.
func (s *sessions) applied(ss *session, p plan, res eventstore.AppendResult) {
	if res.Duplicate {
		// Every event of p is stored already (by another writer: the set
		// is behind; the next conditional append reads what it lacks).
		for _, r := range p.all() {
			answer(r, reply{res: res})
		}
		return
	}
	ss.mu.Lock()
	if ss.gen == p.gen {
		for _, k := range p.added {
			ss.add(k)
		}
		ss.read = max(ss.read, res.NextRevision+1)
		ss.advance()
		s.resize(ss)
	}
	ss.mu.Unlock()
	first := res.NextRevision + 1 - uint64(len(p.reqs))
	for i, r := range p.reqs {
		answer(r, reply{res: eventstore.AppendResult{NextRevision: first + uint64(i), Position: res.Position}})
	}
	for _, r := range p.same {
		answer(r, reply{res: eventstore.AppendResult{Duplicate: true, NextRevision: res.NextRevision, Position: res.Position}})
	}
}

// whileAnyWaits returns a context for the I/O of a turn over reqs: it keeps
// the values of the first request's and ends once every request's context
// has ended (a leader's caller going away does not fail the others).
func whileAnyWaits(reqs []*request) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(reqs[0].ctx))
	var waiting atomic.Int64
	waiting.Store(int64(len(reqs)))
	stops := make([]func() bool, len(reqs))
	for i, r := range reqs {
		stops[i] = context.AfterFunc(r.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// limitField names the field that brought the intervals.
func limitField(ev domain.Event) string {
	if _, ok := ev.Payload.(domain.SessionEnded); ok {
		return "data.all_occupants"
	}
	return "data.occupant"
}
