package api_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/intake"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newConfiguredHarness serves every route (reports over the fakes of
// newReportHarness) on loopback with cfg (credentials and tokens filled in)
// over the in-memory log, logging at debug level to logTo.
func newConfiguredHarness(t *testing.T, cfg api.Config, logTo io.Writer) *harness {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := newMemStore()
	in, err := intake.New(intake.Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tokens, err = api.ParseTokens(tokenApp1 + "=app-1," + tokenApp2 + "=app-2," + tokenAdmin + "=*"); err != nil {
		t.Fatal(err)
	}
	cfg.WebhookUser, cfg.WebhookPassword = hookUser, hookPass
	rh := newReportHarness(t)
	routes, err := api.NewReportRoutes(rh.reports, rh.status)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(cfg, api.Deps{Intake: in, Events: store, Reports: routes, Ready: []api.Pinger{store}, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, srv)
	h.store, h.log, h.reg = store, store, reg
	return h
}

// paramRE matches a fiber route parameter (":sessionId", ":participant?").
var paramRE = regexp.MustCompile(`:[A-Za-z0-9_]+\??`)

// TestEveryV1RouteNeedsAScopedToken enumerates the routes of the fiber app
// itself, so that a route added later is covered without editing this test:
// every /v1 route, whatever its method, answers 401 with a JSON error
// without a token, with an unknown token and with the webhook's Basic
// credentials, and 403 to a token of app-2 asking for app-1 (whatever the
// other parameters say: the app scope is checked first).
func TestEveryV1RouteNeedsAScopedToken(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{}, io.Discard)
	routes := 0
	for _, r := range h.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/v1/") {
			continue
		}
		routes++
		path := paramRE.ReplaceAllString(r.Path, "x-1")
		cases := []struct {
			name   string
			query  string
			auth   func(*http.Request)
			status int
			errHas string
		}{
			{"no token", "", func(*http.Request) {}, 401, "bearer"},
			{"unknown token", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer not-a-real-token-xxxxxxxx") }, 401, "bearer"},
			{"token of app-1 as Basic", "", func(r *http.Request) { r.SetBasicAuth(tokenApp1, "") }, 401, "bearer"},
			{"webhook credentials", "", func(r *http.Request) { r.SetBasicAuth(hookUser, hookPass) }, 401, "bearer"},
			{"token in the query", "?token=" + tokenApp1 + "&access_token=" + tokenApp1, func(*http.Request) {}, 401, "bearer"},
			{"bearer scheme, empty token", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, 401, "bearer"},
			{"another app's token", "?app_id=app-1", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokenApp2) }, 403, "app-1"},
			{"another app's token, more params", "?app_id=app-1&from=2023-10-01&to=2023-10-31&bucket=day&limit=5", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokenApp2) }, 403, "app-1"},
		}
		for _, tc := range cases {
			t.Run(r.Method+" "+r.Path+"/"+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(r.Method, h.base+path+tc.query, nil)
				if err != nil {
					t.Fatal(err)
				}
				tc.auth(req)
				resp, err := h.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
				}
				if r.Method == http.MethodHead {
					return
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(raw), tc.errHas) {
					t.Fatalf("answer %q (%s), want a JSON error mentioning %q", raw, resp.Header.Get("Content-Type"), tc.errHas)
				}
			})
		}
	}
	if routes < 8 {
		t.Fatalf("found %d /v1 routes, want at least the 8 of API.md", routes)
	}
}

// TestNoSecretsInLogs makes requests with good and bad webhook credentials
// and bearer tokens (in headers and in the query) and checks that no
// password, token, or Basic header value appears anywhere in the log,
// which is written at debug level.
func TestNoSecretsInLogs(t *testing.T) {
	var logs lockedBuffer
	h := newConfiguredHarness(t, api.Config{}, &logs)
	const wrongPass = "wrong-password-zz9"
	const wrongToken = "guessed-token-abcdefghij"
	body := cometchattest.Fixture(t, "meeting_started", nil)
	var reqs []*http.Request
	for _, cred := range [][2]string{{hookUser, hookPass}, {hookUser, wrongPass}, {"someone", hookPass}, {tokenApp1, tokenAdmin}} {
		reqs = append(reqs, webhookReq(body, cred[0], cred[1]), webhookReq([]byte("not json"), cred[0], cred[1]))
	}
	for _, tok := range []string{tokenApp1, tokenApp2, tokenAdmin, wrongToken} {
		for _, p := range []string{"/v1/meetings/s-1", "/v1/meetings/x%2Fy", "/v1/reports/durations?from=bad", "/v1/meetings?app_id=app-1&token=" + tok, "/v1/nope"} {
			reqs = append(reqs, getReq(p, tok))
		}
		r := getReq("/v1/status", "")
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(tok+":"+tok)))
		reqs = append(reqs, r)
	}
	for _, req := range reqs {
		resp, err := h.send(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	out := logs.String()
	if !strings.Contains(out, "request failed") {
		t.Fatalf("the requests logged nothing; the test would see no leak:\n%s", out)
	}
	secrets := []string{hookPass, wrongPass, tokenApp1, tokenApp2, tokenAdmin, wrongToken}
	for _, s := range append([]string(nil), secrets...) {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(hookUser+":"+s)))
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
}

// TestWebhookRateLimit: past MEETINGD_WEBHOOK_RATE a client gets 429 with
// Retry-After and a JSON error (never a silent drop), authenticated or not;
// the refusal stores nothing and is counted; another client is not slowed
// down; and the same delivery retried once the client's bucket has a token
// again is stored.
func TestWebhookRateLimit(t *testing.T) {
	// One request per 1000 s with a burst of 1: the second is refused
	// whatever the machine's speed.
	h := newConfiguredHarness(t, api.Config{WebhookRate: 0.001}, io.Discard)
	body := cometchattest.Fixture(t, "meeting_started", nil)
	status, _, raw := h.do(t, webhookReq(body, hookUser, hookPass))
	if status != 200 {
		t.Fatalf("first delivery: %d %s", status, raw)
	}
	stored := h.store.appendCount()
	for i, req := range []*http.Request{
		webhookReq(cometchattest.Fixture(t, "meeting_ended", nil), hookUser, hookPass),
		webhookReq(body, hookUser, "wrong"),
		webhookReq(body, "", ""),
	} {
		resp, err := h.send(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != 429 || err != nil || retry < 1 || retry > 1000 ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(string(raw), `"error":"too many requests`) {
			t.Fatalf("request %d: %d Retry-After %q %s; want 429, Retry-After 1..1000 and a JSON error", i, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
		}
	}
	if now := h.store.appendCount(); now != stored {
		t.Fatalf("refused requests reached the store (%d appends, was %d)", now, stored)
	}
	_, _, metrics := h.do(t, getReq("/metrics", ""))
	if !strings.Contains(metrics, `meetingd_webhooks_total{outcome="rate_limited",trigger="none"} 3`) {
		t.Fatalf("metrics do not count 3 rate_limited requests:\n%s", grepLines(metrics, "meetingd_webhooks_total"))
	}
	// Reports and health are not limited.
	for _, p := range []string{"/healthz", "/v1/status"} {
		if status, _, raw := h.do(t, getReq(p, tokenApp1)); status != 200 {
			t.Fatalf("%s under the webhook limit: %d %s", p, status, raw)
		}
	}
}

// TestWebhookRateLimitPerClient: clients are limited separately (by IP),
// and a refused client gets its token back: with a limit of 50/s, a burst
// of 50 from 127.0.0.1 leaves another loopback client (127.0.0.2) its whole
// burst, and a retry after the Retry-After delay is accepted.
func TestWebhookRateLimitPerClient(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{WebhookRate: 50}, io.Discard)
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")},
	}).DialContext}}
	t.Cleanup(other.CloseIdleConnections)
	post := func(c *http.Client, i int) (int, string) {
		req := webhookReq(cometchattest.Fixture(t, "meeting_participant_joined", cometchattest.Vars{"<webhookID>": strconv.Itoa(i)}), hookUser, hookPass)
		req.URL.Scheme, req.URL.Host, req.RequestURI = "http", strings.TrimPrefix(h.base, "http://"), ""
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	limited, retryAfter := 0, ""
	for i := range 200 {
		if status, ra := post(h.client, i); status == 429 {
			limited++
			retryAfter = ra
		} else if status != 200 {
			t.Fatalf("delivery %d: %d", i, status)
		}
	}
	if limited == 0 {
		t.Fatalf("200 deliveries from one client at full speed were never limited at 50/s")
	}
	okOther := 0
	for i := range 10 {
		if status, _ := post(other, i); status == 200 {
			okOther++
		}
	}
	if okOther != 10 {
		t.Fatalf("another client got %d of 10 deliveries through, want all: the limit is not per client", okOther)
	}
	secs, _ := strconv.Atoi(retryAfter)
	time.Sleep(time.Duration(secs) * time.Second)
	if status, _ := post(h.client, 1000); status != 200 {
		t.Fatalf("retry after Retry-After (%s s): %d, want 200", retryAfter, status)
	}
}

// appendCount is the number of Append calls the fake has answered.
func (m *memStore) appendCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appends
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

// TestSlowClientsAreCutOff: with a read timeout of 1 s, clients that
// trickle their request line and headers, trickle their body, or connect
// and send nothing are disconnected by the server long before they would
// have finished (each would need 30 s), while ordinary clients are served
// all along.
func TestSlowClientsAreCutOff(t *testing.T) {
	h := newConfiguredHarness(t, api.Config{ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second}, io.Discard)
	addr := strings.TrimPrefix(h.base, "http://")
	body := cometchattest.Fixture(t, "meeting_started", nil)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(hookUser+":"+hookPass))
	head := "POST /webhooks/cometchat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: " + auth +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	const step = 100 * time.Millisecond
	slow := []struct {
		name    string
		prefix  string // sent at once
		trickle string // then one byte per step
	}{
		{"headers", "", head + strings.Repeat("X", 300)},
		{"body", head, string(body) + strings.Repeat(" ", 300-len(body)%300)},
		{"silent", "", ""},
	}
	var wg sync.WaitGroup
	results := make(chan string, len(slow))
	for _, s := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- trickle(addr, s.name, s.prefix, s.trickle, step, 30*time.Second)
		}()
	}
	// Ordinary clients, meanwhile.
	served := 0
	for i := 0; i < 20; i++ {
		req := webhookReq(cometchattest.Fixture(t, "meeting_participant_joined", cometchattest.Vars{"<webhookID>": strconv.Itoa(i)}), hookUser, hookPass)
		if status, _, raw := h.do(t, req); status != 200 {
			t.Fatalf("ordinary client %d: %d %s", i, status, raw)
		}
		served++
		time.Sleep(step)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r != "" {
			t.Error(r)
		}
	}
	if served != 20 {
		t.Fatalf("%d ordinary requests served", served)
	}
}

// trickle connects to addr, sends prefix, then trickle one byte per step,
// and reports "" if the server closed the connection before the trickle
// was done (it has at most limit), or what went wrong. A 2xx answer is
// wrong: the trickled request must not be processed.
func trickle(addr, name, prefix, rest string, step, limit time.Duration) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return fmt.Sprintf("%s: dial: %v", name, err)
	}
	defer conn.Close()
	closed := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 300 {
				closed <- fmt.Sprintf("%s: the trickled request was answered %d", name, resp.StatusCode)
				return
			}
			// An error answer (408, 400) and then the connection is closed.
			_, err = conn.Read(make([]byte, 1))
		}
		if err == nil || (!errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset")) {
			closed <- fmt.Sprintf("%s: after the answer: %v", name, err)
			return
		}
		closed <- ""
	}()
	if _, err := io.WriteString(conn, prefix); err != nil {
		return ""
	}
	deadline := time.After(limit)
	for i := 0; ; i++ {
		select {
		case r := <-closed:
			return r
		case <-deadline:
			return fmt.Sprintf("%s: still connected after %s", name, limit)
		case <-time.After(step):
		}
		if i < len(rest) {
			if _, err := conn.Write([]byte{rest[i]}); err != nil {
				return <-closed
			}
		}
	}
}
