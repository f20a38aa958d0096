package embedded

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrCorrupt is returned by Open for a log file that is truncated or
// damaged. The store never opens such a file: it would serve a log with
// events missing, or crash on the damaged pages later.
var ErrCorrupt = errors.New("the event log file is damaged")

// errLocked reports that another process holds the file's lock.
var errLocked = errors.New("locked by another process")

// verifyFile checks an existing log file before it is opened for writing,
// through a read-only open. Both meta pages unreadable, a file shorter than
// the pages its last commit references (truncated), a page that is not
// what its parent says (garbage, zeros), keys out of order, a gap in the
// event positions or a record that does not decode make ErrCorrupt, with
// what was found. A missing or empty file is a new log.
//
// It reads every page of the file once (the events decoded), which bbolt's
// freelist rebuild on open does as well. It comes first because bbolt,
// opening a damaged file for writing, panics in a goroutine of its own, and
// touching pages past the end of a truncated file faults; here such a
// fault becomes a recovered panic (debug.SetPanicOnFault) and an error.
func verifyFile(path string, lockTimeout time.Duration) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return unavailable(err)
	case info.Size() == 0:
		return nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: lockTimeout})
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return errLocked
	case errors.As(err, &pathErr):
		return unavailable(err)
	case err != nil:
		// ErrInvalid (both meta pages bad), ErrChecksum, ErrVersionMismatch,
		// "file size too small".
		return fmt.Errorf("%w: %v (file of %d bytes)", ErrCorrupt, err, info.Size())
	}
	defer func() { _ = db.Close() }()
	return db.View(func(tx *bolt.Tx) error {
		if need := tx.Size(); need > info.Size() {
			return fmt.Errorf("%w: truncated: the file has %d bytes, its last commit (transaction %d) needs %d",
				ErrCorrupt, info.Size(), tx.ID(), need)
		}
		if err := walkFile(tx); err != nil {
			return fmt.Errorf("%w: %w (transaction %d)", ErrCorrupt, err, tx.ID())
		}
		return nil
	})
}

// walkFile reads every key and value of every bucket, checking key order,
// and decodes every event, checking that positions run 1, 2, 3, … without
// a gap other than the positions of deleted streams (meta "deleted"). bbolt's assertions on damaged pages and memory faults are recovered
// into an error.
func walkFile(tx *bolt.Tx) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("a damaged page: %v", r)
		}
	}()
	// DeleteStreams leaves gaps, as many positions as it deleted.
	var gaps uint64
	if m := tx.Bucket(bucketMeta); m != nil {
		if v := m.Get(keyDeleted); len(v) == 8 {
			gaps = be64(v)
		}
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walkBucket(string(name), b, &gaps) })
}

// walkBucket walks b; gaps is how many missing positions deletions explain.
func walkBucket(name string, b *bolt.Bucket, gaps *uint64) error {
	events := name == string(bucketEvents)
	var prev []byte
	var want uint64 = 1
	var scratch arena // each record is decoded and dropped
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			return fmt.Errorf("bucket %s: key %x after %x: out of order", name, k, prev)
		}
		prev = k
		if v == nil { // a nested bucket
			if child := b.Bucket(k); child != nil {
				if err := walkBucket(name+"/"+string(k), child, gaps); err != nil {
					return err
				}
			}
			continue
		}
		if !events {
			_ = crc32.ChecksumIEEE(v) // touches every page of the value
			continue
		}
		if len(k) != 8 {
			return fmt.Errorf("events: key %x is not a position", k)
		}
		pos := be64(k)
		if pos > want && pos-want <= *gaps {
			*gaps -= pos - want // deleted streams' positions
			want = pos
		}
		if pos != want {
			return fmt.Errorf("events: position %d where %d was due: %d events missing", pos, want, pos-want)
		}
		scratch.reuse()
		if _, err := decodeRecord(v, pos, &scratch); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		want++
	}
	return nil
}
