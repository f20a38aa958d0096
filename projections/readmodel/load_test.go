package readmodel_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	gencorpus "github.com/meetingd/meetingd/projections/corpus"
	"github.com/meetingd/meetingd/projections/readmodel"
)

// realisticUpdates folds n sessions of the benchmark corpus (meetings with
// rejoins, calls, recordings; live ones at the end of the window) plus open
// and abandoned meetings.
func realisticUpdates(t *testing.T, n int) []projections.SessionUpdate {
	t.Helper()
	seq, err := gencorpus.Sessions(gencorpus.Config{Seed: 7, Apps: 3, Users: 50}, n)
	if err != nil {
		t.Fatal(err)
	}
	var out []projections.SessionUpdate
	for evs := range seq {
		f := domain.NewFacts(evs[0].AppID, evs[0].SessionID)
		for _, e := range evs[:max(1, len(evs)-len(out)%3)] { // some sessions stay open
			f.Apply(e)
		}
		out = append(out, projections.SessionUpdate{Key: projections.SessionKey{AppID: evs[0].AppID, SessionID: evs[0].SessionID}, Facts: f, Meeting: f.Meeting()})
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	out = append(out,
		openUpdate("app-o", "live", t0, t0+50, false, false),
		openUpdate("app-o", "abandoned", t0, t0+60, false, true),
		openUpdate("app-o", "ended", t0, t0+70, true, false))
	noFacts := openUpdate("app-o", "no-facts", t0, t0+80, false, false)
	noFacts.Facts = nil
	return append(out, noFacts)
}

// dump returns every key and value of every bucket of a closed store's file.
func dump(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, readmodel.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]map[string]string{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error {
				m[string(k)] = string(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBulkLoadMatchesIncremental writes one batch to an empty store (bulk
// load) and the same batch to a store that already holds one of its
// sessions (the incremental path): both files hold the same keys and
// values, byte for byte, and a later batch changes both alike.
func TestBulkLoadMatchesIncremental(t *testing.T) {
	ctx := context.Background()
	us := realisticUpdates(t, 600)
	later := realisticUpdates(t, 40) // the same first sessions, folded anew
	for i := range later {
		later[i].Meeting.DurationSeconds++ // a visible change of every record
	}
	var dumps []map[string]map[string]string
	for _, pre := range [][]projections.SessionUpdate{nil, us[len(us)/2 : len(us)/2+1]} {
		dir := t.TempDir()
		s := open(t, dir)
		if pre != nil {
			writeBatch(t, s, 10, pre...)
		}
		writeBatch(t, s, 10, us...)
		if err := s.Write(ctx, projections.Batch{Sessions: later, Checkpoint: checkpoint(20), Version: 20}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, dump(t, dir))
	}
	if len(dumps[0]["sessions"]) != len(us) {
		t.Fatalf("bulk load stored %d sessions, want %d", len(dumps[0]["sessions"]), len(us))
	}
	if len(dumps[0]["idx_open"]) == 0 || len(dumps[0]["idx_participant"]) == 0 {
		t.Fatalf("bulk load left an index empty: %d open, %d participant entries", len(dumps[0]["idx_open"]), len(dumps[0]["idx_participant"]))
	}
	if diff := cmp.Diff(dumps[1], dumps[0]); diff != "" {
		t.Fatalf("bulk load differs from incremental writes (-incremental +bulk):\n%s", diff)
	}
}

// TestBulkLoadRejectsDuplicates: a batch names each session once; a bulk
// load of a batch that does not is refused whole.
func TestBulkLoadRejectsDuplicates(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	u := update("app", "s1", 1700000000, "ana")
	err := s.Write(context.Background(), projections.Batch{Sessions: []projections.SessionUpdate{u, u}, Checkpoint: checkpoint(1), Version: 1})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("twice")) {
		t.Fatalf("Write of a duplicate session = %v, want a refusal", err)
	}
	cp, err := s.Checkpoint(context.Background())
	if err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("Checkpoint after the refused write = %+v, %v; want none", cp, err)
	}
	if _, err := s.Meeting(context.Background(), u.Key); err == nil {
		t.Fatal(fmt.Errorf("the refused write stored %v", u.Key))
	}
}
