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
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// realisticUpdates folds n sessions of the benchmark corpus (meetings with
// rejoins, calls, recordings; live ones at the end of the window) plus open
// and abandoned meetings.
func realisticUpdates(t *testing.T, n int) []projections.SessionUpdate {
	t.Helper()
	seq, err := eventgen.Sessions(eventgen.Config{Seed: 7, Apps: 3, Users: 50}, n)
	if err != nil {
		t.Fatal(err)
	}
	var out []projections.SessionUpdate
	for evs := range seq {
		f := domain.NewFacts(evs[0].AppID, evs[0].SessionID)
		for _, e := range evs[:max(1, len(evs)-len(out)%3)] { // some sessions stay open
			f.Apply(e)
		}
		out = append(out, projections.SessionUpdate{Key: reports.SessionKey{AppID: evs[0].AppID, SessionID: evs[0].SessionID}, Facts: f, Meeting: f.Meeting()})
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
	if len(dumps[0]["rows"]) != len(us) || len(dumps[0]["idx_time"]) != len(us) {
		t.Fatalf("bulk load stored %d rows and %d time entries, want %d", len(dumps[0]["rows"]), len(dumps[0]["idx_time"]), len(us))
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

// TestMovedMeetingKeepsOneRow: when a session's started_at moves (an earlier
// join arrives), its row and time index entry move with it, leaving nothing
// at the old time, and the meeting reads back whole from either query.
func TestMovedMeetingKeepsOneRow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	const t0 = 1_700_000_000
	writeBatch(t, s, 1, update("app-m", "s", t0, "ann", "bob"), update("app-m", "other", t0+5, "ann"))
	moved := update("app-m", "s", t0-600, "ann")
	writeBatch(t, s, 2, moved)
	page, err := s.Meetings(ctx, reports.MeetingQuery{AppID: "app-m"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range page.Meetings {
		got = append(got, fmt.Sprintf("%s@%d", m.SessionID, m.StartedAt.Unix()))
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("other@%d", t0+5), fmt.Sprintf("s@%d", t0-600)}, got); diff != "" {
		t.Errorf("meeting list (-want +got):\n%s", diff)
	}
	m, err := s.Meeting(ctx, moved.Key)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(m) != jsonOf(moved.Meeting) {
		t.Errorf("moved meeting:\n got %s\nwant %s", jsonOf(m), jsonOf(moved.Meeting))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	d := dump(t, dir)
	if len(d["rows"]) != 2 || len(d["idx_time"]) != 2 {
		t.Fatalf("%d rows and %d time entries after the move, want 2 and 2", len(d["rows"]), len(d["idx_time"]))
	}
	for k := range d["rows"] {
		if _, ok := d["idx_time"][k]; !ok {
			t.Errorf("row %q has no time index entry", k)
		}
	}
	if len(d["idx_participant"]) != 2 {
		t.Errorf("%d participant entries after the move, want 2 (ann in each meeting)", len(d["idx_participant"]))
	}
}
