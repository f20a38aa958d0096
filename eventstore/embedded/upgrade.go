package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Format 1 kept each index in a bucket of its own:
//
//	ids:  event ID ‖ stream → position
//	revs: len(stream) ‖ stream ‖ revision → position
//
// An append then dirtied one page of ids (event IDs are random, so a page
// anywhere in the bucket), one of revs and one of streams for every event.
// Format 2 keeps both under the stream's prefix in bucketIndex. The records
// and the streams bucket are the same in both formats.
var (
	bucketIDsV1  = []byte("ids")
	bucketRevsV1 = []byte("revs")
)

// upgradeChunk is the number of events that one transaction of the upgrade
// indexes: bbolt holds a transaction's dirty pages in memory.
const upgradeChunk = 50_000

// upgradeLogEvery is how often Open logs the upgrade's progress.
const upgradeLogEvery = 10 * time.Second

type upgradeStats struct {
	streams, events uint64
	took            time.Duration
	lastStream      []byte // the stream of the last event indexed
}

// upgradeFormat1 builds bucketIndex of a format-1 file from its revs bucket
// and the records it points at (the records are the source of truth), chunk
// events per transaction, then, in one last transaction, checks that the
// ids bucket holds as many event IDs as were indexed, deletes ids and revs
// and records format 2. A crash on the way
// leaves a file of format 1 whose index is partly built: the next Open
// starts again, and writing an entry again is harmless. afterChunk, when
// not nil, is called after each committed chunk n with the number of
// events indexed so far (Open logs progress; tests stop it there).
func upgradeFormat1(db *bolt.DB, chunk int, afterChunk func(n int, events uint64) error) (upgradeStats, error) {
	start := time.Now()
	var st upgradeStats
	var from []byte // the next revs key to index; nil starts at the first
	for n := 1; ; n++ {
		next, err := upgradeChunkFrom(db, from, chunk, &st)
		if err != nil {
			return st, err
		}
		if afterChunk != nil {
			if err := afterChunk(n, st.events); err != nil {
				return st, err
			}
		}
		if next == nil {
			break
		}
		from = next
	}
	err := db.Update(func(tx *bolt.Tx) error {
		if ids := tx.Bucket(bucketIDsV1); ids != nil {
			if n := uint64(ids.Stats().KeyN); n != st.events {
				return fmt.Errorf("%w: the ids index of format 1 holds %d event IDs, its revs index %d events", ErrCorrupt, n, st.events)
			}
		}
		for _, name := range [][]byte{bucketIDsV1, bucketRevsV1} {
			if err := tx.DeleteBucket(name); err != nil {
				return unavailable(fmt.Errorf("delete bucket %s: %w", name, err))
			}
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, u64(formatVersion))
	})
	st.took = time.Since(start)
	return st, err
}

// upgradeChunkFrom indexes up to chunk events of the revs bucket from key
// from on, in one transaction, and returns the key to go on from (nil at
// the end).
func upgradeChunkFrom(db *bolt.DB, from []byte, chunk int, st *upgradeStats) ([]byte, error) {
	var next []byte
	err := db.Update(func(tx *bolt.Tx) error {
		revs, events := tx.Bucket(bucketRevsV1), tx.Bucket(bucketEvents)
		if revs == nil || events == nil {
			return fmt.Errorf("%w: format 1 without its revs or events bucket", ErrCorrupt)
		}
		index, err := tx.CreateBucketIfNotExists(bucketIndex)
		if err != nil {
			return unavailable(err)
		}
		type entry struct{ key, pos []byte }
		entries := make([]entry, 0, 2*chunk)
		var slab []byte // keys and values of entries, which index.Put references until the commit
		add := func(key []byte, pos []byte) {
			at := len(slab)
			slab = append(slab, key...)
			slab = append(slab, pos...)
			entries = append(entries, entry{key: slab[at : at+len(key)], pos: slab[at+len(key):]})
		}
		c := revs.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		key := make([]byte, 0, 64)
		for ; k != nil; k, v = c.Next() {
			if len(entries) >= 2*chunk {
				next = bytes.Clone(k)
				break
			}
			stream, rev, err := parseRevKeyV1(k)
			if err != nil || len(v) != 8 {
				return fmt.Errorf("%w: revs key %x: not a format-1 revision key (%v)", ErrCorrupt, k, err)
			}
			rec := events.Get(v)
			if rec == nil {
				return fmt.Errorf("%w: revs key %x points at missing position %d", ErrCorrupt, k, be64(v))
			}
			d := decoder{b: rec}
			id, recRev, _ := d.header()
			recStream := d.bytes()
			if d.err != nil || recRev != rev || !bytes.Equal(recStream, stream) {
				return fmt.Errorf("%w: revs key %x points at position %d, a record of another event", ErrCorrupt, k, be64(v))
			}
			key = append(append(binary.AppendUvarint(key[:0], uint64(len(stream))), stream...), tagRev)
			add(binary.BigEndian.AppendUint64(key, rev), v)
			key = append(append(binary.AppendUvarint(key[:0], uint64(len(stream))), stream...), tagID)
			add(append(key, id[:]...), v)
			if st.events == 0 || !bytes.Equal(stream, st.lastStream) {
				st.streams++
				st.lastStream = append(st.lastStream[:0], stream...)
			}
			st.events++
		}
		// In key order, bbolt fills its pages one after another.
		slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
		for _, e := range entries {
			if err := index.Put(e.key, e.pos); err != nil {
				return unavailable(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// parseRevKeyV1 splits a format-1 revs key, len(stream) ‖ stream ‖
// revision, aliasing k.
func parseRevKeyV1(k []byte) (stream []byte, rev uint64, err error) {
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) != n+8 {
		return nil, 0, errCorrupt
	}
	return k[w : w+int(n)], be64(k[w+int(n):]), nil
}
