package embedded_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// childEnv names the directory a child process of TestKill9 appends to.
const childEnv = "EMBEDDED_TEST_KILL9_DIR"

type ack struct {
	id       uuid.UUID
	stream   string
	rev, pos uint64
}

// TestKill9 kills a process with SIGKILL while 16 goroutines append in it,
// twice, and checks after each kill that the log opens, is consistent, and
// holds every append the process had acknowledged.
func TestKill9(t *testing.T) {
	if dir := os.Getenv(childEnv); dir != "" {
		appendForever(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	var acks []ack
	for round := range 2 {
		acks = append(acks, runAndKill(t, dir, 300+round*200)...)
		s, err := embedded.Open(t.Context(), embedded.Config{Dir: dir}, nil)
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		checkLog(t, s, acks)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill runs a child appending to dir, kills it once it has printed
// n acknowledgements and returns every acknowledgement it printed.
func runAndKill(t *testing.T, dir string, n int) []ack {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks []ack
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		var a ack
		var id string
		if _, err := fmt.Sscanf(sc.Text(), "ack %s %s %d %d", &id, &a.stream, &a.rev, &a.pos); err != nil {
			continue // test framework output
		}
		a.id = uuid.MustParse(id)
		acks = append(acks, a)
		if len(acks) == n && !killed {
			killed = true
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended after %d acknowledgements", len(acks))
	}
	return acks
}

// checkLog checks that positions run 1…N without gaps, that every stream's
// revisions run 0…n in position order, and that every acknowledged append
// is where it was acknowledged.
func checkLog(t *testing.T, s *embedded.Store, acks []ack) {
	t.Helper()
	ctx := t.Context()
	byID := map[uuid.UUID]eventstore.RecordedEvent{}
	next := map[string]uint64{}
	var n uint64
	for e, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		n++
		if e.Position.Commit != n {
			t.Fatalf("position %s where %d was due", e.Position, n)
		}
		if e.Revision != next[e.Stream] {
			t.Fatalf("%s: revision %d where %d was due", e.Stream, e.Revision, next[e.Stream])
		}
		next[e.Stream]++
		byID[e.ID] = e
	}
	for _, a := range acks {
		e, ok := byID[a.id]
		if !ok {
			t.Fatalf("acknowledged event %s (%s@%d, position %d) is lost", a.id, a.stream, a.rev, a.pos)
		}
		if e.Stream != a.stream || e.Revision != a.rev || e.Position.Commit != a.pos {
			t.Fatalf("acknowledged event %s at %s@%d, position %d; found at %s@%d, %s", a.id, a.stream, a.rev, a.pos, e.Stream, e.Revision, e.Position)
		}
	}
	st, err := s.Stats(ctx, eventstore.Filter{})
	if err != nil || st.Events != n {
		t.Fatalf("stats %+v, %v; read %d events", st, err, n)
	}
	t.Logf("%d events, %d acknowledged", n, len(acks))
}

// appendForever is the child of TestKill9.
func appendForever(t *testing.T, dir string) {
	ctx := t.Context()
	s, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for w := range 16 {
		go func() {
			for i := 0; ; i++ {
				e := eventstore.Event{ID: uuid.New(), Type: "test.v1", Data: []byte(`{"pad":"` + strings.Repeat("x", 500) + `"}`)}
				stream := fmt.Sprintf("s%d", (w+i)%20)
				res, err := s.Append(ctx, stream, eventstore.Any, e)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child: append:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %s %d %d\n", e.ID, stream, res.NextRevision, res.Position.Commit)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Minute) // the parent kills us long before
	os.Exit(3)
}
