package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/internal/boltscrub"
)

// RewriteBodies replaces the stored body of every delivery of the given
// sessions (by session id) with rewrite's answer, when it says the body
// changed (an erasure pseudonymises them; rewrite checks the body's app).
// A delivery still pending is then sent with the new body. It returns how
// many bodies changed. The old bytes stay in the file's free pages until
// Scrub.
func (s *Store) RewriteBodies(ctx context.Context, sessions map[string]bool, rewrite func(body []byte) ([]byte, bool)) (int, error) {
	changed := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		bodies := tx.Bucket(bBodies)
		c := tx.Bucket(bDeliveries).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("delivery %s: %w", k, err)
			}
			if !sessions[d.SessionID] {
				continue
			}
			body := bodies.Get(k)
			if body == nil {
				continue
			}
			out, ok := rewrite(body)
			if !ok {
				continue
			}
			if err := bodies.Put(k, out); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("notify: rewrite bodies: %w", err)
	}
	return changed, nil
}

// ErrBusy is Scrub's answer while a read transaction that began before
// it is open (its pages may be free by then): try again later.
var ErrBusy = errors.New("notify: store busy")

// Scrub overwrites the file's free pages with zeros in place and fsyncs
// it (see readmodel.Store.Scrub), in a write transaction begun while no
// read transaction is open, so that no page it zeroes can still be read.
func (s *Store) Scrub(ctx context.Context) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if s.db.Stats().OpenTxN > 0 {
			return ErrBusy
		}
		_, err := boltscrub.FreePages(ctx, tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: scrub: %w", err)
	}
	return nil
}
