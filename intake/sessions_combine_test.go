package intake_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/intake"
)

func started(session string) string {
	return fmt.Sprintf(`{"trigger":"meeting_started","data":{"created_at":%d,"sessionId":%q},"type":"meet","appId":"app-1"}`, t0, session)
}

// TestSessionLimitFarBelowCapConcurrent: a session far below its limit takes
// a flood of webhooks through two intakes over one log (two replicas, one
// with a cache too small to keep any session): new people joining, each
// with an interval of their own, some delivered twice, mixed with leaves
// of known intervals (appended without condition) and repeated starts. The
// joins of one intake are combined into conditional appends; the session
// still ends at exactly its limit, with exactly limit-prefilled new people
// accepted and every repeat of a person answered as that person was.
func TestSessionLimitFarBelowCapConcurrent(t *testing.T) {
	store := openStore(t)
	const limit, prefilled, joiners = 60, 10, 150
	a := newService(t, store, intake.Config{MaxSessionIntervals: limit})
	b := newService(t, store, intake.Config{MaxSessionIntervals: limit, SessionCacheBytes: 1})
	for round := range 3 {
		session := fmt.Sprintf("v1.us.limit.flood-%d", round)
		if res := ingest(t, a, ended(session, 0, prefilled, t0+3600)); res.Outcome != intake.Accepted {
			t.Fatalf("prefill: %s %s", res.Outcome, res.Reason)
		}
		type delivery struct {
			person string // "" for the webhooks that add no interval
			body   string
		}
		var ds []delivery
		for i := range joiners {
			p := fmt.Sprintf("racer-%d", i)
			ds = append(ds, delivery{p, joined(session, p, t0+int64(i))})
			if i%5 == 0 {
				ds = append(ds, delivery{p, joined(session, p, t0+int64(i))}) // delivered twice
			}
			if i%3 == 0 {
				known := fmt.Sprintf("p-%d", i%prefilled)
				ds = append(ds, delivery{"", left(session, known, t0, t0+100+int64(i))}, delivery{"", started(session)})
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[string][]intake.Outcome{}
		for i, d := range ds {
			svc := a
			if i%2 == 1 {
				svc = b
			}
			wg.Go(func() {
				res, err := svc.Ingest(context.Background(), []byte(d.body), "test")
				if err != nil {
					t.Errorf("%.80s: %v", d.body, err)
					return
				}
				if d.person == "" && res.Outcome == intake.Quarantined {
					t.Errorf("%.80s adds no interval, yet quarantined: %s", d.body, res.Reason)
				}
				if res.Outcome == intake.Quarantined && !strings.Contains(res.Reason, fmt.Sprintf("more than %d intervals", limit)) {
					t.Errorf("%.80s: reason %q", d.body, res.Reason)
				}
				mu.Lock()
				outcomes[d.person] = append(outcomes[d.person], res.Outcome)
				mu.Unlock()
			})
		}
		wg.Wait()
		if n := intervals(t, store, domain.StreamName("app-1", session)); n != limit {
			t.Fatalf("round %d: session holds %d intervals, want %d", round, n, limit)
		}
		in := 0
		for p, os := range outcomes {
			if p == "" {
				continue
			}
			accepted := 0
			for _, o := range os {
				if o == intake.Accepted {
					accepted++
				}
			}
			switch {
			case accepted > 1:
				t.Errorf("round %d: %s accepted %d times: %v", round, p, accepted, os)
			case accepted == 1:
				in++
				for _, o := range os {
					if o == intake.Quarantined {
						t.Errorf("round %d: %s both accepted and quarantined: %v", round, p, os)
					}
				}
			}
		}
		if in != limit-prefilled {
			t.Fatalf("round %d: %d new people accepted, want %d", round, in, limit-prefilled)
		}
	}
}

// TestSessionAppendsWithoutReading: a session this intake started is never
// read: its first event was this intake's, and every later append, with or
// without condition, moves the revision the intake knows the session to.
// A new intake over the same log (a restart) reads the session once.
func TestSessionAppendsWithoutReading(t *testing.T) {
	store := &countingLog{Log: openStore(t)}
	svc := newService(t, store, intake.Config{})
	const session = "v1.us.noread"
	bodies := []string{started(session)}
	for i := range 20 {
		p := fmt.Sprintf("p-%d", i)
		bodies = append(bodies, joined(session, p, t0), left(session, p, t0, t0+600))
	}
	bodies = append(bodies, joined(session, "p-0", t0+700), ended(session, 0, 20, t0+900))
	for _, body := range bodies {
		if res := ingest(t, svc, body); res.Outcome != intake.Accepted {
			t.Fatalf("%.80s: %s %s", body, res.Outcome, res.Reason)
		}
	}
	// 21 joins add intervals; the leaves and the ended list known ones.
	if r, c, p := store.reads.Load(), store.conditional.Load(), store.plain.Load(); r != 0 || c != 21 || p != int64(len(bodies))-21 {
		t.Fatalf("reads %d, conditional appends %d, plain %d; want 0, 21, %d", r, c, p, len(bodies)-21)
	}

	restarted := newService(t, store, intake.Config{})
	store.reads.Store(0)
	for i := range 3 {
		if res := ingest(t, restarted, joined(session, fmt.Sprintf("late-%d", i), t0+1000)); res.Outcome != intake.Accepted {
			t.Fatalf("after the restart: %s %s", res.Outcome, res.Reason)
		}
	}
	if r := store.reads.Load(); r != 1 {
		t.Fatalf("after the restart: %d reads, want 1", r)
	}
	if n := intervals(t, store, domain.StreamName("app-1", session)); n != 24 {
		t.Fatalf("session holds %d intervals, want 24", n)
	}
}
