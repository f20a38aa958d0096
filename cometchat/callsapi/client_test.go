package callsapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/cometchat/callsapi"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/internal/metricstest"
)

const testKey = "test-api-key-5e1f"

// fakeAPI answers like the Calls API; answers[path] is a queue of
// (status, body) answers, the last one repeating.
type fakeAPI struct {
	mu      sync.Mutex
	answers map[string][]answer
	seen    []string
	headers []http.Header
}

type answer struct {
	status int
	body   string
	header map[string]string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, r.URL.RequestURI())
	f.headers = append(f.headers, r.Header.Clone())
	key := r.URL.Path
	if p := r.URL.Query().Get("page"); p != "" {
		key += "?page=" + p
	}
	q := f.answers[key]
	if len(q) == 0 {
		http.NotFound(w, r)
		return
	}
	a := q[0]
	if len(q) > 1 {
		f.answers[key] = q[1:]
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// session1 is the session of the get_call fixture.
const session1 = "v1.us.31780434a95d45.16923681138d75114d60d1345a22e4cc612263fb26c0b5cf92"

func newClient(t *testing.T, api http.Handler, m *callsapi.Metrics, log *slog.Logger) *callsapi.Client {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := callsapi.New(callsapi.Config{
		AppID: "app1", Region: "us", APIKey: testKey, BaseURL: srv.URL + "/v3",
		Rate: 1000, Burst: 10, RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond,
	}, m, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientCall(t *testing.T) {
	api := &fakeAPI{answers: map[string][]answer{
		"/v3/calls/" + session1: {{status: 200, body: string(cometchattest.RESTFixture(t, "get_call"))}},
	}}
	reg := prometheus.NewRegistry()
	m, err := callsapi.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, api, m, nil)
	got, err := c.Call(context.Background(), session1)
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionID != session1 || len(got.Participants) != 2 {
		t.Errorf("call %+v", got)
	}
	if h := api.headers[0]; h.Get("apikey") != testKey {
		t.Errorf("apikey header = %q", h.Get("apikey"))
	}
	if _, err := c.Call(context.Background(), "unknown"); !errors.Is(err, cometchat.ErrNotFound) {
		t.Errorf("unknown session: %v, want ErrNotFound", err)
	}
	if n := metricstest.Find(t, reg, "meetingd_cometchat_requests_total", map[string]string{"app_id": "app1", "endpoint": "call", "status": "200"}).GetCounter().GetValue(); n != 1 {
		t.Errorf("requests{status=200} = %v", n)
	}
}

func TestClientRetries(t *testing.T) {
	path := "/v3/calls/" + session1
	ok := answer{status: 200, body: string(cometchattest.RESTFixture(t, "get_call"))}
	tests := []struct {
		name      string
		answers   []answer
		wantTries int
		wantErr   string
	}{
		{"503 then 200", []answer{{status: 503, body: "busy"}, ok}, 2, ""},
		{"429 with Retry-After then 200", []answer{{status: 429, body: "slow down", header: map[string]string{"Retry-After": "0"}}, ok}, 2, ""},
		{"5xx until the tries run out", []answer{{status: 502, body: "bad gateway"}}, 4, "HTTP 502: bad gateway"},
		{"Retry-After past the limit", []answer{{status: 429, header: map[string]string{"Retry-After": "3600"}}}, 1, "past the retry limit"},
		{"401 is not retried", []answer{{status: 401, body: `{"error":"bad key"}`}}, 1, "HTTP 401"},
		{"bad body is not retried", []answer{{status: 200, body: "<html>"}}, 1, "undecodable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{answers: map[string][]answer{path: tc.answers}}
			var logs strings.Builder
			c := newClient(t, api, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
			_, err := c.Call(context.Background(), session1)
			if got := len(api.requests()); got != tc.wantTries {
				t.Errorf("%d requests, want %d", got, tc.wantTries)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Call: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Call: %v, want an error mentioning %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testKey) || strings.Contains(logs.String(), testKey) {
				t.Errorf("the API key leaked: %v / %s", err, logs.String())
			}
		})
	}
}

func TestClientOngoingPages(t *testing.T) {
	page := func(n, total int, ids ...string) answer {
		var calls []string
		for _, id := range ids {
			calls = append(calls, fmt.Sprintf(`{"sessionId":%q,"status":"ongoing","startedAt":1692368127}`, id))
		}
		return answer{status: 200, body: fmt.Sprintf(`{"data":[%s],"meta":{"pagination":{"current_page":%d,"total_pages":%d}}}`,
			strings.Join(calls, ","), n, total)}
	}
	api := &fakeAPI{answers: map[string][]answer{
		"/v3/calls?page=1": {page(1, 3, "a", "b")},
		"/v3/calls?page=2": {page(2, 3, "c")},
		"/v3/calls?page=3": {page(3, 3)},
	}}
	c := newClient(t, api, nil, nil)
	calls, err := c.Ongoing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.SessionID)
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("ids %v", ids)
	}
	reqs := api.requests()
	if len(reqs) != 3 || !strings.Contains(reqs[0], "status=ongoing") || !strings.Contains(reqs[0], "perPage=100") {
		t.Errorf("requests %v", reqs)
	}
}

// TestClientRateLimit checks that requests wait for the limiter: with a
// burst of 1 and a rate of one token an hour, a second request cannot get a
// token within its one-minute deadline, and it is not sent.
func TestClientRateLimit(t *testing.T) {
	api := &fakeAPI{answers: map[string][]answer{
		"/v3/calls/" + session1: {{status: 200, body: string(cometchattest.RESTFixture(t, "get_call"))}},
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	c, err := callsapi.New(callsapi.Config{AppID: "app1", Region: "us", APIKey: testKey, BaseURL: srv.URL + "/v3", Rate: 1.0 / 3600, Burst: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(context.Background(), session1); err != nil {
		t.Fatal(err)
	}
	// The limiter refuses at once a wait that would outlast the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Call(ctx, session1); err == nil || !strings.Contains(err.Error(), "rate limiter") {
		t.Fatalf("second call within the rate: %v, want a rate limiter error", err)
	}
	if n := len(api.requests()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  callsapi.Config
		want []string
	}{
		{callsapi.Config{AppID: "a1", Region: "eu", APIKey: "k"}, nil},
		{callsapi.Config{}, []string{"app id", "region", "API key is empty"}},
		{callsapi.Config{AppID: "a/b", Region: "US", APIKey: "k", BaseURL: "ftp://x"}, []string{"app id", "region", "base URL"}},
		{callsapi.Config{AppID: "a", Region: "us", APIKey: "k", Rate: -1}, []string{"must not be negative"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}
