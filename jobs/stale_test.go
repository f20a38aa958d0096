package jobs_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/jobs"
	"github.com/meetingd/meetingd/reports"
)

const app = "app-jobs"

func newStaleCloser(t *testing.T, h *harness, store jobs.Store, clk *clock, after time.Duration) *jobs.StaleCloser {
	t.Helper()
	if store == nil {
		store = h.store
	}
	c, err := jobs.NewStaleCloser(jobs.StaleConfig{After: after, Now: clk.Now, PageSize: 2}, store, h.models, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// summaryInt reads an integer attribute of a run's summary.
func summaryInt(t *testing.T, s jobs.Summary, key string) int64 {
	t.Helper()
	for _, a := range s {
		if a.Key == key {
			return a.Value.Int64()
		}
	}
	t.Fatalf("summary %v has no %q", s, key)
	return 0
}

func runJob(t *testing.T, j jobs.Job) jobs.Summary {
	t.Helper()
	s, err := j.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s
}

// TestStaleCloserBoundary: a meeting becomes abandoned exactly once its
// newest CometChat timestamp is more than MEETINGD_STALE_AFTER old, not a
// second (nor a nanosecond) earlier; the verdict carries that timestamp; a
// repeated run adds nothing; a later event revives the meeting until it is
// stale again; a late meeting_ended supersedes the verdict.
func TestStaleCloserBoundary(t *testing.T) {
	h := newHarness(t)
	const t0 = 1_700_000_000
	const after = 6 * time.Hour
	last := int64(t0 + 600)
	h.post(t,
		startedBody(app, "stale", t0),
		joinedBody(app, "stale", "Ana", "", t0+5),
		leftBody(app, "stale", "Ana", "", t0+5, last),
		joinedBody(app, "stale", "Bo", "", t0+100), // never leaves
		// Controls: an ended meeting and a meeting with a newer event.
		startedBody(app, "ended", t0), endedBody(app, "ended", t0, t0+60),
		startedBody(app, "recent", t0), joinedBody(app, "recent", "Cy", "", last+4*3600),
	)
	h.project(t)
	lastAt := time.Unix(last, 0)
	clk := newClock(lastAt)
	c := newStaleCloser(t, h, nil, clk, after)

	steps := []struct {
		at        time.Time
		abandoned int64
	}{
		{lastAt.Add(after - time.Second), 0},
		{lastAt.Add(after), 0}, // exactly STALE_AFTER old: not older than it
		{lastAt.Add(after + time.Nanosecond), 1},
		{lastAt.Add(after + time.Hour), 0}, // decided already: nothing twice
	}
	for _, st := range steps {
		clk.Set(st.at)
		sum := runJob(t, c)
		if got := summaryInt(t, sum, "abandoned"); got != st.abandoned {
			t.Fatalf("at last+%s: abandoned %d, want %d", st.at.Sub(lastAt), got, st.abandoned)
		}
		h.project(t)
		want := domain.StatusLive
		if st.at.Sub(lastAt) > after {
			want = domain.StatusAbandoned
		}
		if m := h.meeting(t, app, "stale"); m.Status != want {
			t.Fatalf("at last+%s: status %s, want %s", st.at.Sub(lastAt), m.Status, want)
		}
	}
	ev := h.lastEvent(t, app, "stale")
	ab, ok := ev.Payload.(domain.SessionAbandoned)
	if !ok || ab.LastEventAt != last || ab.DecidedAt != lastAt.Add(after+time.Nanosecond).Unix() {
		t.Fatalf("verdict %#v, want LastEventAt %d", ev.Payload, last)
	}
	m := h.meeting(t, app, "stale")
	if m.EndedAt == nil || m.EndedAt.Unix() != last || m.DurationSeconds != 600 {
		t.Errorf("abandoned meeting ends at %v after %ds, want its latest join/leave %d after 600s", m.EndedAt, m.DurationSeconds, last)
	}
	if n := len(h.stream(t, app, "stale")); n != 5 {
		t.Errorf("stream has %d events, want 4 webhooks and one verdict", n)
	}
	for _, s := range []string{"ended", "recent"} {
		if types := h.stream(t, app, s); slices.Contains(types, domain.TypeSessionAbandoned) {
			t.Errorf("%s: abandoned too early: %v", s, types)
		}
	}

	// Bo leaves, late: the meeting is live again, and stale again later.
	later := last + 4*3600 // as late as the recent meeting's event
	h.post(t, leftBody(app, "stale", "Bo", "", t0+100, later))
	h.project(t)
	if m := h.meeting(t, app, "stale"); m.Status != domain.StatusLive {
		t.Fatalf("after a newer event: %s, want live", m.Status)
	}
	clk.Set(time.Unix(later, 0).Add(after))
	if got := summaryInt(t, runJob(t, c), "abandoned"); got != 0 {
		t.Fatalf("abandoned %d before the new horizon", got)
	}
	clk.Advance(time.Second)
	if got := summaryInt(t, runJob(t, c), "abandoned"); got != 2 {
		t.Fatalf("abandoned %d after the new horizon, want 2 (this one and the recent one)", got)
	}
	h.project(t)
	if m := h.meeting(t, app, "stale"); m.Status != domain.StatusAbandoned || m.EndedAt.Unix() != later {
		t.Fatalf("re-abandoned: %s ending %v, want abandoned at %d", m.Status, m.EndedAt, later)
	}

	// The real end arrives after all.
	h.post(t, endedBody(app, "stale", t0, later+5))
	h.project(t)
	if m := h.meeting(t, app, "stale"); m.Status != domain.StatusEnded || m.EndedAt.Unix() != later+5 {
		t.Fatalf("after meeting_ended: %s ending %v", m.Status, m.EndedAt)
	}
	clk.Advance(24 * time.Hour)
	if got := summaryInt(t, runJob(t, c), "candidates"); got != 0 {
		t.Errorf("%d candidates once every meeting has ended or been abandoned", got)
	}
}

// TestStaleCloserConcurrentWebhook: a webhook that lands between the job's
// read and its append makes the append fail on the expected revision; the
// job re-reads and decides again instead of clobbering the new event.
func TestStaleCloserConcurrentWebhook(t *testing.T) {
	const t0 = 1_700_000_000
	const after = time.Hour
	tests := []struct {
		name string
		// late is the timestamp of the webhook that lands mid-decision.
		late          int64
		wantAbandoned int64
		wantStatus    domain.Status
		wantLast      int64
	}{
		// A fresh event: the meeting is alive after all.
		{"fresh event", t0 + 10_000, 0, domain.StatusLive, 0},
		// A late retry of an old event: still stale, decided on the new log.
		{"old event", t0 + 50, 1, domain.StatusAbandoned, t0 + 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.post(t, startedBody(app, "m", t0), joinedBody(app, "m", "Ana", "", t0+60))
			h.project(t)
			clk := newClock(time.Unix(t0+60, 0).Add(after + 2*time.Hour))
			hooked := &hookedStore{Store: h.store, n: 1, before: func() {
				h.post(t, joinedBody(app, "m", "Bo", "", tc.late))
			}}
			sum := runJob(t, newStaleCloser(t, h, hooked, clk, after))
			if got := summaryInt(t, sum, "conflicts"); got != 1 {
				t.Errorf("conflicts %d, want 1", got)
			}
			if got := summaryInt(t, sum, "abandoned"); got != tc.wantAbandoned {
				t.Errorf("abandoned %d, want %d", got, tc.wantAbandoned)
			}
			h.project(t)
			m := h.meeting(t, app, "m")
			if m.Status != tc.wantStatus || m.ParticipantCount != 2 {
				t.Fatalf("status %s with %d participants, want %s with both", m.Status, m.ParticipantCount, tc.wantStatus)
			}
			if tc.wantLast != 0 {
				ab, ok := h.lastEvent(t, app, "m").Payload.(domain.SessionAbandoned)
				if !ok || ab.LastEventAt != tc.wantLast {
					t.Errorf("verdict %+v, want LastEventAt %d", ab, tc.wantLast)
				}
			}
		})
	}
}

// TestStaleCloserIndexLag: the index may not have seen the newest event
// yet; the log decides.
func TestStaleCloserIndexLag(t *testing.T) {
	h := newHarness(t)
	const t0 = 1_700_000_000
	h.post(t, startedBody(app, "m", t0))
	h.project(t)
	h.post(t, joinedBody(app, "m", "Ana", "", t0+7200)) // not projected
	clk := newClock(time.Unix(t0+7200+30, 0))
	sum := runJob(t, newStaleCloser(t, h, nil, clk, time.Hour))
	if summaryInt(t, sum, "candidates") != 1 || summaryInt(t, sum, "abandoned") != 0 {
		t.Fatalf("summary %v: want one candidate, none abandoned", sum)
	}
	open, err := h.models.OpenMeetings(context.Background(), reports.OpenQuery{Status: domain.StatusLive})
	if err != nil || len(open) != 1 {
		t.Fatalf("open meetings %v %v", open, err)
	}
}

func TestStaleConfigValidate(t *testing.T) {
	for _, cfg := range []jobs.StaleConfig{{}, {After: time.Hour, PageSize: 5000}, {After: time.Hour, MaxAttempts: -1}} {
		h := newHarness(t)
		if _, err := jobs.NewStaleCloser(cfg, h.store, h.models, nil, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
