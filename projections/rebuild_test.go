package projections_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// stateSink is a Sink that keeps, per session, the update of the greatest
// version (as the ClickHouse sink does), and checks the batch contract:
// each session once, Version the commit position of the checkpoint.
type stateSink struct {
	mu       sync.Mutex
	meetings map[reports.SessionKey]domain.Meeting
	versions map[reports.SessionKey]uint64
	batches  int
	problems []string
}

func newStateSink() *stateSink {
	return &stateSink{meetings: map[reports.SessionKey]domain.Meeting{}, versions: map[reports.SessionKey]uint64{}}
}

func (s *stateSink) Write(ctx context.Context, b projections.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches++
	if b.Version != b.Checkpoint.Position.Commit {
		s.problems = append(s.problems, fmt.Sprintf("batch version %d, checkpoint %v", b.Version, b.Checkpoint.Position))
	}
	seen := map[reports.SessionKey]bool{}
	for _, u := range b.Sessions {
		if seen[u.Key] {
			s.problems = append(s.problems, fmt.Sprintf("%v twice in one batch", u.Key))
		}
		seen[u.Key] = true
		if v, ok := s.versions[u.Key]; ok && v > b.Version {
			continue
		}
		s.meetings[u.Key], s.versions[u.Key] = u.Meeting, b.Version
	}
	return nil
}

func (s *stateSink) Reset(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.meetings)
	clear(s.versions)
	return nil
}

// TestRebuildMatchesIncremental folds one realistic log (the benchmark
// corpus: interleaved meetings and calls of several apps, rejoins,
// recordings, sessions still live at the end) four ways into embedded read
// models: CatchUp in small batches, Run (live), Rebuild in one batch (the
// bulk load) and Rebuild in batches larger than CatchUp's. Every report of
// every session, participant and app, the fold state and the checkpoint are
// the same in all four, and each one's sink ends with the store's meetings.
func TestRebuildMatchesIncremental(t *testing.T) {
	ctx := context.Background()
	l := newMemLog()
	items, err := eventgen.Generate(eventgen.Config{Events: 4000, Seed: 3, Apps: 3, Users: 40})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[reports.SessionKey]bool{}
	for it, err := range items {
		if err != nil {
			t.Fatal(err)
		}
		l.append(it.Stream, it.Stored)
		keys[reports.SessionKey{AppID: it.Event.AppID, SessionID: it.Event.SessionID}] = true
	}
	total := uint64(len(l.events))

	type result struct {
		name  string
		store *readmodel.Store
		sink  *stateSink
	}
	var results []result
	for _, tc := range []struct {
		name string
		cfg  projections.Config
		run  func(ctx context.Context, r *projections.Runner) error
	}{
		{"catch-up", projections.Config{CatchUpBatchSize: 211}, func(ctx context.Context, r *projections.Runner) error { return r.CatchUp(ctx) }},
		{"run", projections.Config{BatchSize: 150, BatchAge: time.Millisecond}, func(ctx context.Context, r *projections.Runner) error {
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			waitFor(t, "the live runner to fold the log", func() bool { return r.Committed().Events == total })
			cancel()
			return <-done
		}},
		{"rebuild", projections.Config{}, func(ctx context.Context, r *projections.Runner) error { return r.Rebuild(ctx) }},
		{"rebuild-batched", projections.Config{RebuildBatchSize: 1500}, func(ctx context.Context, r *projections.Runner) error { return r.Rebuild(ctx) }},
	} {
		store, err := readmodel.Open(ctx, readmodel.Config{Dir: t.TempDir()}, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		sink := newStateSink()
		r, err := projections.New(tc.cfg, l, store, []projections.Sink{sink}, nil, quietLog())
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.run(ctx, r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		results = append(results, result{tc.name, store, sink})
	}

	want := reportsOf(t, results[0].store, keys)
	if len(want.meetings) != len(keys) {
		t.Fatalf("catch-up stored %d meetings, want %d", len(want.meetings), len(keys))
	}
	for _, res := range results {
		if res.sink.problems != nil {
			t.Errorf("%s: sink saw: %v", res.name, res.sink.problems)
		}
		if diff := cmp.Diff(want.meetings, res.sink.meetings); diff != "" {
			t.Errorf("%s: sink differs from catch-up's read models (-want +got):\n%s", res.name, diff)
		}
		got := reportsOf(t, res.store, keys)
		if got.checkpoint.Events != total {
			t.Errorf("%s: checkpoint covers %d events, want %d", res.name, got.checkpoint.Events, total)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(answers{})); diff != "" {
			t.Errorf("%s: read models differ from catch-up's (-want +got):\n%s", res.name, diff)
		}
	}
	if n := results[2].sink.batches; n != 1 {
		t.Errorf("rebuild wrote %d batches, want 1", n)
	}
	if n := results[3].sink.batches; n < 2 {
		t.Errorf("batched rebuild wrote %d batches, want several", n)
	}
}

// answers is everything the read models answer about a set of sessions.
type answers struct {
	checkpoint projections.Checkpoint
	meetings   map[reports.SessionKey]domain.Meeting
	facts      map[reports.SessionKey]string
	lists      map[string][]domain.Meeting
	attendance map[string]reports.ParticipantReport
	durations  map[string][]reports.DurationBucket
	open       map[domain.Status][]reports.OpenMeeting
}

func reportsOf(t *testing.T, s *readmodel.Store, keys map[reports.SessionKey]bool) answers {
	t.Helper()
	ctx := context.Background()
	out := answers{
		meetings: map[reports.SessionKey]domain.Meeting{}, facts: map[reports.SessionKey]string{},
		lists: map[string][]domain.Meeting{}, attendance: map[string]reports.ParticipantReport{},
		durations: map[string][]reports.DurationBucket{}, open: map[domain.Status][]reports.OpenMeeting{},
	}
	var err error
	if out.checkpoint, err = s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	ks := make([]reports.SessionKey, 0, len(keys))
	apps := map[string]bool{}
	for k := range keys {
		ks = append(ks, k)
		apps[k.AppID] = true
	}
	facts, err := s.LoadFacts(ctx, ks)
	if err != nil {
		t.Fatal(err)
	}
	people := map[[2]string]bool{}
	for _, k := range ks {
		m, err := s.Meeting(ctx, k)
		if err != nil {
			t.Fatalf("Meeting(%v): %v", k, err)
		}
		out.meetings[k] = m
		for _, p := range m.Participants {
			people[[2]string{k.AppID, p.Participant}] = true
		}
		f, ok := facts[k]
		if !ok {
			t.Fatalf("no facts stored for %v", k)
		}
		data, err := codec.MarshalFacts(f)
		if err != nil {
			t.Fatal(err)
		}
		out.facts[k] = string(data)
	}
	for app := range apps {
		q := reports.MeetingQuery{AppID: app, Limit: 37}
		for {
			page, err := s.Meetings(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out.lists[app] = append(out.lists[app], page.Meetings...)
			if page.NextCursor == "" {
				break
			}
			q.Cursor = page.NextCursor
		}
		if out.durations[app], err = s.Durations(ctx, reports.DurationQuery{AppID: app, Bucket: reports.Day}); err != nil {
			t.Fatal(err)
		}
	}
	for p := range people {
		rep, err := s.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: p[0], Participant: p[1]})
		if err != nil {
			t.Fatal(err)
		}
		out.attendance[p[0]+"/"+p[1]] = rep
	}
	for _, st := range []domain.Status{domain.StatusLive, domain.StatusAbandoned} {
		q := reports.OpenQuery{Status: st, Limit: reports.MaxLimit}
		for {
			page, err := s.OpenMeetings(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out.open[st] = append(out.open[st], page...)
			if len(page) < q.Limit {
				break
			}
			q.After = &page[len(page)-1]
		}
	}
	return out
}
