package readmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
	"github.com/meetingd/meetingd/reports/reportstest"
)

func open(t testing.TB, dir string) *readmodel.Store {
	t.Helper()
	s, err := readmodel.Open(context.Background(), readmodel.Config{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	reportstest.Run(t, func(t *testing.T) reportstest.Target {
		s := open(t, t.TempDir())
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return reportstest.Target{Sink: s, Reports: s}
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  readmodel.Config
		want []string
	}{
		{"ok", readmodel.Config{Dir: "x"}, nil},
		{"no dir", readmodel.Config{}, []string{"Dir is required"}},
		{"every problem", readmodel.Config{LockTimeout: -1}, []string{"Dir is required", "LockTimeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// session folds a small ended meeting.
func session(app, id string, at int64, people ...string) (*domain.Facts, domain.Meeting) {
	f := domain.NewFacts(app, id)
	ev := func(tr domain.Trigger, p domain.Payload) {
		f.Apply(domain.Event{AppID: app, SessionID: id, Kind: domain.KindMeeting, Trigger: tr, Payload: p})
	}
	ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: at})
	for i, p := range people {
		ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: domain.Occupant{UID: p, Name: p, JoinedAt: at + int64(i)}})
		ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: domain.Occupant{UID: p, Name: p, JoinedAt: at + int64(i), LeftAt: at + 600}})
	}
	ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: at, DestroyedAt: at + 900})
	return f, f.Meeting()
}

func update(app, id string, at int64, people ...string) projections.SessionUpdate {
	f, m := session(app, id, at, people...)
	return projections.SessionUpdate{Key: reports.SessionKey{AppID: app, SessionID: id}, Facts: f, Meeting: m}
}

func checkpoint(n uint64) projections.Checkpoint {
	return projections.Checkpoint{Position: eventstore.Position{Commit: n, Prepare: n}, Events: n}
}

func TestReopenKeepsDataAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	s := open(t, dir)
	u := update("app-reopen", "s1", 1_700_000_000, "ann", "bob")
	if err := s.Write(ctx, projections.Batch{Sessions: []projections.SessionUpdate{u}, Checkpoint: checkpoint(42), Version: 42}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, readmodel.FileName)); err != nil {
		t.Fatalf("store file: %v", err)
	}
	s = open(t, dir)
	defer s.Close()
	cp, err := s.Checkpoint(ctx)
	if err != nil || cp != checkpoint(42) {
		t.Fatalf("Checkpoint after reopen = %+v, %v; want %+v", cp, err, checkpoint(42))
	}
	m, err := s.Meeting(ctx, u.Key)
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(m) != jsonOf(u.Meeting) {
		t.Fatalf("Meeting after reopen:\n got %s\nwant %s", jsonOf(m), jsonOf(u.Meeting))
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestCheckpointNeverMovesBack(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := t.Context()
	if cp, err := s.Checkpoint(ctx); err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("empty store checkpoint = %+v, %v", cp, err)
	}
	for _, n := range []uint64{5, 9, 7} {
		if err := s.Write(ctx, projections.Batch{Checkpoint: checkpoint(n), Version: n}); err != nil {
			t.Fatal(err)
		}
	}
	if cp, _ := s.Checkpoint(ctx); cp != checkpoint(9) {
		t.Fatalf("checkpoint = %+v, want %+v", cp, checkpoint(9))
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.Checkpoint(ctx); cp != (projections.Checkpoint{}) {
		t.Fatalf("checkpoint after Reset = %+v, want zero", cp)
	}
}

func TestLoadFactsRoundTrip(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := t.Context()
	a := update("app-facts", "s1", 1_700_000_000, "ann", "bob", "Zoë")
	b := update("app-facts", "s2", 1_700_003_600)
	if err := s.Write(ctx, projections.Batch{Sessions: []projections.SessionUpdate{a, b}, Checkpoint: checkpoint(1), Version: 1}); err != nil {
		t.Fatal(err)
	}
	missing := reports.SessionKey{AppID: "app-facts", SessionID: "nope"}
	got, err := s.LoadFacts(ctx, []reports.SessionKey{a.Key, b.Key, missing})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("LoadFacts returned %d sessions, want 2", len(got))
	}
	if _, ok := got[missing]; ok {
		t.Fatal("LoadFacts returned a missing session")
	}
	for _, u := range []projections.SessionUpdate{a, b} {
		want, _ := codec.MarshalFacts(u.Facts)
		have, _ := codec.MarshalFacts(got[u.Key])
		if string(want) != string(have) {
			t.Errorf("facts %s:\n got %s\nwant %s", u.Key.SessionID, have, want)
		}
		if jsonOf(got[u.Key].Meeting()) != jsonOf(u.Meeting) {
			t.Errorf("facts %s derive another meeting", u.Key.SessionID)
		}
	}
	// Folding continues from the loaded state.
	f := got[a.Key]
	if f.Apply(domain.Event{AppID: "app-facts", SessionID: "s1", Kind: domain.KindMeeting, Trigger: cometchat.TriggerMeetingParticipantJoined,
		Payload: domain.ParticipantJoined{Occupant: domain.Occupant{UID: "carl", Name: "Carl", JoinedAt: 1_700_000_100}}}) != true {
		t.Fatal("applying a new event to loaded facts changed nothing")
	}
}

func TestWriteIsAtomic(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := t.Context()
	first := update("app-atomic", "s1", 1_700_000_000, "ann")
	if err := s.Write(ctx, projections.Batch{Sessions: []projections.SessionUpdate{first}, Checkpoint: checkpoint(1), Version: 1}); err != nil {
		t.Fatal(err)
	}
	// A batch that fails on its last session leaves nothing of itself behind.
	good := update("app-atomic", "s2", 1_700_000_600, "bob")
	changed := update("app-atomic", "s1", 1_700_000_300, "ann", "carl")
	// Its key sorts after the others' (a 200-byte app id), so the store has
	// written them when it meets it.
	bad := update(strings.Repeat("z", 200), "", 1_700_000_900)
	err := s.Write(ctx, projections.Batch{Sessions: []projections.SessionUpdate{good, changed, bad}, Checkpoint: checkpoint(2), Version: 2})
	if err == nil {
		t.Fatal("Write of a batch with an invalid session succeeded")
	}
	if _, err := s.Meeting(ctx, good.Key); !errors.Is(err, reports.ErrNotFound) {
		t.Errorf("a failed batch's session is visible: %v", err)
	}
	m, err := s.Meeting(ctx, first.Key)
	if err != nil || jsonOf(m) != jsonOf(first.Meeting) {
		t.Errorf("a failed batch changed a session: %v", err)
	}
	if cp, _ := s.Checkpoint(ctx); cp != checkpoint(1) {
		t.Errorf("a failed batch moved the checkpoint to %+v", cp)
	}
	rep, err := s.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: "app-atomic", Participant: "carl"})
	if err != nil || rep.MeetingsAttended != 0 {
		t.Errorf("a failed batch left index entries: %+v, %v", rep, err)
	}

	// A write whose ctx is cancelled is not committed.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Write(cctx, projections.Batch{Sessions: []projections.SessionUpdate{good}, Checkpoint: checkpoint(3), Version: 3}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled ctx = %v", err)
	}
	if _, err := s.Meeting(ctx, good.Key); !errors.Is(err, reports.ErrNotFound) {
		t.Errorf("a cancelled write is visible: %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if _, err := s.Meeting(ctx, reports.SessionKey{AppID: "a", SessionID: "s"}); err == nil || errors.Is(err, reports.ErrNotFound) {
		t.Errorf("Meeting after Close = %v, want a failure that is not ErrNotFound", err)
	}
	if err := s.Write(ctx, projections.Batch{Version: 1}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if s2, err := readmodel.Open(ctx, readmodel.Config{Dir: dir}, nil); err == nil {
		s2.Close()
		t.Fatal("a second Open of a locked store succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open waited %s despite its ctx deadline", d)
	}
}

// jsonOf is v's JSON, the form the API serves.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func TestCursorRoundTrip(t *testing.T) {
	tests := []reports.Cursor{
		{StartedUnix: 1_700_000_000, SessionID: "v1.us.app.123"},
		{StartedUnix: 0, SessionID: ""},
		{StartedUnix: -62135596800, SessionID: "ü\x00/"},
	}
	for _, c := range tests {
		got, err := reports.ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCursor(%v.String()) = %v, %v", c, got, err)
		}
	}
	if _, err := reports.ParseCursor(""); !errors.Is(err, reports.ErrBadCursor) {
		t.Errorf("ParseCursor(\"\") = %v, want ErrBadCursor", err)
	}
}

// TestMappedPagesReleased: with a small budget, queries over a store larger
// than the budget release the file's mapped pages, and every answer stays
// the same as with releases off.
func TestMappedPagesReleased(t *testing.T) {
	ctx := t.Context()
	us := realisticUpdates(t, 3000)
	answers := map[int64]string{}
	for _, budget := range []int64{-1, 256 << 10} {
		dir := t.TempDir()
		s, err := readmodel.Open(ctx, readmodel.Config{Dir: dir, MappedBudget: budget}, nil)
		if err != nil {
			t.Fatal(err)
		}
		writeBatch(t, s, 1, us[:1000]...)
		writeBatch(t, s, 2, us[1000:]...)
		var got strings.Builder
		for _, u := range us {
			m, err := s.Meeting(ctx, u.Key)
			if err != nil {
				t.Fatal(err)
			}
			got.WriteString(jsonOf(m))
		}
		for i := range 3 {
			app := eventgen.AppID(i)
			page, err := s.Meetings(ctx, reports.MeetingQuery{AppID: app, Limit: reports.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Meetings) < 100 {
				t.Fatalf("%s: %d meetings listed", app, len(page.Meetings))
			}
			got.WriteString(jsonOf(page))
			d, err := s.Durations(ctx, reports.DurationQuery{AppID: app, Bucket: reports.Day})
			if err != nil {
				t.Fatal(err)
			}
			got.WriteString(jsonOf(d))
		}
		answers[budget] = got.String()
		if releases := s.MappedReleases(); (budget > 0) != (releases > 0) {
			t.Errorf("budget %d: %d releases", budget, releases)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if answers[-1] != answers[256<<10] {
		t.Error("answers differ when mapped pages are released")
	}
}

// TestResetReplacesFile: Reset, while queries run (they wait for it or see
// the store before or after it), leaves an empty store that takes writes.
func TestResetReplacesFile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	us := realisticUpdates(t, 2000)
	writeBatch(t, s, 1, us[:1000]...)
	writeBatch(t, s, 2, us[1000:]...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.Meeting(ctx, us[0].Key)
				if err != nil && !errors.Is(err, reports.ErrNotFound) {
					t.Errorf("Meeting during Reset: %v", err)
					return
				}
			}
		})
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	if cp, err := s.Checkpoint(ctx); err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("checkpoint after Reset = %+v, %v", cp, err)
	}
	if _, err := s.Meeting(ctx, us[0].Key); !errors.Is(err, reports.ErrNotFound) {
		t.Fatalf("meeting after Reset: %v", err)
	}
	writeBatch(t, s, 3, us[0])
	if m, err := s.Meeting(ctx, us[0].Key); err != nil || jsonOf(m) != jsonOf(us[0].Meeting) {
		t.Fatalf("meeting written after Reset: %v", err)
	}
}
