package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/notify"
)

// fakeDeliveries is a hand-written DeliveryLog that records its calls.
type fakeDeliveries struct {
	calls []string
}

func (f *fakeDeliveries) Deliveries(_ context.Context, sub, status string, limit int, cursor string) (notify.DeliveryPage, error) {
	f.calls = append(f.calls, "list "+sub+" "+status)
	if status == "bogus" {
		return notify.DeliveryPage{}, &notify.InvalidError{Param: "status", Reason: "want pending, delivered or failed"}
	}
	return notify.DeliveryPage{Deliveries: []notify.Delivery{sampleDelivery(sub, notify.StatusDelivered)}}, nil
}

// sampleDelivery is a delivered notification with one failed attempt before.
func sampleDelivery(sub, status string) notify.Delivery {
	at := time.Date(2023, 10, 10, 11, 0, 0, 0, time.UTC)
	done := at.Add(5 * time.Second)
	d := notify.Delivery{ID: "msg_1", SubscriptionID: sub, SessionID: "s-1", Type: notify.EventFinal, Status: status,
		CreatedAt: at, Attempts: 2, RetryFrom: at, LastStatusCode: 200,
		History: []notify.Attempt{{At: at, StatusCode: 500, Error: "status 500", DurationMS: 12}, {At: done, StatusCode: 200, DurationMS: 9}}}
	if status == notify.StatusDelivered {
		d.DeliveredAt = &done
	} else {
		d.NextAttemptAt = &done
	}
	return d
}

// subscriptionDeps are the subscription service over store and a fake
// delivery log, for the report harness.
func subscriptionDeps(t testing.TB, store *memStore) (api.SubscriptionService, api.DeliveryLog) {
	t.Helper()
	subs, err := notify.NewSubscriptions(store, notify.URLPolicy{}, func() time.Time { return time.Unix(1700000000, 0) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return subs, &fakeDeliveries{}
}

func (f *fakeDeliveries) Retry(_ context.Context, sub, id string) (notify.Delivery, error) {
	f.calls = append(f.calls, "retry "+sub+" "+id)
	if id != "msg_1" {
		return notify.Delivery{}, notify.ErrNotFound
	}
	return sampleDelivery(sub, notify.StatusPending), nil
}

func newSubscriptionHarness(t *testing.T, deliveries api.DeliveryLog) *harness {
	t.Helper()
	store := newMemStore()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := intake.New(intake.Config{}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	subs, _ := subscriptionDeps(t, store)
	tokens, err := api.ParseTokens(tokenApp1 + "=app-1," + tokenApp2 + "=app-2," + tokenAdmin + "=*")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass, Tokens: tokens},
		api.Deps{Intake: in, Events: store, Subscriptions: subs, Deliveries: deliveries, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		t.Fatal(err)
	}
	h := serve(t, srv)
	h.store, h.log, h.reg = store, store, reg
	return h
}

func jsonReq(method, path, token, body string) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func TestSubscriptionLifecycleAndIsolation(t *testing.T) {
	fd := &fakeDeliveries{}
	h := newSubscriptionHarness(t, fd)
	status, body, raw := h.do(t, jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"https://93.184.216.34/hook","events":["meeting.final"]}`))
	if status != 201 {
		t.Fatalf("create: %d %s", status, raw)
	}
	id, _ := body["id"].(string)
	secret, _ := body["secret"].(string)
	if id == "" || !strings.HasPrefix(secret, "whsec_") || body["url"] != "https://93.184.216.34/hook" || body["created_at"] != "2023-11-14T22:13:20Z" {
		t.Fatalf("create answer %v", body)
	}
	if h.count(t, notify.SubscriptionStream("app-1")) != 1 {
		t.Fatal("the subscription is not an event of app-1's stream")
	}
	status, _, raw = h.do(t, getReq("/v1/subscriptions", tokenApp1))
	if status != 200 || strings.Contains(raw, "whsec_") || !strings.Contains(raw, id) {
		t.Fatalf("list: %d %s", status, raw)
	}
	if status, _, raw = h.do(t, getReq("/v1/subscriptions", tokenApp2)); status != 200 || strings.Contains(raw, id) {
		t.Fatalf("app-2's list: %d %s", status, raw)
	}
	for _, tc := range []struct {
		req  *http.Request
		want int
	}{
		{jsonReq("DELETE", "/v1/subscriptions/"+id, tokenApp2, ""), 404},
		{getReq("/v1/subscriptions/"+id+"/deliveries", tokenApp2), 404},
		{jsonReq("POST", "/v1/subscriptions/"+id+"/deliveries/msg_1/retry", tokenApp2, ""), 404},
		{getReq("/v1/subscriptions?app_id=app-1", tokenApp2), 403},
		{getReq("/v1/subscriptions", tokenAdmin), 400},
		{getReq("/v1/subscriptions", ""), 401},
		{getReq("/v1/subscriptions/"+id+"/deliveries?status=bogus", tokenApp1), 400},
		{getReq("/v1/subscriptions/"+id+"/deliveries?limit=0", tokenApp1), 400},
		{jsonReq("POST", "/v1/subscriptions/"+id+"/deliveries/msg_2/retry", tokenApp1, ""), 404},
	} {
		if status, _, raw := h.do(t, tc.req); status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.req.Method, tc.req.URL, status, raw, tc.want)
		}
	}
	if status, _, raw = h.do(t, getReq("/v1/subscriptions/"+id+"/deliveries?status=delivered", tokenApp1)); status != 200 || !strings.Contains(raw, `"msg_1"`) {
		t.Fatalf("deliveries: %d %s", status, raw)
	}
	if status, body, raw = h.do(t, jsonReq("POST", "/v1/subscriptions/"+id+"/deliveries/msg_1/retry", tokenApp1, "")); status != 202 || body["status"] != "pending" {
		t.Fatalf("retry: %d %s", status, raw)
	}
	if status, _, raw = h.do(t, getReq("/v1/subscriptions/"+id+"/deliveries?app_id=app-1", tokenAdmin)); status != 200 {
		t.Fatalf("admin deliveries: %d %s", status, raw)
	}
	if status, _, raw = h.do(t, jsonReq("DELETE", "/v1/subscriptions/"+id, tokenApp1, "")); status != 204 {
		t.Fatalf("delete: %d %s", status, raw)
	}
	if status, _, _ = h.do(t, jsonReq("DELETE", "/v1/subscriptions/"+id, tokenApp1, "")); status != 404 {
		t.Fatalf("second delete: %d", status)
	}
	if status, _, _ = h.do(t, getReq("/v1/subscriptions/"+id+"/deliveries", tokenApp1)); status != 404 {
		t.Fatalf("deliveries of a deleted subscription: %d", status)
	}
	for _, c := range fd.calls {
		if strings.Contains(c, "retry") && !strings.Contains(c, id) {
			t.Errorf("call through another subscription: %s", c)
		}
	}
}

func TestSubscriptionCreateErrors(t *testing.T) {
	h := newSubscriptionHarness(t, nil)
	for _, tc := range []struct {
		body, param string
	}{
		{`not json`, "body"},
		{`{"url":"http://93.184.216.34/"}`, "url"},
		{`{"url":"https://127.0.0.1/"}`, "url"},
		{`{"url":"https://169.254.169.254/"}`, "url"},
		{`{"url":"https://192.168.0.10/"}`, "url"},
		{`{"url":"https://93.184.216.34/","events":["meeting.ended"]}`, "events"},
		{`{"events":["meeting.final"]}`, "url"},
	} {
		status, body, raw := h.do(t, jsonReq("POST", "/v1/subscriptions", tokenApp1, tc.body))
		msg, _ := body["error"].(string)
		if status != 400 || !strings.HasPrefix(msg, tc.param+":") {
			t.Errorf("POST %s: %d %s, want 400 naming %s", tc.body, status, raw, tc.param)
		}
	}
	// A replica that does not deliver: the delivery log is elsewhere.
	_, body, _ := h.do(t, jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"https://93.184.216.34/"}`))
	id, _ := body["id"].(string)
	if status, _, raw := h.do(t, getReq("/v1/subscriptions/"+id+"/deliveries", tokenApp1)); status != 503 {
		t.Fatalf("deliveries without a notifier: %d %s", status, raw)
	}
	// The log cannot write: nothing stored, 503.
	h.store.mu.Lock()
	h.store.failWith = fmt.Errorf("append: %w: disk full", eventstore.ErrUnavailable)
	h.store.mu.Unlock()
	if status, _, raw := h.do(t, jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"https://93.184.216.34/"}`)); status != 503 || strings.Contains(raw, "disk") {
		t.Fatalf("create on a failing log: %d %s", status, raw)
	}
}

// TestOpenAPISubscriptionResponses validates the subscription endpoints'
// real answers against openapi.json.
func TestOpenAPISubscriptionResponses(t *testing.T) {
	h := newReportHarness(t)
	doc := loadOpenAPI(t, h)
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	status, _, raw := h.roundTrip(t, jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"https://93.184.216.34/hook"}`))
	var created struct{ ID string }
	if status != 201 || json.Unmarshal([]byte(raw), &created) != nil {
		t.Fatalf("create: %d %s", status, raw)
	}
	id := created.ID
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"create", jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"https://93.184.216.34/other","events":["meeting.revised"]}`), 201},
		{"create 400", jsonReq("POST", "/v1/subscriptions", tokenApp1, `{"url":"http://93.184.216.34/"}`), 400},
		{"list", getReq("/v1/subscriptions", tokenApp1), 200},
		{"list 403", getReq("/v1/subscriptions?app_id=app-2", tokenApp1), 403},
		{"deliveries", getReq("/v1/subscriptions/"+id+"/deliveries?status=delivered", tokenApp1), 200},
		{"deliveries 404", getReq("/v1/subscriptions/"+id+"/deliveries", tokenApp2), 404},
		{"retry", jsonReq("POST", "/v1/subscriptions/"+id+"/deliveries/msg_1/retry", tokenApp1, ""), 202},
		{"retry 404", jsonReq("POST", "/v1/subscriptions/"+id+"/deliveries/msg_9/retry", tokenApp1, ""), 404},
		{"delete", jsonReq("DELETE", "/v1/subscriptions/"+id, tokenApp1, ""), 204},
		{"delete 404", jsonReq("DELETE", "/v1/subscriptions/"+id, tokenApp1, ""), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route, params, err := router.FindRoute(cloneReq(t, tc.req))
			if err != nil {
				t.Fatalf("%s %s: not in the document: %v", tc.req.Method, tc.req.URL, err)
			}
			resp, err := h.srv.App().Test(tc.req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: tc.req, PathParams: params, Route: route},
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Fatalf("answer does not match openapi.json: %v\n%s", err, body)
			}
		})
	}
}

// v1Writes are the /v1 routes other than GET (TestV1PathsCoverRoutes
// checks every /v1 route is in v1Paths or here); TestV1WritesAuth checks
// their authentication (their own tests too: TestPlanNotFoundAndTenancy,
// TestSubscriptionLifecycleAndIsolation, TestErasureRequestAndTenancy).
var v1Writes = map[string]bool{
	"PUT /v1/meetings/:sessionId/plan":                        true,
	"POST /v1/subscriptions":                                  true,
	"DELETE /v1/subscriptions/:id":                            true,
	"POST /v1/subscriptions/:id/deliveries/:deliveryId/retry": true,
	"POST /v1/erasures":                                       true,
}

func TestV1WritesAuth(t *testing.T) {
	h := newReportHarness(t)
	paths := map[string]string{
		"PUT /v1/meetings/:sessionId/plan":                        "/v1/meetings/class-0/plan",
		"POST /v1/subscriptions":                                  "/v1/subscriptions",
		"DELETE /v1/subscriptions/:id":                            "/v1/subscriptions/no-such",
		"POST /v1/subscriptions/:id/deliveries/:deliveryId/retry": "/v1/subscriptions/no-such/deliveries/msg_1/retry",
		"POST /v1/erasures":                                       "/v1/erasures",
	}
	for route := range v1Writes {
		method, path := strings.Fields(route)[0], paths[route]
		for _, tc := range []struct {
			name, token, query string
			status             int
		}{
			{"no token", "", "", 401},
			{"unknown token", "not-a-real-token-xxxxxxxx", "", 401},
			{"other app named", tokenApp1, "?app_id=app-2", 403},
			{"every-app token without app_id", tokenAdmin, "", 400},
		} {
			t.Run(route+"/"+tc.name, func(t *testing.T) {
				status, _, body := h.roundTrip(t, jsonReq(method, path+tc.query, tc.token, `{"url":"https://93.184.216.34/"}`))
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, body)
				}
			})
		}
	}
}
