package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// harness is the real pipeline on a temporary directory: the embedded event
// log, the webhook intake, the read models and the projection runner.
type harness struct {
	store  *embedded.Store
	models *readmodel.Store
	runner *projections.Runner
	intake *intake.Service
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	lg := slog.New(slog.DiscardHandler)
	store, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dir, "events")}, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	models, err := readmodel.Open(ctx, readmodel.Config{Dir: filepath.Join(dir, "models")}, lg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close() })
	runner, err := projections.New(projections.Config{}, store, models, nil, nil, lg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := intake.New(intake.Config{}, store, lg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{store: store, models: models, runner: runner, intake: in}
}

// post ingests webhook bodies as the HTTP intake would.
func (h *harness) post(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		res, err := h.intake.Ingest(context.Background(), []byte(b), "test")
		if err != nil || res.Outcome != intake.Accepted {
			t.Fatalf("ingest %s: %+v %v", b, res, err)
		}
	}
}

// project folds the log into the read models.
func (h *harness) project(t *testing.T) {
	t.Helper()
	if err := h.runner.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) meeting(t *testing.T, app, session string) domain.Meeting {
	t.Helper()
	m, err := h.models.Meeting(context.Background(), reports.SessionKey{AppID: app, SessionID: session})
	if err != nil {
		t.Fatalf("meeting %s/%s: %v", app, session, err)
	}
	return m
}

// stream returns the types of a session's stored events.
func (h *harness) stream(t *testing.T, app, session string) []string {
	t.Helper()
	var types []string
	for rec, err := range h.store.ReadStream(context.Background(), domain.StreamName(app, session), 0) {
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, rec.Type)
	}
	return types
}

// lastEvent decodes the newest event of a session's stream.
func (h *harness) lastEvent(t *testing.T, app, session string) domain.Event {
	t.Helper()
	var last eventstore.RecordedEvent
	for rec, err := range h.store.ReadStream(context.Background(), domain.StreamName(app, session), 0) {
		if err != nil {
			t.Fatal(err)
		}
		last = rec
	}
	ev, err := codec.UnmarshalEvent(last.Type, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// clock is an injected clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Webhook bodies in CometChat's shape (see shared/fixtures/cometchat).

func occupantJSON(name, uid string, joined, left int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"joined_at":%d,"audio_call":"false","name":%q`, joined, name)
	if left > 0 {
		fmt.Fprintf(&b, `,"left_at":%d`, left)
	}
	if uid != "" {
		fmt.Fprintf(&b, `,"uid":%q`, uid)
	}
	return b.String() + "}"
}

func startedBody(app, session string, at int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_started","data":{"created_at":%d,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		at, session, app)
}

func joinedBody(app, session, name, uid string, joined int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_participant_joined","data":{"occupant":%s,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		occupantJSON(name, uid, joined, 0), session, app)
}

func leftBody(app, session, name, uid string, joined, left int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_participant_left","data":{"occupant":%s,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		occupantJSON(name, uid, joined, left), session, app)
}

func endedBody(app, session string, created, destroyed int64) string {
	return fmt.Sprintf(`{"trigger":"meeting_ended","data":{"created_at":%d,"destroyed_at":%d,"sessionId":%q},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		created, destroyed, session, app)
}

// hookedStore runs before() ahead of the first n Appends: a webhook landing
// between a job's read and its append.
type hookedStore struct {
	*embedded.Store
	mu     sync.Mutex
	n      int
	before func()
}

func (l *hookedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	l.mu.Lock()
	run := l.n > 0
	if run {
		l.n--
	}
	l.mu.Unlock()
	if run {
		l.before()
	}
	return l.Store.Append(ctx, stream, expected, events...)
}
