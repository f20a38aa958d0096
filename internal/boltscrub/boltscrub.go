package boltscrub

import (
	"context"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// FreePages zeroes every free page of the file of tx's database, then
// fsyncs the file, and returns how many pages it zeroed. ctx is checked
// every 65,536 pages.
func FreePages(ctx context.Context, tx *bolt.Tx) (zeroed int, err error) {
	if !tx.Writable() {
		return 0, fmt.Errorf("boltscrub: a write transaction is needed")
	}
	db := tx.DB()
	f, err := os.OpenFile(db.Path(), os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	pageSize := db.Info().PageSize
	zero := make([]byte, pageSize)
	for id := 2; ; { // pages 0 and 1 are the meta pages
		if id%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return zeroed, err
			}
		}
		info, err := tx.Page(id)
		if err != nil {
			return zeroed, err
		}
		if info == nil { // past the last page
			break
		}
		if info.Type == "free" {
			if _, err := f.WriteAt(zero, int64(id)*int64(pageSize)); err != nil {
				return zeroed, err
			}
			zeroed++
			id++
			continue
		}
		id += 1 + info.OverflowCount
	}
	return zeroed, f.Sync()
}
