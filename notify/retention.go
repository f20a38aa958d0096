package notify

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/reports"
)

// DeleteSessions removes the sessions from the outbox (retention): each
// session's state (quiet time, last report's hash) and due entry, and
// every delivery of it — record, body and pending indexes, whatever its
// status — matched by session id and by the app of its subscription. A
// delivery still pending is then never sent. It returns how many
// deliveries it deleted; missing sessions are skipped. The old bytes stay
// in the file's free pages until Scrub.
func (s *Store) DeleteSessions(ctx context.Context, keys []reports.SessionKey) (int, error) {
	want := make(map[reports.SessionKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	deleted := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		deleted = 0
		sess, due := tx.Bucket(bSessions), tx.Bucket(bDue)
		for _, k := range keys {
			key := sessKey(k)
			v := sess.Get(key)
			if v == nil {
				continue
			}
			var st sessionState
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("session %s/%s: %w", k.AppID, k.SessionID, err)
			}
			if st.Due != 0 {
				if err := due.Delete(timeKey(nil, st.Due, key)); err != nil {
					return err
				}
			}
			if err := sess.Delete(key); err != nil {
				return err
			}
		}
		apps := map[string]string{} // subscription → app
		var gone []Delivery
		c := tx.Bucket(bDeliveries).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("delivery %s: %w", k, err)
			}
			app, ok := apps[d.SubscriptionID]
			if !ok {
				if sv := tx.Bucket(bSubs).Get([]byte(d.SubscriptionID)); sv != nil {
					var r subRecord
					if err := json.Unmarshal(sv, &r); err != nil {
						return fmt.Errorf("subscription %s: %w", d.SubscriptionID, err)
					}
					app = r.AppID
				}
				apps[d.SubscriptionID] = app
			}
			if want[reports.SessionKey{AppID: app, SessionID: d.SessionID}] {
				gone = append(gone, d)
			}
		}
		for _, d := range gone {
			if err := unqueue(tx, d); err != nil {
				return err
			}
			for _, del := range []struct {
				b []byte
				k []byte
			}{
				{bBySub, timeKey([]byte(d.SubscriptionID), d.CreatedAt.UnixNano(), []byte(d.ID))},
				{bBodies, []byte(d.ID)},
				{bDeliveries, []byte(d.ID)},
			} {
				if err := tx.Bucket(del.b).Delete(del.k); err != nil {
					return err
				}
			}
			deleted++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("notify: delete sessions: %w", err)
	}
	return deleted, nil
}
