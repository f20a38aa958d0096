package main_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogMovedAside does what the embedded store's error message advises for
// a damaged log, keeping the read models: serve folds some meetings, stops,
// the log file is moved aside, serve starts again on a new, empty log and
// takes new webhooks. Their positions lie below the old checkpoint; serve
// must notice at start, rebuild the read models from the new log (saying so
// in its log and in meetingd_projection_resets_total) and report the new
// meetings, not the old ones.
func TestLogMovedAside(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	dataDir := t.TempDir()
	prefix := fmt.Sprintf("v1.us.moved.%d", time.Now().UnixNano())
	post := func(c *child, session string) {
		t.Helper()
		status, ans, err := postWebhook(t.Context(), c.base, sessionBody("meeting_started", session, 1700000000))
		if err != nil || status != 200 {
			t.Fatalf("post %s: %d %v %v", session, status, ans, err)
		}
	}
	c := startServe(t, dataDir, freeAddr(t))
	for i := range 5 {
		post(c, fmt.Sprintf("%s.old-%d", prefix, i))
	}
	waitCaughtUp(t, c.base)
	c.stop(t)

	log := filepath.Join(dataDir, "eventstore", "events.db")
	if err := os.Rename(log, log+".damaged"); err != nil {
		t.Fatal(err)
	}
	c = startServe(t, dataDir, freeAddr(t))
	fresh := []string{prefix + ".new-0", prefix + ".new-1"}
	for _, s := range fresh {
		post(c, s)
	}
	for _, s := range fresh {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var m struct {
				Status string `json:"status"`
			}
			if getJSON(t, c.base+"/v1/meetings/"+s, &m) == 200 && m.Status == "live" {
				break
			}
			if time.Now().After(deadline) {
				c.stop(t)
				t.Fatalf("meeting %s of the new log not reported after 30 s\n%s", s, c.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var gone map[string]any
	if status := getJSON(t, c.base+"/v1/meetings/"+prefix+".old-0", &gone); status != 404 {
		t.Fatalf("a meeting of the moved-aside log: %d %v, want 404", status, gone)
	}
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `meetingd_projection_resets_total{reason="log_replaced"} 1`) {
		t.Errorf("metrics lack the reset:\n%s", grepLines(string(body), "meetingd_projection_resets_total"))
	}
	c.stop(t) // its stderr is complete once it has exited
	if !strings.Contains(c.stderr.String(), "READ MODELS DO NOT MATCH THE EVENT LOG") {
		t.Errorf("no error logged about the replaced log:\n%s", c.stderr)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
