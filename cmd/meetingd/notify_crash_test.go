package main_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is the customer's endpoint: it checks every signature with
// its own HMAC, answers 500 to one request in ten, and counts what it
// accepted per session.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	accepted map[string]int             // session → 2xx answers
	ids      map[string]map[string]bool // session → webhook-ids accepted
	requests int
	badSig   int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	if len(key) == 0 || !hmac.Equal([]byte(sig), []byte("v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rand.IntN(10) == 0 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var n struct {
		Type string `json:"type"`
		Data struct {
			SessionID string `json:"session_id"`
			Status    string `json:"status"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &n) != nil || n.Type != "meeting.final" || n.Data.Status != "ended" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.accepted[n.Data.SessionID]++
	if h.ids[n.Data.SessionID] == nil {
		h.ids[n.Data.SessionID] = map[string]bool{}
	}
	h.ids[n.Data.SessionID][id] = true
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) setSecret(s string) {
	h.mu.Lock()
	h.secret = s
	h.mu.Unlock()
}

// missing returns the owed sessions not yet notified, and the duplicates.
func (h *hookReceiver) missing(owed []string) (missing []string, dups, delivered int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range owed {
		if h.accepted[s] == 0 {
			missing = append(missing, s)
		}
	}
	for _, n := range h.accepted {
		delivered += n
		dups += n - 1
	}
	return missing, dups, delivered
}

func createSubscription(t *testing.T, base, url string) (id, secret string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/subscriptions", strings.NewReader(`{"url":"`+url+`"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct{ ID, Secret string }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create subscription: %d %v", resp.StatusCode, err)
	}
	return ans.ID, ans.Secret
}

// TestNotifySurvivesSIGKILL kills serve with SIGKILL while it delivers
// notifications, ten times, and checks after a last start that every
// meeting whose end was acknowledged was notified at least once, with
// duplicates rare.
func TestNotifySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary through ten kills")
	}
	rcv := &hookReceiver{accepted: map[string]int{}, ids: map[string]map[string]bool{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	dataDir, addr := t.TempDir(), freeAddr(t)
	env := []string{"MEETINGD_FINAL_AFTER=300ms", "MEETINGD_NOTIFY_RETRY_MIN=200ms",
		"MEETINGD_NOTIFY_ALLOW_HTTP=1", "MEETINGD_NOTIFY_ALLOW_PRIVATE=1", "MEETINGD_STALE_SCHEDULE=off"}
	var owed []string
	const rounds, perRound = 10, 25
	for round := range rounds {
		c := startServe(t, dataDir, addr, env...)
		if round == 0 {
			_, secret := createSubscription(t, c.base, srv.URL+"/hooks")
			rcv.setSecret(secret)
		}
		_, _, before := rcv.missing(nil)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Add(1)
		go func() { // meetings keep coming until the kill
			defer wg.Done()
			for m := 0; ctx.Err() == nil; m++ {
				session := fmt.Sprintf("notify-r%d-m%d", round, m)
				t0 := int64(1_700_000_000 + round*100_000 + m*3600)
				for _, body := range [][]byte{
					sessionBody("meeting_started", session, t0),
					joinedBody(session, "ana", t0+10, "wh"),
					leftBody(session, "ana", t0+10, t0+900),
					sessionBody("meeting_ended", session, t0),
				} {
					if status, _, err := postWebhook(ctx, c.base, body); err != nil || status != 200 {
						return
					}
				}
				mu.Lock()
				owed = append(owed, session) // its end is acknowledged: a final is owed
				mu.Unlock()
			}
		}()
		// Kill once this round's notifications are being delivered.
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, _, now := rcv.missing(nil)
			mu.Lock()
			n := len(owed)
			mu.Unlock()
			if (now > before && n >= perRound*(round+1)) || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
		c.kill(t)
		cancel()
		wg.Wait()
	}
	c := startServe(t, dataDir, addr, env...)
	deadline := time.Now().Add(60 * time.Second)
	var missing []string
	var dups, delivered int
	for {
		missing, dups, delivered = rcv.missing(owed)
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.stop(t)
	rcv.mu.Lock()
	requests, bad := rcv.requests, rcv.badSig
	rcv.mu.Unlock()
	t.Logf("%d rounds: %d meetings owed a final, %d delivered (%d duplicates), %d requests (one in ten answered 500)",
		rounds, len(owed), delivered, dups, requests)
	if len(missing) > 0 {
		t.Fatalf("%d of %d owed notifications never arrived, e.g. %v", len(missing), len(owed), missing[:min(5, len(missing))])
	}
	if bad > 0 {
		t.Fatalf("%d requests with a bad signature", bad)
	}
	// A notification sent again after a kill keeps its webhook-id.
	rcv.mu.Lock()
	for session, ids := range rcv.ids {
		if len(ids) != 1 {
			t.Errorf("session %s: meeting.final arrived with %d webhook-ids, want 1", session, len(ids))
		}
	}
	rcv.mu.Unlock()
	// A duplicate needs a kill between a 2xx and its record (a few per kill at most).
	if dups > rounds*8 {
		t.Fatalf("%d duplicates over %d kills: not rare", dups, rounds)
	}
}
