package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
)

const (
	hookUser   = "cometchat"
	hookPass   = "s3cret-password"
	tokenApp1  = "token-for-app-1-xxxxxxxx"
	tokenApp2  = "token-for-app-2-xxxxxxxx"
	tokenAdmin = "token-for-every-app-xxxx"
)

type harness struct {
	srv    *api.Server
	store  *memStore // nil unless the harness runs on the fake
	log    logStore
	reg    *prometheus.Registry
	base   string
	client *http.Client
}

// logStore is the event log the harness serves from.
type logStore interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	Limits() eventstore.Limits
	api.Pinger
}

// newHarness serves the API on loopback over the in-memory fake.
func newHarness(t *testing.T) *harness {
	t.Helper()
	store := newMemStore()
	h := newHarnessOn(t, store, func() time.Time { return time.Unix(1700000000, 0) })
	h.store = store
	return h
}

// newHarnessOn serves the API on loopback over store, with now as the
// intake's clock.
func newHarnessOn(t *testing.T, store logStore, now func() time.Time) *harness {
	t.Helper()
	return newHarnessWith(t, store, now, api.Config{})
}

// newHarnessWith is newHarnessOn with cfg's settings (the credentials and
// tokens are the harness's own).
func newHarnessWith(t *testing.T, store logStore, now func() time.Time, cfg api.Config) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.New(intake.Config{Now: now}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := api.ParseTokens(tokenApp1 + "=app-1," + tokenApp2 + "=app-2," + tokenAdmin + "=*")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg.WebhookUser, cfg.WebhookPassword, cfg.Tokens = hookUser, hookPass, tokens
	srv, err := api.New(cfg,
		api.Deps{Intake: in, Events: store, Ready: []api.Pinger{store}, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, srv)
	h.log, h.reg = store, reg
	return h
}

// serverStopBound bounds the wait for a test server to stop: far above its
// graceful shutdown (api.Config.ShutdownTimeout, 10 s by default, spent only
// on requests in flight), far below the test binary's timeout.
const serverStopBound = 60 * time.Second

// serve runs srv on loopback until the test ends and returns a harness with
// its address and a client of its own, whose idle keep-alive connections are
// closed before the server shuts down (shutdown waits for open connections).
func serve(t *testing.T, srv *api.Server) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		// Bounded: a test that failed must fail, not hang the binary.
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(serverStopBound):
			t.Errorf("server did not stop within %s of the test's end", serverStopBound)
		}
	})
	return &harness{srv: srv, base: "http://" + ln.Addr().String(), client: client}
}

// count returns how many events the harness's log holds in stream.
func (h *harness) count(t *testing.T, stream string) int {
	t.Helper()
	n := 0
	for _, err := range h.log.ReadStream(context.Background(), stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		n++
	}
	return n
}

// send makes a real HTTP request to the running server.
func (h *harness) send(req *http.Request) (*http.Response, error) {
	u, _ := url.Parse(h.base + req.URL.RequestURI())
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	return h.client.Do(req)
}

func (h *harness) do(t *testing.T, req *http.Request) (int, map[string]any, string) {
	t.Helper()
	resp, err := h.send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", req.Method, req.URL, raw)
		}
	}
	return resp.StatusCode, body, string(raw)
}

func webhookReq(body []byte, user, pass string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/cometchat", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	return req
}

func getReq(path, token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func TestWebhookErrorTable(t *testing.T) {
	joined := cometchattest.Fixture(t, "meeting_participant_joined", nil)
	tests := []struct {
		name       string
		body       []byte
		user, pass string
		status     int
		wantError  string // substring of "error"
		wantStatus string // "status" field
	}{
		{name: "no credentials", body: joined, status: 401, wantError: "credentials"},
		{name: "wrong password", body: joined, user: hookUser, pass: "nope", status: 401, wantError: "credentials"},
		{name: "wrong user", body: joined, user: "someone", pass: hookPass, status: 401, wantError: "credentials"},
		{name: "not JSON", body: []byte("hello"), user: hookUser, pass: hookPass, status: 400, wantError: "not a JSON object"},
		{name: "JSON array", body: []byte(`[1,2]`), user: hookUser, pass: hookPass, status: 400, wantError: "not a JSON object"},
		{name: "empty body", body: nil, user: hookUser, pass: hookPass, status: 400, wantError: "JSON"},
		{name: "no trigger", body: []byte(`{"data":{}}`), user: hookUser, pass: hookPass, status: 400, wantError: "trigger"},
		{name: "no data", body: []byte(`{"trigger":"meeting_started"}`), user: hookUser, pass: hookPass, status: 400, wantError: "data"},
		{name: "invalid UTF-8", body: []byte("{\"trigger\":\"meeting_started\",\"data\":{\"sessionId\":\"\xff\"}}"), user: hookUser, pass: hookPass, status: 400, wantError: "UTF-8"},
		{name: "over 1 MiB", body: bytes.Repeat([]byte("x"), api.BodyLimit+1), user: hookUser, pass: hookPass, status: 413, wantError: "1 MiB"},
		{name: "unknown trigger", body: []byte(`{"trigger":"meeting_exploded","data":{"sessionId":"s"},"appId":"app-1"}`), user: hookUser, pass: hookPass, status: 202, wantStatus: "quarantined"},
		{name: "invalid known trigger", body: []byte(`{"trigger":"meeting_started","data":{"sessionId":"s","created_at":"soon"},"appId":"app-1"}`), user: hookUser, pass: hookPass, status: 202, wantStatus: "quarantined"},
		{name: "accepted", body: joined, user: hookUser, pass: hookPass, status: 200, wantStatus: "accepted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			status, body, raw := h.do(t, webhookReq(tc.body, tc.user, tc.pass))
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, raw)
			}
			if tc.wantError != "" {
				msg, _ := body["error"].(string)
				if !strings.Contains(msg, tc.wantError) {
					t.Fatalf("error = %q, want it to mention %q", msg, tc.wantError)
				}
			}
			if tc.wantStatus != "" && body["status"] != tc.wantStatus {
				t.Fatalf("status field = %v, want %q (%s)", body["status"], tc.wantStatus, raw)
			}
			stored := h.store.count(domain.StreamName("app-1", "v1.us.test.session-1")) + h.store.count(domain.QuarantineStream("app-1"))
			wantStored := 0
			if tc.status == 200 || tc.status == 202 {
				wantStored = 1
			}
			if stored != wantStored {
				t.Fatalf("stored %d events, want %d", stored, wantStored)
			}
		})
	}
}

func TestWebhookQuarantineNamesField(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"trigger":"meeting_participant_left","data":{"sessionId":"s1","occupant":{"name":"A","joined_at":1700000100,"left_at":1700000050}},"appId":"app-1"}`)
	status, ans, raw := h.do(t, webhookReq(body, hookUser, hookPass))
	if status != 202 {
		t.Fatalf("status %d: %s", status, raw)
	}
	if r, _ := ans["reason"].(string); !strings.Contains(r, "data.occupant.left_at") {
		t.Fatalf("reason %q does not name data.occupant.left_at", r)
	}
	// Listed for app-1's token, not for app-2's.
	status, list, raw := h.do(t, getReq("/v1/quarantine", tokenApp1))
	if status != 200 {
		t.Fatalf("quarantine list: %d %s", status, raw)
	}
	items, _ := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("app-1 sees %d quarantined items, want 1: %s", len(items), raw)
	}
	item := items[0].(map[string]any)
	if item["field"] != "data.occupant.left_at" || item["trigger"] != "meeting_participant_left" || item["body"] == nil {
		t.Fatalf("quarantine item = %v", item)
	}
	_, list, _ = h.do(t, getReq("/v1/quarantine", tokenApp2))
	if items, _ := list["items"].([]any); len(items) != 0 {
		t.Fatalf("app-2 sees app-1's quarantine: %v", items)
	}
	// The same bad body again is stored once.
	h.do(t, webhookReq(body, hookUser, hookPass))
	if n := h.store.count(domain.QuarantineStream("app-1")); n != 1 {
		t.Fatalf("quarantine holds %d records, want 1", n)
	}
}

func TestWebhookDuplicatesAcrossWebhookIDs(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i, hook := range []string{"wh-a", "wh-b", "wh-a"} {
		body := cometchattest.Fixture(t, "meeting_participant_joined", cometchattest.Vars{"<webhookID>": hook})
		status, ans, raw := h.do(t, webhookReq(body, hookUser, hookPass))
		if status != 200 {
			t.Fatalf("delivery %d: %d %s", i, status, raw)
		}
		if dup := ans["duplicate"].(bool); dup != (i > 0) {
			t.Fatalf("delivery %d: duplicate = %v", i, dup)
		}
		ids = append(ids, ans["event_id"].(string))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("event ids differ across deliveries: %v", ids)
	}
}

func TestWebhookStoreUnavailable(t *testing.T) {
	h := newHarness(t)
	h.store.failWith = fmt.Errorf("append: %w: no space left on device", eventstore.ErrUnavailable)
	status, ans, raw := h.do(t, webhookReq(cometchattest.Fixture(t, "meeting_started", nil), hookUser, hookPass))
	if status != 503 || ans["error"] == nil {
		t.Fatalf("got %d %s, want 503 with an error", status, raw)
	}
	if strings.Contains(raw, "no space") {
		t.Fatalf("internal detail leaked to the client: %s", raw)
	}
}

func TestEventsEndpointScopes(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"meeting_started", "meeting_participant_joined", "meeting_participant_left", "meeting_ended"} {
		if status, _, raw := h.do(t, webhookReq(cometchattest.Fixture(t, name, nil), hookUser, hookPass)); status != 200 {
			t.Fatalf("%s: %d %s", name, status, raw)
		}
	}
	path := "/v1/meetings/v1.us.test.session-1/events"
	tests := []struct {
		name   string
		path   string
		token  string
		status int
	}{
		{"no token", path, "", 401},
		{"unknown token", path, "not-a-real-token-xxxxxxxx", 401},
		{"own app", path, tokenApp1, 200},
		{"own app named", path + "?app_id=app-1", tokenApp1, 200},
		{"other app named", path + "?app_id=app-2", tokenApp1, 403},
		{"other app's token", path, tokenApp2, 404},
		{"every-app token without app_id", path, tokenAdmin, 400},
		{"every-app token with app_id", path + "?app_id=app-1", tokenAdmin, 200},
		{"unknown session", "/v1/meetings/nope/events", tokenApp1, 404},
		{"bad limit", path + "?limit=0", tokenApp1, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, raw := h.do(t, getReq(tc.path, tc.token))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
			}
			if status != 200 {
				if body["error"] == nil {
					t.Fatalf("error answer without an error field: %s", raw)
				}
				return
			}
			evs := body["events"].([]any)
			if len(evs) != 4 {
				t.Fatalf("%d events, want 4", len(evs))
			}
			first := evs[0].(map[string]any)
			if first["type"] != domain.TypeSessionStarted || first["revision"].(float64) != 0 {
				t.Fatalf("first event = %v", first)
			}
		})
	}
	// Paging with limit and cursor.
	_, body, _ := h.do(t, getReq(path+"?limit=3", tokenApp1))
	cur, _ := body["next_cursor"].(string)
	if len(body["events"].([]any)) != 3 || cur != "3" {
		t.Fatalf("page 1: %v", body)
	}
	_, body, _ = h.do(t, getReq(path+"?limit=3&cursor="+cur, tokenApp1))
	if len(body["events"].([]any)) != 1 || body["next_cursor"] != nil {
		t.Fatalf("page 2: %v", body)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	h := newHarness(t)
	h.do(t, webhookReq(cometchattest.Fixture(t, "meeting_started", nil), hookUser, hookPass))
	h.do(t, webhookReq([]byte("junk"), hookUser, hookPass))
	for _, p := range []string{"/healthz", "/readyz"} {
		if status, _, raw := h.do(t, getReq(p, "")); status != 200 {
			t.Fatalf("%s: %d %s", p, status, raw)
		}
	}
	status, _, raw := h.do(t, getReq("/metrics", ""))
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		`meetingd_webhooks_total{outcome="accepted",trigger="meeting_started"} 1`,
		`meetingd_webhooks_total{outcome="rejected",trigger="none"} 1`,
		`meetingd_intake_append_seconds_count 2`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestDuplicateStorm posts the same webhook from 3 webhook ids, 50 times
// each, concurrently: every delivery gets 200 and the event is stored once,
// on the fake and on the embedded store.
func TestDuplicateStorm(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(t *testing.T) *harness
	}{
		{"fake", newHarness},
		{"embedded", func(t *testing.T) *harness {
			st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return newHarnessOn(t, st, time.Now)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.new(t)
			var wg sync.WaitGroup
			var mu sync.Mutex
			ids := map[string]int{}
			errs := make(chan error, 150)
			for i := range 150 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := cometchattest.Fixture(t, "meeting_participant_joined", cometchattest.Vars{"<webhookID>": fmt.Sprintf("wh-%d", i%3)})
					resp, err := h.send(webhookReq(body, hookUser, hookPass))
					if err != nil {
						errs <- err
						return
					}
					defer resp.Body.Close()
					var ans struct {
						EventID string `json:"event_id"`
					}
					if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&ans) != nil {
						errs <- fmt.Errorf("delivery not accepted: %d", resp.StatusCode)
						return
					}
					mu.Lock()
					ids[ans.EventID]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if len(ids) != 1 {
				t.Fatalf("deliveries got %d distinct event ids, want 1", len(ids))
			}
			if n := h.count(t, domain.StreamName("app-1", "v1.us.test.session-1")); n != 1 {
				t.Fatalf("stored %d events, want 1", n)
			}
		})
	}
}

// TestEveryFixtureAcceptedAndStored posts every CometChat fixture to a
// server on the embedded store: each is accepted (200, not quarantined) and
// its event reads back from its session's stream.
func TestEveryFixtureAcceptedAndStored(t *testing.T) {
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	// The real clock: the fixtures span 2023 to 2025.
	h := newHarnessOn(t, st, time.Now)
	names := cometchattest.FixtureNames(t)
	if len(names) < 12 {
		t.Fatalf("found %d fixtures, want at least 12", len(names))
	}
	accepted := map[string]string{} // event id → fixture
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			body := cometchattest.Fixture(t, name, cometchattest.Vars{"<sessionId>": fmt.Sprintf("v1.us.fixture.%d", i)})
			status, ans, raw := h.do(t, webhookReq(body, hookUser, hookPass))
			if status != 200 || ans["status"] != "accepted" || ans["duplicate"] != false {
				t.Fatalf("status %d, answer %s; want 200 accepted", status, raw)
			}
			accepted[ans["event_id"].(string)] = name
		})
	}
	// Every accepted fixture is in the log, in a session stream, once.
	stored := map[string]string{}
	for ev, err := range st.ReadAll(context.Background(), eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Stream, domain.StreamPrefix) {
			t.Errorf("event %s of type %s stored in %s, not a session stream", ev.ID, ev.Type, ev.Stream)
		}
		if prev, dup := stored[ev.ID.String()]; dup {
			t.Errorf("event %s stored twice (%s, %s)", ev.ID, prev, ev.Stream)
		}
		stored[ev.ID.String()] = ev.Stream
	}
	for id, name := range accepted {
		if _, ok := stored[id]; !ok {
			t.Errorf("fixture %s accepted as %s but not in the log", name, id)
		}
	}
	if len(stored) != len(names) {
		t.Errorf("log holds %d events, want %d (one per fixture)", len(stored), len(names))
	}
}
