package notify_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/internal/metricstest"
	"github.com/meetingd/meetingd/notify"
)

// The specification's published test vector (standard-webhooks
// libraries, TestWebhookSign): the library meetingd signs with, and the
// receiver's own HMAC that every test below verifies deliveries with,
// both give it.
func TestSignatureTestVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wh.Sign(id, time.Unix(1614265330, 0), body)
	if err != nil || got != want {
		t.Fatalf("library Sign = %q, %v; want %q", got, err, want)
	}
	if err := verifyIndependently(secret, received{id: id, timestamp: "1614265330", signature: want, body: body}); err != nil {
		t.Fatalf("independent verifier: %v", err)
	}
	if err := verifyIndependently(secret, received{id: id, timestamp: "1614265331", signature: want, body: body}); err == nil {
		t.Fatal("independent verifier accepts another timestamp")
	}
}

func TestFinalDeliveredOnceSigned(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: 2 * time.Minute})
	rc := newReceiver(t, nil)
	sub := h.subscribe("app-a", rc.srv.URL+"/hook")
	rc.setSecret(sub.Secret)
	if len(sub.Secret) < 10 || sub.Secret[:6] != "whsec_" {
		t.Fatalf("secret %q", sub.Secret)
	}
	h.endedMeeting("app-a", "s1")
	h.appendEvents("app-a", "live", domain.SessionStarted{CreatedAt: t0}) // never ends: never final

	h.advance(time.Minute) // not quiet long enough
	h.advance(59 * time.Second)
	h.settle()
	if n := rc.count(); n != 0 {
		t.Fatalf("%d notifications before the quiet time", n)
	}
	h.advance(time.Second)
	eventually(t, "meeting.final", func() bool { return rc.count() == 1 })
	eventually(t, "delivered", func() bool { return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 1 })
	g := rc.requests()[0]
	if g.verified != nil {
		t.Fatalf("signature: %v", g.verified)
	}
	lib, _ := standardwebhooks.NewWebhook(sub.Secret)
	hdr := http.Header{}
	hdr.Set("webhook-id", g.id)
	hdr.Set("webhook-timestamp", g.timestamp)
	hdr.Set("webhook-signature", g.signature)
	if err := lib.VerifyIgnoringTimestamp(g.body, hdr); err != nil {
		t.Fatalf("library verify: %v", err)
	}
	if ts, _ := strconv.ParseInt(g.timestamp, 10, 64); ts != h.clock.Now().Unix() {
		t.Errorf("webhook-timestamp %d, want the attempt's time %d", ts, h.clock.Now().Unix())
	}
	n := decodeBody(t, g.body)
	if n.Type != notify.EventFinal || n.Data.SessionID != "s1" || n.Data.Status != domain.StatusEnded || n.Data.ParticipantCount != 1 {
		t.Fatalf("notification %+v", n)
	}
	d := h.deliveries(sub.ID, "")[0]
	if d.ID != g.id || d.Attempts != 1 || d.Type != notify.EventFinal || d.SessionID != "s1" || d.DeliveredAt == nil {
		t.Fatalf("delivery %+v", d)
	}
	// Nothing changes: nothing more, however long.
	h.advance(time.Hour)
	h.settle()
	if n := rc.count(); n != 1 {
		t.Fatalf("%d notifications, want 1", n)
	}
}

func TestRevisedAfterLateEventOnlyIfChanged(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	rc := newReceiver(t, nil)
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "final", func() bool { return rc.count() == 1 })

	// A duplicate of a stored event and an event that changes nothing of
	// the report: the stream moved, the report did not.
	h.appendEvents("app-a", "s1", domain.SessionEnded{DestroyedAt: t0 + 600}, domain.SessionStarted{CreatedAt: t0})
	h.advance(time.Minute)
	h.settle()
	// A late leave: the report changes.
	h.appendEvents("app-a", "s1", domain.ParticipantLeft{Occupant: domain.Occupant{UID: "u1", Name: "Ann", JoinedAt: t0 + 5, LeftAt: t0 + 300}})
	h.advance(30 * time.Second)
	h.settle()
	if n := rc.count(); n != 1 {
		t.Fatalf("%d notifications before quiet again, want 1", n)
	}
	h.advance(30 * time.Second)
	eventually(t, "revised", func() bool { return rc.count() >= 2 })
	got := rc.requests()
	if len(got) != 2 {
		t.Fatalf("%d notifications, want 2 (final, revised)", len(got))
	}
	first, second := decodeBody(t, got[0].body), decodeBody(t, got[1].body)
	if second.Type != notify.EventRevised || got[1].id == got[0].id || got[1].verified != nil {
		t.Fatalf("second notification %s id %s (first %s): %v", second.Type, got[1].id, got[0].id, got[1].verified)
	}
	if first.Data.TotalAttendanceSeconds == second.Data.TotalAttendanceSeconds {
		t.Fatalf("revised report equals the final one: %d", second.Data.TotalAttendanceSeconds)
	}
	if second.Data.TotalAttendanceSeconds != 295 {
		t.Fatalf("revised attendance %d, want 295", second.Data.TotalAttendanceSeconds)
	}
}

func TestRetriesWithSameIDAndBackoff(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute, RetryMin: 5 * time.Second})
	rc := newReceiver(t, func(_ *http.Request, n int) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	wantNext := h.clock.Now()
	for i, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		eventually(t, "attempt", func() bool {
			ds := h.deliveries(sub.ID, notify.StatusPending)
			return len(ds) == 1 && ds[0].Attempts == i+1
		})
		d := h.deliveries(sub.ID, notify.StatusPending)[0]
		wantNext = wantNext.Add(wait)
		if !d.NextAttemptAt.Equal(wantNext) || d.LastStatusCode != 500 {
			t.Fatalf("after attempt %d: next %v, want %v (RetryMin·2^%d); last status %d", i+1, d.NextAttemptAt, wantNext, i, d.LastStatusCode)
		}
		// Just before the retry is due, nothing is sent.
		h.clock.Advance(wait - time.Millisecond)
		h.settle()
		if n := rc.count(); n != i+1 {
			t.Fatalf("%d requests before the retry was due, want %d", n, i+1)
		}
		h.clock.Advance(time.Millisecond)
	}
	eventually(t, "delivered", func() bool { return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 1 })
	got := rc.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for _, g := range got {
		if g.id != got[0].id || g.verified != nil {
			t.Fatalf("attempt id %s (first %s), signature %v", g.id, got[0].id, g.verified)
		}
	}
	if got[3].timestamp == got[0].timestamp {
		t.Error("the retry kept the first attempt's timestamp")
	}
}

func TestJitterBoundsTheDelay(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   time.Duration
	}{{0, 4 * time.Second}, {0.5, 5 * time.Second}, {0.999, 5998 * time.Millisecond}} {
		h := newHarness(t, notify.Config{FinalAfter: time.Minute, RetryMin: 5 * time.Second, Jitter: func() float64 { return tc.jitter }})
		rc := newReceiver(t, func(*http.Request, int) int { return 503 })
		sub := h.subscribe("app-a", rc.srv.URL)
		h.endedMeeting("app-a", "s1")
		h.advance(time.Minute)
		start := h.clock.Now()
		eventually(t, "attempt", func() bool {
			ds := h.deliveries(sub.ID, notify.StatusPending)
			return len(ds) == 1 && ds[0].Attempts == 1
		})
		if got := h.deliveries(sub.ID, "")[0].NextAttemptAt.Sub(start); got != tc.want {
			t.Errorf("jitter %v: delay %v, want %v", tc.jitter, got, tc.want)
		}
		h.stop()
	}
}

func TestRetryOnTimeoutSameID(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute, Timeout: 300 * time.Millisecond})
	rc := newReceiver(t, func(r *http.Request, n int) int {
		if n == 1 {
			<-r.Context().Done() // never answers: the client gives up
		}
		return http.StatusOK
	})
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "timed-out attempt", func() bool {
		ds := h.deliveries(sub.ID, notify.StatusPending)
		return len(ds) == 1 && ds[0].Attempts == 1
	})
	if d := h.deliveries(sub.ID, "")[0]; d.LastError == "" || d.LastStatusCode != 0 {
		t.Fatalf("after a timeout: %+v", d)
	}
	h.clock.Advance(5 * time.Second)
	eventually(t, "delivered", func() bool { return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 1 })
	got := rc.requests()
	if len(got) != 2 || got[0].id != got[1].id {
		t.Fatalf("requests %d, ids %v", len(got), got)
	}
}

func TestDeadLetterThenManualRetry(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute, RetryMin: 5 * time.Second, RetryFor: time.Minute})
	fail := true
	rc := newReceiver(t, func(*http.Request, int) int {
		if fail {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	// 0, 5, 15, 35, then the window's end at 60 s: five attempts.
	for k := 1; ; k++ {
		eventually(t, "attempt "+strconv.Itoa(k)+" recorded", func() bool {
			ds := h.deliveries(sub.ID, "")
			return len(ds) == 1 && ds[0].Attempts == k
		})
		d := h.deliveries(sub.ID, "")[0]
		if d.Status == notify.StatusFailed || k > 10 {
			break
		}
		h.clock.Advance(d.NextAttemptAt.Sub(h.clock.Now()))
	}
	failed := h.deliveries(sub.ID, notify.StatusFailed)
	if len(failed) != 1 || failed[0].Attempts != 5 || len(h.deliveries(sub.ID, notify.StatusPending)) != 0 {
		t.Fatalf("failed %+v", failed)
	}
	if rc.count() != 5 {
		t.Fatalf("%d requests, want 5", rc.count())
	}
	h.clock.Advance(24 * time.Hour)
	h.settle()
	if rc.count() != 5 {
		t.Fatal("a dead-lettered delivery was attempted again")
	}
	fail = false
	if _, err := h.n.Retry(t.Context(), sub.ID, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivered after a manual retry", func() bool {
		return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 1
	})
	got := rc.requests()
	if got[5].id != failed[0].ID || got[5].verified != nil {
		t.Fatalf("manual retry id %s, want %s (%v)", got[5].id, failed[0].ID, got[5].verified)
	}
	if _, err := h.n.Retry(t.Context(), "00000000-0000-0000-0000-000000000000", failed[0].ID); err == nil {
		t.Fatal("retry through another subscription succeeded")
	}
}

func TestDeletionStopsDeliveries(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	rc := newReceiver(t, func(*http.Request, int) int { return 500 })
	sub := h.subscribe("app-a", rc.srv.URL)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "first attempt", func() bool { return rc.count() == 1 })
	eventually(t, "recorded", func() bool { return h.deliveries(sub.ID, "")[0].Attempts == 1 })
	if err := h.subs.Delete(t.Context(), "app-a", sub.ID); err != nil {
		t.Fatal(err)
	}
	h.settle()
	eventually(t, "pending delivery failed", func() bool {
		ds := h.deliveries(sub.ID, notify.StatusFailed)
		return len(ds) == 1 && ds[0].LastError == "subscription deleted"
	})
	h.endedMeeting("app-a", "s2")
	h.advance(time.Hour)
	h.settle()
	if rc.count() != 1 {
		t.Fatalf("%d requests after deletion, want 1", rc.count())
	}
	if err := h.subs.Delete(t.Context(), "app-a", sub.ID); err == nil {
		t.Fatal("deleting twice succeeded")
	}
}

func TestAppIsolation(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	ra, rb := newReceiver(t, nil), newReceiver(t, nil)
	sa := h.subscribe("app-a", ra.srv.URL)
	sb := h.subscribe("app-b", rb.srv.URL)
	ra.setSecret(sa.Secret)
	rb.setSecret(sb.Secret)
	h.endedMeeting("app-a", "s1")
	h.endedMeeting("app-b", "s1")
	h.endedMeeting("app-b", "s2")
	h.advance(time.Minute)
	eventually(t, "both apps", func() bool { return ra.count() == 1 && rb.count() == 2 })
	for _, g := range ra.requests() {
		if n := decodeBody(t, g.body); n.Data.AppID != "app-a" || g.verified != nil {
			t.Fatalf("app-a got %s (%v)", n.Data.AppID, g.verified)
		}
	}
	for _, g := range rb.requests() {
		if n := decodeBody(t, g.body); n.Data.AppID != "app-b" || g.verified != nil {
			t.Fatalf("app-b got %s (%v)", n.Data.AppID, g.verified)
		}
	}
	if _, err := h.subs.Get(t.Context(), "app-b", sa.ID); err == nil {
		t.Fatal("app-b sees app-a's subscription")
	}
	if err := h.subs.Delete(t.Context(), "app-b", sa.ID); err == nil {
		t.Fatal("app-b deleted app-a's subscription")
	}
	list, err := h.subs.List(t.Context(), "app-b")
	if err != nil || len(list) != 1 || list[0].ID != sb.ID || list[0].Secret != "" {
		t.Fatalf("app-b's list %+v, %v", list, err)
	}
}

func TestOnlyTypesAskedForAndOnlyAfterCreation(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	rc := newReceiver(t, nil)
	h.endedMeeting("app-a", "before") // quiet before any subscription: owed to none
	h.advance(2 * time.Minute)
	h.settle()
	sub := h.subscribe("app-a", rc.srv.URL, notify.EventRevised)
	rc.setSecret(sub.Secret)
	finals := newReceiver(t, nil)
	h.subscribe("app-a", finals.srv.URL, notify.EventFinal)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "final to the other subscription", func() bool { return finals.count() == 1 })
	if rc.count() != 0 {
		t.Fatalf("%d notifications, want none (only revised asked for)", rc.count())
	}
	h.appendEvents("app-a", "s1", domain.ParticipantLeft{Occupant: domain.Occupant{UID: "u1", Name: "Ann", JoinedAt: t0 + 5, LeftAt: t0 + 100}})
	h.advance(time.Minute)
	eventually(t, "revised", func() bool { return rc.count() == 1 })
	if n := decodeBody(t, rc.requests()[0].body); n.Type != notify.EventRevised || n.Data.SessionID != "s1" {
		t.Fatalf("got %s of %s", n.Type, n.Data.SessionID)
	}
}

func TestWaitsForTheReadModels(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	rc := newReceiver(t, nil)
	sub := h.subscribe("app-a", rc.srv.URL)
	st, err := h.log.Stats(t.Context(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.projected = &st.Head // the read models stop before the meeting's events
	h.mu.Unlock()
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	h.settle()
	if rc.count() != 0 {
		t.Fatal("notified before the read models folded the meeting's events")
	}
	h.mu.Lock()
	h.projected = nil
	h.mu.Unlock()
	eventually(t, "final once the read models caught up", func() bool { return rc.count() == 1 })
}

func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute, PerEndpoint: 4, MaxInFlight: 16, Timeout: time.Hour})
	release := make(chan struct{})
	stuck := newReceiver(t, func(r *http.Request, _ int) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	defer close(release)
	fast := newReceiver(t, nil)
	s1 := h.subscribe("app-a", stuck.srv.URL)
	s2 := h.subscribe("app-a", fast.srv.URL)
	fast.setSecret(s2.Secret)
	stuck.setSecret(s1.Secret)
	const meetings = 60
	for i := range meetings {
		h.endedMeeting("app-a", "s"+strconv.Itoa(i))
	}
	h.advance(time.Minute)
	// Every fast delivery arrives while the stuck endpoint holds its
	// four slots and has answered nothing.
	eventually(t, "the fast endpoint got everything", func() bool { return fast.count() == meetings })
	if n := stuck.count(); n > 4 {
		t.Fatalf("stuck endpoint has %d requests in flight, want at most PerEndpoint=4", n)
	}
	ids := map[string]bool{}
	for _, g := range fast.requests() {
		ids[g.id] = true
	}
	if len(ids) != meetings {
		t.Fatalf("%d distinct ids, want %d", len(ids), meetings)
	}
}

func TestRestartResumesWithSameID(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute})
	fail := true
	rc := newReceiver(t, func(*http.Request, int) int {
		if fail {
			return 500
		}
		return 200
	})
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "failed attempt recorded", func() bool {
		ds := h.deliveries(sub.ID, notify.StatusPending)
		return len(ds) == 1 && ds[0].Attempts == 1
	})
	h.endedMeeting("app-a", "s2") // appended, not yet quiet, when the notifier stops
	h.settle()
	h.stop()
	fail = false
	h.start()
	h.advance(time.Minute)
	eventually(t, "both delivered after the restart", func() bool {
		return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 2
	})
	got := rc.requests()
	ids := []string{}
	for _, g := range got {
		ids = append(ids, g.id)
	}
	slices.Sort(ids)
	if len(got) != 3 || len(slices.Compact(ids)) != 2 {
		t.Fatalf("requests %d with ids %v; want 3 with 2 ids (the retry kept its id)", len(got), ids)
	}
}

func TestSubscriptionValidation(t *testing.T) {
	h := newHarness(t, notify.Config{})
	strict, err := notify.NewSubscriptions(h.log, notify.URLPolicy{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url    string
		events []string
		param  string
	}{
		{"", nil, "url"},
		{"http://example.com/hook", nil, "url"},
		{"https://127.0.0.1/hook", nil, "url"},
		{"https://[::1]/hook", nil, "url"},
		{"https://10.1.2.3/hook", nil, "url"},
		{"https://169.254.169.254/latest", nil, "url"},
		{"https://0.0.0.0/", nil, "url"},
		{"https://localhost/hook", nil, "url"},
		{"https://user:pw@example.com/", nil, "url"},
		{"ftp://example.com/", nil, "url"},
		{"https://93.184.216.34/hook", []string{"meeting.started"}, "events"},
	} {
		_, err := strict.Create(context.Background(), "app-a", tc.url, tc.events)
		var inv *notify.InvalidError
		if !asInvalid(err, &inv) || inv.Param != tc.param {
			t.Errorf("Create(%q, %v) = %v, want an invalid %s", tc.url, tc.events, err, tc.param)
		}
	}
	s, err := strict.Create(context.Background(), "app-a", "https://93.184.216.34/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Events, []string{notify.EventFinal, notify.EventRevised}) {
		t.Errorf("default events %v", s.Events)
	}
}

// TestRealClock runs the notifier on the real clock, as serve does: a
// short quiet time, then the final arrives without any clock being moved.
func TestRealClock(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: 50 * time.Millisecond, RetryMin: 20 * time.Millisecond, Clock: clockwork.NewRealClock()})
	rc := newReceiver(t, func(_ *http.Request, n int) int {
		if n == 1 {
			return 500 // and a retry on the real clock
		}
		return 204
	})
	sub := h.subscribe("app-a", rc.srv.URL)
	rc.setSecret(sub.Secret)
	// The log records the fake clock's time; make it now.
	h.clock.Advance(time.Until(h.clock.Now()) * -1)
	h.endedMeeting("app-a", "s1")
	eventually(t, "delivered on the real clock", func() bool { return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 1 })
	if got := rc.requests(); len(got) != 2 || got[0].id != got[1].id || got[1].verified != nil {
		t.Fatalf("requests %d", len(got))
	}
}

// flakyLog loses its subscription (an error after the first event) the
// first fails times it is followed, as a lost connection to KurrentDB or a
// failing disk would.
type flakyLog struct {
	notify.Log
	mu    sync.Mutex
	fails int
}

func (f *flakyLog) SubscribeAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error] {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	inner := f.Log.SubscribeAll(ctx, from, filter)
	if !fail {
		return inner
	}
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for ev, err := range inner {
			if !yield(ev, err) || err != nil {
				return
			}
			yield(eventstore.RecordedEvent{}, errors.New("connection lost"))
			return
		}
	}
}

// TestRestartsAfterAFailure: a failing log (or store) does not end the
// notifier, which would take the service down with it; it starts again
// from its checkpoint, counts the restart, and owes and delivers the same
// notifications as if nothing had happened.
func TestRestartsAfterAFailure(t *testing.T) {
	flaky := &flakyLog{fails: 3}
	h := newHarnessWrapped(t, notify.Config{FinalAfter: time.Minute}, func(l notify.Log) notify.Log {
		flaky.Log = l
		return flaky
	})
	rc := newReceiver(t, nil)
	sub := h.subscribe("app-a", rc.srv.URL+"/hook")
	rc.setSecret(sub.Secret)
	h.endedMeeting("app-a", "s1")
	h.endedMeeting("app-a", "s2")
	h.advance(time.Minute) // settles first: past the three failures
	eventually(t, "both finals delivered", func() bool { return len(h.deliveries(sub.ID, notify.StatusDelivered)) == 2 })
	if got := metricstest.Find(t, h.reg, "meetingd_notify_restarts_total", nil).GetCounter().GetValue(); got != 3 {
		t.Errorf("meetingd_notify_restarts_total = %v, want 3", got)
	}
	h.advance(time.Hour)
	h.settle()
	if n := rc.count(); n != 2 {
		t.Fatalf("%d notifications, want 2 (one final per meeting)", n)
	}
	for _, g := range rc.requests() {
		if g.verified != nil {
			t.Fatalf("signature: %v", g.verified)
		}
	}
}
