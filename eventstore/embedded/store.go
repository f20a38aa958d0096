package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/meetingd/meetingd/eventstore"
)

// Store is the embedded eventstore.Store: one bbolt file written by a single
// committer goroutine. All methods are safe for concurrent use; see the
// package documentation for the guarantees.
type Store struct {
	cfg  Config
	log  *slog.Logger
	db   *bolt.DB
	path string

	// mu guards closed; enter admits operations under its read lock and
	// Close sets closed under its write lock before waiting for ops.
	mu     sync.RWMutex
	closed bool
	done   chan struct{}  // closed by Close: wakes subscriptions
	ops    sync.WaitGroup // admitted appends and read batches

	reqs          chan *appendReq // to the committer (unbuffered)
	reqPool       sync.Pool       // of *appendReq (see appendReq.recycle)
	quit          chan struct{}   // closed by Close once ops is drained
	committerDone chan struct{}

	// commitMu keeps read transactions from starting while a write
	// transaction commits: bbolt publishes a commit's pages to new readers
	// before its fsyncs have returned, and a reader must never see what a
	// crash could still take back. The committer holds it (write) around
	// tx.Commit; readers hold it (read) only while beginning a transaction.
	commitMu sync.RWMutex

	// id is the log's identity (LogID), read or written by Open.
	id string

	// seq is the position of the last event written; only the committer
	// touches it after Open.
	seq uint64
	// keyBuf is the committer's scratch space for keys, kept across commits.
	keyBuf []byte
	// cats holds the Stats of every stream category (categories.go);
	// catDeltas is the committer's scratch space for a commit's changes.
	cats      categories
	catDeltas []categoryDelta

	// head is the durable head: the last committed (fsynced) position and a
	// channel closed when a later commit replaces it.
	head atomic.Pointer[headState]

	// brokenErr is set when a failed commit left the file in a state that
	// only a reopen resolves (see checkAfterFailure).
	brokenErr atomic.Pointer[error]
	// commitTx commits the committer's write transaction: (*bolt.Tx).Commit,
	// replaced by tests to inject a failed sync.
	commitTx func(*bolt.Tx) error

	commits, appends, events, failures atomic.Uint64
	// deleted counts the events DeleteStreams removed (meta "deleted").
	deleted atomic.Uint64
}

type headState struct {
	pos     uint64
	changed chan struct{}
}

var _ eventstore.Store = (*Store)(nil)

// Open opens (creating if needed) the event log in cfg.Dir, takes the
// file's exclusive lock (waiting at most cfg.LockTimeout for another process
// to release it) and starts the committer. ctx bounds the opening only.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open event log: %w", unavailable(err))
	}
	path := filepath.Join(cfg.Dir, FileName)
	switch err := verifyFile(path, cfg.LockTimeout); {
	case errors.Is(err, errLocked):
		return nil, fmt.Errorf("open event log %s: locked by another process (waited %s): %w", path, cfg.LockTimeout, unavailable(berrors.ErrTimeout))
	case errors.Is(err, ErrCorrupt):
		return nil, fmt.Errorf("open event log %s: %w; meetingd will not serve from it: restore the file from a backup, "+
			"or move it aside to start an empty log", path, err)
	case err != nil:
		return nil, fmt.Errorf("open event log %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: cfg.LockTimeout,
		// The freelist is rebuilt by a scan on open instead of being written
		// by every commit (as etcd does): fewer pages per commit.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		MaxSize:        int(cfg.MaxFileSize),
	})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open event log %s: locked by another process (waited %s): %w", path, cfg.LockTimeout, unavailable(err))
	case err != nil:
		return nil, fmt.Errorf("open event log %s: %w", path, unavailable(err))
	}
	s := &Store{
		cfg:           cfg,
		log:           log,
		db:            db,
		path:          path,
		done:          make(chan struct{}),
		reqs:          make(chan *appendReq),
		reqPool:       sync.Pool{New: newAppendReq},
		quit:          make(chan struct{}),
		committerDone: make(chan struct{}),
		commitTx:      (*bolt.Tx).Commit,
	}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open event log %s: %w", path, err)
	}
	s.head.Store(&headState{pos: s.seq, changed: make(chan struct{})})
	go s.commitLoop()
	log.Info("event log opened", "path", path, "head", s.seq, "log_id", s.id)
	return s, nil
}

// init creates the buckets, checks the format (upgrading a file of format 1)
// and finds the head. It then syncs the file: what a killed process left in
// the page cache is made durable before anyone reads it.
func (s *Store) init() error {
	var format uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return unavailable(err)
		}
		switch v := meta.Get(keyFormat); {
		case v == nil:
			if err := meta.Put(keyFormat, u64(formatVersion)); err != nil {
				return unavailable(err)
			}
			format = formatVersion
		case len(v) != 8 || (be64(v) != formatVersion && be64(v) != 1):
			return fmt.Errorf("unsupported file format %x (want %d, or 1 to upgrade)", v, formatVersion)
		default:
			format = be64(v)
		}
		switch v := meta.Get(keyLogID); {
		case v == nil:
			id := uuid.New()
			if err := meta.Put(keyLogID, id[:]); err != nil {
				return unavailable(err)
			}
			s.id = id.String()
		case len(v) != 16:
			return fmt.Errorf("corrupt log id %x", v)
		default:
			s.id = uuid.UUID(v).String()
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return unavailable(err)
			}
		}
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			if len(k) != 8 {
				return fmt.Errorf("corrupt position key %x", k)
			}
			s.seq = binary.BigEndian.Uint64(k)
		}
		// After a deletion of the newest events, positions go on after
		// the newest ever written (delete.go).
		if v := meta.Get(keySeq); len(v) == 8 {
			s.seq = max(s.seq, be64(v))
		}
		if v := meta.Get(keyDeleted); len(v) == 8 {
			s.deleted.Store(be64(v))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if format == 1 {
		s.log.Info("upgrading the event log from file format 1 to 2 (indexes kept per stream)", "path", s.path, "events", s.seq)
		last := s.cfg.Now()
		progress := func(_ int, events uint64) error {
			if now := s.cfg.Now(); now.Sub(last) >= upgradeLogEvery {
				last = now
				s.log.Info("upgrading the event log", "path", s.path, "events_indexed", events)
			}
			return nil
		}
		st, err := upgradeFormat1(s.db, upgradeChunk, progress)
		if err != nil {
			return fmt.Errorf("upgrade from file format 1: %w", err)
		}
		s.log.Info("event log upgraded to file format 2", "path", s.path, "streams", st.streams, "events", st.events, "took", st.took)
	}
	if err := s.db.View(s.cats.count); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Close stops admitting calls (they fail with eventstore.ErrClosed), ends
// live subscriptions (they yield eventstore.ErrClosed), waits for the appends
// and read batches in flight, stops the committer and closes the file.
// Closing again returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()

	s.ops.Wait()
	close(s.quit)
	<-s.committerDone
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close event log %s: %w", s.path, err)
	}
	s.log.Info("event log closed", "path", s.path, "head", s.seq)
	return nil
}

// Ping reports whether the store can serve: it fails with
// eventstore.ErrClosed after Close, and with eventstore.ErrUnavailable when
// the file cannot be read or when a failed commit requires a reopen (see
// Append).
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := s.enter(); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer s.ops.Done()
	return s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketEvents) == nil {
			return fmt.Errorf("ping: %w: events bucket missing", eventstore.ErrUnavailable)
		}
		return nil
	})
}

// LogID names this log: a random id written once, when the file is created
// (a file from an earlier release gets one on its first open). A log moved
// aside and replaced by a new file has another id, even at the same length;
// a copy of the file keeps it. The projections record it with their
// checkpoint to notice a replaced log.
func (s *Store) LogID() string { return s.id }

// Health reports whether the process can go on serving from this store: it
// fails (eventstore.ErrUnavailable) once a failed sync has left a commit in
// doubt, which only a restart resolves (see Append). It does no I/O; a
// closed store is not unhealthy.
func (s *Store) Health(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if err := s.broken(); err != nil {
		return fmt.Errorf("health: %w", unavailable(err))
	}
	return nil
}

// CommitStats counts the committer's work since Open.
type CommitStats struct {
	// Commits is the number of write transactions committed; each costs
	// one round of fsyncs (bbolt syncs the data pages, then the meta page).
	Commits uint64
	// Appends is the number of Append calls that wrote events.
	Appends uint64
	// Events is the number of events written.
	Events uint64
	// Failures is the number of commits that failed (every append in them
	// returned eventstore.ErrUnavailable).
	Failures uint64
}

// CommitStats returns the committer's counters, for metrics and for the
// group-commit test. It is safe to call at any time, also after Close.
func (s *Store) CommitStats() CommitStats {
	return CommitStats{
		Commits:  s.commits.Load(),
		Appends:  s.appends.Load(),
		Events:   s.events.Load(),
		Failures: s.failures.Load(),
	}
}

// enter admits an operation, which must call s.ops.Done when it ends. A
// store that failed (checkAfterFailure) admits none.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	if err := s.broken(); err != nil {
		return unavailable(err)
	}
	s.ops.Add(1)
	return nil
}

// view runs fn in a read transaction that sees only durable commits: it
// fails once the store has failed, which the committer decides before any
// reader can begin a transaction after the failed commit.
// Callers hold an admitted operation (enter).
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.commitMu.RLock()
	if err := s.broken(); err != nil {
		s.commitMu.RUnlock()
		return unavailable(err)
	}
	tx, err := s.db.Begin(false)
	s.commitMu.RUnlock()
	if err != nil {
		return unavailable(err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// unavailable marks a storage error (full disk, I/O error, file too large)
// as eventstore.ErrUnavailable, keeping the cause.
func unavailable(err error) error {
	if errors.Is(err, eventstore.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
}
