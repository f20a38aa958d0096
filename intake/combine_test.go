package intake

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
)

// gatedLog holds every conditional append at a gate until the test opens
// it, and records how many events each one carried.
type gatedLog struct {
	Log
	gates chan chan struct{} // one per conditional append, in order
	// plainGates, when set, holds the plain appends the same way.
	plainGates chan chan struct{}
	conflicts  atomic.Int64

	mu    sync.Mutex
	sizes []int // events of each conditional append that reached the log
}

func (g *gatedLog) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	if expected == eventstore.Any && g.plainGates != nil {
		gate := make(chan struct{})
		g.plainGates <- gate
		<-gate
	}
	if expected != eventstore.Any {
		gate := make(chan struct{})
		g.gates <- gate
		select {
		case <-gate:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return eventstore.AppendResult{}, err
		}
		g.mu.Lock()
		g.sizes = append(g.sizes, len(events))
		g.mu.Unlock()
	}
	res, err := g.Log.Append(ctx, stream, expected, events...)
	if errors.Is(err, eventstore.ErrConcurrency) {
		g.conflicts.Add(1)
	}
	return res, err
}

func newGated(t *testing.T) (*Service, *gatedLog) {
	t.Helper()
	store, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(t.TempDir(), "events")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := &gatedLog{Log: store, gates: make(chan chan struct{}, 16)}
	svc, err := New(Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, g
}

func join(session, name string) []byte {
	return fmt.Appendf(nil, `{"trigger":"meeting_participant_joined","data":{"occupant":{"joined_at":1696934692,"name":%q},"sessionId":%q},"type":"meet","appId":"app-1"}`,
		name, session)
}

// queued waits until the session of stream has n appends queued.
func queued(t *testing.T, svc *Service, stream string, n int) {
	t.Helper()
	ss := svc.sessions.get(stream)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ss.mu.Lock()
		got := len(ss.queue)
		ss.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type outcome struct {
	res Result
	err error
}

func ingestAsync(ctx context.Context, svc *Service, body []byte) chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := svc.Ingest(ctx, body, "test")
		ch <- outcome{res, err}
	}()
	return ch
}

// TestSessionCombinesWaitingAppends: the joins that arrive while a join of
// their session is being appended go together in the next conditional
// append, all of them.
func TestSessionCombinesWaitingAppends(t *testing.T) {
	svc, g := newGated(t)
	const session = "v1.us.combine"
	stream := "session-app-1/" + session
	first := ingestAsync(context.Background(), svc, join(session, "first"))
	gate := <-g.gates // the first join is at the log
	var rest []chan outcome
	for i := range 10 {
		rest = append(rest, ingestAsync(context.Background(), svc, join(session, fmt.Sprintf("p-%d", i))))
	}
	queued(t, svc, stream, 10)
	close(gate)
	close(<-g.gates) // the other ten
	for i, ch := range append(rest, first) {
		if o := <-ch; o.err != nil || o.res.Outcome != Accepted {
			t.Fatalf("join %d: %v %v", i, o.res.Outcome, o.err)
		}
	}
	if len(g.sizes) != 2 || g.sizes[0] != 1 || g.sizes[1] != 10 {
		t.Fatalf("conditional appends of %v events, want [1 10]", g.sizes)
	}
}

// TestSessionQueueCallerGone: a waiting caller whose context ends leaves the
// queue at once, and its join is not stored; a leader whose context ends
// fails its own join only, and hands the lead on; a leader whose caller is
// gone still appends the joins of others waiting in its turn.
func TestSessionQueueCallerGone(t *testing.T) {
	svc, g := newGated(t)
	const session = "v1.us.gone"
	stream := "session-app-1/" + session

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leader := ingestAsync(leaderCtx, svc, join(session, "leader"))
	<-g.gates // the leader's join is at the log, held
	goneCtx, cancelGone := context.WithCancel(context.Background())
	gone := ingestAsync(goneCtx, svc, join(session, "gone"))
	next := ingestAsync(context.Background(), svc, join(session, "next"))
	queued(t, svc, stream, 2)
	cancelGone()
	if o := <-gone; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("the caller gone from the queue: %v %v", o.res.Outcome, o.err)
	}
	queued(t, svc, stream, 1)
	cancelLeader() // its append ends: no one else waits for it
	if o := <-leader; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("the leader gone: %v %v", o.res.Outcome, o.err)
	}

	// next leads now. While its turn is held at the log, a (the next
	// leader) and b queue; in a's turn, a's caller goes away: b still waits,
	// so the append goes on.
	gate := <-g.gates
	aCtx, cancelA := context.WithCancel(context.Background())
	a := ingestAsync(aCtx, svc, join(session, "a"))
	queued(t, svc, stream, 1)
	b := ingestAsync(context.Background(), svc, join(session, "b"))
	queued(t, svc, stream, 2)
	close(gate)
	if o := <-next; o.err != nil || o.res.Outcome != Accepted {
		t.Fatalf("next: %v %v", o.res.Outcome, o.err)
	}
	gate = <-g.gates // a's turn, a and b
	cancelA()
	close(gate)
	for name, ch := range map[string]chan outcome{"a": a, "b": b} {
		if o := <-ch; o.err != nil || o.res.Outcome != Accepted {
			t.Fatalf("%s: %v %v", name, o.res.Outcome, o.err)
		}
	}
	if len(g.sizes) != 2 || g.sizes[0] != 1 || g.sizes[1] != 2 {
		t.Fatalf("conditional appends of %v events reached the log, want [1 2]", g.sizes)
	}
	var names []string
	for rec, err := range g.Log.ReadStream(context.Background(), stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, string(rec.Data))
	}
	if len(names) != 3 {
		t.Fatalf("stream holds %d events, want next's, a's and b's: %q", len(names), names)
	}
}

// TestSessionNote: the revision a session is known to moves over the plain
// appends of this process once the revisions before them are known.
func TestSessionNote(t *testing.T) {
	for _, tc := range []struct {
		name      string
		read      uint64
		notes     []uint64
		wantRead  uint64
		wantAhead int
	}{
		{"next revision", 3, []uint64{3}, 4, 0},
		{"in order", 0, []uint64{0, 1, 2}, 3, 0},
		{"out of order", 0, []uint64{2, 1, 0}, 3, 0},
		{"a gap stays", 2, []uint64{3, 5}, 2, 2},
		{"the gap filled", 2, []uint64{3, 5, 2}, 4, 1},
		{"already read", 5, []uint64{1, 4}, 5, 0},
		{"bounded", 0, func() []uint64 {
			var revs []uint64
			for r := range 2 * maxAheadRevisions {
				revs = append(revs, uint64(r)+1)
			}
			return revs
		}(), 0, maxAheadRevisions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := &session{read: tc.read}
			for _, rev := range tc.notes {
				ss.note(rev)
			}
			if ss.read != tc.wantRead || len(ss.ahead) != tc.wantAhead {
				t.Fatalf("read %d, %d ahead; want %d, %d", ss.read, len(ss.ahead), tc.wantRead, tc.wantAhead)
			}
		})
	}
}

// TestSessionCacheCountsSessionsWithoutIntervals: sessions that hold no
// interval (kept for the revisions of their plain appends) count in the
// cache's bound, so the cache stays bounded under many small sessions.
func TestSessionCacheCountsSessionsWithoutIntervals(t *testing.T) {
	store, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(t.TempDir(), "events")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	const cacheBytes = 16 << 10
	svc, err := New(Config{SessionCacheBytes: cacheBytes, Now: func() time.Time { return time.Unix(1700000000, 0) }}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		body := fmt.Appendf(nil, `{"trigger":"meeting_started","data":{"created_at":1696934692,"sessionId":"v1.us.small-%d"},"type":"meet","appId":"app-1"}`, i)
		if res, err := svc.Ingest(context.Background(), body, "test"); err != nil || res.Outcome != Accepted {
			t.Fatalf("session %d: %v %v", i, res.Outcome, err)
		}
	}
	s := svc.sessions
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.index); n > cacheBytes/sessionBytes || s.size > cacheBytes {
		t.Fatalf("%d sessions cached in %d bytes; the bound is %d bytes", n, s.size, cacheBytes)
	}
}

// TestSessionConditionalWaitsForPlainInFlight: a join planned while a plain
// append of its session (a leave of a known interval) is in flight waits for
// it, and its conditional append then holds: no conflict, no read.
func TestSessionConditionalWaitsForPlainInFlight(t *testing.T) {
	svc, g := newGated(t)
	const session = "v1.us.plain"
	a := ingestAsync(context.Background(), svc, join(session, "a"))
	close(<-g.gates)
	if o := <-a; o.err != nil || o.res.Outcome != Accepted {
		t.Fatalf("a: %v %v", o.res.Outcome, o.err)
	}
	g.plainGates = make(chan chan struct{}, 1)
	leave := ingestAsync(context.Background(), svc, []byte(`{"trigger":"meeting_participant_left","data":{"occupant":{"joined_at":1696934692,"left_at":1696935000,"name":"a"},"sessionId":"v1.us.plain"},"type":"meet","appId":"app-1"}`))
	plainGate := <-g.plainGates // the leave is in flight
	b := ingestAsync(context.Background(), svc, join(session, "b"))
	close(plainGate)
	if o := <-leave; o.err != nil || o.res.Outcome != Accepted {
		t.Fatalf("leave: %v %v", o.res.Outcome, o.err)
	}
	done := make(chan struct{})
	go func() { // let every conditional append through
		for {
			select {
			case gate := <-g.gates:
				close(gate)
			case <-done:
				return
			}
		}
	}()
	defer close(done)
	if o := <-b; o.err != nil || o.res.Outcome != Accepted {
		t.Fatalf("b: %v %v", o.res.Outcome, o.err)
	}
	if n := g.conflicts.Load(); n != 0 {
		t.Fatalf("%d conditional appends lost to the leave", n)
	}
}
