package main_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// get makes a GET with an optional bearer token and returns the status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// log is what the child has written to stderr so far.
func (c *child) log() string {
	return c.stderr.String()
}

// TestDevTokenOnlyInDevelopment follows the README's "Try it" as `make run`
// runs serve (MEETINGD_INSECURE_DEV=1, no credentials, no API tokens):
// the fixture posted without credentials reads back with the documented
// development token, which the log announces at level warn. In production
// mode (credentials, no API tokens) the same token is refused.
func TestDevTokenOnlyInDevelopment(t *testing.T) {
	const devToken = "meetingd-dev-token" // README.md, "Try it"
	fixture, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "cometchat", "meeting_started.json"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("<sessionId>", "v1.us.devtoken.1", "<appId>", "app-1", "<region>", "us", "<webhookID>", "wh-1").Replace(string(fixture))
	t.Run("development", func(t *testing.T) {
		c := startServe(t, t.TempDir(), freeAddr(t), "MEETINGD_INSECURE_DEV=1", "MEETINGD_API_TOKENS=",
			"MEETINGD_WEBHOOK_USER=", "MEETINGD_WEBHOOK_PASSWORD=")
		resp, err := client.Post(c.base+"/webhooks/cometchat", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post without credentials in development: %d %s", resp.StatusCode, raw)
		}
		status, events := get(t, c.base+"/v1/meetings/v1.us.devtoken.1/events?app_id=app-1", devToken)
		if status != 200 || !strings.Contains(events, `"meeting_started"`) {
			t.Fatalf("read back with the development token: %d %s", status, events)
		}
		if status, _ := get(t, c.base+"/v1/status", "guessed-token-0123456789"); status != 401 {
			t.Errorf("another token in development: %d, want 401", status)
		}
		log := c.log()
		if !strings.Contains(log, `"level":"WARN"`) || !strings.Contains(log, "INSECURE DEVELOPMENT MODE: MEETINGD_API_TOKENS is empty") || !strings.Contains(log, devToken) {
			t.Errorf("the log does not announce the development token at level warn:\n%s", log)
		}
	})
	t.Run("production", func(t *testing.T) {
		c := startServe(t, t.TempDir(), freeAddr(t), "MEETINGD_API_TOKENS=", "MEETINGD_LOG_LEVEL=info")
		if status, raw := get(t, c.base+"/v1/status", devToken); status != 401 {
			t.Errorf("the development token in production mode: %d %s, want 401", status, raw)
		}
		if log := c.log(); strings.Contains(log, devToken) {
			t.Errorf("production mode mentions the development token:\n%s", log)
		}
	})
}

// TestMetricsListener: with MEETINGD_METRICS_ADDR, serve answers
// GET /metrics there and 404 on the main listener, and stops both on
// SIGTERM (exit 0).
func TestMetricsListener(t *testing.T) {
	metricsAddr := freeAddr(t)
	c := startServe(t, t.TempDir(), freeAddr(t), "MEETINGD_METRICS_ADDR="+metricsAddr)
	if status, raw := get(t, "http://"+metricsAddr+"/metrics", ""); status != 200 || !strings.Contains(raw, "meetingd_intake_append_seconds") {
		t.Errorf("metrics listener /metrics: %d; want 200 with the registry", status)
	}
	for _, u := range []string{c.base + "/metrics", c.base + "/metrics/", c.base + "/METRICS", "http://" + metricsAddr + "/healthz"} {
		if status, raw := get(t, u, ""); status != 404 || strings.Contains(raw, "meetingd_") {
			t.Errorf("GET %s: %d; want 404", u, status)
		}
	}
	client.CloseIdleConnections()
	c.stop(t)
}
