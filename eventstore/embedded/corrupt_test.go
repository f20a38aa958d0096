package embedded_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// TestDamagedFileRefused damages a closed log file in the ways a failing
// disk, a bad copy or a full disk during a backup restore do — its tail cut
// off, pages zeroed or overwritten with garbage, the meta pages destroyed —
// and checks that Open refuses it with embedded.ErrCorrupt and a message
// that says what is wrong and what to do, instead of serving a log with
// events missing or crashing. Cutting off only the unused preallocated
// space past the last commit's pages loses nothing: that file opens and
// holds every event.
func TestDamagedFileRefused(t *testing.T) {
	const events = 800
	damages := []struct {
		name string
		// damage changes the file; hw is the end of the pages the last
		// commit uses, size the file's size.
		damage func(t *testing.T, f *os.File, hw, size int64)
		want   string // "" = opens intact; else substrings of the error, one of them (a|b)
	}{
		{"unused preallocated tail cut", func(t *testing.T, f *os.File, hw, size int64) { truncate(t, f, hw) }, ""},
		{"last used page cut", func(t *testing.T, f *os.File, hw, size int64) { truncate(t, f, hw-4096) }, "truncated"},
		{"one byte of the last used page cut", func(t *testing.T, f *os.File, hw, size int64) { truncate(t, f, hw-1) }, "truncated"},
		{"half the file cut", func(t *testing.T, f *os.File, hw, size int64) { truncate(t, f, hw/2) }, "truncated"},
		{"cut inside the meta pages", func(t *testing.T, f *os.File, hw, size int64) { truncate(t, f, 5000) }, "too small"},
		{"last used pages zeroed", func(t *testing.T, f *os.File, hw, size int64) { fill(t, f, hw-8*4096, 8*4096, 0) }, "damaged page"},
		// Half the file may fall on a page header or inside a record that spans
		// pages (the file's layout varies with the random event IDs): either
		// finding refuses the file.
		{"garbage in the middle", func(t *testing.T, f *os.File, hw, size int64) { fill(t, f, hw/2, 4*4096, 0xA5) }, "damaged page|corrupt record"},
		{"one garbage page near the start", func(t *testing.T, f *os.File, hw, size int64) { fill(t, f, 3*4096, 4096, 0x5A) }, "damaged page"},
		{"both meta pages destroyed", func(t *testing.T, f *os.File, hw, size int64) { fill(t, f, 0, 2*4096, 0x5A) }, "invalid database"},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			written := fillLog(t, dir, events)
			path := filepath.Join(dir, embedded.FileName)
			hw := highWater(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := f.Stat()
			if hw >= st.Size() && d.want == "" {
				t.Fatalf("the file (%d bytes) has no unused tail past %d", st.Size(), hw)
			}
			d.damage(t, f, hw, st.Size())
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := embedded.Open(t.Context(), embedded.Config{Dir: dir}, slog.New(slog.DiscardHandler))
			if d.want != "" {
				if err == nil {
					s.Close()
					t.Fatalf("a damaged file (%s) opened", d.name)
				}
				msg := err.Error()
				if !errors.Is(err, embedded.ErrCorrupt) || !containsAny(msg, strings.Split(d.want, "|")) || !strings.Contains(msg, path) ||
					!strings.Contains(msg, "restore the file from a backup") {
					t.Fatalf("error %q: want ErrCorrupt naming the file, %q, and what to do", msg, d.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			got := map[uuid.UUID]bool{}
			for ev, err := range s.ReadAll(t.Context(), eventstore.Start, eventstore.Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				got[ev.ID] = true
			}
			for _, id := range written {
				if !got[id] {
					t.Fatalf("event %s lost", id)
				}
			}
			if len(got) != len(written) {
				t.Fatalf("%d events read, %d written", len(got), len(written))
			}
			// And it takes appends again.
			if _, err := s.Append(t.Context(), "session-a/after", eventstore.Any, eventstore.Event{ID: uuid.New(), Type: "t", Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fillLog appends n events of ~350 bytes to 50 streams and closes the log.
func fillLog(t *testing.T, dir string, n int) []uuid.UUID {
	t.Helper()
	s, err := embedded.Open(t.Context(), embedded.Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, 0, n)
	for i := range n {
		id := uuid.New()
		ev := eventstore.Event{ID: id, Type: "t", Data: fmt.Appendf(nil, `{"i":%d,"pad":"%0300d"}`, i, i)}
		if _, err := s.Append(t.Context(), fmt.Sprintf("session-a/%d", i%50), eventstore.Any, ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// highWater is the end of the pages that the file's last commit uses.
func highWater(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var hw int64
	_ = db.View(func(tx *bolt.Tx) error { hw = tx.Size(); return nil })
	return hw
}

func truncate(t *testing.T, f *os.File, size int64) {
	t.Helper()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func fill(t *testing.T, f *os.File, off, n int64, b byte) {
	t.Helper()
	if _, err := f.WriteAt([]byte(strings.Repeat(string([]byte{b}), int(n))), off); err != nil {
		t.Fatal(err)
	}
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
