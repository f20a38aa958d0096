package readmodel

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/reports"
)

// Expired returns up to limit sessions, of every app, whose retention time
// is before cutoff (MEETINGD_RETENTION, package retention): the meeting's
// newest CometChat timestamp (domain.Meeting.LastEventAt); for a session
// with no CometChat event (a plan only, status scheduled) its plan's
// scheduled end. Sessions are read in time-index order (app, started_at):
// only the rows of meetings that started before cutoff are decoded, since
// a meeting's newest timestamp is never before its start, and the scan
// skips to the next app at the first that started later. Cost: O(apps ·
// log n + k) for k meetings started before cutoff.
func (s *Store) Expired(ctx context.Context, cutoff time.Time, limit int) ([]reports.SessionKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("readmodel: expired: %w", err)
	}
	cut := ceilUnix(cutoff) // t < cutoff ⇔ t < cut, for whole seconds
	var out []reports.SessionKey
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRows).Cursor()
		k, v := c.First()
		for n := 0; k != nil && len(out) < limit; n++ {
			if n%4096 == 4095 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			l, m := binary.Uvarint(k)
			if m <= 0 || l > uint64(len(k)-m) || len(k) < m+int(l)+8 {
				return errCorrupt
			}
			prefixLen := m + int(l)
			app := string(k[m:prefixLen])
			if readTime(k[prefixLen:prefixLen+8]) >= cut {
				k, v = c.Seek(prefixEnd(k[:prefixLen])) // the next app
				continue
			}
			var row struct {
				LastEventAt  time.Time  `json:"last_event_at"`
				ScheduledEnd *time.Time `json:"scheduled_end"`
			}
			if err := json.Unmarshal(v, &row); err != nil {
				return fmt.Errorf("row %x: %w", k, err)
			}
			at := row.LastEventAt
			if at.IsZero() && row.ScheduledEnd != nil {
				at = *row.ScheduledEnd
			}
			if !at.IsZero() && at.Before(cutoff) {
				out = append(out, reports.SessionKey{AppID: app, SessionID: string(k[prefixLen+8:])})
			}
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("readmodel: expired: %w", err)
	}
	return out, nil
}

// DeleteSessions deletes the sessions (retention): their records with the
// fold state, meeting rows, and every index entry (time, participant,
// open-meeting and series), in one transaction, and returns how many it
// found. Missing sessions are skipped, so a repeated call is harmless.
// The checkpoint is not touched: the runner must not hold the sessions'
// state in its cache (projections.Runner.Exclusive). The freed pages keep
// the old bytes until Scrub.
func (s *Store) DeleteSessions(ctx context.Context, keys []reports.SessionKey) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("readmodel: delete sessions: %w", err)
	}
	n := 0
	s.mu.RLock()
	defer s.mu.RUnlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		sessions, byTime, rows, byPerson := tx.Bucket(bucketSessions), tx.Bucket(bucketByTime), tx.Bucket(bucketRows), tx.Bucket(bucketByPerson)
		openSessions, open := tx.Bucket(bucketOpenSessions), tx.Bucket(bucketOpen)
		seriesOf, series := tx.Bucket(bucketSeriesOf), tx.Bucket(bucketSeries)
		var all []bucketKey
		for _, k := range keys {
			sk := sessionKey(k)
			v := sessions.Get(sk)
			if v == nil {
				continue
			}
			rec, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			ids, err := rec.participantIDs()
			if err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			dels := []bucketKey{{byTime, timeKey(k.AppID, rec.started, k.SessionID), 0}, {rows, timeKey(k.AppID, rec.started, k.SessionID), 1}}
			for _, id := range ids {
				dels = append(dels, bucketKey{byPerson, personKey(k.AppID, id, rec.started, k.SessionID), 2})
			}
			if ov := openSessions.Get(sk); ov != nil {
				st, err := decodeOpenState(ov)
				if err != nil {
					return fmt.Errorf("session %s/%s: open index: %w", k.AppID, k.SessionID, err)
				}
				dels = append(dels, bucketKey{open, openKey(st.code, st.last, k.AppID, k.SessionID), 3}, bucketKey{openSessions, sk, 4})
			}
			if sv := seriesOf.Get(sk); sv != nil {
				dels = append(dels, bucketKey{series, seriesKey(k.AppID, string(sv), k.SessionID), 5}, bucketKey{seriesOf, sk, 6})
			}
			dels = append(dels, bucketKey{sessions, sk, 7})
			all = append(all, dels...)
			n++
		}
		// In key order per bucket: neighbouring keys share leaf pages.
		slices.SortFunc(all, func(x, y bucketKey) int {
			if c := cmp.Compare(x.order, y.order); c != 0 {
				return c
			}
			return bytes.Compare(x.k, y.k)
		})
		for _, d := range all {
			if err := d.b.Delete(d.k); err != nil {
				return err
			}
		}
		s.trim()
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("readmodel: delete sessions: %w", err)
	}
	return n, nil
}

// bucketKey is a key of a bucket, to delete; order numbers the bucket.
type bucketKey struct {
	b     *bolt.Bucket
	k     []byte
	order int
}
