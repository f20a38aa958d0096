package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/intake"
)

// multipartBody is a well-formed multipart/form-data body (boundary x)
// with one file part of size bytes.
func multipartBody(size int) []byte {
	var b bytes.Buffer
	b.WriteString("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n")
	b.Write(bytes.Repeat([]byte("m"), size))
	b.WriteString("\r\n--x--\r\n")
	return b.Bytes()
}

// TestMultipartBodiesCostNoMoreThanTheLimit: 8 concurrent 15 MB
// multipart/form-data posts, unauthenticated to /healthz and /v1, and with
// the webhook's credentials to the intake, allocate no more than a small
// multiple of the body limit each (fasthttp used to read such a body whole,
// before any route, authentication or limit ran: ≥ 15 MB a request). The
// intake refuses them with its JSON 413 and stores nothing.
func TestMultipartBodiesCostNoMoreThanTheLimit(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{}, io.Discard)
	body := multipartBody(15 << 20)
	const clients = 8
	for _, tc := range []struct {
		name, path string
		auth       bool
		chunked    bool
		want       int
	}{
		{"health", "/healthz", false, false, 0}, // any answer: the body is not read
		{"v1 unauthenticated", "/v1/status", false, false, 401},
		{"webhook unauthenticated", "/webhooks/cometchat", false, false, 401},
		{"webhook", "/webhooks/cometchat", true, false, 413},
		{"webhook chunked", "/webhooks/cometchat", true, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var wg sync.WaitGroup
			statuses := make([]int, clients)
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var r io.Reader = bytes.NewReader(body)
					if tc.chunked { // no length known to the client: sent chunked
						r = io.MultiReader(r)
					}
					req, _ := http.NewRequest(http.MethodPost, h.base+tc.path, r)
					req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
					if tc.auth {
						req.SetBasicAuth(hookUser, hookPass)
					}
					resp, err := h.client.Do(req)
					if err != nil {
						// The server may answer and close before the client
						// has written the whole body; what it cost is the point.
						t.Logf("client %d: %v", i, err)
						return
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					statuses[i] = resp.StatusCode
					if tc.want != 0 && (resp.StatusCode != tc.want || !strings.Contains(string(raw), `"error":`)) {
						t.Errorf("client %d: %d %s; want %d with a JSON error", i, resp.StatusCode, raw, tc.want)
					}
				}()
			}
			wg.Wait()
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d concurrent 15 MB multipart posts to %s: %d MiB allocated; answers %v", clients, tc.path, alloc>>20, statuses)
			// Client and server together: reading a chunked body of up to the
			// limit doubles a buffer (~2 MiB); the client's side is in it too.
			if limit := uint64(clients * 4 * api.BodyLimit); alloc > limit {
				t.Fatalf("%d MiB allocated for %d multipart posts; want at most %d MiB (4 × the body limit each)", alloc>>20, clients, limit>>20)
			}
		})
	}
	if n := h.store.appendCount(); n != 0 {
		t.Fatalf("%d appends for multipart bodies; want none", n)
	}
}

// TestMetricsOnlyAtItsExactPath: the main listener's routing is strict and
// case-sensitive, so /metrics/ and /METRICS (which a proxy blocking
// /metrics would let through) are 404, not the registry.
func TestMetricsOnlyAtItsExactPath(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{}, io.Discard)
	if status, _, raw := h.do(t, getReq("/metrics", "")); status != 200 || !strings.Contains(raw, "meetingd_intake_append_seconds") {
		t.Fatalf("/metrics: %d; want 200 with the registry", status)
	}
	for _, p := range []string{"/metrics/", "/METRICS", "/Metrics", "/metrics/x", "/healthz/", "/HEALTHZ"} {
		status, _, raw := h.do(t, getReq(p, ""))
		if status != 404 || strings.Contains(raw, "meetingd_") {
			t.Errorf("GET %s: %d %.80s; want 404 without the registry", p, status, raw)
		}
	}
}

// TestSeparateMetricsListener: with SeparateMetrics the main listener has
// no /metrics (404) and RunMetrics serves it, and nothing else, on its own
// listener; both stop when their context ends.
func TestSeparateMetricsListener(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	store := newMemStore()
	in, err := intake.New(intake.Config{}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass, SeparateMetrics: true},
		api.Deps{Intake: in, Events: store, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.RunMetrics(ctx, ln) }()
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	metricsBase := "http://" + ln.Addr().String()
	if status, raw := get(metricsBase + "/metrics"); status != 200 || !strings.Contains(raw, "meetingd_intake_append_seconds") {
		t.Errorf("metrics listener /metrics: %d; want 200 with the registry", status)
	}
	for _, u := range []string{h.base + "/metrics", h.base + "/metrics/", metricsBase + "/metrics/", metricsBase + "/healthz", metricsBase + "/v1/status"} {
		if status, raw := get(u); status != 404 || strings.Contains(raw, "meetingd_") {
			t.Errorf("GET %s: %d %.80s; want 404", u, status, raw)
		}
	}
	if status, _ := get(h.base + "/healthz"); status != 200 {
		t.Errorf("main listener /healthz: %d", status)
	}
	client.CloseIdleConnections()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunMetrics: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunMetrics did not return 30 s after its context ended")
	}
}

// TestUnreadBodyIsNeverARequest: a body that its handler does not read (a
// POST to /healthz, an unauthenticated webhook or /v1 call) is never parsed
// as a request of its own on the same connection. fasthttp used to: a
// request hidden past the first 8 KiB of such a body was answered, so a
// proxy in front (which checked only the outer request) could be made to
// fetch /metrics, and its next client could get the smuggled answer.
func TestUnreadBodyIsNeverARequest(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{}, io.Discard)
	smuggled := "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name, path string
		filler     int
		answers    int // on the connection, with a last GET /healthz; -1: at most one (closed)
	}{
		{"health, small body: drained, kept alive", "/healthz", 8 << 10, 2},
		{"webhook unauthenticated, small body", "/webhooks/cometchat", 8 << 10, 2},
		{"v1 unauthenticated, small body", "/v1/status", 8 << 10, 2},
		{"health, large body: connection closed", "/healthz", 200 << 10, -1},
		{"webhook unauthenticated, large body", "/webhooks/cometchat", 200 << 10, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(h.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := strings.Repeat("a", tc.filler) + smuggled
			go func() {
				// Written concurrently: the server may close before the end.
				_, _ = io.WriteString(conn, "POST "+tc.path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+
					strconv.Itoa(len(body))+"\r\n\r\n"+body+"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			}()
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			raw, err := io.ReadAll(conn)
			if err != nil && (tc.answers >= 0 || !errors.Is(err, syscall.ECONNRESET)) {
				// Closing with the client's bytes unread resets the connection.
				t.Fatalf("reading the answers: %v", err)
			}
			answers := strings.Count(string(raw), "HTTP/1.1 ")
			if strings.Contains(string(raw), "meetingd_intake_append_seconds") ||
				(tc.answers >= 0 && answers != tc.answers) || (tc.answers < 0 && answers > 1) {
				t.Fatalf("%d answers (want %d), metrics served: %v:\n%.600s", answers, tc.answers,
					strings.Contains(string(raw), "meetingd_intake_append_seconds"), raw)
			}
		})
	}
}
