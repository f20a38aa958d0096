package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/meetingd/meetingd/eventstore"
)

// RewriteFunc returns the event to store in place of rec and true, or false
// to keep rec as it is. The event's type may not change; its ID may (the
// stream's ID index follows). It must be deterministic on what it returns
// for a record it has rewritten already (false): a resumed rewrite calls it
// again on the chunk that a crash interrupted.
type RewriteFunc func(ctx context.Context, rec eventstore.RecordedEvent) (eventstore.Event, bool, error)

// RewriteOptions tune Rewrite.
type RewriteOptions struct {
	// Chunk is how many records one transaction rewrites (default 20,000).
	Chunk int
	// LockTimeout bounds the wait for the file's lock (default 2s).
	LockTimeout time.Duration
	// AfterChunk, when set, is called after each committed chunk n with the
	// next position to rewrite; an error stops the rewrite there (tests).
	AfterChunk func(n int, next uint64) error
	// Log logs progress (nil: nothing).
	Log *slog.Logger
}

// RewriteStats says what a Rewrite did.
type RewriteStats struct {
	Records, Rewritten uint64
	Compacted          bool
	AlreadyDone        bool
	Took               time.Duration
}

// ErrNeedsUpgrade: Rewrite found a log of format 1; Open upgrades it.
var ErrNeedsUpgrade = errors.New("embedded: the log is of format 1: open it once to upgrade it first")

// Rewrite changes the records of the closed log in dir/events.db in place,
// every one through fn, in chunks of one transaction each, and then, if any
// changed, copies the file into a compacted one that replaces it (renamed
// over it, fsynced): no free page of the log keeps the bytes of a record as
// it was. name identifies the rewrite: the next position is kept in the
// file's meta bucket under "rewrite/"+name, so that a rewrite killed at any
// point resumes where it stopped (a rewrite done is recorded there too and
// costs nothing more). The log must not be open (the file lock is taken).
// A missing file is nothing to rewrite.
func Rewrite(ctx context.Context, dir, name string, fn RewriteFunc, opts RewriteOptions) (RewriteStats, error) {
	start := time.Now()
	if opts.Chunk <= 0 {
		opts.Chunk = 20_000
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 2 * time.Second
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(dir, FileName)
	tmp := path + ".rewrite"
	var st RewriteStats
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return st, fmt.Errorf("rewrite %s: locked by another process: %w", path, unavailable(err))
	}
	if err != nil {
		return st, fmt.Errorf("rewrite %s: %w", path, unavailable(err))
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	key := []byte("rewrite/" + name)
	changedKey := []byte("rewrite/" + name + "/changed")
	var next uint64 = 1
	var changed bool
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil // empty file: created by an Open that wrote nothing yet
		}
		if f := meta.Get(keyFormat); f != nil && be64(f) == 1 {
			return ErrNeedsUpgrade
		}
		if v := meta.Get(key); v != nil {
			if bytes.Equal(v, []byte("done")) {
				st.AlreadyDone = true
				return nil
			}
			next = be64(v)
		}
		changed = meta.Get(changedKey) != nil
		return nil
	})
	if err != nil || st.AlreadyDone {
		return st, err
	}
	_ = os.Remove(tmp) // a compaction that a crash interrupted starts again
	lastLog := time.Now()
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var more, chunkChanged bool
		err := db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bucketMeta)
			if err != nil {
				return unavailable(err)
			}
			events, index := tx.Bucket(bucketEvents), tx.Bucket(bucketIndex)
			if events == nil {
				return nil // nothing written yet
			}
			if index == nil {
				return fmt.Errorf("%w: no index bucket", ErrCorrupt)
			}
			type put struct{ k, v []byte }
			// written after the scan: bbolt's cursor must not see its bucket change
			var recPuts, idPuts []put
			var dels [][]byte
			c := events.Cursor()
			var a arena
			i := 0
			k, v := c.Seek(u64(next))
			for ; k != nil && i < opts.Chunk; k, v = c.Next() {
				a.reuse()
				pos := be64(k)
				rec, err := decodeRecord(v, pos, &a)
				if err != nil {
					return fmt.Errorf("%w: %w", ErrCorrupt, err)
				}
				st.Records++
				ev, ok, err := fn(ctx, rec)
				if err != nil {
					return fmt.Errorf("rewrite position %d (%s): %w", pos, rec.Stream, err)
				}
				i++
				next = pos + 1
				if !ok {
					continue
				}
				if ev.Type != rec.Type {
					return fmt.Errorf("rewrite position %d: the type changed from %s to %s", pos, rec.Type, ev.Type)
				}
				st.Rewritten++
				chunkChanged = true
				recPuts = append(recPuts, put{bytes.Clone(k), encodeRecord(&ev, rec.Stream, rec.Revision, rec.RecordedAt)})
				if ev.ID != rec.ID {
					newKey := appendIDKey(nil, rec.Stream, ev.ID)
					if index.Get(newKey) != nil {
						return fmt.Errorf("%w: rewrite position %d: stream %s holds event %s already", ErrCorrupt, pos, rec.Stream, ev.ID)
					}
					dels = append(dels, appendIDKey(nil, rec.Stream, rec.ID))
					idPuts = append(idPuts, put{newKey, u64(pos)})
				}
			}
			more = k != nil
			for _, d := range dels {
				if err := index.Delete(d); err != nil {
					return unavailable(err)
				}
			}
			for _, p := range recPuts {
				if err := events.Put(p.k, p.v); err != nil {
					return unavailable(err)
				}
			}
			for _, p := range idPuts {
				if err := index.Put(p.k, p.v); err != nil {
					return unavailable(err)
				}
			}
			if chunkChanged {
				if err := meta.Put(changedKey, []byte{1}); err != nil {
					return unavailable(err)
				}
			}
			return meta.Put(key, u64(next))
		})
		if err != nil {
			return st, err
		}
		changed = changed || chunkChanged
		if time.Since(lastLog) > upgradeLogEvery {
			log.Info("rewriting the event log", "rewrite", name, "records", st.Records, "rewritten", st.Rewritten, "next_position", next)
			lastLog = time.Now()
		}
		if opts.AfterChunk != nil {
			if err := opts.AfterChunk(n, next); err != nil {
				return st, err
			}
		}
		if !more {
			break
		}
	}
	finish := func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Delete(changedKey); err != nil {
			return err
		}
		return meta.Put(key, []byte("done"))
	}
	if !changed {
		st.Took = time.Since(start)
		return st, db.Update(finish)
	}
	// Compact into tmp, mark it done, and put it in place of the log.
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return st, fmt.Errorf("rewrite: compact: %w", unavailable(err))
	}
	err = bolt.Compact(dst, db, 64<<20)
	if err == nil {
		err = dst.Update(finish)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncPath(tmp)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return st, fmt.Errorf("rewrite: compact: %w", unavailable(err))
	}
	db.Close()
	db = nil
	if err := os.Rename(tmp, path); err != nil {
		return st, fmt.Errorf("rewrite: %w", unavailable(err))
	}
	if err := syncPath(dir); err != nil {
		return st, fmt.Errorf("rewrite: %w", unavailable(err))
	}
	st.Compacted = true
	st.Took = time.Since(start)
	log.Info("event log rewritten", "rewrite", name, "records", st.Records, "rewritten", st.Rewritten, "took", st.Took)
	return st, nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
