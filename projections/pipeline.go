package projections

import (
	"context"
	"iter"
	"runtime"
	"sync"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// The runner's hot path, measured by BenchmarkRebuild: decoding the stored
// events (JSON) and deriving and encoding the changed sessions cost more
// than reading the log, so both are spread over every CPU, and the log is
// read and decoded ahead while the batch in hand is folded and written.

const (
	// runChunk bounds the events that Run folds together.
	runChunk = 1024
	// aheadChunk is the size of the chunks that CatchUp reads ahead, and
	// aheadChunks how many of them may wait decoded (≈ 64k events).
	aheadChunk  = 2048
	aheadChunks = 32
	// parallelMin is the least number of items worth a second goroutine.
	parallelMin = 256
)

// decoded is a log event in its domain form, or the reason it has none.
// It is kept small (a rebuild writes a million of them) and its slices are
// reused from chunk to chunk (readAhead).
type decoded struct {
	pos eventstore.Position
	ev  domain.Event
	// facts are the facts of ev's session in the batch, once apply has
	// looked them up (saves a second map lookup per event).
	facts *domain.Facts
	// bad is set when the event did not decode.
	bad *undecodable
}

// undecodable names an event that did not decode, for the log.
type undecodable struct {
	err      error
	stream   string
	revision uint64
	typ      string
}

func decodeOne(ctx context.Context, open Opener, rec *eventstore.RecordedEvent, d *decoded) {
	ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
	if err == nil && open != nil {
		err = open.Open(ctx, &ev)
	}
	d.pos, d.ev, d.facts, d.bad = rec.Position, ev, nil, nil
	if err != nil {
		d.bad = &undecodable{err: err, stream: rec.Stream, revision: rec.Revision, typ: rec.Type}
	}
}

// decodeAll decodes recs into out (len(out) == len(recs)), in parallel
// slices when there are enough of them.
func decodeAll(ctx context.Context, open Opener, recs []eventstore.RecordedEvent, out []decoded) {
	parallel(len(recs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			decodeOne(ctx, open, &recs[i], &out[i])
		}
	})
}

// decode appends the decoded recs to dst.
func (r *Runner) decode(ctx context.Context, recs []eventstore.RecordedEvent, dst []decoded) []decoded {
	n := len(dst)
	dst = append(dst, make([]decoded, len(recs))...)
	decodeAll(ctx, r.cfg.Opener, recs, dst[n:])
	return dst
}

// parallel calls fn on contiguous slices [lo, hi) of [0, n), one per CPU
// when n is large enough, and returns when all have returned.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// chunk is a run of consecutive log events, decoded by a worker; done is
// closed when events is ready. A read error ends the stream of chunks: err
// is set on the last chunk, after its events.
type chunk struct {
	events []decoded
	err    error
	done   chan struct{}
}

// readAhead reads seq in a goroutine, in chunks of aheadChunk events that
// workers (one per CPU) decode while the caller folds the chunks before
// them. Chunks arrive in log order, at most aheadChunks ahead of the caller.
// The caller hands each chunk back with release once it has folded it, so
// that its memory is reused for a later one (a rebuild would otherwise
// allocate, zero and collect a few hundred MB of them). stop ends the
// reading and waits for every goroutine; the caller must call it (after
// which the channel yields nothing more).
func (r *Runner) readAhead(ctx context.Context, seq iter.Seq2[eventstore.RecordedEvent, error]) (chunks <-chan *chunk, release func(*chunk), stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	type job struct {
		recs []eventstore.RecordedEvent
		c    *chunk
	}
	out := make(chan *chunk, aheadChunks)
	jobs := make(chan job, aheadChunks)
	// Spare buffers: read batches once decoded, decoded events once folded.
	// More than the chunks in flight can hold, so that returning one never
	// blocks; a full pool drops the buffer.
	spareRecs := make(chan []eventstore.RecordedEvent, 2*aheadChunks)
	spareEvents := make(chan []decoded, 2*aheadChunks)
	newRecs := func() []eventstore.RecordedEvent {
		select {
		case recs := <-spareRecs:
			return recs[:0]
		default:
			return make([]eventstore.RecordedEvent, 0, aheadChunk)
		}
	}
	newEvents := func(n int) []decoded {
		select {
		case evs := <-spareEvents:
			if cap(evs) >= n {
				return evs[:n]
			}
		default:
		}
		return make([]decoded, n, max(n, aheadChunk))
	}
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Go(func() {
			for j := range jobs {
				for i := range j.recs {
					decodeOne(ctx, r.cfg.Opener, &j.recs[i], &j.c.events[i])
				}
				close(j.c.done)
				clear(j.recs) // drop the references to the log's buffers
				select {
				case spareRecs <- j.recs:
				default:
				}
			}
		})
	}
	wg.Go(func() {
		defer close(jobs)
		defer close(out)
		recs := newRecs()
		send := func(err error) bool {
			c := &chunk{events: newEvents(len(recs)), err: err, done: make(chan struct{})}
			select {
			case out <- c:
			case <-ctx.Done():
				return false
			}
			// Always handed to a worker once queued, so that done closes.
			jobs <- job{recs, c}
			recs = newRecs()
			return true
		}
		for ev, err := range seq {
			if err != nil {
				send(err)
				return
			}
			recs = append(recs, ev)
			if len(recs) == aheadChunk && !send(nil) {
				return
			}
		}
		if len(recs) > 0 {
			send(nil)
		}
	})
	release = func(c *chunk) {
		clear(c.events) // drop the references to events and facts
		select {
		case spareEvents <- c.events:
		default:
		}
		c.events = nil
	}
	return out, release, func() {
		cancel()
		for range out { // unblock the reader; the workers finish what is queued
		}
		wg.Wait()
	}
}

// derive returns the updates of a batch: each session's facts and its
// Meeting, derived in parallel.
func derive(facts map[reports.SessionKey]*domain.Facts) []SessionUpdate {
	updates := make([]SessionUpdate, 0, len(facts))
	for k, f := range facts {
		updates = append(updates, SessionUpdate{Key: k, Facts: f})
	}
	parallel(len(updates), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			updates[i].Meeting = updates[i].Facts.Meeting()
		}
	})
	return updates
}
