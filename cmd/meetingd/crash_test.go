package main_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
)

// crashRounds is how many SIGKILL rounds TestCrashConsistency runs
// (MEETINGD_CRASH_ROUNDS overrides).
const crashRounds = 20

// TestCrashConsistency runs `meetingd serve` as a child under concurrent
// webhook load and kills it with SIGKILL at a random moment, round after
// round; every fifth round it kills a running `meetingd rebuild` instead.
// After each round it restarts the service and checks that
//
//   - every webhook that got a 200 is in the log exactly once, and nothing
//     else is stored twice;
//   - the projections catch up (lag 0), and every report they serve equals
//     what a fresh `meetingd rebuild` of the same log serves.
//
// With MEETINGD_TEST_CLICKHOUSE set, the service also flushes to ClickHouse
// and serves the reports from it, so kills land during ClickHouse flushes too
// and the comparison covers the ClickHouse tables.
func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	rounds := crashRounds
	if v, err := strconv.Atoi(os.Getenv("MEETINGD_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	var env []string
	if dsn := clickhouseForCrash(t); dsn != "" {
		env = append(env, "MEETINGD_CLICKHOUSE_DSN="+dsn)
	}
	dataDir := t.TempDir()
	addr := freeAddr(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	t.Logf("seed %d", seed)

	acked := &ackSet{ids: map[string]map[string]bool{}}
	const workers = 12
	var killedServe, killedRebuild int
	for round := range rounds {
		if round%5 == 4 {
			// Kill a rebuild part-way: serve must come back consistent.
			runRebuild(t, dataDir, env, time.Duration(rng.IntN(400))*time.Millisecond)
			killedRebuild++
		} else {
			srv := startServe(t, dataDir, addr, env...)
			stopLoad := startLoad(srv.base, fmt.Sprintf("r%d", round), workers, acked)
			time.Sleep(time.Duration(100+rng.IntN(1200)) * time.Millisecond)
			srv.kill(t)
			stopLoad()
			killedServe++
		}

		checkRecovery(t, dataDir, addr, env, acked, round)
		if t.Failed() {
			t.Fatalf("round %d failed (seed %d)", round, seed)
		}
	}
	n, sessions := acked.count()
	if n < rounds*workers {
		t.Fatalf("only %d webhooks were acknowledged; the load did not run", n)
	}
	t.Logf("%d rounds (%d serve killed under load, %d rebuild killed): %d acknowledged webhooks in %d sessions, each in the log once; reports equal a fresh rebuild after every round",
		rounds, killedServe, killedRebuild, n, sessions)
}

// startLoad starts workers clients posting whole meetings (crashLoad) to
// base, their sessions named after prefix; the returned func stops them and
// waits until they have.
func startLoad(base, prefix string, workers int, acked *ackSet) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crashLoad(ctx, base, fmt.Sprintf("%s-w%d", prefix, w), acked)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// checkRecovery restarts `meetingd serve` on dataDir after a round of
// faults and checks that the projections catch up, that every acknowledged
// webhook is in the log once, and that every report equals what a fresh
// `meetingd rebuild` of the same log serves. It leaves the service stopped.
func checkRecovery(t *testing.T, dataDir, addr string, env []string, acked *ackSet, round int) {
	t.Helper()
	srv := startServe(t, dataDir, addr, env...)
	waitCaughtUp(t, srv.base)
	acked.check(t, srv.base)
	recovered := reportSnapshot(t, srv.base)
	if list, _ := recovered["list"].([]any); len(list) == 0 && acked.sessionCount() > 0 {
		t.Fatalf("round %d: no meetings reported for %d sessions", round, acked.sessionCount())
	}
	srv.stop(t)
	runRebuild(t, dataDir, env, 0)
	srv = startServe(t, dataDir, addr, env...)
	waitCaughtUp(t, srv.base)
	rebuilt := reportSnapshot(t, srv.base)
	srv.stop(t)
	if diff := cmp.Diff(rebuilt, recovered); diff != "" {
		t.Fatalf("round %d: reports after recovery differ from a fresh rebuild (-rebuild +recovered):\n%s", round, diff)
	}
}

// clickhouseForCrash returns the DSN of a new database of the crash test's
// own on the test ClickHouse server, or "" when no test server is configured.
func clickhouseForCrash(t *testing.T) string {
	if os.Getenv(clickhousetest.EnvVar) == "" {
		t.Logf("%s is not set: the crash test runs without ClickHouse", clickhousetest.EnvVar)
		return ""
	}
	return clickhousetest.DSN(t)
}

// ackSet records, per session, the event ids that got a 200.
type ackSet struct {
	mu  sync.Mutex
	ids map[string]map[string]bool
}

func (a *ackSet) add(session, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids[session] == nil {
		a.ids[session] = map[string]bool{}
	}
	a.ids[session][id] = true
}

func (a *ackSet) sessionCount() int {
	_, n := a.count()
	return n
}

func (a *ackSet) count() (events, sessions int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ids := range a.ids {
		events += len(ids)
	}
	return events, len(a.ids)
}

// check asserts that every acknowledged event is in its session's stream
// once and that no stream holds an event twice.
func (a *ackSet) check(t *testing.T, base string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for session, ids := range a.ids {
		seen := map[string]int{}
		for _, id := range storedEventIDs(t, base, session) {
			seen[id]++
		}
		for id := range ids {
			if seen[id] != 1 {
				t.Errorf("session %s: acknowledged event %s stored %d times", session, id, seen[id])
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("session %s: event %s stored %d times", session, id, n)
			}
		}
	}
}

// crashLoad posts meetings (start, joins, leaves, rejoins, end) one after
// another until ctx ends, recording the acknowledged event ids.
func crashLoad(ctx context.Context, base, prefix string, acked *ackSet) {
	for m := 0; ctx.Err() == nil; m++ {
		session := fmt.Sprintf("crash-%s-m%d", prefix, m)
		t0 := int64(1_700_000_000 + m*3600)
		bodies := [][]byte{
			sessionBody("meeting_started", session, t0),
			joinedBody(session, "ana", t0, "wh"),
			joinedBody(session, "bo", t0+60, "wh"),
			leftBody(session, "ana", t0, t0+600),
			joinedBody(session, "ana", t0+900, "wh"),
			joinedBody(session, "ana", t0, "wh-2"), // a duplicate under another webhook id
			leftBody(session, "bo", t0+60, t0+1200),
			leftBody(session, "ana", t0+900, t0+1500),
			sessionBody("meeting_ended", session, t0),
		}
		for _, body := range bodies {
			status, ans, err := postWebhook(ctx, base, body)
			if err != nil || status != 200 {
				return // killed mid-request: not acknowledged
			}
			acked.add(session, ans["event_id"].(string))
		}
	}
}

func sessionBody(trigger, session string, t0 int64) []byte {
	if trigger == "meeting_ended" {
		return []byte(fmt.Sprintf(`{"trigger":"meeting_ended","data":{"created_at":%d,"destroyed_at":%d,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
			t0, t0+1800, session, testApp))
	}
	return []byte(fmt.Sprintf(`{"trigger":%q,"data":{"created_at":%d,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		trigger, t0, session, testApp))
}

func leftBody(session, name string, joinedAt, leftAt int64) []byte {
	return []byte(fmt.Sprintf(`{"trigger":"meeting_participant_left","data":{"occupant":{"joined_at":%d,"left_at":%d,"audio_call":"false","name":%q},"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		joinedAt, leftAt, name, session, testApp))
}

// runRebuild runs `meetingd rebuild`; with killAfter > 0 it kills it with
// SIGKILL after that long (if it has not finished).
func runRebuild(t *testing.T, dataDir string, env []string, killAfter time.Duration) {
	t.Helper()
	cmd := exec.Command(meetingdBinary(t), "rebuild")
	dieWithTest(cmd)
	cmd.Env = append(os.Environ(), "MEETINGD_DATA_DIR="+dataDir, "MEETINGD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	buf := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = buf, buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		defer timer.Stop()
		_ = cmd.Wait()
		return
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("meetingd rebuild: %v\n%s", err, buf.String())
	}
}

// syncBuffer is a buffer a child process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// waitCaughtUp waits until /v1/status reports lag 0.
func waitCaughtUp(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st struct {
			LagEvents *uint64 `json:"lag_events"`
		}
		if getJSON(t, base+"/v1/status", &st) == 200 && st.LagEvents != nil && *st.LagEvents == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections did not catch up in 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reportSnapshot reads the meeting list (every page) and every meeting's
// full report, as raw JSON values.
func reportSnapshot(t *testing.T, base string) map[string]any {
	t.Helper()
	snap := map[string]any{}
	var list []any
	cursor := ""
	for {
		url := base + "/v1/meetings?app_id=" + testApp + "&limit=200"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var page struct {
			Meetings   []map[string]any `json:"meetings"`
			NextCursor *string          `json:"next_cursor"`
		}
		if status := getJSON(t, url, &page); status != 200 {
			t.Fatalf("GET %s: %d", url, status)
		}
		for _, m := range page.Meetings {
			list = append(list, m)
			id := m["session_id"].(string)
			var full any
			if status := getJSON(t, base+"/v1/meetings/"+id+"?app_id="+testApp, &full); status != 200 {
				t.Fatalf("GET meeting %s: %d", id, status)
			}
			snap["meeting "+id] = full
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	snap["list"] = list
	var durations any
	getJSON(t, base+"/v1/reports/durations?app_id="+testApp+"&bucket=day&from=2023-11-01T00:00:00Z&to=2024-01-01T00:00:00Z", &durations)
	snap["durations"] = durations
	return snap
}

// stop ends the child with SIGTERM and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		c.done <- nil
		if err != nil {
			t.Fatalf("meetingd serve exited with %v after SIGTERM\n%s", err, c.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("meetingd serve did not stop 30s after SIGTERM")
	}
}
