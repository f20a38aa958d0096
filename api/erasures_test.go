package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/privacy"
)

func TestErasureRequestAndTenancy(t *testing.T) {
	h := newReportHarness(t)
	post := func(path, token, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	tests := []struct {
		name, path, token, body string
		status                  int
		errHas                  string
	}{
		{"no token", "/v1/erasures", "", `{"participant":"uid-1"}`, 401, "bearer"},
		{"other app named", "/v1/erasures?app_id=app-2", tokenApp1, `{"participant":"uid-1"}`, 403, "app-2"},
		{"every-app token without app_id", "/v1/erasures", tokenAdmin, `{"participant":"uid-1"}`, 400, "app_id: "},
		{"not JSON", "/v1/erasures", tokenApp1, `nope`, 400, "body: "},
		{"no participant", "/v1/erasures", tokenApp1, `{}`, 400, "participant: required"},
		{"empty participant", "/v1/erasures", tokenApp1, `{"participant":""}`, 400, "participant: required"},
		{"participant too long", "/v1/erasures", tokenApp1, `{"participant":"` + strings.Repeat("x", 1025) + `"}`, 400, "participant: longer"},
		{"body too large", "/v1/erasures", tokenApp1, `{"participant":"` + strings.Repeat("x", 5000) + `"}`, 400, "body: larger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := h.roundTrip(t, post(tc.path, tc.token, tc.body))
			if status != tc.status || !strings.Contains(body, tc.errHas) {
				t.Fatalf("%d %s, want %d with %q", status, body, tc.status, tc.errHas)
			}
		})
	}
	status, _, body := h.roundTrip(t, post("/v1/erasures", tokenApp1, `{"participant":"uid-1"}`))
	var acc struct{ ID, Status string }
	if status != 202 || json.Unmarshal([]byte(body), &acc) != nil || acc.Status != "pending" || acc.ID == "" {
		t.Fatalf("POST: %d %s", status, body)
	}
	if strings.Contains(body, "uid-1") {
		t.Fatalf("the answer names the subject: %s", body)
	}
	status, _, body = h.get(t, "/v1/erasures/"+acc.ID, tokenApp1)
	var e struct {
		ID, Participant, Status string
		Sessions                []string
	}
	if status != 200 || json.Unmarshal([]byte(body), &e) != nil || e.ID != acc.ID || e.Status != "pending" ||
		e.Participant != (privacy.Subject{AppID: "app-1", Participant: "uid-1"}).Pseudonym() || e.Sessions == nil {
		t.Fatalf("GET: %d %s", status, body)
	}
	if status, _, body := h.get(t, "/v1/erasures/"+acc.ID, tokenApp2); status != 404 {
		t.Fatalf("another app's token: %d %s", status, body)
	}
	if status, _, body := h.get(t, "/v1/erasures/"+acc.ID+"?app_id=app-1", tokenAdmin); status != 200 {
		t.Fatalf("the every-app token: %d %s", status, body)
	}
}
