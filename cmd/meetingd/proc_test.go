package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The tests in this package run the real binary as a child process.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

const (
	testUser  = "cometchat"
	testPass  = "crash-test-password"
	testToken = "crash-test-token-0123456789"
	testApp   = "app-crash"
)

// meetingdBinary builds the binary once per test run.
func meetingdBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "meetingd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "meetingd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// child is a running `meetingd serve`.
type child struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer // read it only through String: the child writes it meanwhile
	done   chan error
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe starts `meetingd serve` on dataDir and waits until it is ready.
func startServe(t testing.TB, dataDir, addr string, extraEnv ...string) *child {
	t.Helper()
	cmd := exec.Command(meetingdBinary(t), "serve")
	dieWithTest(cmd)
	cmd.Env = append(os.Environ(),
		"MEETINGD_ADDR="+addr, "MEETINGD_DATA_DIR="+dataDir,
		"MEETINGD_WEBHOOK_USER="+testUser, "MEETINGD_WEBHOOK_PASSWORD="+testPass,
		"MEETINGD_API_TOKENS="+testToken+"="+testApp, "MEETINGD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, extraEnv...)
	c := &child{cmd: cmd, base: "http://" + addr, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	// Bounds Wait after the child is gone (its stderr copy), so that a
	// cleanup never hangs a failed test.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		select {
		case err := <-c.done:
			t.Fatalf("meetingd serve exited before ready: %v\n%s", err, c.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("meetingd serve not ready after 30s\n%s", c.stderr)
	return nil
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.done
	c.done <- nil // for Cleanup
}

var client = &http.Client{Timeout: 20 * time.Second}

func postWebhook(ctx context.Context, base string, body []byte) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/cometchat", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(testUser, testPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, ans, nil
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

// storedEventIDs returns the event ids of a session's stream, in order.
func storedEventIDs(t *testing.T, base, session string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		var page struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
			NextCursor *string `json:"next_cursor"`
		}
		url := base + "/v1/meetings/" + session + "/events?limit=1000"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		status := getJSON(t, url, &page)
		if status == 404 {
			return nil
		}
		if status != 200 {
			t.Fatalf("GET %s: %d", url, status)
		}
		for _, e := range page.Events {
			ids = append(ids, e.EventID)
		}
		if page.NextCursor == nil {
			return ids
		}
		cursor = *page.NextCursor
	}
}

func joinedBody(session, name string, joinedAt int64, webhook string) []byte {
	return []byte(fmt.Sprintf(`{"trigger":"meeting_participant_joined","data":{"occupant":{"joined_at":%d,"audio_call":"false","name":%q},"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":%q}`,
		joinedAt, name, session, testApp, webhook))
}
