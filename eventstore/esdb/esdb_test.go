package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/esdb"
	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
)

// realServerEnv names the variable that holds a real server's connection
// string; the tests that need no fault injection run against it too.
const realServerEnv = "MEETINGD_TEST_KURRENTDB"

// target is a server the tests run against: srv is nil for a real one.
type target struct {
	name string
	conn string
	srv  *esdbtest.Server
}

// targets returns the in-process server and, when configured, the real one.
func targets(t *testing.T) []target {
	t.Helper()
	conn, srv := esdbtest.StartServer(t)
	ts := []target{{name: "inprocess", conn: conn, srv: srv}}
	if real := os.Getenv(realServerEnv); real != "" {
		ts = append(ts, target{name: "kurrentdb", conn: real})
	}
	return ts
}

// forEachTarget runs f as a subtest per target.
func forEachTarget(t *testing.T, f func(t *testing.T, tg target)) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) { f(t, tg) })
	}
}

// bounded returns a context that ends with the test or after a minute, so
// that a missed event fails the test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// open opens a store on conn with cfg's non-zero fields and closes it when t ends.
func open(t *testing.T, conn string, cfg esdb.Config) *esdb.Store {
	t.Helper()
	cfg.ConnectionString = conn
	if cfg.ResubscribeMinBackoff == 0 {
		cfg.ResubscribeMinBackoff = 10 * time.Millisecond
		cfg.ResubscribeMaxBackoff = 50 * time.Millisecond
	}
	s, err := esdb.Open(bounded(t), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// unique returns a name no other test uses (the real server is shared).
func unique(prefix string) string {
	return prefix + strings.ReplaceAll(uuid.NewString()[:13], "-", "") + "-"
}

func event(typ string) eventstore.Event {
	return eventstore.Event{ID: uuid.New(), Type: typ, Data: []byte(`{"n":1}`), Metadata: []byte(`{"webhook":"w1"}`)}
}

func mustAppend(t *testing.T, s *esdb.Store, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.Event) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(bounded(t), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append %s: %v", stream, err)
	}
	return res
}

func readStream(t *testing.T, s *esdb.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for rec, err := range s.ReadStream(bounded(t), stream, 0) {
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		out = append(out, rec)
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  esdb.Config
		want []string // substrings of the error; none: valid
	}{
		{"esdb", esdb.Config{ConnectionString: "esdb://localhost:2113?tls=false"}, nil},
		{"kurrentdb", esdb.Config{ConnectionString: "kurrentdb://admin:changeit@localhost:2113"}, nil},
		{"cluster", esdb.Config{ConnectionString: "kurrentdb+discover://a:2113,b:2113,c:2113?nodePreference=leader"}, nil},
		{"empty", esdb.Config{}, []string{"connection string is empty"}},
		{"scheme", esdb.Config{ConnectionString: "postgres://x"}, []string{"unknown connection string scheme"}},
		{"everything", esdb.Config{
			ConnectionString: "esdb://:secret@host:2113", TLSCertFile: "c.pem", Password: "p",
			RequestTimeout: -1, AppendAttempts: -2, ResubscribeMinBackoff: time.Minute, ResubscribeMaxBackoff: time.Second,
		}, []string{"invalid connection string", "TLSCertFile and TLSKeyFile", "Password without Username",
			"RequestTimeout", "AppendAttempts", "exceeds ResubscribeMaxBackoff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestIsConnectionString(t *testing.T) {
	for s, want := range map[string]bool{
		"esdb://h:2113": true, "esdb+discover://h": true, "kurrentdb://h": true, "KurrentDB+discover://h": true,
		"kurrent://h": true, "kdb://h": true, "embedded": false, "clickhouse://h": false, "": false,
	} {
		if got := esdb.IsConnectionString(s); got != want {
			t.Errorf("IsConnectionString(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestOpenKurrentDBScheme(t *testing.T) {
	_, srv := esdbtest.StartServer(t)
	s := open(t, "kurrentdb://"+srv.Addr()+"?tls=false", esdb.Config{})
	if err := s.Ping(bounded(t)); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAndRead(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		s := open(t, tg.conn, esdb.Config{ReadPageSize: 3})
		stream := unique("session-") + "s1"
		evs := []eventstore.Event{event("a.v1"), event("b.v1"), {ID: uuid.New(), Type: "c.v1"}}
		res := mustAppend(t, s, stream, eventstore.NoStream, evs...)
		if res.Duplicate || res.NextRevision != 2 {
			t.Fatalf("first append: %+v", res)
		}
		more := []eventstore.Event{event("d.v1"), event("e.v1")}
		res2 := mustAppend(t, s, stream, eventstore.Exact(2), more...)
		if res2.NextRevision != 4 || res2.Position.Compare(res.Position) <= 0 {
			t.Fatalf("second append: %+v after %+v", res2, res)
		}
		got := readStream(t, s, stream) // pages of 3: 3 + 2
		want := append(evs, more...)
		if len(got) != len(want) {
			t.Fatalf("read %d events, want %d", len(got), len(want))
		}
		for i, rec := range got {
			w := want[i]
			if rec.ID != w.ID || rec.Type != w.Type || string(rec.Data) != string(w.Data) ||
				string(rec.Metadata) != string(w.Metadata) || rec.Stream != stream || rec.Revision != uint64(i) {
				t.Errorf("event %d = %+v, want %+v", i, rec, w)
			}
			if i > 0 && rec.Position.Compare(got[i-1].Position) <= 0 {
				t.Errorf("event %d position %s not after %s", i, rec.Position, got[i-1].Position)
			}
			if rec.RecordedAt.IsZero() || time.Since(rec.RecordedAt) > time.Hour {
				t.Errorf("event %d recorded at %s", i, rec.RecordedAt)
			}
		}
		if last := got[len(got)-1].Position; last != res2.Position {
			t.Errorf("append reported position %s, read %s", res2.Position, last)
		}
		var from3 []uint64
		for rec, err := range s.ReadStream(bounded(t), stream, 3) {
			if err != nil {
				t.Fatal(err)
			}
			from3 = append(from3, rec.Revision)
		}
		if fmt.Sprint(from3) != "[3 4]" {
			t.Errorf("read from 3: %v", from3)
		}
		for _, err := range s.ReadStream(bounded(t), stream, 9) {
			t.Errorf("read past the end yielded %v", err)
		}
		n := 0
		for _, err := range s.ReadStream(bounded(t), unique("session-")+"none", 0) {
			n++
			if !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Errorf("missing stream: %v, want ErrStreamNotFound", err)
			}
		}
		if n != 1 {
			t.Errorf("missing stream yielded %d times", n)
		}
	})
}

func TestAppendRejectsInvalid(t *testing.T) {
	conn, srv := esdbtest.StartServer(t)
	s := open(t, conn, esdb.Config{})
	ok := event("a.v1")
	for name, tc := range map[string]struct {
		stream string
		evs    []eventstore.Event
	}{
		"empty stream":  {"", []eventstore.Event{ok}},
		"system stream": {"$stats", []eventstore.Event{ok}},
		"no events":     {"s", nil},
		"no id":         {"s", []eventstore.Event{{Type: "a.v1"}}},
		"no type":       {"s", []eventstore.Event{{ID: uuid.New()}}},
		"repeated id":   {"s", []eventstore.Event{ok, ok}},
	} {
		if _, err := s.Append(bounded(t), tc.stream, eventstore.Any, tc.evs...); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
	}
	if n := srv.Appends(); n != 0 {
		t.Errorf("invalid appends reached the server %d times", n)
	}
}

func TestDuplicatesAndExpectedRevisions(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		s := open(t, tg.conn, esdb.Config{})
		stream := unique("session-") + "dup"
		a, b, c := event("a.v1"), event("b.v1"), event("c.v1")
		first := mustAppend(t, s, stream, eventstore.NoStream, a, b)
		ctx := bounded(t)

		// The same IDs again, whatever the expectation: a duplicate describing the stored copies.
		for _, exp := range []eventstore.ExpectedRevision{eventstore.Any, eventstore.NoStream, eventstore.Exact(0), eventstore.Exact(7), eventstore.StreamExists} {
			res, err := s.Append(ctx, stream, exp, a, b)
			if err != nil || !res.Duplicate || res.NextRevision != 1 || res.Position != first.Position {
				t.Errorf("duplicate with %s: %+v, %v; first %+v", exp, res, err, first)
			}
		}
		res, err := s.Append(ctx, stream, eventstore.Any, a)
		if err != nil || !res.Duplicate || res.NextRevision != 1 {
			t.Errorf("duplicate of the first event: %+v, %v", res, err)
		}
		// Some known, some new: rejected whole.
		if _, err := s.Append(ctx, stream, eventstore.Any, b, c); !errors.Is(err, eventstore.ErrPartialDuplicate) {
			t.Errorf("partial duplicate: %v", err)
		}
		// Expectations that do not hold.
		for _, exp := range []eventstore.ExpectedRevision{eventstore.NoStream, eventstore.Exact(0), eventstore.Exact(5)} {
			if _, err := s.Append(ctx, stream, exp, c); !errors.Is(err, eventstore.ErrConcurrency) {
				t.Errorf("append with %s: %v, want ErrConcurrency", exp, err)
			}
		}
		if _, err := s.Append(ctx, unique("session-")+"new", eventstore.StreamExists, c); !errors.Is(err, eventstore.ErrConcurrency) {
			t.Errorf("StreamExists on a new stream: %v", err)
		}
		if got := len(readStream(t, s, stream)); got != 2 {
			t.Errorf("stream holds %d events, want 2", got)
		}
		// A second store (another replica, cold cache) sees the same.
		other := open(t, tg.conn, esdb.Config{})
		if res, err := other.Append(ctx, stream, eventstore.Any, a, b); err != nil || !res.Duplicate || res.Position != first.Position {
			t.Errorf("duplicate through a second store: %+v, %v", res, err)
		}
		// The second store appends, the first (stale cache) then sees it as a duplicate.
		mustAppend(t, other, stream, eventstore.Exact(1), c)
		if res, err := s.Append(ctx, stream, eventstore.Any, c); err != nil || !res.Duplicate || res.NextRevision != 2 {
			t.Errorf("duplicate behind a stale cache: %+v, %v", res, err)
		}
		if res := mustAppend(t, s, stream, eventstore.Exact(2), event("d.v1")); res.NextRevision != 3 {
			t.Errorf("append after a stale cache: %+v", res)
		}
	})
}

func TestConcurrentAppends(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		stores := []*esdb.Store{open(t, tg.conn, esdb.Config{}), open(t, tg.conn, esdb.Config{})}
		stream := unique("session-") + "race"
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			wg.Add(1)
			go func() { // distinct events through two "replicas" racing on one stream
				defer wg.Done()
				if _, err := stores[i%2].Append(bounded(t), stream, eventstore.Any, event("x.v1")); err != nil {
					errs <- err
				}
			}()
		}
		same := event("same.v1")
		var mu sync.Mutex
		written := 0
		for range n {
			wg.Add(1)
			go func() { // one event delivered n times to one replica
				defer wg.Done()
				res, err := stores[0].Append(bounded(t), stream, eventstore.Any, same)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if !res.Duplicate {
					written++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if written != 1 {
			t.Errorf("%d of %d identical appends reported a write, want 1", written, n)
		}
		got := readStream(t, stores[1], stream)
		if len(got) != n+1 {
			t.Errorf("stream holds %d events, want %d", len(got), n+1)
		}
		for i, rec := range got {
			if rec.Revision != uint64(i) {
				t.Errorf("event %d has revision %d", i, rec.Revision)
			}
		}
	})
}

func TestAppendAfterAmbiguousFailure(t *testing.T) {
	conn, srv := esdbtest.StartServer(t)
	s := open(t, conn, esdb.Config{})
	stream := unique("session-") + "timeout"
	ev := event("a.v1")
	srv.FailAppends(1, status.Error(codes.Unavailable, "connection reset"), true) // written, but the client hears a failure
	if _, err := s.Append(bounded(t), stream, eventstore.Any, ev); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("append: %v, want ErrUnavailable", err)
	}
	res, err := s.Append(bounded(t), stream, eventstore.Any, ev) // the caller (CometChat) retries
	if err != nil || !res.Duplicate {
		t.Fatalf("retry: %+v, %v; want a duplicate", res, err)
	}
	srv.FailAppends(1, status.Error(codes.DeadlineExceeded, "slow"), false) // nothing written
	ev2 := event("b.v1")
	if _, err := s.Append(bounded(t), stream, eventstore.Any, ev2); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("append: %v, want ErrUnavailable", err)
	}
	if res, err := s.Append(bounded(t), stream, eventstore.Any, ev2); err != nil || res.Duplicate || res.NextRevision != 1 {
		t.Fatalf("retry: %+v, %v; want a write at revision 1", res, err)
	}
	if got := len(readStream(t, s, stream)); got != 2 {
		t.Errorf("stream holds %d events, want 2", got)
	}
}

func TestAppendRetriesWhenTheStreamMoves(t *testing.T) {
	conn, srv := esdbtest.StartServer(t)
	s := open(t, conn, esdb.Config{AppendAttempts: 3})
	stream := unique("session-") + "busy"
	mustAppend(t, s, stream, eventstore.NoStream, event("a.v1"))

	srv.Race(2, false) // two other writers get there first; the third attempt lands
	res, err := s.Append(bounded(t), stream, eventstore.Any, event("b.v1"))
	if err != nil || res.Duplicate || res.NextRevision != 3 {
		t.Fatalf("append after two lost races: %+v, %v", res, err)
	}
	srv.Race(3, false) // every attempt loses: give up, nothing written
	if _, err := s.Append(bounded(t), stream, eventstore.Any, event("c.v1")); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("append after three lost races: %v, want ErrUnavailable", err)
	}
	srv.Race(1, false) // the caller's exact expectation no longer holds after the race
	if _, err := s.Append(bounded(t), stream, eventstore.Exact(6), event("d.v1")); !errors.Is(err, eventstore.ErrConcurrency) {
		t.Fatalf("exact append after a lost race: %v, want ErrConcurrency", err)
	}
	// Another replica stores the same events first: stored once (the server's
	// idempotence answers; see the package documentation on the flag).
	same := event("e.v1")
	srv.Race(1, true)
	if _, err := s.Append(bounded(t), stream, eventstore.Any, same); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range readStream(t, s, stream) {
		if rec.ID == same.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the raced event is stored %d times", n)
	}
}

func TestReadAllFilterAndHead(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		s := open(t, tg.conn, esdb.Config{FilterWindow: 4})
		prefix, other := unique("ra"), unique("rb")
		var want []uuid.UUID
		var start eventstore.Position
		for i := range 6 {
			ev := event("a.v1")
			res := mustAppend(t, s, fmt.Sprintf("%s%d", prefix, i%2), eventstore.Any, ev)
			if i == 0 {
				start = res.Position
			} else {
				want = append(want, ev.ID)
			}
			mustAppend(t, s, other+"x", eventstore.Any, event("b.v1"))
			if tg.srv != nil {
				tg.srv.AppendSystemEvent("$stats-x", "$statsCollected")
			}
		}
		var got []uuid.UUID
		for rec, err := range s.ReadAll(bounded(t), start, eventstore.Filter{StreamPrefixes: []string{prefix}}) {
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rec.Stream, prefix) {
				t.Errorf("filtered read yielded %s", rec.Stream)
			}
			got = append(got, rec.ID)
			// Appends during the read are after its head: not yielded.
			mustAppend(t, s, prefix+"late", eventstore.Any, event("c.v1"))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("read all after %s:\n got %v\nwant %v", start, got, want)
		}
		if tg.srv != nil { // the zero filter leaves the server's streams out
			for rec, err := range s.ReadAll(bounded(t), eventstore.Start, eventstore.Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(rec.Stream, "$") {
					t.Errorf("unfiltered read yielded system stream %s", rec.Stream)
				}
			}
		}
		n := 0
		for range s.ReadAll(bounded(t), start, eventstore.Filter{StreamPrefixes: []string{prefix}}) {
			n++
			break // the consumer stops early: nothing more is yielded
		}
		if n != 1 {
			t.Errorf("after break: %d", n)
		}
	})
}

func TestStatsIsIncremental(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		s := open(t, tg.conn, esdb.Config{FilterWindow: 2})
		prefix := unique("st")
		f := eventstore.Filter{StreamPrefixes: []string{prefix}}
		if st, err := s.Stats(bounded(t), f); err != nil || st.Events != 0 || !st.Head.IsZero() {
			t.Fatalf("empty stats: %+v, %v", st, err)
		}
		var last eventstore.AppendResult
		for range 5 {
			last = mustAppend(t, s, prefix+"a", eventstore.Any, event("a.v1"))
			mustAppend(t, s, unique("zz")+"b", eventstore.Any, event("b.v1"))
		}
		st, err := s.Stats(bounded(t), f)
		if err != nil || st.Events != 5 || st.Head != last.Position {
			t.Fatalf("stats: %+v, %v; want 5 events, head %s", st, err, last.Position)
		}
		var subsBefore int
		if tg.srv != nil {
			subsBefore = len(tg.srv.Subscriptions())
		}
		last = mustAppend(t, s, prefix+"b", eventstore.Any, event("a.v1"), event("a.v1"))
		st, err = s.Stats(bounded(t), f)
		if err != nil || st.Events != 7 || st.Head != last.Position {
			t.Fatalf("stats: %+v, %v; want 7 events, head %s", st, err, last.Position)
		}
		if tg.srv != nil {
			subs := tg.srv.Subscriptions()
			if len(subs) != subsBefore+1 || subs[len(subs)-1].FromStart {
				t.Errorf("the second Stats rescanned from the start: %+v", subs[subsBefore:])
			}
		}
	})
}

// TestSubscriptionCutResumesFromCheckpoint cuts the subscription twice, once
// during catch-up right after a checkpoint that is past the last delivered
// event, once while live; the consumer must see every event once, in order,
// and the resubscriptions must start at the checkpoint and at the last event.
func TestSubscriptionCutResumesFromCheckpoint(t *testing.T) {
	conn, srv := esdbtest.StartServer(t)
	// A checkpoint every 2 scanned events.
	s := open(t, conn, esdb.Config{FilterWindow: 2, CheckpointMultiplier: 1})
	prefix, noise := unique("cut"), unique("noise")
	var want []uuid.UUID
	appendMatching := func(i int) {
		ev := event("a.v1")
		mustAppend(t, s, fmt.Sprintf("%s%d", prefix, i%3), eventstore.Any, ev)
		want = append(want, ev.ID)
		for range 3 { // scanned but filtered out: checkpoints land after the event
			mustAppend(t, s, noise+"x", eventstore.Any, event("b.v1"))
		}
	}
	for i := range 10 {
		appendMatching(i)
	}

	var (
		mu         sync.Mutex
		cutAt      []esdbtest.Message // the message after which each cut happened
		lastEvent  = map[int]esdbtest.Message{}
		liveEvents int
		caughtUp   = map[int]bool{}
	)
	srv.SetHook(func(m esdbtest.Message) error {
		mu.Lock()
		defer mu.Unlock()
		switch m.Kind {
		case esdbtest.KindEvent:
			lastEvent[m.Subscription] = m
		case esdbtest.KindCaughtUp:
			caughtUp[m.Subscription] = true
		}
		cut := false
		switch m.Subscription {
		case 0: // catch-up: after a checkpoint past the 4th event
			ev := lastEvent[0]
			cut = m.Kind == esdbtest.KindCheckpoint && m.Events == 4 &&
				(m.Commit > ev.Commit || (m.Commit == ev.Commit && m.Prepare > ev.Prepare))
		case 1: // live: right after the 2nd live event
			if m.Kind == esdbtest.KindEvent && caughtUp[1] {
				liveEvents++
				cut = liveEvents == 2
			}
		}
		if cut {
			cutAt = append(cutAt, m)
			return status.Error(codes.Unavailable, "connection reset by peer")
		}
		return nil
	})

	var appending sync.WaitGroup
	defer appending.Wait() // after cancel, which ends the appender's wait
	ctx, cancel := context.WithCancel(bounded(t))
	defer cancel()
	var got []eventstore.RecordedEvent
	liveAppended := false
	for rec, err := range s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{prefix}}) {
		if err != nil {
			t.Fatalf("after %d events: %v", len(got), err)
		}
		got = append(got, rec)
		if len(got) == 10 && !liveAppended { // caught up: now append while live
			liveAppended = true
			appending.Add(1)
			go func() {
				defer appending.Done()
				// wait until the second subscription is live before appending
				for {
					mu.Lock()
					live := caughtUp[1]
					mu.Unlock()
					if live {
						break
					}
					if ctx.Err() != nil {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				for i := 10; i < 15; i++ {
					ev := event("a.v1")
					if _, err := s.Append(ctx, fmt.Sprintf("%s%d", prefix, i%3), eventstore.Any, ev); err != nil {
						t.Error(err)
					}
					mu.Lock()
					want = append(want, ev.ID)
					mu.Unlock()
					for range 3 {
						if _, err := s.Append(ctx, noise+"x", eventstore.Any, event("b.v1")); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		if len(got) == 15 {
			break
		}
	}
	appending.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i, rec := range got {
		if rec.ID != want[i] {
			t.Errorf("event %d: %s, want %s (gap, repeat or reorder)", i, rec.ID, want[i])
		}
		if i > 0 && rec.Position.Compare(got[i-1].Position) <= 0 {
			t.Errorf("event %d at %s not after %s", i, rec.Position, got[i-1].Position)
		}
	}
	subs := srv.Subscriptions()
	if len(cutAt) != 2 || len(subs) != 3 {
		t.Fatalf("cuts %+v, subscriptions %+v; want 2 cuts and 3 subscriptions", cutAt, subs)
	}
	if !subs[0].FromStart || subs[0].CheckpointEvery != 2 || fmt.Sprint(subs[0].Prefixes) != fmt.Sprint([]string{prefix}) {
		t.Errorf("first subscription: %+v", subs[0])
	}
	// Resumed from the checkpoint (past the 4th event), not from the 4th event.
	if subs[1].FromStart || subs[1].Commit != cutAt[0].Commit || subs[1].Prepare != cutAt[0].Prepare {
		t.Errorf("second subscription started at %d/%d, want the checkpoint %d/%d", subs[1].Commit, subs[1].Prepare, cutAt[0].Commit, cutAt[0].Prepare)
	}
	if subs[2].Commit != cutAt[1].Commit || subs[2].Prepare != cutAt[1].Prepare {
		t.Errorf("third subscription started at %d/%d, want the last live event %d/%d", subs[2].Commit, subs[2].Prepare, cutAt[1].Commit, cutAt[1].Prepare)
	}
}

func TestSubscribeAllSeesLiveEventsAndEndsWithCtx(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target) {
		s := open(t, tg.conn, esdb.Config{})
		prefix := unique("live")
		first := mustAppend(t, s, prefix+"a", eventstore.Any, event("a.v1"))
		ctx, cancel := context.WithCancel(bounded(t))
		defer cancel()
		var appending sync.WaitGroup
		appending.Add(1)
		go func() { // most likely after the subscription went live
			defer appending.Done()
			time.Sleep(100 * time.Millisecond)
			if _, err := s.Append(bounded(t), prefix+"b", eventstore.Any, event("b.v1"), event("c.v1")); err != nil {
				t.Error(err)
			}
			if _, err := s.Append(bounded(t), prefix+"c", eventstore.Any, event("d.v1")); err != nil {
				t.Error(err)
			}
		}()
		defer appending.Wait()
		var got []eventstore.RecordedEvent
		var lastErr error
		for rec, err := range s.SubscribeAll(ctx, first.Position, eventstore.Filter{StreamPrefixes: []string{prefix}}) {
			if err != nil {
				lastErr = err
				continue // the contract: the ctx error comes last
			}
			got = append(got, rec)
			if len(got) == 3 {
				cancel()
			}
		}
		if len(got) != 3 || got[0].Stream != prefix+"b" || got[1].Revision != 1 {
			t.Errorf("got %+v", got)
		}
		if !errors.Is(lastErr, context.Canceled) {
			t.Errorf("ended with %v, want context.Canceled", lastErr)
		}
	})
}

func TestCloseEndsEverything(t *testing.T) {
	conn, _ := esdbtest.StartServer(t)
	s, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: conn}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	prefix := unique("close")
	mustAppend(t, s, prefix+"a", eventstore.Any, event("a.v1"))
	done := make(chan error, 1)
	live := make(chan struct{}) // closed once the subscription has yielded the event
	go func() {
		var last error
		first := true
		for _, err := range s.SubscribeAll(bounded(t), eventstore.Start, eventstore.Filter{StreamPrefixes: []string{prefix}}) {
			if err == nil && first {
				close(live)
				first = false
			}
			last = err
		}
		done <- last
	}()
	select {
	case <-live:
	case err := <-done:
		t.Fatalf("subscription ended before its first event: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("subscription yielded nothing in 30 s")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("subscription ended with %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription still running after Close")
	}
	if _, err := s.Append(bounded(t), prefix+"a", eventstore.Any, event("a.v1")); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	for _, err := range s.ReadStream(bounded(t), prefix+"a", 0) {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	}
	if _, err := s.Stats(bounded(t), eventstore.Filter{}); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("stats after close: %v", err)
	}
	if err := s.Ping(bounded(t)); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("ping after close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// TestPingFollowsTheServer stops the server, long enough for the client
// library to give up its connection for good, and starts it again on the same
// address: Ping reports the outage and then the recovery.
func TestPingFollowsTheServer(t *testing.T) {
	srv, err := esdbtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	conn := "esdb://" + addr + "?tls=false&maxDiscoverAttempts=2&discoveryInterval=10&gossipTimeout=1"
	s := open(t, conn, esdb.Config{PingTimeout: 3 * time.Second})
	if err := s.Ping(bounded(t)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for range 3 { // the first failure makes the library rediscover, which fails for good
		if err := s.Ping(bounded(t)); !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("ping with the server down: %v, want ErrUnavailable", err)
		}
	}
	srv2, err := esdbtest.Start(addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	t.Cleanup(srv2.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(bounded(t))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ping after the server came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustAppend(t, s, unique("session-")+"back", eventstore.Any, event("a.v1"))
}

// TestCallsHonourCtx points the store at a peer that accepts connections and
// never answers: calls return when ctx ends although the client library,
// busy discovering, does not watch ctx.
func TestCallsHonourCtx(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	conn := "esdb://" + ln.Addr().String() + "?tls=false&maxDiscoverAttempts=1&gossipTimeout=2"
	s, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: conn, PingTimeout: 100 * time.Millisecond, CloseTimeout: 100 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatalf("open with an unreachable server: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(bounded(t), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.Append(ctx, "session-x", eventstore.Any, event("a.v1"))
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("append: %v, want the ctx deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("append took %s with a 200ms ctx", d)
	}
}

func TestOpenRejectsInvalidConfig(t *testing.T) {
	_, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: "mysql://x", TLSKeyFile: "k"}, nil)
	if err == nil || !strings.Contains(err.Error(), "scheme") || !strings.Contains(err.Error(), "TLSKeyFile") {
		t.Errorf("Open: %v", err)
	}
}

// BenchmarkAppend measures single-event appends (the webhook path) to
// distinct streams, in parallel, through the client over loopback.
func BenchmarkAppend(b *testing.B) {
	conn, _ := esdbtest.StartServer(b)
	s, err := esdb.Open(b.Context(), esdb.Config{ConnectionString: conn}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	prefix := unique("bench")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		stream := prefix + uuid.NewString()
		for pb.Next() {
			if _, err := s.Append(b.Context(), stream, eventstore.Any, event("a.v1")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
