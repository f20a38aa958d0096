package notify

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/reports"
)

// Store is the notifier's durable state, one bbolt file beside the read
// models (docs/adr/0021): the checkpoint of its projection, each session's
// quiet time and last notified report, the subscriptions it has seen, and
// every delivery with its attempts.
//
//	bucket      key                                  value
//	meta        "checkpoint"                         Position (JSON)
//	subs        subscription id                      subRecord (JSON)
//	appsubs     app key | subscription id            empty
//	sessions    session key                          sessionState (JSON)
//	due         quiet-until (8, ns) | session key    empty
//	deliveries  delivery id                          Delivery (JSON)
//	bodies      delivery id                          the body sent
//	queue       subscription id | next (8) | id      empty (pending only)
//	bysub       subscription id | created (8) | id   empty
//	age         created (8) | id                     empty (pending only)
//
// Safe for concurrent use (bbolt serialises writers).
type Store struct {
	db *bolt.DB
}

var (
	bMeta       = []byte("meta")
	bSubs       = []byte("subs")
	bAppSubs    = []byte("appsubs")
	bSessions   = []byte("sessions")
	bDue        = []byte("due")
	bDeliveries = []byte("deliveries")
	bBodies     = []byte("bodies")
	bQueue      = []byte("queue")
	bBySub      = []byte("bysub")
	bAge        = []byte("age")
	kCheckpoint = []byte("checkpoint")
)

// subIDLen is the length of a subscription id (a UUID's text).
const subIDLen = 36

// OpenStore opens (creating it if needed) the notifier's file at path.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("notify store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("notify store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bSubs, bAppSubs, bSessions, bDue, bDeliveries, bBodies, bQueue, bBySub, bAge} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("notify store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// sessionState is what the notifier keeps of one session.
type sessionState struct {
	// LastAt is the RecordedAt (ns) of the newest event of the stream.
	LastAt int64 `json:"last_at"`
	// LastPos is the log position of that event.
	LastPos eventstore.Position `json:"last_pos"`
	// Due is the due-index time (ns) of the session; 0: not waiting.
	Due int64 `json:"due,omitempty"`
	// Hash is the SHA-256 (hex) of the last report notified; empty: none.
	Hash string `json:"hash,omitempty"`
}

func sessKey(k reports.SessionKey) []byte {
	b := make([]byte, 0, 2+len(k.AppID)+len(k.SessionID))
	b = binary.BigEndian.AppendUint16(b, uint16(len(k.AppID)))
	b = append(b, k.AppID...)
	return append(b, k.SessionID...)
}

func parseSessKey(b []byte) (reports.SessionKey, bool) {
	if len(b) < 2 {
		return reports.SessionKey{}, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return reports.SessionKey{}, false
	}
	return reports.SessionKey{AppID: string(b[2 : 2+n]), SessionID: string(b[2+n:])}, true
}

func appKey(app string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(app)))
	return append(b, app...)
}

func timeKey(prefix []byte, ns int64, suffix []byte) []byte {
	b := make([]byte, 0, len(prefix)+8+len(suffix))
	b = append(b, prefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(max(ns, 0)))
	return append(b, suffix...)
}

// checkpoint returns the projection's checkpoint.
func (s *Store) checkpoint() (eventstore.Position, error) {
	var p eventstore.Position
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get(kCheckpoint)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return p, fmt.Errorf("notify checkpoint: %w", err)
	}
	return p, nil
}

// touch is the newest event of one session within a batch.
type touch struct {
	at  int64
	pos eventstore.Position
}

// subChange is a subscription event within a batch.
type subChange struct {
	rec     subRecord
	deleted string // id of a deleted subscription
}

// applyBatch writes one batch of the projection: the sessions' quiet
// times, the subscription changes, and the checkpoint, atomically. It
// returns the subscriptions whose pending deliveries it cancelled.
func (s *Store) applyBatch(touched map[reports.SessionKey]touch, subs []subChange, cp eventstore.Position, finalAfter time.Duration, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		sess, due := tx.Bucket(bSessions), tx.Bucket(bDue)
		for k, t := range touched {
			key := sessKey(k)
			var st sessionState
			if v := sess.Get(key); v != nil {
				if err := json.Unmarshal(v, &st); err != nil {
					return fmt.Errorf("session state: %w", err)
				}
			}
			if st.Due != 0 {
				if err := due.Delete(timeKey(nil, st.Due, key)); err != nil {
					return err
				}
			}
			st.LastAt = max(st.LastAt, t.at)
			if st.LastPos.Compare(t.pos) < 0 {
				st.LastPos = t.pos
			}
			st.Due = st.LastAt + int64(finalAfter)
			if err := due.Put(timeKey(nil, st.Due, key), nil); err != nil {
				return err
			}
			if err := putJSON(sess, key, st); err != nil {
				return err
			}
		}
		for _, c := range subs {
			if c.deleted != "" {
				if err := deleteSub(tx, c.deleted, now); err != nil {
					return err
				}
				continue
			}
			if tx.Bucket(bSubs).Get([]byte(c.rec.ID)) != nil {
				continue
			}
			if err := putJSON(tx.Bucket(bSubs), []byte(c.rec.ID), c.rec); err != nil {
				return err
			}
			if err := tx.Bucket(bAppSubs).Put(append(appKey(c.rec.AppID), c.rec.ID...), nil); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bMeta), kCheckpoint, cp)
	})
	if err != nil {
		return fmt.Errorf("notify: write batch: %w", err)
	}
	return nil
}

// deleteSub marks a subscription deleted and fails its pending deliveries.
func deleteSub(tx *bolt.Tx, id string, now time.Time) error {
	subs := tx.Bucket(bSubs)
	var rec subRecord
	v := subs.Get([]byte(id))
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	rec.Deleted = true
	if err := putJSON(subs, []byte(id), rec); err != nil {
		return err
	}
	q := tx.Bucket(bQueue)
	prefix := []byte(id)
	var keys [][]byte
	c := q.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		did := string(k[subIDLen+8:])
		d, err := getDelivery(tx, did)
		if err != nil {
			return err
		}
		d.Status, d.NextAttemptAt, d.LastError = StatusFailed, nil, "subscription deleted"
		if err := unqueue(tx, d); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bDeliveries), []byte(did), d); err != nil {
			return err
		}
	}
	return nil
}

// nextDue returns the earliest quiet-until time of the due index.
func (s *Store) nextDue() (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bDue).Cursor().First()
		if len(k) >= 8 {
			t, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k))), true
		}
		return nil
	})
	return t, ok, err
}

// dueSession is a session whose quiet time has come.
type dueSession struct {
	key   reports.SessionKey
	state sessionState
}

// dueSessions lists up to limit sessions quiet until no later than now.
func (s *Store) dueSessions(now time.Time, limit int) ([]dueSession, error) {
	var out []dueSession
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDue).Cursor()
		sess := tx.Bucket(bSessions)
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k)) > now.UnixNano() {
				break
			}
			key, ok := parseSessKey(k[8:])
			if !ok {
				continue
			}
			var st sessionState
			if v := sess.Get(k[8:]); v != nil {
				if err := json.Unmarshal(v, &st); err != nil {
					return err
				}
			}
			out = append(out, dueSession{key: key, state: st})
		}
		return nil
	})
	return out, err
}

// decision is the outcome for one due session.
type decision struct {
	key  reports.SessionKey
	due  int64  // the due-index time it was listed under
	hash string // the report's hash ("" : leave the session's hash alone)
	// deliveries owed, with their bodies.
	deliveries []Delivery
	body       []byte
}

// decide commits decisions: each session leaves the due index (unless a
// newer event moved it meanwhile), takes its new hash, and its deliveries
// are queued.
func (s *Store) decide(ds []decision) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		sess, due := tx.Bucket(bSessions), tx.Bucket(bDue)
		for _, d := range ds {
			key := sessKey(d.key)
			var st sessionState
			if v := sess.Get(key); v != nil {
				if err := json.Unmarshal(v, &st); err != nil {
					return err
				}
			}
			if st.Due != d.due {
				continue // a newer event came: decided again later
			}
			if err := due.Delete(timeKey(nil, st.Due, key)); err != nil {
				return err
			}
			st.Due = 0
			if d.hash != "" {
				st.Hash = d.hash
			}
			if err := putJSON(sess, key, st); err != nil {
				return err
			}
			for _, dl := range d.deliveries {
				if tx.Bucket(bDeliveries).Get([]byte(dl.ID)) != nil {
					continue
				}
				if err := tx.Bucket(bBodies).Put([]byte(dl.ID), d.body); err != nil {
					return err
				}
				if err := putDelivery(tx, dl); err != nil {
					return err
				}
				if err := tx.Bucket(bBySub).Put(timeKey([]byte(dl.SubscriptionID), dl.CreatedAt.UnixNano(), []byte(dl.ID)), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: commit decisions: %w", err)
	}
	return nil
}

// activeSubs returns app's subscriptions that are not deleted.
func (s *Store) activeSubs(app string) ([]subRecord, error) {
	var out []subRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := appKey(app)
		c := tx.Bucket(bAppSubs).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var r subRecord
			v := tx.Bucket(bSubs).Get(k[len(prefix):])
			if v == nil {
				continue
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !r.Deleted {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// putDelivery writes a delivery and its pending indexes.
func putDelivery(tx *bolt.Tx, d Delivery) error {
	if err := putJSON(tx.Bucket(bDeliveries), []byte(d.ID), d); err != nil {
		return err
	}
	if d.Status != StatusPending || d.NextAttemptAt == nil {
		return nil
	}
	if err := tx.Bucket(bQueue).Put(timeKey([]byte(d.SubscriptionID), d.NextAttemptAt.UnixNano(), []byte(d.ID)), nil); err != nil {
		return err
	}
	return tx.Bucket(bAge).Put(timeKey(nil, d.CreatedAt.UnixNano(), []byte(d.ID)), nil)
}

// unqueue removes a delivery's pending indexes (as stored now).
func unqueue(tx *bolt.Tx, d Delivery) error {
	if d.NextAttemptAt != nil {
		if err := tx.Bucket(bQueue).Delete(timeKey([]byte(d.SubscriptionID), d.NextAttemptAt.UnixNano(), []byte(d.ID))); err != nil {
			return err
		}
	}
	return tx.Bucket(bAge).Delete(timeKey(nil, d.CreatedAt.UnixNano(), []byte(d.ID)))
}

func getDelivery(tx *bolt.Tx, id string) (Delivery, error) {
	var d Delivery
	v := tx.Bucket(bDeliveries).Get([]byte(id))
	if v == nil {
		return d, fmt.Errorf("delivery %s: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("delivery %s: %w", id, err)
	}
	return d, nil
}

// claim returns the first pending delivery of sub due by now that is not
// in skip; without one, the time of the earliest not in skip (ok false,
// any true), or nothing at all (any false).
func (s *Store) claim(sub string, now time.Time, skip func(string) bool) (id string, next time.Time, ok, any bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(sub)
		c := tx.Bucket(bQueue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) <= subIDLen+8 {
				continue
			}
			did := string(k[subIDLen+8:])
			if skip(did) {
				continue
			}
			at := int64(binary.BigEndian.Uint64(k[subIDLen:]))
			any = true
			if at <= now.UnixNano() {
				id, ok = did, true
				return nil
			}
			next = time.Unix(0, at)
			return nil
		}
		return nil
	})
	return id, next, ok, any, err
}

// queuedSubs lists the subscriptions with pending deliveries.
func (s *Store) queuedSubs() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bQueue).Cursor()
		for k, _ := c.First(); k != nil; {
			if len(k) < subIDLen {
				k, _ = c.Next()
				continue
			}
			sub := string(k[:subIDLen])
			out = append(out, sub)
			// Past this subscription's keys.
			k, _ = c.Seek(append([]byte(sub), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		}
		return nil
	})
	return out, err
}

// sendable is what one attempt needs.
type sendable struct {
	d    Delivery
	body []byte
	sub  subRecord
}

// forSend loads a pending delivery, its body and its subscription.
func (s *Store) forSend(id string) (sendable, error) {
	var x sendable
	err := s.db.View(func(tx *bolt.Tx) error {
		d, err := getDelivery(tx, id)
		if err != nil {
			return err
		}
		x.d = d
		x.body = bytes.Clone(tx.Bucket(bBodies).Get([]byte(id)))
		v := tx.Bucket(bSubs).Get([]byte(d.SubscriptionID))
		if v == nil {
			return fmt.Errorf("subscription %s: %w", d.SubscriptionID, ErrNotFound)
		}
		return json.Unmarshal(v, &x.sub)
	})
	return x, err
}

// result is the outcome of one attempt.
type result struct {
	id       string
	sub      string
	at       time.Time
	code     int
	err      string
	dur      time.Duration
	finished time.Time
}

// outcome is what recordResults did with a result.
type outcome int

const (
	outcomeIgnored outcome = iota
	outcomeDelivered
	outcomeRetry
	outcomeDead
)

// recordResults writes attempts' results in one transaction; schedule
// gives the next attempt after a failure (ok false: dead-letter).
func (s *Store) recordResults(rs []result, schedule func(d Delivery, now time.Time) (time.Time, bool)) ([]outcome, error) {
	outs := make([]outcome, len(rs))
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, r := range rs {
			d, err := getDelivery(tx, r.id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if d.Status != StatusPending {
				continue // deleted subscription meanwhile
			}
			if err := unqueue(tx, d); err != nil {
				return err
			}
			d.Attempts++
			d.LastStatusCode, d.LastError = r.code, r.err
			d.History = append(d.History, Attempt{At: r.at.UTC(), StatusCode: r.code, Error: r.err, DurationMS: r.dur.Milliseconds()})
			if len(d.History) > maxHistory {
				d.History = d.History[len(d.History)-maxHistory:]
			}
			switch next, ok := schedule(d, r.finished); {
			case r.err == "" && r.code >= 200 && r.code < 300:
				at := r.finished.UTC()
				d.Status, d.DeliveredAt, d.NextAttemptAt = StatusDelivered, &at, nil
				outs[i] = outcomeDelivered
			case ok:
				next = next.UTC()
				d.NextAttemptAt = &next
				outs[i] = outcomeRetry
			default:
				d.Status, d.NextAttemptAt = StatusFailed, nil
				outs[i] = outcomeDead
			}
			if err := putDelivery(tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notify: record attempts: %w", err)
	}
	return outs, nil
}

// retry puts a delivery of sub back in the queue, due now, with a new
// retry window.
func (s *Store) retry(sub, id string, now time.Time) (Delivery, error) {
	var d Delivery
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if d, err = getDelivery(tx, id); err != nil {
			return err
		}
		if d.SubscriptionID != sub {
			return fmt.Errorf("delivery %s: %w", id, ErrNotFound)
		}
		if err := unqueue(tx, d); err != nil {
			return err
		}
		at := now.UTC()
		d.Status, d.NextAttemptAt, d.RetryFrom = StatusPending, &at, at
		return putDelivery(tx, d)
	})
	return d, err
}

// DeliveryPage is one page of a subscription's delivery log.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	NextCursor *string    `json:"next_cursor"`
}

// list returns sub's deliveries, newest first, of one status ("" : any),
// up to limit, from after cursor (a key from a previous page).
func (s *Store) list(sub, status string, limit int, cursor []byte) ([]Delivery, []byte, error) {
	var out []Delivery
	var next []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(sub)
		c := tx.Bucket(bBySub).Cursor()
		var k []byte
		if cursor != nil {
			if !bytes.HasPrefix(cursor, prefix) {
				return errBadCursor
			}
			c.Seek(cursor)
			k, _ = c.Prev()
		} else {
			k, _ = c.Seek(append(bytes.Clone(prefix), 0xff))
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(out) == limit {
				// The cursor is the last key returned: the next page starts before it.
				last := out[len(out)-1]
				next = timeKey(prefix, last.CreatedAt.UnixNano(), []byte(last.ID))
				return nil
			}
			d, err := getDelivery(tx, string(k[subIDLen+8:]))
			if err != nil {
				return err
			}
			if status == "" || d.Status == status {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, next, err
}

var errBadCursor = &InvalidError{Param: "cursor", Reason: "not a cursor this server gave out"}

// pendingStats returns the number of pending deliveries and the creation
// time of the oldest.
func (s *Store) pendingStats() (n int, oldest time.Time, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAge)
		n = b.Stats().KeyN
		if k, _ := b.Cursor().First(); len(k) >= 8 {
			oldest = time.Unix(0, int64(binary.BigEndian.Uint64(k)))
		}
		return nil
	})
	return n, oldest, err
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}
