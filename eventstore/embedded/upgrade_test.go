package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/eventstore"
)

// v1Event is one event of a format-1 file written by writeFormat1.
type v1Event struct {
	stream string
	rev    uint64
	pos    uint64
	ev     eventstore.Event
}

// writeFormat1 writes, with bbolt directly, the file that the format-1
// store left after appending n events round-robin-ish to streams: the
// layout of that release, spelt out here on its own (not through the
// package's current key functions).
func writeFormat1(t *testing.T, dir string, streams []string, n int) []v1Event {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []v1Event
	err = db.Update(func(tx *bolt.Tx) error {
		b := map[string]*bolt.Bucket{}
		for _, name := range []string{"meta", "events", "ids", "revs", "streams"} {
			bk, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			b[name] = bk
		}
		if err := b["meta"].Put([]byte("format"), binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		next := map[string]uint64{}
		for i := range n {
			stream := streams[(i*7+i/3)%len(streams)]
			rev, pos := next[stream], uint64(i+1)
			next[stream]++
			e := eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: fmt.Appendf(nil, `{"i":%d}`, i), Metadata: []byte(`{}`)}
			out = append(out, v1Event{stream: stream, rev: rev, pos: pos, ev: e})
			p := binary.BigEndian.AppendUint64(nil, pos)
			rk := binary.AppendUvarint(nil, uint64(len(stream)))
			rk = binary.BigEndian.AppendUint64(append(rk, stream...), rev)
			head := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, rev), pos)
			for _, kv := range []struct {
				bucket string
				k, v   []byte
			}{
				{"events", p, encodeRecord(&e, stream, rev, at)},
				{"ids", append(e.ID[:], stream...), p},
				{"revs", rk, p},
				{"streams", []byte(stream), head},
			} {
				if err := b[kv.bucket].Put(kv.k, kv.v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// streamsV1 share prefixes and hold a NUL, so that index keys of different
// streams sort next to each other.
var streamsV1 = []string{"a", "ab", "a\x00b", "b", "session-app-1-" + strings.Repeat("x", 200), "session-app-1-y"}

func TestUpgradeFormat1(t *testing.T) {
	const n = 300
	tests := []struct {
		name  string
		chunk int // 0: only Open upgrades, with upgradeChunk
		stop  int // stop the first upgrade after this many chunks (0: do not)
	}{
		{name: "by Open, one chunk"},
		{name: "chunks of 7 events", chunk: 7},
		{name: "chunks of 1 event", chunk: 1},
		{name: "killed after 3 chunks, finished by Open", chunk: 7, stop: 3},
		{name: "killed after the last chunk, finished by Open", chunk: 1000, stop: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := writeFormat1(t, dir, streamsV1, n)
			if tc.chunk > 0 {
				db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				errStop := errors.New("killed")
				var after func(int, uint64) error
				if tc.stop > 0 {
					after = func(n int, _ uint64) error {
						if n == tc.stop {
							return errStop
						}
						return nil
					}
				}
				st, err := upgradeFormat1(db, tc.chunk, after)
				switch {
				case tc.stop > 0 && !errors.Is(err, errStop):
					t.Fatalf("upgrade stopped after %d chunks: %v", tc.stop, err)
				case tc.stop == 0 && err != nil:
					t.Fatal(err)
				case tc.stop == 0 && (st.events != n || st.streams != uint64(len(streamsV1))):
					t.Errorf("upgrade counted %d events of %d streams, want %d of %d", st.events, st.streams, n, len(streamsV1))
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(t.Context(), Config{Dir: dir, ReadBatchSize: 5}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			checkUpgraded(t, s, want)
		})
	}
}

// checkUpgraded checks that s, upgraded from a format-1 file that holds
// want, is of format 2 and serves want in every way the contract reads it.
func checkUpgraded(t *testing.T, s *Store, want []v1Event) {
	t.Helper()
	ctx := t.Context()
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyFormat); len(v) != 8 || be64(v) != formatVersion {
			t.Errorf("format %x, want %d", v, formatVersion)
		}
		for _, name := range [][]byte{bucketIDsV1, bucketRevsV1} {
			if tx.Bucket(name) != nil {
				t.Errorf("bucket %s of format 1 is still there", name)
			}
		}
		if got := tx.Bucket(bucketIndex).Stats().KeyN; got != 2*len(want) {
			t.Errorf("index holds %d keys, want %d (a revision and an ID per event)", got, 2*len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]v1Event{}
	for _, w := range want {
		byStream[w.stream] = append(byStream[w.stream], w)
	}
	same := func(what string, got eventstore.RecordedEvent, w v1Event) {
		t.Helper()
		if got.ID != w.ev.ID || got.Stream != w.stream || got.Revision != w.rev || got.Position != position(w.pos) ||
			got.Type != w.ev.Type || string(got.Data) != string(w.ev.Data) {
			t.Errorf("%s: got %s@%d (pos %d, id %s, %s), want %s@%d (pos %d, id %s, %s)", what,
				got.Stream, got.Revision, got.Position.Commit, got.ID, got.Data, w.stream, w.rev, w.pos, w.ev.ID, w.ev.Data)
		}
	}
	i := 0
	for got, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("ReadAll yields more than the %d events written", len(want))
		}
		same("ReadAll", got, want[i])
		i++
	}
	if i != len(want) {
		t.Errorf("ReadAll yielded %d events, want %d", i, len(want))
	}
	for stream, evs := range byStream {
		j := 2
		for got, err := range s.ReadStream(ctx, stream, 2) {
			if err != nil {
				t.Fatal(err)
			}
			same(fmt.Sprintf("ReadStream(%q, 2)", stream), got, evs[j])
			j++
		}
		if j != len(evs) {
			t.Errorf("ReadStream(%q, 2) stopped at revision %d of %d", stream, j, len(evs))
		}
		// A retry of an event the stream holds is a duplicate, at its position.
		old := evs[len(evs)/2]
		res, err := s.Append(ctx, stream, eventstore.Any, old.ev)
		if err != nil || !res.Duplicate || res.Position != position(old.pos) {
			t.Errorf("append again %s@%d: %+v, %v; want a duplicate at position %d", stream, old.rev, res, err, old.pos)
		}
		// The expected revision is the stream's last.
		last := evs[len(evs)-1].rev
		next := eventstore.Event{ID: uuid.New(), Type: "test.v2", Data: []byte(`{}`)}
		if res, err := s.Append(ctx, stream, eventstore.Exact(last), next); err != nil || res.NextRevision != last+1 {
			t.Errorf("append to %s at revision %d: %+v, %v", stream, last, res, err)
		}
	}
	// The same ID in another stream is another event.
	res, err := s.Append(ctx, "c", eventstore.NoStream, want[0].ev)
	if err != nil || res.Duplicate {
		t.Errorf("append of %s's event ID to another stream: %+v, %v", want[0].stream, res, err)
	}
	st, err := s.Stats(ctx, eventstore.Filter{StreamPrefixes: []string{"a"}})
	if wantA := uint64(len(byStream["a"]) + len(byStream["ab"]) + len(byStream["a\x00b"]) + 3); err != nil || st.Events != wantA {
		t.Errorf("Stats(a): %+v, %v; want %d events", st, err, wantA)
	}
}

// TestUpgradeRefusesDamage checks that a format-1 file whose indexes
// disagree with its records is refused, not half upgraded.
func TestUpgradeRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(tx *bolt.Tx, want []v1Event) error
	}{
		{"an event ID missing from ids", func(tx *bolt.Tx, want []v1Event) error {
			return tx.Bucket(bucketIDsV1).Delete(append(want[3].ev.ID[:], want[3].stream...))
		}},
		{"revs points at a missing record", func(tx *bolt.Tx, want []v1Event) error {
			return tx.Bucket(bucketEvents).Delete(binary.BigEndian.AppendUint64(nil, want[len(want)-1].pos))
		}},
		{"revs points at another stream's record", func(tx *bolt.Tx, want []v1Event) error {
			w := want[5]
			rk := binary.AppendUvarint(nil, uint64(len(w.stream)))
			rk = binary.BigEndian.AppendUint64(append(rk, w.stream...), w.rev)
			other := want[6]
			for other.stream == w.stream {
				other = want[other.pos]
			}
			return tx.Bucket(bucketRevsV1).Put(rk, binary.BigEndian.AppendUint64(nil, other.pos))
		}},
		{"a revs key that is not one", func(tx *bolt.Tx, _ []v1Event) error {
			return tx.Bucket(bucketRevsV1).Put([]byte{0x7f, 'x'}, binary.BigEndian.AppendUint64(nil, 1))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := writeFormat1(t, dir, streamsV1, 40)
			db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error { return tc.damage(tx, want) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), Config{Dir: dir}, slog.New(slog.DiscardHandler))
			if err == nil {
				s.Close()
				t.Fatal("Open upgraded a damaged file")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("Open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestUpgradeLogsProgress checks that Open says what it is doing during an
// upgrade: the events to index, then, every upgradeLogEvery, how many are.
func TestUpgradeLogsProgress(t *testing.T) {
	dir := t.TempDir()
	writeFormat1(t, dir, streamsV1, 30)
	var out strings.Builder
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(upgradeLogEvery); return clock }
	s, err := Open(t.Context(), Config{Dir: dir, Now: now}, slog.New(slog.NewTextHandler(&out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []string{
		`msg="upgrading the event log from file format 1 to 2 (indexes kept per stream)"`, "events=30",
		`msg="upgrading the event log"`, "events_indexed=30",
		`msg="event log upgraded to file format 2"`, "streams=6",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, out.String())
		}
	}
}
