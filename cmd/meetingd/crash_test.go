package main_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCrashKeepsAcknowledgedWebhooks kills `meetingd serve` with SIGKILL while
// concurrent clients post webhooks, restarts it, and checks that every webhook
// that got a 200 is in the log, exactly once.
func TestCrashKeepsAcknowledgedWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dataDir := t.TempDir()
	addr := freeAddr(t)
	const rounds, workers = 3, 16
	acked := map[string]map[string]bool{} // session → event ids that got a 200
	var mu sync.Mutex
	total := 0
	for round := range rounds {
		srv := startServe(t, dataDir, addr)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				session := fmt.Sprintf("crash-r%d-w%d", round, w)
				for i := 0; ctx.Err() == nil; i++ {
					body := joinedBody(session, fmt.Sprintf("p-%d", i), 1700000000+int64(i), "wh")
					status, ans, err := postWebhook(ctx, srv.base, body)
					if err != nil || status != 200 {
						continue // killed mid-request: not acknowledged
					}
					mu.Lock()
					if acked[session] == nil {
						acked[session] = map[string]bool{}
					}
					acked[session][ans["event_id"].(string)] = true
					total++
					mu.Unlock()
				}
			}()
		}
		// Let the load run, then kill at a moment that varies by round.
		time.Sleep(time.Duration(400+300*round) * time.Millisecond)
		srv.kill(t)
		cancel()
		wg.Wait()
	}
	if total < rounds*workers {
		t.Fatalf("only %d webhooks were acknowledged; the load did not run", total)
	}
	srv := startServe(t, dataDir, addr)
	for session, ids := range acked {
		stored := storedEventIDs(t, srv.base, session)
		seen := map[string]int{}
		for _, id := range stored {
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
	t.Logf("%d rounds of SIGKILL under load; %d acknowledged webhooks in %d sessions, all in the log once", rounds, total, len(acked))
}
