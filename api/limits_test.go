package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
)

// TestWebhookLongestIDsStored posts valid webhooks whose app and session ids
// are as long as the decoder allows and escape to the longest stream names:
// each is accepted (200) and stored, never answered 5xx.
func TestWebhookLongestIDsStored(t *testing.T) {
	tests := []struct{ name, app, session string }{
		{"512-byte ids, every byte escaped", strings.Repeat("%", domain.MaxIDLength), strings.Repeat("?", domain.MaxIDLength)},
		{"115 CJK characters each", strings.Repeat("会", 115), strings.Repeat("議", 115)},
		{"170 CJK characters each (510 bytes)", strings.Repeat("中", 170), strings.Repeat("文", 170)},
	}
	h, _ := newEmbeddedHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ans, raw := h.do(t, webhookReq([]byte(started(tc.app, tc.session, 1699990000)), hookUser, hookPass))
			if status != 200 || ans["status"] != "accepted" {
				t.Fatalf("status %d %.300s, want 200 accepted", status, raw)
			}
			if n := h.count(t, domain.StreamName(tc.app, tc.session)); n != 1 {
				t.Fatalf("the session's stream holds %d events, want 1", n)
			}
			path := "/v1/meetings/" + url.PathEscape(tc.session) + "/events?app_id=" + url.QueryEscape(tc.app)
			if status, _, raw := h.do(t, getReq(path, tokenAdmin)); status != 200 {
				t.Fatalf("events: %d %.300s", status, raw)
			}
		})
	}
}

// bigEnded is a valid meeting_ended of about size bytes (all_occupants).
func bigEnded(app, session string, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"trigger":"meeting_ended","appId":%q,"data":{"sessionId":%q,"created_at":1699990000,"destroyed_at":1699999000,"all_occupants":[`, app, session)
	for i := 0; b.Len() < size-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"uid":"participant-%07d","name":"Participant %07d","joined_at":1699990000,"left_at":1699999000}`, i, i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// TestWebhookBeyondAppendLimitQuarantined: a valid body near 1 MiB whose
// event exceeds the store's append limit is quarantined (202) with the
// reason, its record (too large with the body as it is) keeps the whole body
// compressed, and the listing returns it whole. A body that fits not even
// compressed is a 413, nothing stored, counted as too_large.
func TestWebhookBeyondAppendLimitQuarantined(t *testing.T) {
	const limit = 256 << 10
	st, err := embedded.Open(context.Background(), embedded.Config{Dir: t.TempDir(), MaxAppendBytes: limit}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := newHarnessOn(t, st, func() time.Time { return hostileNow })

	body := bigEnded("app-1", "big-1", api.BodyLimit-1024)
	status, ans, raw := h.do(t, webhookReq(body, hookUser, hookPass))
	if reason, _ := ans["reason"].(string); status != 202 || ans["status"] != "quarantined" ||
		!strings.Contains(reason, fmt.Sprintf("exceeds the limit of %d", limit)) {
		t.Fatalf("%d %.300s, want 202 quarantined naming the store's limit", status, raw)
	}
	if n := h.count(t, domain.StreamName("app-1", "big-1")); n != 0 {
		t.Fatalf("the session's stream holds %d events, want 0", n)
	}
	status, list, raw := h.do(t, getReq("/v1/quarantine", tokenApp1))
	items, _ := list["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("quarantine list: %d %.300s", status, raw)
	}
	item := items[0].(map[string]any)
	got, _ := json.Marshal(item["body"])
	if !sameJSONValue(t, got, body) || item["body_gzip"] != nil {
		t.Fatalf("the listed body (%d bytes) is not the body sent (%d bytes)", len(got), len(body))
	}

	// Incompressible and over the limit even compressed: 413, nothing stored.
	noise := make([]byte, 400<<10)
	_, _ = rand.Read(noise)
	huge := fmt.Appendf(nil, `{"trigger":"meeting_renamed","appId":"app-1","data":{"noise":%q}}`, base64.StdEncoding.EncodeToString(noise))
	status, ans, raw = h.do(t, webhookReq(huge, hookUser, hookPass))
	if msg, _ := ans["error"].(string); status != 413 || !strings.Contains(msg, "too large for the event store") {
		t.Fatalf("%d %.300s, want 413 naming the store", status, raw)
	}
	if n := h.count(t, domain.QuarantineStream("app-1")); n != 1 {
		t.Fatalf("app-1's quarantine holds %d records, want 1", n)
	}
	if got := metricValue(t, h, "meetingd_webhooks_total", "too_large"); got < 1 {
		t.Fatalf("too_large outcomes counted: %v", got)
	}
}

// metricValue sums the samples of family whose labels include value.
func metricValue(t *testing.T, h *harness, family, value string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// TestStatusOfEveryStoreSentinel gives every sentinel error of the
// eventstore package a deliberate status; a sentinel added to the package
// without one here fails the test.
func TestStatusOfEveryStoreSentinel(t *testing.T) {
	want := map[string]struct {
		err    error
		status int
	}{
		"ErrConcurrency":      {eventstore.ErrConcurrency, fiber.StatusConflict},
		"ErrPartialDuplicate": {eventstore.ErrPartialDuplicate, fiber.StatusConflict},
		"ErrStreamNotFound":   {eventstore.ErrStreamNotFound, fiber.StatusNotFound},
		"ErrInvalidEvent":     {eventstore.ErrInvalidEvent, fiber.StatusUnprocessableEntity},
		"ErrUnavailable":      {eventstore.ErrUnavailable, fiber.StatusServiceUnavailable},
		"ErrClosed":           {eventstore.ErrClosed, fiber.StatusServiceUnavailable},
	}
	for _, name := range sentinelNames(t, filepath.Join("..", "eventstore")) {
		w, ok := want[name]
		if !ok {
			t.Errorf("eventstore.%s has no deliberate HTTP status: add it to statusOf and to this table", name)
			continue
		}
		status, msg := api.StatusOf(fmt.Errorf("ingest: %w", w.err))
		if status != w.status || msg == "" || msg == "internal error" {
			t.Errorf("eventstore.%s: %d %q, want %d with a message saying what happened", name, status, msg, w.status)
		}
	}
	if status, _ := api.StatusOf(fmt.Errorf("quarantine: %w", intake.ErrTooLarge)); status != fiber.StatusRequestEntityTooLarge {
		t.Errorf("intake.ErrTooLarge: %d, want 413", status)
	}
}

// sentinelNames returns the package-level Err* variables of the Go package
// in dir (its non-test files).
func sentinelNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("no sentinel errors found in %s", dir)
	}
	return names
}

// badBody is a CometChat-shaped body that is quarantined (unknown trigger).
func badBody(app string, i int) []byte {
	return fmt.Appendf(nil, `{"trigger":"meeting_renamed","appId":%q,"data":{"n":%d}}`, app, i)
}

// TestQuarantinePerApp: app-1's flood costs app-2's listing nothing (only
// app-2's stream is read, and at most a page of it), pages chain by cursor,
// and a * token reads one app with ?app_id=.
func TestQuarantinePerApp(t *testing.T) {
	h := newHarness(t)
	for i := range 50 {
		if status, _, raw := h.do(t, webhookReq(badBody("app-1", i), hookUser, hookPass)); status != 202 {
			t.Fatalf("app-1 record %d: %d %s", i, status, raw)
		}
	}
	for i := range 5 {
		h.do(t, webhookReq(badBody("app-2", i), hookUser, hookPass))
	}
	before := h.store.readsOf(domain.QuarantineStream("app-1"))
	status, list, raw := h.do(t, getReq("/v1/quarantine?limit=1", tokenApp2))
	if items, _ := list["items"].([]any); status != 200 || len(items) != 1 || items[0].(map[string]any)["app_id"] != "app-2" {
		t.Fatalf("app-2's first page: %d %s", status, raw)
	}
	if got := h.store.readsOf(domain.QuarantineStream("app-1")); got != before {
		t.Fatalf("app-2's listing read app-1's quarantine stream")
	}
	if got := h.store.readsOf(intake.LegacyQuarantineStream); got != 0 {
		t.Fatalf("the listing read the legacy stream of every app %d times", got)
	}

	// Pages of 2 over app-2's 5 records: 2, 2, 1, each record once, in order.
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/v1/quarantine?limit=2"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		status, list, raw := h.do(t, getReq(path, tokenApp2))
		items, _ := list["items"].([]any)
		if status != 200 || page > 3 {
			t.Fatalf("page %d: %d %s", page, status, raw)
		}
		for _, it := range items {
			rec := it.(map[string]any)
			var b struct{ Data struct{ N int } }
			raw, _ := json.Marshal(rec["body"])
			_ = json.Unmarshal(raw, &b)
			seen = append(seen, fmt.Sprint(b.Data.N))
		}
		next, _ := list["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if got := strings.Join(seen, ","); got != "0,1,2,3,4" {
		t.Fatalf("paged records %s, want 0,1,2,3,4", got)
	}

	// A * token: one app by app_id; without it the records of no valid app.
	_, list, _ = h.do(t, getReq("/v1/quarantine?limit=1000&app_id=app-1", tokenAdmin))
	if items, _ := list["items"].([]any); len(items) != 50 {
		t.Fatalf("* token with app_id=app-1 sees %d records, want 50", len(items))
	}
	h.do(t, webhookReq([]byte(`{"trigger":"meeting_renamed","appId":{"x":1},"data":{}}`), hookUser, hookPass))
	_, list, raw = h.do(t, getReq("/v1/quarantine", tokenAdmin))
	if items, _ := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["app_id"] != "" {
		t.Fatalf("* token without app_id: %s, want the one record without a valid app", raw)
	}
}

// TestQuarantineLegacyMigrated: records of the single quarantine stream of
// older logs are listed for their app once MigrateQuarantine has run (as
// serve does at start); running it again copies nothing twice.
func TestQuarantineLegacyMigrated(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	legacy := func(app string, i int) {
		rec := intake.QuarantineRecord{AppID: app, Trigger: "meeting_renamed", Reason: "unknown trigger", ReceivedAt: time.Unix(1700000000, 0).UTC(), Body: badBody(app, i)}
		data, _ := json.Marshal(rec)
		id := fmt.Sprintf("00000000-0000-5000-8000-%012d", i)
		if _, err := h.store.Append(ctx, intake.LegacyQuarantineStream, eventstore.Any,
			eventstore.Event{ID: mustUUID(t, id), Type: intake.TypeQuarantined, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	legacy("app-1", 1)
	legacy("app-2", 2)
	legacy("app-1", 3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for run, want := range []int{3, 0} {
		if n, err := intake.MigrateQuarantine(ctx, h.store, log); err != nil || n != want {
			t.Fatalf("run %d: copied %d, %v; want %d", run, n, err, want)
		}
	}
	legacy("app-2", 4) // written by an older replica meanwhile
	if n, err := intake.MigrateQuarantine(ctx, h.store, log); err != nil || n != 1 {
		t.Fatalf("copied %d, %v; want the 1 new record", n, err)
	}
	for token, want := range map[string]int{tokenApp1: 2, tokenApp2: 2} {
		_, list, raw := h.do(t, getReq("/v1/quarantine", token))
		if items, _ := list["items"].([]any); len(items) != want {
			t.Fatalf("listed %s, want %d records", raw, want)
		}
	}
}

// TestAuditReadsTimeOut: a store that does not answer makes the quarantine
// and events listings fail with 503 within the query timeout.
func TestAuditReadsTimeOut(t *testing.T) {
	store := newMemStore()
	store.block = true
	h := newHarnessWith(t, store, func() time.Time { return time.Unix(1700000000, 0) }, api.Config{QueryTimeout: 200 * time.Millisecond})
	for _, path := range []string{"/v1/quarantine?limit=1", "/v1/meetings/s-1/events"} {
		start := time.Now()
		status, ans, raw := h.do(t, getReq(path, tokenApp1))
		if took := time.Since(start); status != 503 || ans["error"] == nil || took > 10*time.Second {
			t.Fatalf("%s: %d %s after %s, want 503 within the bound", path, status, raw, took)
		}
	}
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
