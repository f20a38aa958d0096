package readmodel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/reports"
)

// The open-meeting index lists the meetings without a known end (live or
// abandoned) by status and newest CometChat timestamp, so that the scheduled
// jobs find the stale ones in O(log n + k) instead of scanning every meeting:
//
//	bucket         key                                         value
//	idx_open       status(1) | last_event_at | app | session   empty
//	open_sessions  app | session                               version(8) status(1) last_event_at(8)
//
// open_sessions remembers which idx_open entry a session has, so that Write
// replaces it without decoding the stored meeting; a session that ends
// leaves both buckets.
var (
	bucketOpen         = []byte("idx_open")
	bucketOpenSessions = []byte("open_sessions")
)

// openKey is the idx_open key of a session.
func openKey(code byte, last int64, app, session string) []byte {
	b := make([]byte, 0, 1+8+2+len(app)+len(session))
	b = append(b, code)
	b = appendTime(b, last)
	b = appendString(b, app)
	return append(b, session...)
}

// parseOpenKey splits an idx_open key.
func parseOpenKey(k []byte) (code byte, last int64, app, session string, err error) {
	if len(k) < 1+8+1 {
		return 0, 0, "", "", errCorrupt
	}
	code, last = k[0], readTime(k[1:9])
	rest := k[9:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l > uint64(len(rest)-n) {
		return 0, 0, "", "", errCorrupt
	}
	return code, last, string(rest[n : n+int(l)]), string(rest[n+int(l):]), nil
}

// parseSessionKey splits a sessions-bucket key.
func parseSessionKey(k []byte) (reports.SessionKey, error) {
	l, n := binary.Uvarint(k)
	if n <= 0 || l > uint64(len(k)-n) {
		return reports.SessionKey{}, errCorrupt
	}
	return reports.SessionKey{AppID: string(k[n : n+int(l)]), SessionID: string(k[n+int(l):])}, nil
}

// openState is an open_sessions value.
type openState struct {
	version uint64
	code    byte
	last    int64
}

func (s openState) encode() []byte {
	b := make([]byte, 0, 17)
	b = binary.BigEndian.AppendUint64(b, s.version)
	b = append(b, s.code)
	return appendTime(b, s.last)
}

func decodeOpenState(v []byte) (openState, error) {
	if len(v) != 17 {
		return openState{}, errCorrupt
	}
	return openState{version: binary.BigEndian.Uint64(v), code: v[8], last: readTime(v[9:])}, nil
}

func isOpenCode(code byte) bool { return code == codeLive || code == codeAbandoned }

// indexOpen keeps the open-meeting index of one written session: Write calls
// it in its transaction for every session of the batch, before the session's
// record is replaced. Like the record, a state older than the stored one is
// ignored.
func indexOpen(tx *bolt.Tx, e *encoded, version uint64) error {
	byKey, idx := tx.Bucket(bucketOpenSessions), tx.Bucket(bucketOpen)
	if byKey == nil || idx == nil {
		return errors.New("open-meeting index not initialized")
	}
	code := statusCode(e.status)
	want := openState{version: version, code: code, last: e.last}
	if v := byKey.Get(e.sk); v != nil {
		old, err := decodeOpenState(v)
		if err != nil {
			return fmt.Errorf("session %s/%s: open index: %w", e.key.AppID, e.key.SessionID, err)
		}
		if old.version > version {
			return nil
		}
		if old.code == code && old.last == e.last {
			return byKey.Put(e.sk, want.encode()) // same entry; remember the version
		}
		if err := idx.Delete(openKey(old.code, old.last, e.key.AppID, e.key.SessionID)); err != nil {
			return err
		}
	} else if !isOpenCode(code) {
		return nil // the common case of a session that is not open: one lookup
	} else if v := tx.Bucket(bucketSessions).Get(e.sk); v != nil {
		// Not indexed, but stored: skip it if the stored record is newer
		// (it ended in a later batch).
		rec, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("session %s/%s: %w", e.key.AppID, e.key.SessionID, err)
		}
		if rec.version > version {
			return nil
		}
	}
	if !isOpenCode(code) {
		return byKey.Delete(e.sk)
	}
	if err := byKey.Put(e.sk, want.encode()); err != nil {
		return err
	}
	return idx.Put(openKey(code, e.last, e.key.AppID, e.key.SessionID), nil)
}

// OpenMeetings lists open meetings of one status, of every app, by their
// newest CometChat timestamp (see reports.OpenQuery). It reads only the
// index: O(log n + limit).
func (s *Store) OpenMeetings(ctx context.Context, q reports.OpenQuery) ([]reports.OpenMeeting, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: open meetings: %w", err)
	}
	q, err := q.Normalize()
	if err != nil {
		return nil, fmt.Errorf("readmodel: open meetings: %w", err)
	}
	code, limit := statusCode(q.Status), q.Limit
	prefix := []byte{code}
	lo := prefix
	if !q.From.IsZero() {
		lo = appendTime([]byte{code}, ceilUnix(q.From))
	}
	var after []byte
	if q.After != nil {
		after = openKey(code, unixOf(q.After.LastEventAt), q.After.Key.AppID, q.After.Key.SessionID)
		if bytes.Compare(after, lo) > 0 {
			lo = after
		}
	}
	var hi []byte // exclusive; nil: the end of the status's range
	if !q.To.IsZero() {
		hi = appendTime([]byte{code}, ceilUnix(q.To))
	}
	out := make([]reports.OpenMeeting, 0, min(limit, 64))
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOpen)
		if b == nil {
			return errors.New("open-meeting index not initialized")
		}
		c := b.Cursor()
		for k, _ := c.Seek(lo); hasPrefixIn(k, prefix, lo) && len(out) < limit; k, _ = c.Next() {
			if hi != nil && bytes.Compare(k, hi) >= 0 {
				break
			}
			if after != nil && bytes.Equal(k, after) {
				continue
			}
			_, last, app, session, err := parseOpenKey(k)
			if err != nil {
				return err
			}
			m := reports.OpenMeeting{Key: reports.SessionKey{AppID: app, SessionID: session}, Status: q.Status}
			if last != 0 {
				m.LastEventAt = time.Unix(last, 0).UTC()
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("readmodel: open meetings: %w", err)
	}
	return out, nil
}
