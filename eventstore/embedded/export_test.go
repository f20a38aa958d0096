package embedded

import (
	"fmt"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// FailNextSync makes the next commit of s fail as a failed fsync does. With
// inDoubt the commit's pages and meta page reach the file before the error
// (bbolt's last sync failed: the file shows the commit, its durability is
// unknown); without, the sync of the data pages fails and the transaction
// is rolled back. Call it while no append is in flight.
func FailNextSync(s *Store, inDoubt bool) {
	armed := true
	s.commitTx = func(tx *bolt.Tx) error {
		if !armed {
			return tx.Commit()
		}
		armed = false
		if !inDoubt {
			_ = tx.Rollback()
			return fmt.Errorf("fdatasync: %w", syscall.EIO)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		return fmt.Errorf("fdatasync: %w", syscall.EIO)
	}
}
