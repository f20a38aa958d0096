package readmodel_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// openUpdate folds a meeting that started at t0, had one join at last and,
// with the given end, ended; abandoned appends the stale-meeting verdict.
func openUpdate(app, id string, t0, last int64, ended, abandoned bool) projections.SessionUpdate {
	f := domain.NewFacts(app, id)
	ev := func(p domain.Payload) {
		f.Apply(domain.Event{AppID: app, SessionID: id, Kind: domain.KindMeeting, Payload: p})
	}
	ev(domain.SessionStarted{CreatedAt: t0})
	ev(domain.ParticipantJoined{Occupant: domain.Occupant{Name: "ana", JoinedAt: last}})
	if ended {
		ev(domain.SessionEnded{CreatedAt: t0, DestroyedAt: last + 10})
	}
	if abandoned {
		ev(domain.SessionAbandoned{LastEventAt: f.Meeting().LastEventAt.Unix(), DecidedAt: last + 100})
	}
	return projections.SessionUpdate{Key: reports.SessionKey{AppID: app, SessionID: id}, Facts: f, Meeting: f.Meeting()}
}

func writeBatch(t *testing.T, s *readmodel.Store, version uint64, us ...projections.SessionUpdate) {
	t.Helper()
	err := s.Write(context.Background(), projections.Batch{Sessions: us, Checkpoint: checkpoint(version), Version: version})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// openIDs lists the session ids (app/session) of a query, paging through it
// with the given page size.
func openIDs(t *testing.T, s *readmodel.Store, q reports.OpenQuery) []string {
	t.Helper()
	var ids []string
	for range 100 {
		page, err := s.OpenMeetings(context.Background(), q)
		if err != nil {
			t.Fatalf("OpenMeetings(%+v): %v", q, err)
		}
		for _, m := range page {
			if m.Status != q.Status {
				t.Errorf("%s: status %q, want %q", m.Key.SessionID, m.Status, q.Status)
			}
			ids = append(ids, fmt.Sprintf("%s/%s@%d", m.Key.AppID, m.Key.SessionID, m.LastEventAt.Unix()))
		}
		if len(page) < max(q.Limit, 1) || q.Limit == 0 {
			return ids
		}
		last := page[len(page)-1]
		q.After = &last
	}
	t.Fatal("OpenMeetings: no end after 100 pages")
	return nil
}

func TestOpenMeetingsIndex(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	const t0 = 1_700_000_000
	writeBatch(t, s, 1,
		openUpdate("a", "m1", t0, t0+100, false, false),
		openUpdate("a", "m2", t0, t0+50, false, false),
		openUpdate("b", "m1", t0, t0+100, false, false), // same time, other app
		openUpdate("a", "m3", t0, t0+70, true, false),   // ended: never indexed
		openUpdate("a", "m4", t0, t0+60, false, true),   // abandoned
	)
	live := reports.OpenQuery{Status: domain.StatusLive}
	want := []string{"a/m2@1700000050", "a/m1@1700000100", "b/m1@1700000100"}
	for _, limit := range []int{0, 1, 2, 3} {
		q := live
		q.Limit = limit
		if diff := cmp.Diff(want, openIDs(t, s, q)); diff != "" {
			t.Errorf("live, limit %d (-want +got):\n%s", limit, diff)
		}
	}
	if diff := cmp.Diff([]string{"a/m4@1700000060"}, openIDs(t, s, reports.OpenQuery{Status: domain.StatusAbandoned})); diff != "" {
		t.Errorf("abandoned (-want +got):\n%s", diff)
	}

	// [From, To) bounds on LastEventAt, with fractional seconds.
	tests := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"to excludes its second", time.Time{}, time.Unix(t0+100, 0), []string{"a/m2@1700000050"}},
		{"to just after", time.Time{}, time.Unix(t0+100, 1), want},
		{"from includes its second", time.Unix(t0+100, 0), time.Time{}, want[1:]},
		{"from just after", time.Unix(t0+50, 1), time.Time{}, want[1:]},
		{"empty", time.Unix(t0+51, 0), time.Unix(t0+100, 0), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := openIDs(t, s, reports.OpenQuery{Status: domain.StatusLive, From: tc.from, To: tc.to})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// A newer event moves the entry; an end removes it; abandonment moves it
	// to the other status; an older version changes nothing.
	writeBatch(t, s, 2,
		openUpdate("a", "m2", t0, t0+500, false, false),
		openUpdate("a", "m1", t0, t0+100, true, false),
		openUpdate("b", "m1", t0, t0+100, false, true),
	)
	writeBatch(t, s, 1, openUpdate("a", "m1", t0, t0+100, false, false))
	if diff := cmp.Diff([]string{"a/m2@1700000500"}, openIDs(t, s, live)); diff != "" {
		t.Errorf("live after updates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a/m4@1700000060", "b/m1@1700000100"}, openIDs(t, s, reports.OpenQuery{Status: domain.StatusAbandoned})); diff != "" {
		t.Errorf("abandoned after updates (-want +got):\n%s", diff)
	}

	if _, err := s.OpenMeetings(context.Background(), reports.OpenQuery{Status: domain.StatusEnded}); !errors.Is(err, reports.ErrInvalidQuery) {
		t.Errorf("status ended: %v, want ErrInvalidQuery", err)
	}
	if err := s.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := openIDs(t, s, live); len(got) != 0 {
		t.Errorf("after Reset: %v", got)
	}
}

// TestOpenOtherLayoutStartsEmpty opens a store written with another layout
// (simulated by rewriting its layout byte): it is emptied, checkpoint
// included, so that the runner rebuilds it from the log, and then works.
func TestOpenOtherLayoutStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s := open(t, dir)
	const t0 = 1_700_000_000
	writeBatch(t, s, 7, openUpdate("a", "live", t0, t0+100, false, false))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, readmodel.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("from_an_old_version")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("layout"), []byte{1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	cp, err := s.Checkpoint(ctx)
	if err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("checkpoint after a layout change = %+v, %v; want zero", cp, err)
	}
	if _, err := s.Meeting(ctx, reports.SessionKey{AppID: "a", SessionID: "live"}); !errors.Is(err, reports.ErrNotFound) {
		t.Fatalf("meeting after a layout change: %v; want ErrNotFound", err)
	}
	if got := openIDs(t, s, reports.OpenQuery{Status: domain.StatusLive}); len(got) != 0 {
		t.Errorf("open meetings after a layout change: %v", got)
	}
	writeBatch(t, s, 8, openUpdate("a", "live", t0, t0+100, false, false))
	if diff := cmp.Diff([]string{"a/live@1700000100"}, openIDs(t, s, reports.OpenQuery{Status: domain.StatusLive})); diff != "" {
		t.Errorf("live after rewriting (-want +got):\n%s", diff)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The unknown bucket went with the rest.
	db, err = bolt.Open(filepath.Join(dir, readmodel.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("from_an_old_version")) != nil {
			t.Error("the old version's bucket survived")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
