package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/notify"
	"github.com/meetingd/meetingd/reports"
)

// t0 is the CometChat time of the test meetings.
const t0 = int64(1_700_000_000)

// harness is one notifier over an embedded log, with a fake clock.
type harness struct {
	t      testing.TB
	dir    string
	log    *embedded.Store
	store  *notify.Store
	clock  *clockwork.FakeClock
	subs   *notify.Subscriptions
	n      *notify.Notifier
	cfg    notify.Config
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
	// projected, when set, is what the read models have folded; nil: all.
	mu        sync.Mutex
	projected *eventstore.Position
	// wrap, when set, stands between the notifier and the log.
	wrap func(notify.Log) notify.Log
}

func newHarness(t testing.TB, cfg notify.Config) *harness {
	t.Helper()
	return newHarnessWrapped(t, cfg, nil)
}

// newHarnessWrapped is newHarness with wrap standing between the notifier
// and the log (nil: none).
func newHarnessWrapped(t testing.TB, cfg notify.Config, wrap func(notify.Log) notify.Log) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: clockwork.NewFakeClockAt(time.Now()), wrap: wrap}
	var err error
	if h.log, err = embedded.Open(t.Context(), embedded.Config{Dir: filepath.Join(h.dir, "events"), Now: h.clock.Now}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.log.Close() })
	policy := notify.URLPolicy{AllowHTTP: true, AllowPrivate: true}
	if h.subs, err = notify.NewSubscriptions(h.log, policy, h.clock.Now, nil); err != nil {
		t.Fatal(err)
	}
	if cfg.Policy == (notify.URLPolicy{}) {
		cfg.Policy = policy
	}
	if cfg.Clock == nil {
		cfg.Clock = h.clock
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.5 } // ×1.0: exact backoff
	}
	if cfg.BatchAge == 0 {
		cfg.BatchAge = 5 * time.Millisecond
	}
	h.cfg = cfg
	h.start()
	return h
}

// start opens the notifier's store and runs a notifier on it.
func (h *harness) start() {
	h.t.Helper()
	var err error
	if h.store, err = notify.OpenStore(filepath.Join(h.dir, "notify", "notify.db")); err != nil {
		h.t.Fatal(err)
	}
	h.reg = prometheus.NewRegistry()
	cfg := h.cfg
	cfg.Registry = h.reg
	var lg notify.Log = h.log
	if h.wrap != nil {
		lg = h.wrap(lg)
	}
	h.n, err = notify.New(cfg, notify.Deps{
		Log: lg, Store: h.store, Meetings: foldSource{h.log}, Projected: h.projectedPos,
		Render: func(m domain.Meeting) any { return m },
	}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.n.Run(ctx) }()
	h.t.Cleanup(h.stop)
}

// stop stops the notifier and closes its store (idempotent).
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("notifier: %v", err)
	}
	h.cancel = nil
	h.store.Close()
}

func (h *harness) projectedPos() eventstore.Position {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.projected != nil {
		return *h.projected
	}
	return eventstore.Position{Commit: ^uint64(0), Prepare: ^uint64(0)}
}

// foldSource answers meetings by folding the session's stream.
type foldSource struct{ log *embedded.Store }

func (f foldSource) Meeting(ctx context.Context, key reports.SessionKey) (domain.Meeting, error) {
	var evs []domain.Event
	for rec, err := range f.log.ReadStream(ctx, domain.StreamName(key.AppID, key.SessionID), 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return domain.Meeting{}, reports.ErrNotFound
		}
		if err != nil {
			return domain.Meeting{}, err
		}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			return domain.Meeting{}, err
		}
		evs = append(evs, ev)
	}
	return domain.Fold(evs), nil
}

// appendEvents appends session events of app/session.
func (h *harness) appendEvents(app, session string, payloads ...domain.Payload) {
	h.t.Helper()
	var evs []eventstore.Event
	for _, p := range payloads {
		e := domain.Event{AppID: app, SessionID: session, Kind: domain.KindMeeting, Trigger: "test", Payload: p}
		data, err := codec.MarshalEvent(e)
		if err != nil {
			h.t.Fatal(err)
		}
		evs = append(evs, eventstore.Event{ID: domain.EventID(e), Type: e.Type(), Data: data, Metadata: []byte(`{}`)})
	}
	if _, err := h.log.Append(h.t.Context(), domain.StreamName(app, session), eventstore.Any, evs...); err != nil {
		h.t.Fatal(err)
	}
}

// endedMeeting appends a whole meeting: start, one participant, end.
func (h *harness) endedMeeting(app, session string) {
	h.appendEvents(app, session,
		domain.SessionStarted{CreatedAt: t0},
		domain.ParticipantJoined{Occupant: domain.Occupant{UID: "u1", Name: "Ann", JoinedAt: t0 + 5}},
		domain.SessionEnded{DestroyedAt: t0 + 600},
	)
}

// subscribe creates a subscription of app to url.
func (h *harness) subscribe(app, url string, events ...string) notify.Subscription {
	h.t.Helper()
	s, err := h.subs.Create(h.t.Context(), app, url, events)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// eventually polls cond (no fixed sleeps: each look is cheap) until it
// holds or 20 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until the notifier has projected the whole log, so that
// advancing the clock decides on everything appended so far.
func (h *harness) settle() {
	h.t.Helper()
	st, err := h.log.Stats(h.t.Context(), eventstore.Filter{})
	if err != nil {
		h.t.Fatal(err)
	}
	eventually(h.t, "notifier projected the log", func() bool {
		return h.n.Checkpoint().Compare(st.Head) >= 0
	})
}

// advance settles, then moves the fake clock.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.settle()
	h.clock.Advance(d)
}

func (h *harness) deliveries(sub, status string) []notify.Delivery {
	h.t.Helper()
	page, err := h.n.Deliveries(h.t.Context(), sub, status, notify.MaxDeliveriesPage, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return page.Deliveries
}

// received is one request the receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
	verified                 error
}

// receiver is a real HTTP endpoint on loopback that verifies every
// request's signature with its own HMAC (not the library meetingd signs
// with) and answers with answer(n), n counting requests from 1.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []received
	answer func(r *http.Request, n int) int
}

func newReceiver(t *testing.T, answer func(r *http.Request, n int) int) *receiver {
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	g := received{id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
		signature: r.Header.Get("webhook-signature"), body: b}
	g.verified = verifyIndependently(rc.secret, g)
	rc.got = append(rc.got, g)
	n := len(rc.got)
	rc.mu.Unlock()
	status := http.StatusNoContent
	if rc.answer != nil {
		status = rc.answer(r, n)
	}
	w.WriteHeader(status)
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) count() int { return len(rc.requests()) }

// verifyIndependently checks a request as a customer would, by the
// specification's text: HMAC-SHA256 keyed with the base64-decoded secret
// after whsec_, over "<id>.<timestamp>.<body>", base64, "v1," prefixed.
func verifyIndependently(secret string, g received) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return fmt.Errorf("bad secret %q", secret)
	}
	if g.id == "" || g.timestamp == "" {
		return errors.New("missing headers")
	}
	if _, err := strconv.ParseInt(g.timestamp, 10, 64); err != nil {
		return fmt.Errorf("timestamp %q", g.timestamp)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", g.id, g.timestamp, g.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(g.signature) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("signature %q, want %q", g.signature, want)
}

// notification is a decoded body.
type notification struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      domain.Meeting `json:"data"`
}

func decodeBody(t *testing.T, b []byte) notification {
	t.Helper()
	var n notification
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return n
}
