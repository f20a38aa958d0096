package main_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/privacy"
)

// The pre-sealing log of TestMigrationSurvivesSIGKILL: migrationMeetings
// meetings of testApp, three people each out of migrationPeople, every name
// holding migrationMark (and its uid migrationUID).
const (
	migrationMeetings = 4000
	migrationPeople   = 6000
	migrationMark     = "Mïgrant"
	migrationUID      = "u-migr-"
	keyRecordLen      = 77 // privacy's keys.ring: one key
)

// writePreSealingLog writes, with the embedded store directly (as a version
// before sealing did), a log whose names are in the clear, and returns its
// events per stream.
func writePreSealingLog(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	ctx := t.Context()
	store, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dataDir, "eventstore")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := int64(1_698_796_800) // 2023-11-01
	streams := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 { // concurrent appends share the store's fsyncs
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < migrationMeetings; i += 8 {
				session := fmt.Sprintf("v1.us.migr.%04d", i)
				start := t0 + int64(i)*600
				var evs []domain.Event
				add := func(trigger string, p domain.Payload) {
					evs = append(evs, domain.Event{AppID: testApp, SessionID: session, Kind: domain.KindMeeting, Trigger: domain.Trigger(trigger), Payload: p})
				}
				add("meeting_started", domain.SessionStarted{CreatedAt: start})
				var all []domain.Occupant
				for k := range 3 {
					p := (3*i + k) % migrationPeople
					o := domain.Occupant{UID: fmt.Sprintf("%s%04d", migrationUID, p), Name: fmt.Sprintf("%s Nº %04d", migrationMark, p), JoinedAt: start + int64(10*k)}
					add("meeting_participant_joined", domain.ParticipantJoined{Occupant: o})
					o.LeftAt = o.JoinedAt + 300 + int64(60*k)
					add("meeting_participant_left", domain.ParticipantLeft{Occupant: o})
					all = append(all, o)
				}
				add("meeting_ended", domain.SessionEnded{CreatedAt: start, DestroyedAt: start + 600, AllOccupants: all})
				out := make([]eventstore.Event, len(evs))
				for j, e := range evs {
					data, err := codec.MarshalEvent(e)
					if err != nil {
						errs <- err
						return
					}
					out[j] = eventstore.Event{ID: domain.EventID(e), Type: e.Type(), Data: data}
				}
				stream := domain.StreamName(testApp, session)
				if _, err := store.Append(ctx, stream, eventstore.NoStream, out...); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				streams[stream] = len(out)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	return streams
}

// logStreams reads the embedded log of dataDir (no process running) and
// returns its events per stream of testApp's sessions, and each stream's
// event types in order.
func logStreams(t *testing.T, dataDir string) (map[string]int, map[string][]string) {
	t.Helper()
	ctx := t.Context()
	s, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dataDir, "eventstore")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	counts, types := map[string]int{}, map[string][]string{}
	for ev, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}}) {
		if err != nil {
			t.Fatal(err)
		}
		counts[ev.Stream]++
		types[ev.Stream] = append(types[ev.Stream], ev.Type)
	}
	return counts, types
}

// copyDir copies the regular files of src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// migrationNeedles: every name and uid of the log, in UTF-8 and JSON-escaped.
var migrationNeedles = bytescan.Forms(migrationMark, migrationUID)

// plaintextIn returns the needles found in the files under path.
func plaintextIn(t *testing.T, path string) []string {
	t.Helper()
	hits, err := bytescan.Find(path, migrationNeedles, nil)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, h := range hits {
		found = append(found, h.Path+": "+h.Needle)
	}
	return found
}

// keysIn is the number of keys in dataDir's keys.ring (0 before it exists).
func keysIn(dataDir string) int {
	fi, err := os.Stat(filepath.Join(dataDir, privacy.FileName))
	if err != nil {
		return 0
	}
	return max(0, int(fi.Size()-55)/keyRecordLen)
}

// startUnready starts `meetingd serve` without waiting for it to be ready
// (it migrates the log first); the test's cleanup kills it.
func startUnready(t *testing.T, dataDir, addr string) (kill func(), done <-chan error) {
	t.Helper()
	cmd := exec.Command(meetingdBinary(t), "serve")
	cmd.Env = append(os.Environ(), "MEETINGD_ADDR="+addr, "MEETINGD_DATA_DIR="+dataDir,
		"MEETINGD_WEBHOOK_USER="+testUser, "MEETINGD_WEBHOOK_PASSWORD="+testPass,
		"MEETINGD_API_TOKENS="+testToken+"="+testApp, "MEETINGD_LOG_LEVEL=warn", "MEETINGD_STALE_AFTER=876000h")
	cmd.WaitDelay = 10 * time.Second
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait() }()
	var once sync.Once
	var waitErr error
	kill = func() {
		once.Do(func() { _ = cmd.Process.Kill(); waitErr = <-ch; ch <- waitErr })
	}
	t.Cleanup(kill)
	return kill, ch
}

// migrationSnapshot is what the reports say of the log: the meetings list
// (every meeting's figures), the daily durations and a sample of meetings
// in full.
func migrationSnapshot(t *testing.T, base string) map[string]any {
	t.Helper()
	snap := map[string]any{}
	var list []any
	for cursor := ""; ; {
		url := base + "/v1/meetings?app_id=" + testApp + "&limit=200"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Meetings   []any   `json:"meetings"`
			NextCursor *string `json:"next_cursor"`
		}
		if status := getJSON(t, url, &page); status != 200 {
			t.Fatalf("GET %s: %d", url, status)
		}
		list = append(list, page.Meetings...)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	snap["list"] = list
	var durations any
	getJSON(t, base+"/v1/reports/durations?app_id="+testApp+"&bucket=day&from=2023-11-01T00:00:00Z&to=2024-01-01T00:00:00Z", &durations)
	snap["durations"] = durations
	for i := 0; i < migrationMeetings; i += migrationMeetings / 16 {
		id := fmt.Sprintf("v1.us.migr.%04d", i)
		var full, att any
		if status := getJSON(t, base+"/v1/meetings/"+id+"?app_id="+testApp, &full); status != 200 {
			t.Fatalf("GET meeting %s: %d", id, status)
		}
		getJSON(t, base+"/v1/meetings/"+id+"/attendance?app_id="+testApp, &att)
		snap["meeting "+id], snap["attendance "+id] = full, att
	}
	return snap
}

// TestMigrationSurvivesSIGKILL: serve migrates a data directory written
// before sealing (names in the clear) in place; it is killed with SIGKILL
// in the middle of the migration, three times (once a quarter of the
// people's keys exist, once nine tenths do, once the compaction that ends
// the migration has begun), and started again each time. The migration then finishes: every event is
// in the log once (the same streams, counts and types as before), the
// reports equal those of a copy of the directory migrated without a kill,
// and no name or uid is left in the clear in the log or the keyring (the
// read models hold them by design: PRIVACY.md).
func TestMigrationSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary through kills")
	}
	dir := t.TempDir()
	written := writePreSealingLog(t, dir)
	if len(plaintextIn(t, filepath.Join(dir, "eventstore"))) == 0 {
		t.Fatal("the pre-sealing log holds no name: the test proves nothing")
	}
	_, typesBefore := logStreams(t, dir)
	oracle := t.TempDir()
	copyDir(t, dir, oracle)

	addr := freeAddr(t)
	compacting := func() bool {
		_, err := os.Stat(filepath.Join(dir, "eventstore", embedded.FileName+".rewrite"))
		return err == nil
	}
	ready := func() bool {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	interrupted := 0
	for round, point := range []struct {
		name  string
		reach func() bool
	}{
		{"a quarter of the keys written", func() bool { return keysIn(dir) >= migrationPeople/4 }},
		{"nine tenths of the keys written", func() bool { return keysIn(dir) >= migrationPeople*9/10 }},
		// The compaction may end between two polls: then the migration is
		// over when serve answers, and the kill interrupts nothing.
		{"the compaction begun", func() bool { return compacting() || ready() }},
	} {
		kill, done := startUnready(t, dir, addr)
		for deadline := time.Now().Add(120 * time.Second); !point.reach(); time.Sleep(time.Millisecond) {
			select {
			case err := <-done:
				t.Fatalf("round %d: serve exited during the migration: %v", round, err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %s not reached in 120s (%d keys)", round, point.name, keysIn(dir))
			}
		}
		wasCompacting := compacting()
		kill()
		keys := keysIn(dir)
		switch {
		case keys < migrationPeople:
			interrupted++
			t.Logf("round %d: killed once %s: %d of %d keys", round, point.name, keys, migrationPeople)
		case wasCompacting:
			interrupted++
			t.Logf("round %d: killed during the compaction", round)
		default:
			t.Logf("round %d: the compaction ended before the kill", round)
		}
	}
	if interrupted == 0 {
		t.Fatal("no kill interrupted the migration: the test proved nothing")
	}

	srv := startServe(t, dir, addr, "MEETINGD_STALE_AFTER=876000h")
	waitCaughtUp(t, srv.base)
	got := migrationSnapshot(t, srv.base)
	srv.stop(t)
	ref := startServe(t, oracle, freeAddr(t), "MEETINGD_STALE_AFTER=876000h")
	waitCaughtUp(t, ref.base)
	want := migrationSnapshot(t, ref.base)
	ref.stop(t)

	if n := len(got["list"].([]any)); n != migrationMeetings {
		t.Fatalf("%d meetings after the migration, want %d", n, migrationMeetings)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("reports after a killed migration differ from a whole one (-whole +killed):\n%s", diff)
	}
	counts, types := logStreams(t, dir)
	if diff := cmp.Diff(written, counts); diff != "" {
		t.Fatalf("events per stream after the migration (-written +now):\n%s", diff)
	}
	if diff := cmp.Diff(typesBefore, types); diff != "" {
		t.Fatalf("event types per stream after the migration (-before +now):\n%s", diff)
	}
	if keysIn(dir) != migrationPeople {
		t.Errorf("%d keys, want one per person (%d)", keysIn(dir), migrationPeople)
	}
	for _, sub := range []string{"eventstore", privacy.FileName} {
		if found := plaintextIn(t, filepath.Join(dir, sub)); len(found) > 0 {
			t.Errorf("plaintext left after the migration: %v", found)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "eventstore")); slices.ContainsFunc(entries, func(e fs.DirEntry) bool {
		return filepath.Ext(e.Name()) == ".rewrite"
	}) {
		t.Error("a compaction's file was left behind")
	}
}
