package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// TestRunnerChecksTheCheckpointAgainstTheLog folds one log, then starts a
// runner on the same read models over another log, as after a damaged
// embedded log was moved aside or a KurrentDB restored from a backup. A
// checkpoint the new log cannot have produced (beyond its head, or recorded
// from a log of another identity) drops every read model, is counted, and
// the new log is folded from its start: its meetings are reported, the old
// log's are gone. The same log, restarted, is folded on from its checkpoint.
func TestRunnerChecksTheCheckpointAgainstTheLog(t *testing.T) {
	oldBy, oldAll := corpus(6)
	newSessions := func(n int) (map[reports.SessionKey][]domain.Event, []domain.Event) {
		by := map[reports.SessionKey][]domain.Event{}
		var all []domain.Event
		for i := range n {
			k := reports.SessionKey{AppID: "app-0", SessionID: "after-" + string(rune('a'+i))}
			evs := sessionEvents(k.AppID, k.SessionID, 1)
			by[k] = evs
			all = append(all, evs...)
		}
		return by, all
	}
	for _, tc := range []struct {
		name string
		// next returns the log the second runner reads, given the first.
		next      func(first *memLog) (projections.Log, map[reports.SessionKey][]domain.Event)
		oldID     string
		live      bool // the second runner runs live (Run) rather than CatchUp
		wantReset string
	}{
		{
			name: "shorter log, no identity", wantReset: "checkpoint_ahead",
			next: func(*memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				l := newMemLog()
				by, all := newSessions(2)
				appendAll(t, l, all)
				return l, by
			},
		},
		{
			name: "shorter log, live", wantReset: "checkpoint_ahead", live: true,
			next: func(*memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				l := newMemLog()
				by, all := newSessions(2)
				appendAll(t, l, all)
				return l, by
			},
		},
		{
			name: "empty log", wantReset: "checkpoint_ahead",
			next: func(*memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				return newMemLog(), nil
			},
		},
		{
			name: "longer log of another identity", oldID: "log-1", wantReset: "log_replaced",
			next: func(*memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				l := newMemLog()
				by, all := newSessions(len(oldAll)/4 + 1) // more events than the old log
				appendAll(t, l, all)
				return idLog{l, "log-2"}, by
			},
		},
		{
			name: "same log, restarted", oldID: "log-1",
			next: func(first *memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				by, all := newSessions(1)
				appendAll(t, first, all)
				for k, v := range oldBy {
					by[k] = v
				}
				return idLog{first, "log-1"}, by
			},
		},
		{
			name: "checkpoint from before identities", oldID: "",
			next: func(first *memLog) (projections.Log, map[reports.SessionKey][]domain.Event) {
				by, all := newSessions(1)
				appendAll(t, first, all)
				for k, v := range oldBy {
					by[k] = v
				}
				return idLog{first, "log-1"}, by
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, st := newMemLog(), newMemState()
			appendAll(t, first, oldAll)
			var src projections.Log = first
			if tc.oldID != "" {
				src = idLog{first, tc.oldID}
			}
			sink := &recSink{}
			r1, err := projections.New(projections.Config{}, src, st, []projections.Sink{sink}, nil, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			if err := r1.CatchUp(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := st.checkpoint().Log; got != tc.oldID {
				t.Fatalf("checkpoint records log %q, want %q", got, tc.oldID)
			}

			l2, want := tc.next(first)
			reg := prometheus.NewRegistry()
			m, err := projections.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := projections.New(projections.Config{BatchAge: 10 * time.Millisecond}, l2, st, []projections.Sink{sink}, m, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			stats, err := l2.Stats(t.Context(), eventstore.Filter{StreamPrefixes: []string{domain.StreamPrefix}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.live {
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- r2.Run(ctx) }()
				waitFor(t, "the new log projected", func() bool { return st.checkpoint().Events == stats.Events })
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			} else if err := r2.CatchUp(t.Context()); err != nil {
				t.Fatal(err)
			}

			resets := 0
			if tc.wantReset != "" {
				resets = 1
			}
			if got := sink.resetCount(); got != resets {
				t.Fatalf("sink reset %d times, want %d", got, resets)
			}
			for _, reason := range []string{"checkpoint_ahead", "log_replaced"} {
				want := 0.0
				if reason == tc.wantReset {
					want = 1
				}
				if got := resetsTotal(t, reg, reason); got != want {
					t.Errorf("meetingd_projection_resets_total{reason=%q} = %v, want %v", reason, got, want)
				}
			}
			if cp := st.checkpoint(); cp.Events != stats.Events || cp.Position != stats.Head {
				t.Fatalf("checkpoint %+v after the second runner, want the log's head %+v (%d events)", cp, stats.Head, stats.Events)
			}
			checkMeetings(t, st, want)
			if tc.wantReset != "" {
				for k := range oldBy {
					if _, ok := st.meeting(k); ok {
						t.Fatalf("session %v of the replaced log is still reported", k)
					}
				}
			}
			wantID := ""
			if l, ok := l2.(idLog); ok {
				wantID = l.id
			}
			if got := st.checkpoint().Log; got != wantID {
				t.Fatalf("checkpoint records log %q, want %q", got, wantID)
			}
		})
	}
}

// resetsTotal reads meetingd_projection_resets_total{reason} from reg.
func resetsTotal(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "meetingd_projection_resets_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" && lp.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
