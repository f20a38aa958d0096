package readmodel

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// loadFillPercent is how full the bulk load packs the B-tree pages: keys
// arrive in order and nothing is inserted between them until the next
// write, so full pages are written half as often as bbolt's default of
// one half (a later write that inserts into a full page splits it).
const loadFillPercent = 1.0

// empty reports whether the store holds no session and no index entry: a
// new or just reset store, which Write fills by bulkLoad.
func empty(tx *bolt.Tx) bool {
	for _, name := range [][]byte{bucketSessions, bucketByTime, bucketByPerson, bucketRows, bucketOpen, bucketOpenSessions} {
		b := tx.Bucket(name)
		if b == nil {
			return false
		}
		if k, _ := b.Cursor().First(); k != nil {
			return false
		}
	}
	return true
}

// loader writes the encoded sessions of a batch (in key order, each once)
// to an empty store: every bucket is filled in key order, with full pages,
// and nothing is read back. It writes what Write's incremental path would:
// on an empty store there is no older version to keep, no stored facts and
// no old index entry to delete, and the open-meeting index holds the open
// sessions (TestBulkLoadMatchesIncremental).
type loader struct {
	tx                                                *bolt.Tx
	version                                           uint64
	sessions, byTime, byPerson, rows, open, openByKey *bolt.Bucket
	// The index and row entries, put in key order by finish.
	times         []timed
	people, opens []entry
	last          []byte // the key of the last session added
}

func newLoader(tx *bolt.Tx, version uint64, sessions int) *loader {
	l := &loader{
		tx: tx, version: version, sessions: tx.Bucket(bucketSessions), byTime: tx.Bucket(bucketByTime),
		byPerson: tx.Bucket(bucketByPerson), rows: tx.Bucket(bucketRows), open: tx.Bucket(bucketOpen),
		openByKey: tx.Bucket(bucketOpenSessions), times: make([]timed, 0, sessions),
	}
	for _, b := range []*bolt.Bucket{l.sessions, l.byTime, l.byPerson, l.rows, l.open, l.openByKey} {
		b.FillPercent = loadFillPercent
	}
	return l
}

// add puts the record of one session and gathers its index entries.
func (l *loader) add(e *encoded) error {
	k := e.key
	if k.AppID == "" || k.SessionID == "" {
		return fmt.Errorf("session %q/%q: empty app or session id", k.AppID, k.SessionID)
	}
	if l.last != nil && bytes.Compare(l.last, e.sk) >= 0 {
		return fmt.Errorf("session %s/%s: twice in one batch", k.AppID, k.SessionID)
	}
	l.last = e.sk
	if err := l.sessions.Put(e.sk, e.rec.encode(e.ids)); err != nil {
		return err
	}
	if err := putSeries(l.tx, e); err != nil {
		return err
	}
	if code := statusCode(e.status); isOpenCode(code) {
		if err := l.openByKey.Put(e.sk, openState{version: l.version, code: code, last: e.last}.encode()); err != nil {
			return err
		}
		l.opens = append(l.opens, entry{openKey(code, e.last, k.AppID, k.SessionID), nil})
	}
	tk := timeKey(k.AppID, e.rec.started, k.SessionID)
	l.times = append(l.times, timed{tk, e.summary, e.meeting})
	for _, r := range e.rows {
		l.people = append(l.people, entry{personKey(k.AppID, r.Participant, e.rec.started, k.SessionID), attendanceOf(e.status, r)})
	}
	return nil
}

// finish puts the gathered index entries and rows, each bucket in key order.
func (l *loader) finish() error {
	return putInOrder(l.byTime, l.rows, l.times, bucketEntries{l.byPerson, l.people}, bucketEntries{l.open, l.opens})
}
