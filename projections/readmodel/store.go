package readmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/mapped"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// FileName is the store's file inside Config.Dir.
const FileName = "readmodels.db"

// initialMmapSize is the size of the store's first memory mapping.
const initialMmapSize = 1 << 30

// Config configures a Store.
type Config struct {
	// Dir is the data directory; the store lives in Dir/readmodels.db and Dir
	// is created if missing. Required.
	Dir string
	// MappedBudget is how far, in bytes, the process's file-backed resident
	// memory may grow before the store releases the pages of its file that
	// queries and writes mapped (see internal/mapped: they stay in the page
	// cache). 0 means DefaultMappedBudget; a negative budget never releases.
	MappedBudget int64
	// LockTimeout bounds the wait for the file lock that another process may
	// hold on the store (default 10s; Open's ctx deadline shortens it).
	LockTimeout time.Duration
}

// DefaultMappedBudget is the MappedBudget of a zero Config.
const DefaultMappedBudget = 128 << 20

func (c *Config) setDefaults() {
	if c.MappedBudget == 0 {
		c.MappedBudget = DefaultMappedBudget
	}
	if c.LockTimeout == 0 {
		c.LockTimeout = 10 * time.Second
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("readmodel: Dir is required"))
	}
	if c.LockTimeout < 0 {
		errs = append(errs, errors.New("readmodel: LockTimeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Store is the embedded read-model store: the runner's projections.StateStore
// and the reports.Store behind /v1.
//
// It is safe for concurrent use: queries run in parallel with each other and
// with Write (readers see the last committed batch); Writes are serialized
// by the engine, and Reset waits for everything else. After Close every
// method returns an error.
type Store struct {
	// mu is held exclusively by Reset while it replaces the file, and
	// shared by every other use of db and rel.
	mu     sync.RWMutex
	db     *bolt.DB
	rel    *mapped.Releaser // nil: pages are never released
	path   string
	opts   *bolt.Options
	budget int64
	log    *slog.Logger
}

var (
	_ projections.StateStore = (*Store)(nil)
	_ reports.Store          = (*Store)(nil)
)

// Open opens (creating if needed) the store in cfg.Dir.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: open: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("readmodel: open: %w", err)
	}
	timeout := cfg.LockTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	s := &Store{
		path: filepath.Join(cfg.Dir, FileName), budget: cfg.MappedBudget, log: log,
		opts: &bolt.Options{
			Timeout:      timeout,
			FreelistType: bolt.FreelistMapType,
			// The freelist is written by every commit (NoFreelistSync
			// false): rebuilding it on open instead reads every page of
			// the file, which made the whole file resident in serve
			// (3.7 GB of RSS and a 14–30 s start with 1,000,000 meetings;
			// BenchmarkServe in cmd/meetingd). A store written without it
			// gets its freelist on the first commit.
			NoFreelistSync: false,
			// Map 1 GiB of address space from the start (virtual memory
			// only: resident pages are those read or written). Growing
			// the mapping makes bbolt copy every key and value that the
			// open write transaction holds out of the old mapping, once
			// per doubling: 3.7 of 21.9 CPU-s of a 1,000,000-event
			// rebuild written in one transaction (BenchmarkRebuild).
			InitialMmapSize: initialMmapSize,
		},
	}
	if err := s.openFile(); err != nil {
		return nil, fmt.Errorf("readmodel: open %s: %w", s.path, err)
	}
	log.Info("read-model store open", "path", s.path)
	return s, nil
}

// openFile opens (creating if needed) the file, watches its mapped pages
// and initializes it.
func (s *Store) openFile() error {
	db, err := bolt.Open(s.path, 0o600, s.opts)
	if err != nil {
		return err
	}
	rel, err := mapped.New(s.path, s.budget)
	if err != nil {
		_ = db.Close()
		return err
	}
	s.db, s.rel = db, rel
	if err := db.Update(s.init); err != nil {
		return errors.Join(err, db.Close(), rel.Close())
	}
	return nil
}

// init creates the buckets of an empty store and checks the layout of an
// existing one.
func (s *Store) init(tx *bolt.Tx) error {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keyLayout); len(v) != 1 || v[0] != LayoutVersion {
			// Read models are derived data: a store of another layout is
			// emptied, and the runner's catch-up rebuilds it from the log.
			s.log.Warn("read models written with another layout are emptied and rebuilt from the event log",
				"layout", v, "want", LayoutVersion)
			if err := dropAll(tx); err != nil {
				return err
			}
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keyLayout, []byte{LayoutVersion})
}

// dropAll deletes every bucket of the file, known to this version or not.
func dropAll(tx *bolt.Tx) error {
	var names [][]byte
	if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		names = append(names, bytes.Clone(name))
		return nil
	}); err != nil {
		return err
	}
	for _, name := range names {
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("drop bucket %s: %w", name, err)
		}
	}
	return nil
}

// Close closes the store, waiting for running queries and writes.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.Close()
	if rerr := s.rel.Close(); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("readmodel: close: %w", err)
	}
	return nil
}

// Ping reports whether the store can serve reads.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error { return nil })
}

// view runs fn in a read transaction and checks that the store's buckets exist.
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("readmodel: store not initialized")
		}
		err := fn(tx)
		s.trim()
		return err
	})
}

// MappedReleases returns how many times the store released the mapped
// pages of its file (see Config.MappedBudget).
func (s *Store) MappedReleases() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rel.Releases()
}

// trim releases the pages of the file mapped by queries and writes once
// they exceed the budget (see Config.MappedBudget). It must run inside a
// transaction, which keeps bbolt from replacing the mapping meanwhile.
func (s *Store) trim() {
	if released, err := s.rel.Check(); err != nil {
		s.log.Warn("release mapped read-model pages", "err", err)
	} else if released {
		s.log.Debug("released mapped read-model pages", "releases", s.rel.Releases())
	}
}

// Reset drops every read model, fold state and the checkpoint: it waits
// for running queries and writes, then replaces the file with a new, empty
// one. Freeing every page of a large store instead took longer than the
// rebuild that follows (1,000,000 events: 168,000 → 258,000 events/s), and
// the bulk load then wrote into the freed pages scattered over the old file
// rather than appending a compact one. A crash during Reset leaves the old
// file, no file or the new empty one: each opens as a store to rebuild.
func (s *Store) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("readmodel: reset: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := errors.Join(s.db.Close(), s.rel.Close())
	if err == nil {
		if err = os.Remove(s.path); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err == nil {
		err = s.openFile()
	}
	if err != nil {
		return fmt.Errorf("readmodel: reset: %w", err)
	}
	s.log.Info("read models reset")
	return nil
}

// Checkpoint returns the checkpoint of the last committed batch (the zero
// Checkpoint for an empty store).
func (s *Store) Checkpoint(ctx context.Context) (projections.Checkpoint, error) {
	var cp projections.Checkpoint
	if err := ctx.Err(); err != nil {
		return cp, fmt.Errorf("readmodel: checkpoint: %w", err)
	}
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		cp, err = readCheckpoint(tx)
		return err
	})
	if err != nil {
		return projections.Checkpoint{}, fmt.Errorf("readmodel: checkpoint: %w", err)
	}
	return cp, nil
}

func readCheckpoint(tx *bolt.Tx) (projections.Checkpoint, error) {
	var cp projections.Checkpoint
	v := tx.Bucket(bucketMeta).Get(keyCheckpoint)
	if v == nil {
		return cp, nil
	}
	if err := json.Unmarshal(v, &cp); err != nil {
		return cp, fmt.Errorf("decode checkpoint: %w", err)
	}
	return cp, nil
}

// LoadFacts returns the stored fold state of keys, read in one transaction.
func (s *Store) LoadFacts(ctx context.Context, keys []reports.SessionKey) (map[reports.SessionKey]*domain.Facts, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: load facts: %w", err)
	}
	out := make(map[reports.SessionKey]*domain.Facts, len(keys))
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		for i, k := range keys {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			v := b.Get(sessionKey(k))
			if v == nil {
				continue
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			if len(rec.facts) == 0 {
				continue
			}
			f := domain.NewFacts(k.AppID, k.SessionID)
			data, err := s2.Decode(nil, rec.facts)
			if err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			if err := codec.UnmarshalFacts(data, f); err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			out[k] = f
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("readmodel: load facts: %w", err)
	}
	return out, nil
}

// encoded is one session update, encoded before the write transaction starts
// so that the engine's writer lock is held only for the B-tree work.
type encoded struct {
	key     reports.SessionKey
	sk      []byte
	rec     record
	meeting []byte // the meeting without participants, JSON: its rows entry
	ids     []string
	summary []byte
	status  domain.Status
	last    int64 // LastEventAt, Unix seconds (open-meeting index)
	rows    []domain.Attendance
	index   int // in the batch, until encoded
	// series and seriesVal are the session's series index entry (series.go).
	series    string
	seriesVal []byte
}

func encode(u projections.SessionUpdate, sk []byte, version uint64) (encoded, error) {
	m := u.Meeting
	e := encoded{key: u.Key, sk: sk, status: m.Status, rows: joined(m.Participants), summary: summaryOf(m)}
	e.encodeSeries(&m)
	e.rec = record{version: version, started: unixOf(m.StartedAt)}
	e.last = unixOf(m.LastEventAt)
	var err error
	if u.Facts != nil {
		f, err := codec.MarshalFacts(u.Facts)
		if err != nil {
			return e, err
		}
		e.rec.facts = s2.Encode(nil, f)
	}
	if e.meeting, err = codec.MeetingRow(m); err != nil {
		return e, err
	}
	people, err := codec.Participants(&m)
	if err != nil {
		return e, err
	}
	e.rec.people = s2.Encode(nil, people)
	e.ids = make([]string, len(e.rows))
	for i, r := range e.rows {
		e.ids[i] = r.Participant
	}
	return e, nil
}

// encoder encodes the sessions of a batch in key order, on every CPU, in
// chunks that the write transaction takes in order as they become ready:
// the B-tree work of one chunk overlaps the encoding of the next ones.
type encoder struct {
	enc    []encoded // in key order
	ready  []chan struct{}
	errs   []error
	next   atomic.Int64
	cancel atomic.Bool
	wg     sync.WaitGroup
}

// encodeChunk is the number of sessions in a chunk of the encoder.
const encodeChunk = 256

// startEncoding starts encoding b's sessions; the caller must call wait.
func startEncoding(b projections.Batch) *encoder {
	n := len(b.Sessions)
	e := &encoder{enc: make([]encoded, n)}
	for i, u := range b.Sessions {
		e.enc[i].sk = sessionKey(u.Key)
		e.enc[i].index = i
	}
	slices.SortStableFunc(e.enc, func(x, y encoded) int { return bytes.Compare(x.sk, y.sk) })
	chunks := (n + encodeChunk - 1) / encodeChunk
	e.ready, e.errs = make([]chan struct{}, chunks), make([]error, chunks)
	for c := range e.ready {
		e.ready[c] = make(chan struct{})
	}
	for range min(runtime.GOMAXPROCS(0), chunks) {
		e.wg.Go(func() {
			for c := int(e.next.Add(1) - 1); c < chunks; c = int(e.next.Add(1) - 1) {
				if !e.cancel.Load() {
					e.errs[c] = e.encodeRange(b, c*encodeChunk, min((c+1)*encodeChunk, n))
				}
				close(e.ready[c])
			}
		})
	}
	return e
}

func (e *encoder) encodeRange(b projections.Batch, lo, hi int) error {
	for i := lo; i < hi; i++ {
		x := &e.enc[i]
		u := b.Sessions[x.index]
		var err error
		if *x, err = encode(u, x.sk, b.Version); err != nil {
			return fmt.Errorf("encode %s/%s: %w", u.Key.AppID, u.Key.SessionID, err)
		}
	}
	return nil
}

// each calls fn with each encoded session, in key order, as they become
// ready; it stops at the first error.
func (e *encoder) each(fn func(*encoded) error) error {
	for c, ready := range e.ready {
		<-ready
		if err := e.errs[c]; err != nil {
			return err
		}
		for i := c * encodeChunk; i < min((c+1)*encodeChunk, len(e.enc)); i++ {
			if err := fn(&e.enc[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// wait stops the encoding of chunks not yet started and waits for the rest.
func (e *encoder) wait() {
	e.cancel.Store(true)
	e.wg.Wait()
}

// Write commits the batch in one fsynced transaction: each session's record
// (facts and meeting) and index entries, then the checkpoint. A session whose
// stored version is newer than b.Version is left as it is (an equal version
// is written again); a session written without Facts keeps its stored facts;
// the checkpoint never moves back. The sessions are encoded on every CPU
// while the transaction puts those already encoded, in key order; a batch
// written to an empty store is bulk-loaded (see loader).
func (s *Store) Write(ctx context.Context, b projections.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("readmodel: write: %w", err)
	}
	cpData, err := json.Marshal(b.Checkpoint)
	if err != nil {
		return fmt.Errorf("readmodel: write: encode checkpoint: %w", err)
	}
	enc := startEncoding(b)
	defer enc.wait()
	if err := s.write(ctx, b, enc, cpData); err != nil {
		if ctx.Err() == nil {
			// A commit that failed half-way through its page writes (a
			// full disk) leaves bbolt's in-memory state (freelist,
			// mapping) behind the file: later commits were seen to
			// succeed without their index entries (TestDiskFull). The
			// file's last committed meta is what to trust: open it again.
			if rerr := s.reopen(); rerr != nil {
				err = errors.Join(err, fmt.Errorf("reopen after a failed write: %w", rerr))
			}
		}
		return fmt.Errorf("readmodel: write: %w", err)
	}
	return nil
}

// reopen closes the file and opens it again.
func (s *Store) reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := errors.Join(s.db.Close(), s.rel.Close()); err != nil {
		return err
	}
	return s.openFile()
}

// write is Write's transaction.
func (s *Store) write(ctx context.Context, b projections.Batch, enc *encoder, cpData []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		w := &writer{sessions: tx.Bucket(bucketSessions), byTime: tx.Bucket(bucketByTime), byPerson: tx.Bucket(bucketByPerson), rows: tx.Bucket(bucketRows)}
		if w.sessions == nil {
			return errors.New("store not initialized")
		}
		if empty(tx) {
			l := newLoader(tx, b.Version, len(b.Sessions))
			if err := enc.each(l.add); err != nil {
				return err
			}
			if err := l.finish(); err != nil {
				return err
			}
		} else {
			err := enc.each(func(e *encoded) error {
				if err := indexOpen(tx, e, b.Version); err != nil {
					return err
				}
				return w.put(tx, e)
			})
			if err != nil {
				return err
			}
			if err := w.putIndexes(); err != nil {
				return err
			}
		}
		cur, err := readCheckpoint(tx)
		if err != nil {
			return err
		}
		if b.Checkpoint.Position.Compare(cur.Position) >= 0 {
			if err := tx.Bucket(bucketMeta).Put(keyCheckpoint, cpData); err != nil {
				return err
			}
		}
		// The write read pages of the file too: release them if need be,
		// while the transaction keeps the mapping in place.
		s.trim()
		// A cancelled write is rolled back whole rather than committed late.
		return ctx.Err()
	})
}

type writer struct {
	sessions, byTime, byPerson, rows *bolt.Bucket
	// times and people are the index entries and rows to put, gathered
	// from the whole batch and put in key order by putIndexes.
	times  []timed
	people []entry
}

// entry is an index key and value.
type entry struct{ k, v []byte }

// putIndexes puts the gathered index entries and rows (see putInOrder).
// Entries never collide with the deletes of put: every key ends with its
// session id, and put deletes only its own session's old entries.
func (w *writer) putIndexes() error {
	err := putInOrder(w.byTime, w.rows, w.times, bucketEntries{w.byPerson, w.people})
	w.times, w.people = nil, nil
	return err
}

// put writes one session and gathers its index entries (see putIndexes),
// deleting the index entries of its previous version that they do not replace.
func (w *writer) put(tx *bolt.Tx, e *encoded) error {
	k := e.key
	if k.AppID == "" || k.SessionID == "" {
		return fmt.Errorf("session %q/%q: empty app or session id", k.AppID, k.SessionID)
	}
	if v := w.sessions.Get(e.sk); v != nil {
		old, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
		}
		if old.version > e.rec.version {
			return nil // an older version: the stored state is newer
		}
		if e.rec.facts == nil {
			e.rec.facts = bytes.Clone(old.facts)
		}
		oldIDs, err := old.participantIDs()
		if err != nil {
			return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
		}
		moved := old.started != e.rec.started
		if moved {
			tk := timeKey(k.AppID, old.started, k.SessionID)
			if err := w.byTime.Delete(tk); err != nil {
				return err
			}
			if err := w.rows.Delete(tk); err != nil {
				return err
			}
		}
		var keep map[string]struct{}
		if !moved {
			keep = make(map[string]struct{}, len(e.ids))
			for _, p := range e.ids {
				keep[p] = struct{}{}
			}
		}
		for _, p := range oldIDs {
			if _, ok := keep[p]; ok {
				continue // overwritten below
			}
			if err := w.byPerson.Delete(personKey(k.AppID, p, old.started, k.SessionID)); err != nil {
				return err
			}
		}
	}
	if err := w.sessions.Put(e.sk, e.rec.encode(e.ids)); err != nil {
		return err
	}
	if err := putSeries(tx, e); err != nil {
		return err
	}
	tk := timeKey(k.AppID, e.rec.started, k.SessionID)
	w.times = append(w.times, timed{tk, e.summary, e.meeting})
	for _, r := range e.rows {
		w.people = append(w.people, entry{personKey(k.AppID, r.Participant, e.rec.started, k.SessionID), attendanceOf(e.status, r)})
	}
	return nil
}

// hasPrefixIn reports whether k is non-nil, starts with prefix and is at least lo.
func hasPrefixIn(k, prefix, lo []byte) bool {
	return k != nil && bytes.HasPrefix(k, prefix) && bytes.Compare(k, lo) >= 0
}
