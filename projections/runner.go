package projections

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// Log is the part of the event log the runner reads.
type Log interface {
	SubscribeAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error]
	ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error]
	Stats(ctx context.Context, filter eventstore.Filter) (eventstore.Stats, error)
}

// identified is a Log that names itself: an identity that differs between
// two logs, even of the same length (the embedded store's LogID, written
// when its file is created). A Log without one is checked by its head only.
type identified interface {
	LogID() string
}

// sessionFilter selects the session streams of the log.
func sessionFilter() eventstore.Filter {
	return eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}}
}

// Config tunes the Runner.
type Config struct {
	// BatchSize flushes a batch of Run once it holds this many events (default 2000).
	BatchSize int
	// CatchUpBatchSize is the batch size of CatchUp and Rebuild (default
	// 250,000 events): a batch holds folded facts, not events, and larger
	// batches write each session, and the pages of the indexes, fewer times
	// (BenchmarkRebuild).
	CatchUpBatchSize int
	// RebuildBatchSize is how many events Rebuild folds in memory before it
	// writes them (default 1,000,000). A rebuild is a pure function of the
	// log: a log of at most this many session events is folded whole and
	// written as one batch to the empty read models, so that each session
	// is encoded and written once and the embedded store loads every B-tree
	// in key order (readmodel.Store.Write's bulk load). It bounds the
	// memory of a rebuild: the folded facts of the batch's sessions and
	// their encoding, about 1.8 GiB of heap for 1,000,000 events of
	// BenchmarkRebuild's corpus (~12 events per session, with the GOGC of
	// 400 that `meetingd rebuild` runs with). A larger log is written in
	// batches of this size, each committed with its checkpoint as CatchUp
	// does; the later ones take the store's incremental path.
	RebuildBatchSize int
	// BatchAge flushes a batch this long after its first event (default 200ms).
	BatchAge time.Duration
	// CacheSessions is how many sessions' fold state stay in memory (default 50,000).
	CacheSessions int
	// RetryMax bounds the wait between retries of a failing sink (default 30s).
	RetryMax time.Duration
	// ShutdownTimeout bounds the final flush when Run's ctx ends (default 10s).
	ShutdownTimeout time.Duration
	// Opener, when set, opens the sealed personal data of every event read
	// (package privacy/envelope): the fold sees the plaintext, or the
	// subject's pseudonym once it is erased, so a rebuild pseudonymises by
	// itself. nil folds the events as stored.
	Opener Opener
}

// Opener opens the sealed personal data of a decoded event in place.
type Opener interface {
	Open(ctx context.Context, ev *domain.Event) error
}

func (c *Config) setDefaults() {
	if c.BatchSize == 0 {
		c.BatchSize = 2000
	}
	if c.CatchUpBatchSize == 0 {
		c.CatchUpBatchSize = 250_000
	}
	if c.RebuildBatchSize == 0 {
		c.RebuildBatchSize = 1_000_000
	}
	if c.BatchAge == 0 {
		c.BatchAge = 200 * time.Millisecond
	}
	if c.CacheSessions == 0 {
		c.CacheSessions = 50_000
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, errors.New("projections: BatchSize must be positive"))
	}
	if c.CatchUpBatchSize < 1 {
		errs = append(errs, errors.New("projections: CatchUpBatchSize must be positive"))
	}
	if c.RebuildBatchSize < 1 {
		errs = append(errs, errors.New("projections: RebuildBatchSize must be positive"))
	}
	if c.BatchAge <= 0 {
		errs = append(errs, errors.New("projections: BatchAge must be positive"))
	}
	if c.CacheSessions < 1 {
		errs = append(errs, errors.New("projections: CacheSessions must be positive"))
	}
	return errors.Join(errs...)
}

// Runner folds the log into the read models. Run, CatchUp and Rebuild must not
// be called concurrently; Status may be called at any time.
type Runner struct {
	cfg   Config
	log   *slog.Logger
	src   Log
	store StateStore
	sinks []Sink
	cache *lru.Cache[reports.SessionKey, *domain.Facts]
	m     *Metrics

	mu        sync.Mutex
	committed Checkpoint

	// running is set while Run runs; excl hands it Exclusive's functions.
	running atomic.Bool
	excl    chan exclusive
}

// New returns a Runner that reads src and writes to sinks, then store. A nil
// m or log measures or logs nothing.
func New(cfg Config, src Log, store StateStore, sinks []Sink, m *Metrics, log *slog.Logger) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || store == nil {
		return nil, errors.New("projections: nil log or state store")
	}
	cache, err := lru.New[reports.SessionKey, *domain.Facts](cfg.CacheSessions)
	if err != nil {
		return nil, fmt.Errorf("projections: %w", err)
	}
	if m == nil {
		m = nopMetrics()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log, src: src, store: store, sinks: sinks, cache: cache, m: m, excl: make(chan exclusive)}, nil
}

// Progress is the runner's view of the lag behind the log.
type Progress struct {
	// Events counts the session events in the log.
	Events uint64
	// Projected is the committed checkpoint.
	Projected Checkpoint
	// Lag is Events − Projected.Events (0 when caught up).
	Lag uint64
}

// Status returns the lag of the read models behind the log.
func (r *Runner) Status(ctx context.Context) (Progress, error) {
	cp, err := r.store.Checkpoint(ctx)
	if err != nil {
		return Progress{}, fmt.Errorf("status: %w", err)
	}
	st, err := r.src.Stats(ctx, sessionFilter())
	if err != nil {
		return Progress{}, fmt.Errorf("status: %w", err)
	}
	p := Progress{Events: st.Events, Projected: cp}
	if st.Events > cp.Events {
		p.Lag = st.Events - cp.Events
	}
	return p, nil
}

// Run folds from the checkpoint to the head of the log, then follows it live,
// until ctx ends; it then flushes the batch in hand (within ShutdownTimeout)
// and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	cp, err := r.start(ctx)
	if err != nil {
		return err
	}
	r.log.Info("projections starting", "from", cp.Position.String(), "events", cp.Events)
	r.running.Store(true)
	defer r.running.Store(false)

	type item struct {
		ev  eventstore.RecordedEvent
		err error
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := make(chan item, r.cfg.BatchSize)
	go func() {
		defer close(feed)
		for ev, err := range r.src.SubscribeAll(subCtx, cp.Position, sessionFilter()) {
			select {
			case feed <- item{ev, err}:
			case <-subCtx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	b := newBatcher(r.cfg.BatchSize, cp)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func(ctx context.Context) error {
		timer.Stop()
		return r.flush(ctx, b)
	}
	// recs is the chunk in hand: the event received and those already
	// waiting behind it, up to the room left in the batch, folded together
	// (one LoadFacts for the chunk's unknown sessions).
	recs := make([]eventstore.RecordedEvent, 0, min(r.cfg.BatchSize, runChunk))
	dec := make([]decoded, 0, cap(recs))
	for {
		select {
		case it, ok := <-feed:
			var failed error
			recs = recs[:0]
			for {
				switch {
				case !ok || (it.err != nil && ctx.Err() != nil):
					failed = errStopped
				case it.err != nil:
					failed = fmt.Errorf("projections: subscription: %w", it.err)
				default:
					recs = append(recs, it.ev)
				}
				if failed != nil || len(recs) == cap(recs) || b.count+len(recs) >= b.size {
					break
				}
				select {
				case it, ok = <-feed:
					continue
				default:
				}
				break
			}
			if len(recs) > 0 {
				if b.empty() {
					timer.Reset(r.cfg.BatchAge)
				}
				dec = r.decode(ctx, recs, dec[:0])
				clear(recs)
				if err := r.apply(ctx, b, dec); err != nil {
					return r.stopped(ctx, err, flush)
				}
			}
			switch {
			case failed == errStopped:
				return r.finalFlush(ctx, flush)
			case failed != nil:
				return failed
			}
			if b.full() {
				if err := flush(ctx); err != nil {
					return r.stopped(ctx, err, flush)
				}
			}
		case <-timer.C:
			if err := flush(ctx); err != nil {
				return r.stopped(ctx, err, flush)
			}
		case job := <-r.excl:
			if err := r.runExclusive(ctx, job, flush); err != nil {
				return r.stopped(ctx, err, flush)
			}
		case <-ctx.Done():
			return r.finalFlush(ctx, flush)
		}
	}
}

// errStopped marks the end of the subscription by shutdown.
var errStopped = errors.New("projections: stopped")

// stopped turns a flush failure caused by shutdown into a clean final flush.
func (r *Runner) stopped(ctx context.Context, err error, flush func(context.Context) error) error {
	if ctx.Err() != nil {
		return r.finalFlush(ctx, flush)
	}
	return err
}

func (r *Runner) finalFlush(ctx context.Context, flush func(context.Context) error) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ShutdownTimeout)
	defer cancel()
	if err := flush(fctx); err != nil {
		return fmt.Errorf("projections: final flush: %w", err)
	}
	r.log.Info("projections stopped", "checkpoint", r.Committed().Position.String())
	return nil
}

// CatchUp folds from the checkpoint to the head of the log as of the call,
// and returns. The log is read and decoded ahead, on every CPU, while the
// batch in hand is folded and written (see readAhead).
func (r *Runner) CatchUp(ctx context.Context) error {
	return r.catchUp(ctx, r.cfg.CatchUpBatchSize)
}

// catchUp is CatchUp in batches of size events.
func (r *Runner) catchUp(ctx context.Context, size int) error {
	cp, err := r.start(ctx)
	if err != nil {
		return err
	}
	b := newBatcher(size, cp)
	chunks, release, stop := r.readAhead(ctx, r.src.ReadAll(ctx, cp.Position, sessionFilter()))
	defer stop()
	for c := range chunks {
		<-c.done
		err := r.apply(ctx, b, c.events)
		release(c)
		if err != nil {
			return err
		}
		if c.err != nil {
			return fmt.Errorf("projections: read log: %w", c.err)
		}
		if b.full() {
			if err := r.flush(ctx, b); err != nil {
				return err
			}
		}
	}
	return r.flush(ctx, b)
}

// start reads the checkpoint and checks it against the log. A checkpoint
// that the log cannot have produced — beyond the log's newest session event
// or its count of them, or recorded from a log of another identity — means
// the log was replaced (a damaged embedded log moved aside, a KurrentDB
// restored from a backup) while the read models were kept: folding on from
// it would never project the new events, whose positions lie below it, and
// the reports would freeze without an error. The runner then drops every
// read model (the state store's and every sink's, as Rebuild does), logs it
// as an error, counts it in meetingd_projection_resets_total and folds
// from the start of the log. It returns the checkpoint to fold from,
// carrying the log's identity.
func (r *Runner) start(ctx context.Context) (Checkpoint, error) {
	cp, err := r.store.Checkpoint(ctx)
	if err != nil {
		return cp, fmt.Errorf("projections: read checkpoint: %w", err)
	}
	id := ""
	if l, ok := r.src.(identified); ok {
		id = l.LogID()
	}
	if cp.Position.IsZero() && cp.Events == 0 {
		cp.Log = id
		r.setCommitted(cp)
		return cp, nil
	}
	st, err := r.src.Stats(ctx, sessionFilter())
	if err != nil {
		return cp, fmt.Errorf("projections: check the checkpoint against the log: %w", err)
	}
	var reason string
	switch {
	case cp.Log != "" && id != "" && cp.Log != id:
		reason = "log_replaced"
	case cp.Position.Compare(st.Head) > 0 || cp.Events > st.Events:
		reason = "checkpoint_ahead"
	}
	if reason == "" {
		cp.Log = id
		r.setCommitted(cp)
		return cp, nil
	}
	r.m.resets.WithLabelValues(reason).Inc()
	r.log.Error("READ MODELS DO NOT MATCH THE EVENT LOG: the log was replaced or restored since they were built; "+
		"dropping every read model (and the ClickHouse tables) and folding the log again from its start",
		"reason", reason, "checkpoint_position", cp.Position.String(), "checkpoint_events", cp.Events,
		"checkpoint_log", cp.Log, "log", id, "log_head", st.Head.String(), "log_events", st.Events)
	if err := r.reset(ctx); err != nil {
		return Checkpoint{}, err
	}
	cp = Checkpoint{Log: id}
	r.setCommitted(cp)
	return cp, nil
}

// reset drops every read model: the state store's and every sink's.
func (r *Runner) reset(ctx context.Context) error {
	for _, s := range append([]Sink{r.store}, r.sinks...) {
		if err := s.Reset(ctx); err != nil {
			return fmt.Errorf("projections: reset: %w", err)
		}
	}
	r.cache.Purge()
	return nil
}

// Rebuild drops every read model (the state store's and every sink's) and
// folds the whole log again, up to its head as of the call, in batches of
// RebuildBatchSize events: the whole log at once unless it is larger. Every
// batch goes to the sinks, then to the state store with its checkpoint, as
// in CatchUp; the checkpoint of a batch is written in the same transaction
// as its read models, after them. A rebuild that stops before its first
// batch is committed (a crash, a kill) leaves empty read models without a
// checkpoint, from which serve or the next rebuild starts from zero; one
// that stops later leaves the batches committed so far, which serve's
// catch-up continues from.
func (r *Runner) Rebuild(ctx context.Context) error {
	if err := r.reset(ctx); err != nil {
		return fmt.Errorf("projections: rebuild: %w", err)
	}
	return r.catchUp(ctx, r.cfg.RebuildBatchSize)
}

// Committed returns the checkpoint of the last committed batch.
func (r *Runner) Committed() Checkpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.committed
}

func (r *Runner) setCommitted(cp Checkpoint) {
	r.mu.Lock()
	r.committed = cp
	r.mu.Unlock()
}

// flush derives the Meetings of the batch's sessions, writes them to every
// sink and then commits them, with their facts and the checkpoint, to the
// state store.
func (r *Runner) flush(ctx context.Context, b *batcher) error {
	if b.empty() {
		return nil
	}
	start := time.Now()
	updates := derive(b.facts)
	batch := Batch{Sessions: updates, Checkpoint: b.next, Version: b.next.Position.Commit}
	for _, s := range r.sinks {
		if err := r.retry(ctx, "sink", func() error { return s.Write(ctx, batch) }); err != nil {
			return err
		}
	}
	if err := r.retry(ctx, "state store", func() error { return r.store.Write(ctx, batch) }); err != nil {
		return err
	}
	for _, u := range updates {
		r.cache.Add(u.Key, u.Facts)
	}
	r.setCommitted(b.next)
	r.m.batch(b.count, len(updates), time.Since(start))
	b.reset()
	return nil
}

// apply folds decoded events into the batch: each event's session facts
// come from the batch, the cache or (for all the chunk's other sessions, in
// one call) the state store. Facts merge idempotently, so folding into the
// cached copy is safe even if this batch's write fails and is folded again.
// Events that did not decode are counted, logged and skipped; every event
// advances the batch's checkpoint.
func (r *Runner) apply(ctx context.Context, b *batcher, evs []decoded) error {
	var missing []reports.SessionKey
	for i := range evs {
		d := &evs[i]
		if d.bad != nil {
			continue
		}
		key := reports.SessionKey{AppID: d.ev.AppID, SessionID: d.ev.SessionID}
		if f, ok := b.facts[key]; ok {
			d.facts = f // nil while the chunk's LoadFacts is pending
			continue
		}
		if f, ok := r.cache.Get(key); ok {
			b.facts[key], d.facts = f, f
			continue
		}
		b.facts[key] = nil
		missing = append(missing, key)
	}
	if len(missing) > 0 {
		loaded, err := r.store.LoadFacts(ctx, missing)
		if err != nil {
			for _, k := range missing {
				delete(b.facts, k)
			}
			return fmt.Errorf("projections: load facts: %w", err)
		}
		for _, k := range missing {
			if f, ok := loaded[k]; ok && f != nil {
				b.facts[k] = f
			} else {
				b.facts[k] = domain.NewFacts(k.AppID, k.SessionID)
			}
		}
	}
	for i := range evs {
		d := &evs[i]
		b.next.Position = d.pos
		b.next.Events++
		b.count++
		if bad := d.bad; bad != nil {
			// A type this version does not know (written by a newer one):
			// skip it rather than stop every report; rebuild after upgrading.
			r.m.skipped.Inc()
			r.log.Warn("skipping undecodable event", "stream", bad.stream, "revision", bad.revision, "type", bad.typ, "error", bad.err)
			continue
		}
		f := d.facts
		if f == nil {
			f = b.facts[reports.SessionKey{AppID: d.ev.AppID, SessionID: d.ev.SessionID}]
		}
		f.Apply(d.ev)
	}
	return nil
}

// retry calls op until it succeeds or ctx ends, backing off exponentially.
func (r *Runner) retry(ctx context.Context, what string, op func() error) error {
	attempt := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := op()
		if err != nil {
			attempt++
			r.m.sinkErrors.Inc()
			r.log.Warn("projection write failed; retrying", "target", what, "attempt", attempt, "error", err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 100 * time.Millisecond, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: r.cfg.RetryMax,
	}), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return fmt.Errorf("projections: write %s: %w", what, err)
	}
	return nil
}

// batcher accumulates one batch: the facts of the sessions its events
// touched, already folded, and the checkpoint after its last event.
type batcher struct {
	size  int
	facts map[reports.SessionKey]*domain.Facts
	next  Checkpoint
	count int
}

func newBatcher(size int, from Checkpoint) *batcher {
	return &batcher{size: size, facts: make(map[reports.SessionKey]*domain.Facts), next: from}
}

// full reports whether the batch holds size events or more.
func (b *batcher) full() bool { return b.count >= b.size }

func (b *batcher) empty() bool { return b.count == 0 }

func (b *batcher) reset() {
	clear(b.facts)
	b.count = 0
}
