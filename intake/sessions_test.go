package intake_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
)

const t0 = 1696934692 // joined_at of the fixtures, 2023-10-10

func now() time.Time { return time.Unix(1700000000, 0) }

// openStore opens an embedded event log in a fresh directory.
func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	store, err := embedded.Open(context.Background(), embedded.Config{Dir: filepath.Join(t.TempDir(), "events")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func newService(t *testing.T, store intake.Log, cfg intake.Config) *intake.Service {
	t.Helper()
	cfg.Now = now
	svc, err := intake.New(cfg, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func occupant(name string, joined, left int64) string {
	if left == 0 {
		return fmt.Sprintf(`{"joined_at":%d,"name":%q}`, joined, name)
	}
	return fmt.Sprintf(`{"joined_at":%d,"left_at":%d,"name":%q}`, joined, left, name)
}

func joined(session, name string, at int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_participant_joined","data":{"occupant":%s,"sessionId":%q},"type":"meet","appId":"app-1"}`,
		occupant(name, at, 0), session)
}

func left(session, name string, at, leftAt int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_participant_left","data":{"occupant":%s,"sessionId":%q},"type":"meet","appId":"app-1"}`,
		occupant(name, at, leftAt), session)
}

// ended lists people p-<from>…p-<to-1>, each joined at t0.
func ended(session string, from, to int, destroyed int64) string {
	occ := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		occ = append(occ, occupant(fmt.Sprintf("p-%d", i), t0, destroyed))
	}
	return fmt.Sprintf(`{"trigger":"meeting_ended","data":{"all_occupants":[%s],"destroyed_at":%d,"created_at":%d,"sessionId":%q},"type":"meet","appId":"app-1"}`,
		strings.Join(occ, ","), destroyed, t0, session)
}

// intervals counts the distinct intervals the stream holds.
func intervals(t *testing.T, store intake.Log, stream string) int {
	t.Helper()
	keys := map[domain.IntervalKey]bool{}
	for rec, err := range store.ReadStream(context.Background(), stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range domain.AppendIntervalKeys(nil, ev) {
			keys[k] = true
		}
	}
	return len(keys)
}

func ingest(t *testing.T, svc *intake.Service, body string) intake.Result {
	t.Helper()
	res, err := svc.Ingest(context.Background(), []byte(body), "test")
	if err != nil {
		t.Fatalf("ingest %.120s: %v", body, err)
	}
	return res
}

// TestSessionIntervalLimit fills a session to exactly the limit of 10,000
// intervals; past it a new interval is quarantined naming the limit, while
// everything that only repeats known intervals is still accepted, by this
// service and by a new one over the same log (a restart).
func TestSessionIntervalLimit(t *testing.T) {
	store := openStore(t)
	svc := newService(t, store, intake.Config{})
	const session = "v1.us.limit.full"
	stream := domain.StreamName("app-1", session)
	end := int64(t0 + 3600)

	if res := ingest(t, svc, ended(session, 0, intake.DefaultMaxSessionIntervals, end)); res.Outcome != intake.Accepted {
		t.Fatalf("10,000 occupants: %s %s", res.Outcome, res.Reason)
	}
	if n := intervals(t, store, stream); n != intake.DefaultMaxSessionIntervals {
		t.Fatalf("session holds %d intervals", n)
	}

	restarted := newService(t, store, intake.Config{})
	for _, svc := range []struct {
		name string
		svc  *intake.Service
	}{{"same process", svc}, {"restarted", restarted}} {
		for _, tc := range []struct {
			name, body string
			want       intake.Outcome
			reason     string
		}{
			{"a new person joins", joined(session, "newcomer", t0+60), intake.Quarantined,
				"data.occupant: session would hold more than 10000 intervals"},
			{"a known person rejoins", joined(session, "p-7", t0+60), intake.Quarantined, "more than 10000 intervals"},
			{"a known interval joined again", joined(session, "p-1", t0), intake.Accepted, ""},
			{"the leave of a known interval", left(session, "p-2", t0, t0+120), intake.Accepted, ""},
			{"an ended listing known people", ended(session, 10, 20, end+1), intake.Accepted, ""},
			{"an ended with one person more", ended(session, 9990, 10001, end+2), intake.Quarantined,
				"data.all_occupants: session would hold more than 10000 intervals"},
			{"a retry of the full ended", ended(session, 0, intake.DefaultMaxSessionIntervals, end), intake.Duplicate, ""},
		} {
			res := ingest(t, svc.svc, tc.body)
			if tc.want == intake.Accepted && svc.name == "restarted" {
				tc.want = intake.Duplicate // the first pass stored it
			}
			if res.Outcome != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("%s, %s: %s %q; want %s %q", svc.name, tc.name, res.Outcome, res.Reason, tc.want, tc.reason)
			}
		}
	}
	if n := intervals(t, store, stream); n != intake.DefaultMaxSessionIntervals {
		t.Fatalf("session holds %d intervals, want %d", n, intake.DefaultMaxSessionIntervals)
	}
	// Another session is not affected.
	if res := ingest(t, restarted, joined("v1.us.limit.other", "newcomer", t0)); res.Outcome != intake.Accepted {
		t.Fatalf("other session: %s %s", res.Outcome, res.Reason)
	}
}

// TestAllOccupantsOverLimit: one meeting_ended listing 25,000 occupants (a
// 1 MiB body) is quarantined and stores nothing in the session.
func TestAllOccupantsOverLimit(t *testing.T) {
	store := openStore(t)
	svc := newService(t, store, intake.Config{})
	const session = "v1.us.limit.flood"
	res := ingest(t, svc, ended(session, 0, 25_000, t0+60))
	if res.Outcome != intake.Quarantined || !strings.Contains(res.Reason, "data.all_occupants: session would hold more than 10000 intervals") {
		t.Fatalf("25,000 occupants: %s %q", res.Outcome, res.Reason)
	}
	if n := intervals(t, store, domain.StreamName("app-1", session)); n != 0 {
		t.Fatalf("session holds %d intervals", n)
	}
}

// TestSessionLimitConcurrent: webhooks racing at the boundary, through two
// services over one log (two replicas; one with a cache too small to keep
// any session), never take a session past its limit.
func TestSessionLimitConcurrent(t *testing.T) {
	store := openStore(t)
	const limit, prefilled, racers = 20, 15, 48
	a := newService(t, store, intake.Config{MaxSessionIntervals: limit})
	b := newService(t, store, intake.Config{MaxSessionIntervals: limit, SessionCacheBytes: 1})
	for round := range 3 {
		session := fmt.Sprintf("v1.us.limit.race-%d", round)
		if res := ingest(t, a, ended(session, 0, prefilled, t0+3600)); res.Outcome != intake.Accepted {
			t.Fatalf("prefill: %s %s", res.Outcome, res.Reason)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[intake.Outcome]int{}
		for i := range racers {
			svc := a
			if i%2 == 1 {
				svc = b
			}
			wg.Go(func() {
				// Half are new people, half rejoins of known people.
				body := joined(session, fmt.Sprintf("racer-%d", i), t0+int64(i))
				if i%4 == 0 {
					body = joined(session, fmt.Sprintf("p-%d", i%prefilled), t0+1+int64(i))
				}
				res, err := svc.Ingest(context.Background(), []byte(body), "test")
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
					return
				}
				mu.Lock()
				outcomes[res.Outcome]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := intervals(t, store, domain.StreamName("app-1", session)); n != limit {
			t.Fatalf("round %d: session holds %d intervals, want %d (outcomes %v)", round, n, limit, outcomes)
		}
		if outcomes[intake.Accepted] != limit-prefilled || outcomes[intake.Quarantined] != racers-(limit-prefilled) {
			t.Fatalf("round %d: outcomes %v", round, outcomes)
		}
	}
}
