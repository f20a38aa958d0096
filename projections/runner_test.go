package projections_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sessionEvents returns a small realistic meeting: start, n participants who
// join (one rejoins), leave, and the end.
func sessionEvents(app, session string, n int) []domain.Event {
	t0 := int64(1700000000)
	ev := func(trig domain.Trigger, p domain.Payload) domain.Event {
		return domain.Event{AppID: app, SessionID: session, Kind: domain.KindMeeting, Trigger: trig, Payload: p}
	}
	out := []domain.Event{ev(cometchat.TriggerMeetingStarted, domain.SessionStarted{CreatedAt: t0})}
	for i := range n {
		name := fmt.Sprintf("person-%d", i)
		j := t0 + int64(10*i)
		out = append(out,
			ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: domain.Occupant{Name: name, JoinedAt: j}}),
			ev(cometchat.TriggerMeetingParticipantLeft, domain.ParticipantLeft{Occupant: domain.Occupant{Name: name, JoinedAt: j, LeftAt: j + 300}}))
		if i == 0 {
			out = append(out, ev(cometchat.TriggerMeetingParticipantJoined, domain.ParticipantJoined{Occupant: domain.Occupant{Name: name, JoinedAt: j + 400}}))
		}
	}
	return append(out, ev(cometchat.TriggerMeetingEnded, domain.SessionEnded{CreatedAt: t0, DestroyedAt: t0 + 900}))
}

func appendAll(t *testing.T, l *memLog, evs []domain.Event) {
	t.Helper()
	for _, e := range evs {
		data, err := codec.MarshalEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		l.append(domain.StreamName(e.AppID, e.SessionID), eventstore.Event{ID: domain.EventID(e), Type: e.Type(), Data: data})
	}
}

// corpus builds sessions and returns their events by key, and all events interleaved.
func corpus(sessions int) (map[reports.SessionKey][]domain.Event, []domain.Event) {
	by := map[reports.SessionKey][]domain.Event{}
	var all []domain.Event
	lists := make([][]domain.Event, sessions)
	for i := range sessions {
		app := fmt.Sprintf("app-%d", i%2)
		s := fmt.Sprintf("s-%d", i)
		lists[i] = sessionEvents(app, s, 1+i%4)
		by[reports.SessionKey{AppID: app, SessionID: s}] = lists[i]
	}
	// Interleave the sessions, as live traffic does.
	for round := 0; ; round++ {
		added := false
		for i := range lists {
			if round < len(lists[i]) {
				all = append(all, lists[i][round])
				added = true
			}
		}
		if !added {
			return by, all
		}
	}
}

func checkMeetings(t *testing.T, st *memState, want map[reports.SessionKey][]domain.Event) {
	t.Helper()
	for k, evs := range want {
		got, ok := st.meeting(k)
		if !ok {
			t.Fatalf("session %v has no read model", k)
		}
		if diff := cmp.Diff(domain.Fold(evs), got); diff != "" {
			t.Fatalf("session %v: read model differs from the fold (-want +got):\n%s", k, diff)
		}
	}
}

func newRunner(t *testing.T, l *memLog, st *memState, sinks ...projections.Sink) *projections.Runner {
	t.Helper()
	r, err := projections.New(projections.Config{BatchSize: 7, CatchUpBatchSize: 7, BatchAge: 10 * time.Millisecond}, l, st, sinks, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond (not a timing assertion: it only bounds a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunnerCatchUpThenLive(t *testing.T) {
	l, st := newMemLog(), newMemState()
	by, all := corpus(12)
	half := len(all) / 2
	appendAll(t, l, all[:half])
	l.append("quarantine", eventstore.Event{Type: "intake.quarantined.v1", Data: []byte(`{}`)}) // not a session: ignored

	r := newRunner(t, l, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "catch-up", func() bool { return st.checkpoint().Events == uint64(half) })
	appendAll(t, l, all[half:]) // live
	waitFor(t, "live events", func() bool { return st.checkpoint().Events == uint64(len(all)) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	checkMeetings(t, st, by)
	p, err := r.Status(context.Background())
	if err != nil || p.Lag != 0 || p.Events != uint64(len(all)) {
		t.Fatalf("status = %+v, %v; want no lag over %d events", p, err, len(all))
	}
}

func TestRunnerFlushesOnShutdown(t *testing.T) {
	l, st := newMemLog(), newMemState()
	by, all := corpus(1)
	// The last event opens a session of its own: the runner asks the state
	// store for it when it folds that event, the last, into the batch.
	last := reports.SessionKey{AppID: "app-last", SessionID: "s-last"}
	by[last] = sessionEvents(last.AppID, last.SessionID, 0)[:1]
	all = append(all, by[last]...)
	appendAll(t, l, all)
	// A batch that neither fills nor ages before the shutdown.
	r, err := projections.New(projections.Config{BatchSize: 10_000, BatchAge: time.Hour}, l, st, nil, nil, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// Once the last event is being folded, Run's loop finishes folding it
	// before it looks at ctx again.
	waitFor(t, "the last event in hand", func() bool { return st.wasAsked(last) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := st.checkpoint().Events; got != uint64(len(all)) {
		t.Fatalf("after shutdown the checkpoint covers %d events, want %d", got, len(all))
	}
	checkMeetings(t, st, by)
}

func TestRunnerSinkFailuresHoldTheCheckpoint(t *testing.T) {
	l, st := newMemLog(), newMemState()
	by, all := corpus(5)
	appendAll(t, l, all)
	sink := &recSink{failNext: 3, state: st}
	st.failNext = 2
	r := newRunner(t, l, st, sink)
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.early {
		t.Fatal("the state store committed a checkpoint before the sink acknowledged its batch")
	}
	if len(sink.acked) == 0 || sink.acked[len(sink.acked)-1] != st.checkpoint() {
		t.Fatalf("sink acked %v, state checkpoint %v", sink.acked, st.checkpoint())
	}
	if st.checkpoint().Events != uint64(len(all)) {
		t.Fatalf("checkpoint covers %d events, want %d", st.checkpoint().Events, len(all))
	}
	checkMeetings(t, st, by)
}

func TestRunnerRestartAndRebuild(t *testing.T) {
	l, st := newMemLog(), newMemState()
	by, all := corpus(9)
	appendAll(t, l, all[:len(all)/3])
	if err := newRunner(t, l, st).CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A new runner (empty cache) continues from the stored facts and checkpoint.
	appendAll(t, l, all[len(all)/3:])
	r := newRunner(t, l, st)
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkMeetings(t, st, by)
	before := map[reports.SessionKey]domain.Meeting{}
	for k := range by {
		before[k], _ = st.meeting(k)
	}
	// Events already folded, appended again under new ids (at-least-once
	// delivery from another source) change nothing.
	appendAll(t, l, all[:5])
	sink := &recSink{}
	r = newRunner(t, l, st, sink)
	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	for k, m := range before {
		got, _ := st.meeting(k)
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("rebuild changed %v:\n%s", k, diff)
		}
	}
	if st.checkpoint().Events != uint64(len(all)+5) {
		t.Fatalf("rebuild checkpoint covers %d events, want %d", st.checkpoint().Events, len(all)+5)
	}
}
