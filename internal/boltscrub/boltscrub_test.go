package boltscrub_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/internal/boltscrub"
)

const secret = "Secret-Name-0042"

// TestFreePages: a value deleted or overwritten leaves its bytes in the
// file's free pages until FreePages zeroes them; the live data stays
// readable, also after a reopen.
func TestFreePages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		value  string // the secret's value, under key "s"
		change func(b *bolt.Bucket) error
	}{
		{"deleted", secret, func(b *bolt.Bucket) error { return b.Delete([]byte("s")) }},
		{"overwritten", secret, func(b *bolt.Bucket) error { return b.Put([]byte("s"), []byte("replaced")) }},
		{"overflow pages deleted", strings.Repeat(secret, 2000), func(b *bolt.Bucket) error { return b.Delete([]byte("s")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			update := func(f func(b *bolt.Bucket) error) {
				t.Helper()
				if err := db.Update(func(tx *bolt.Tx) error {
					b, err := tx.CreateBucketIfNotExists([]byte("b"))
					if err != nil {
						return err
					}
					return f(b)
				}); err != nil {
					t.Fatal(err)
				}
			}
			update(func(b *bolt.Bucket) error {
				for i := range 500 {
					if err := b.Put(fmt.Appendf(nil, "k-%04d", i), []byte("kept-value")); err != nil {
						return err
					}
				}
				return b.Put([]byte("s"), []byte(tc.value))
			})
			update(tc.change)
			if !fileHolds(t, path, secret) {
				t.Fatal("the freed pages hold nothing before the scrub: the test proves nothing")
			}
			var zeroed int
			if err := db.Update(func(tx *bolt.Tx) error {
				var err error
				zeroed, err = boltscrub.FreePages(t.Context(), tx)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if zeroed == 0 {
				t.Error("no page zeroed")
			}
			if fileHolds(t, path, secret) {
				t.Error("after the scrub the file still holds the secret")
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if db, err = bolt.Open(path, 0o600, nil); err != nil {
				t.Fatal(err)
			}
			if err := db.View(func(tx *bolt.Tx) error {
				if v := tx.Bucket([]byte("b")).Get([]byte("k-0007")); string(v) != "kept-value" {
					t.Errorf("a live value after the scrub and a reopen: %q", v)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFreePagesNeedsAWriteTransaction(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		if _, err := boltscrub.FreePages(context.Background(), tx); err == nil {
			t.Error("a read transaction was accepted")
		}
		return nil
	})
}

func fileHolds(t *testing.T, path, s string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(data, []byte(s))
}
