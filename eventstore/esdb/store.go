package esdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meetingd/meetingd/eventstore"
)

// Store is the eventstore.Store on an EventStoreDB/KurrentDB cluster. See the
// package documentation for its semantics; all methods are safe for
// concurrent use.
type Store struct {
	cfg  Config
	conf *kdb.Configuration // template, copied for every client
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close
	cur    *conn
	ops    sync.WaitGroup // admitted operations (see enter)

	locks *keyedMutex
	cache *streamCache

	statsMu sync.Mutex
	stats   map[string]*statsState
}

var _ eventstore.Store = (*Store)(nil)

// conn is one client of the EventStoreDB library. The library's client stops
// for good when discovery fails (every later call reports a closed
// connection), so the store replaces a client that did so.
type conn struct {
	client *kdb.Client
	calls  sync.WaitGroup // library calls in flight on client
	dead   bool           // guarded by Store.mu
}

// Open validates cfg and returns a Store. It checks the connection with one
// Ping: an unreachable cluster is logged and left to /readyz (the client
// reconnects on later calls), but a refused authentication fails Open.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conf, err := cfg.clientConfig(log)
	if err != nil {
		return nil, err
	}
	size := cfg.StreamCacheSize
	if size < 0 {
		size = 0
	}
	s := &Store{
		cfg:   cfg,
		conf:  conf,
		log:   log,
		done:  make(chan struct{}),
		locks: newKeyedMutex(),
		cache: newStreamCache(size),
		stats: map[string]*statsState{},
	}
	if err := s.Ping(ctx); err != nil {
		if !errors.Is(err, eventstore.ErrUnavailable) && ctx.Err() == nil {
			_ = s.Close()
			return nil, fmt.Errorf("esdb: open: %w", err)
		}
		log.Warn("esdb: event store not reachable yet; will retry on use", "err", err)
	}
	return s, nil
}

// Ping checks that the cluster answers a read of the head of $all within
// PingTimeout; /readyz reports it. It fails with ErrUnavailable when the
// cluster cannot be reached and with ErrClosed after Close.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return fmt.Errorf("esdb ping: %w", err)
	}
	defer s.ops.Done()
	pctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
	defer cancel()
	if _, _, err := s.head(pctx); err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: no answer within %s", eventstore.ErrUnavailable, s.cfg.PingTimeout)
		}
		return fmt.Errorf("esdb ping: %w", err)
	}
	return nil
}

// Close stops subscriptions and reads, waits up to CloseTimeout for appends
// and other calls in flight, and closes the client. Later calls fail with
// ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()

	deadline := time.Now().Add(s.cfg.CloseTimeout)
	opsDone := waitTimeout(&s.ops, s.cfg.CloseTimeout)

	s.mu.Lock()
	cur := s.cur
	s.cur = nil
	s.mu.Unlock()
	// The library panics when its client is closed under a call in flight,
	// so the client is closed only once its calls have returned.
	if cur != nil {
		if waitTimeout(&cur.calls, time.Until(deadline)) {
			_ = cur.client.Close()
		} else {
			s.log.Warn("esdb: close: library calls still in flight; leaving the client to the garbage collector")
		}
	}
	if !opsDone {
		return fmt.Errorf("esdb: close: operations still in flight after %s", s.cfg.CloseTimeout)
	}
	return nil
}

// enter admits an operation; the caller calls s.ops.Done when it ends.
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	s.ops.Add(1)
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// closing returns a context that is also cancelled when the store closes.
func (s *Store) closing(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// acquire returns the current client, creating one if there is none or the
// last one stopped. The caller calls c.calls.Done when its call returns.
func (s *Store) acquire() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.dead {
		if s.closed && s.cur == nil {
			return nil, eventstore.ErrClosed
		}
		conf := *s.conf
		client, err := kdb.NewClient(&conf)
		if err != nil {
			return nil, fmt.Errorf("esdb: new client: %w", err)
		}
		if old := s.cur; old != nil {
			go func() {
				old.calls.Wait()
				_ = old.client.Close()
			}()
		}
		s.cur = &conn{client: client}
	}
	s.cur.calls.Add(1)
	return s.cur, nil
}

// call runs f on a client in a goroutine of its own, so that the caller
// returns as soon as ctx is done even where the library does not watch ctx
// (it blocks callers while it rediscovers the cluster). If the caller has
// gone when f returns, cleanup (if any) receives f's result. A library panic
// becomes an error. A client that reports itself closed although the store
// is open is replaced, and f is tried once more on the new one.
func call[T any](ctx context.Context, s *Store, f func(ctx context.Context, c *kdb.Client) (T, error), cleanup func(T)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		c, err := s.acquire()
		if err != nil {
			return zero, err
		}
		type result struct {
			v   T
			err error
		}
		ch := make(chan result, 1)
		go func() {
			defer c.calls.Done()
			var r result
			defer func() {
				if p := recover(); p != nil {
					r = result{err: fmt.Errorf("%w: esdb client panicked: %v", eventstore.ErrUnavailable, p)}
				}
				ch <- r
			}()
			r.v, r.err = f(ctx, c.client)
		}()
		select {
		case r := <-ch:
			if r.err != nil && attempt == 0 && isClientClosed(r.err) && !s.isClosed() {
				s.mu.Lock()
				c.dead = true
				s.mu.Unlock()
				continue
			}
			return r.v, r.err
		case <-ctx.Done():
			go func() {
				if r := <-ch; r.err == nil && cleanup != nil {
					cleanup(r.v)
				}
			}()
			return zero, ctx.Err()
		}
	}
}

func isClientClosed(err error) bool {
	var e *kdb.Error
	return errors.As(err, &e) && e.Code() == kdb.ErrorCodeConnectionClosed
}

// translate maps a library or gRPC error onto the eventstore sentinels,
// keeping the original text. ctx errors win: a call that failed because ctx
// ended reports ctx.Err() (or ErrClosed when the store closed).
func (s *Store) translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, eventstore.ErrClosed) || errors.Is(err, eventstore.ErrUnavailable) ||
		errors.Is(err, eventstore.ErrConcurrency) || errors.Is(err, eventstore.ErrStreamNotFound) {
		return err
	}
	if ctx.Err() != nil {
		if s.isClosed() {
			return eventstore.ErrClosed
		}
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, err)
	}
	var e *kdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case kdb.ErrorCodeWrongExpectedVersion:
			return fmt.Errorf("%w: %v", eventstore.ErrConcurrency, err)
		case kdb.ErrorCodeResourceNotFound, kdb.ErrorCodeStreamDeleted:
			return fmt.Errorf("%w: %v", eventstore.ErrStreamNotFound, err)
		case kdb.ErrorCodeConnectionClosed:
			if s.isClosed() {
				return eventstore.ErrClosed
			}
			return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, err)
		case kdb.ErrorUnavailable, kdb.ErrorCodeDeadlineExceeded, kdb.ErrorCodeNotLeader, kdb.ErrorAborted:
			return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, err)
		case kdb.ErrorCodeUnauthenticated, kdb.ErrorCodeAccessDenied:
			return fmt.Errorf("%w: %v", errPermission, err)
		}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Canceled:
		return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, err)
	case codes.NotFound:
		return fmt.Errorf("%w: %v", eventstore.ErrStreamNotFound, err)
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %v", errPermission, err)
	}
	return fmt.Errorf("esdb: %w", err)
}

// errPermission marks a refused authentication or authorisation: retrying
// does not help.
var errPermission = errors.New("esdb: permission denied")

// transient reports whether a translated error may go away by itself.
func transient(err error) bool {
	return errors.Is(err, eventstore.ErrUnavailable)
}

// waitTimeout waits for wg at most d and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	if d <= 0 {
		d = time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// toPosition and fromPosition map positions between the contract and the client.
func toPosition(p kdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func allFrom(p eventstore.Position) kdb.AllPosition {
	if p.IsZero() {
		return kdb.Start{}
	}
	return kdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// toRecorded converts a read event; ok is false for a link whose target is gone.
func toRecorded(ev *kdb.ResolvedEvent) (eventstore.RecordedEvent, bool) {
	re := ev.Event
	if re == nil {
		return eventstore.RecordedEvent{}, false
	}
	return eventstore.RecordedEvent{
		Event: eventstore.Event{
			ID:       re.EventID,
			Type:     re.EventType,
			Data:     nonEmpty(re.Data),
			Metadata: nonEmpty(re.UserMetadata),
		},
		Stream:     re.StreamID,
		Revision:   re.EventNumber,
		Position:   toPosition(re.Position),
		RecordedAt: re.CreatedDate,
	}, true
}

// nonEmpty returns nil for an empty payload: the wire does not tell an empty
// payload from none.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
