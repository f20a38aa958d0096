package plans_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/plans"
)

func openLog(t *testing.T) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(t.Context(), embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newService(t *testing.T, log plans.Log) *plans.Service {
	t.Helper()
	svc, err := plans.New(plans.Config{Now: func() time.Time { return time.Unix(1790000000, 0) }}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func mustDecode(t *testing.T, body string) domain.PlanSet {
	t.Helper()
	p, err := plans.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetAppendsAtTheNextRevision: each plan carries the revision it
// occupies, after webhooks and earlier plans alike, and Get returns the
// latest; a session without a plan is ErrNoPlan.
func TestSetAppendsAtTheNextRevision(t *testing.T) {
	st := openLog(t)
	svc := newService(t, st)
	ctx := t.Context()
	if _, err := svc.Get(ctx, "app", "s"); !errors.Is(err, plans.ErrNoPlan) {
		t.Fatalf("Get without a plan: %v", err)
	}
	p := mustDecode(t, `{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z"}`)
	first, err := svc.Set(ctx, "app", "s", p)
	if err != nil || first.Plan.Revision != 0 || first.Plan.SetAt != 1790000000 {
		t.Fatalf("first plan: %+v %v", first, err)
	}
	// A webhook's event comes between.
	ev := domain.Event{AppID: "app", SessionID: "s", Payload: domain.SessionStarted{CreatedAt: 1788253200}}
	data, _ := codec.MarshalEvent(ev)
	if _, err := st.Append(ctx, domain.StreamName("app", "s"), eventstore.Any,
		eventstore.Event{ID: domain.EventID(ev), Type: ev.Type(), Data: data}); err != nil {
		t.Fatal(err)
	}
	p.SeriesID = "maths"
	second, err := svc.Set(ctx, "app", "s", p)
	if err != nil || second.Plan.Revision != 2 || second.EventID == first.EventID {
		t.Fatalf("second plan: %+v %v", second, err)
	}
	got, err := svc.Get(ctx, "app", "s")
	if err != nil || got.Plan.SeriesID != "maths" || got.EventID != second.EventID {
		t.Fatalf("Get: %+v %v", got, err)
	}
	// Another app's session of the same id has no plan.
	if _, err := svc.Get(ctx, "other", "s"); !errors.Is(err, plans.ErrNoPlan) {
		t.Fatalf("another app: %v", err)
	}
	// Folding the stream gives the latest plan.
	var f domain.Facts
	for rec, err := range st.ReadStream(ctx, domain.StreamName("app", "s"), 0) {
		if err != nil {
			t.Fatal(err)
		}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		f.Apply(ev)
	}
	if m := f.Meeting(); m.SeriesID == nil || *m.SeriesID != "maths" {
		t.Fatalf("the fold keeps the latest plan: %+v", m)
	}
}

// TestSetInvalidStoresNothing: a plan that breaks a rule is a
// *domain.PlanError and appends nothing.
func TestSetInvalidStoresNothing(t *testing.T) {
	st := openLog(t)
	svc := newService(t, st)
	_, err := svc.Set(t.Context(), "app", "s", domain.PlanSet{ScheduledStart: 10, ScheduledEnd: 5})
	var perr *domain.PlanError
	if !errors.As(err, &perr) || perr.Field != "scheduled_end" {
		t.Fatalf("want a PlanError naming scheduled_end, got %v", err)
	}
	if _, err := svc.Get(t.Context(), "app", "s"); !errors.Is(err, plans.ErrNoPlan) {
		t.Fatalf("nothing may be stored: %v", err)
	}
}

// racyLog makes the first appends of Set lose to another writer, as a
// webhook arriving between Set's read and its append would.
type racyLog struct {
	*embedded.Store
	mu     sync.Mutex
	losses int
}

func (r *racyLog) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.Event) (eventstore.AppendResult, error) {
	r.mu.Lock()
	lose := r.losses > 0
	if lose {
		r.losses--
	}
	r.mu.Unlock()
	if lose {
		ev := domain.Event{AppID: "app", SessionID: "s", Payload: domain.SessionStarted{CreatedAt: 1788253200 + int64(r.losses)}}
		data, _ := codec.MarshalEvent(ev)
		if _, err := r.Store.Append(ctx, stream, eventstore.Any, eventstore.Event{ID: domain.EventID(ev), Type: ev.Type(), Data: data}); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return r.Store.Append(ctx, stream, exp, evs...)
}

func (r *racyLog) ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return r.Store.ReadStream(ctx, stream, from)
}

func TestSetRetriesWhenTheStreamMoves(t *testing.T) {
	log := &racyLog{Store: openLog(t), losses: 3}
	svc := newService(t, log)
	p := mustDecode(t, `{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z"}`)
	st, err := svc.Set(t.Context(), "app", "s", p)
	if err != nil || st.Plan.Revision != 3 {
		t.Fatalf("after three lost appends the plan lands at revision 3: %+v %v", st, err)
	}
}

func TestDecode(t *testing.T) {
	const times = `"scheduled_start":"2026-09-01T09:00:00+05:30","scheduled_end":"2026-09-01T10:00:00+05:30"`
	tests := []struct {
		name, body string
		want       domain.PlanSet
		field      string // of the error, when one is expected
	}{
		{name: "defaults", body: `{` + times + `}`, want: domain.PlanSet{ScheduledStart: 1788233400, ScheduledEnd: 1788237000,
			LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}},
		{name: "every field", body: `{` + times + `,"series_id":"maths 7B","roster":[{"participant":"u1","name":"Ravi"}],
			"late_after_seconds":0,"early_leave_seconds":60,"min_attendance_ratio":1}`,
			want: domain.PlanSet{ScheduledStart: 1788233400, ScheduledEnd: 1788237000, SeriesID: "maths 7B",
				Roster: []domain.RosterEntry{{Participant: "u1", Name: "Ravi"}}, EarlyLeaveSeconds: 60, MinAttendanceRatio: 1}},
		{name: "empty series is none", body: `{` + times + `,"series_id":""}`, want: domain.PlanSet{ScheduledStart: 1788233400,
			ScheduledEnd: 1788237000, LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}},
		{name: "exactly 7 days", body: `{"scheduled_start":"2026-09-01T00:00:00Z","scheduled_end":"2026-09-08T00:00:00Z"}`,
			want: domain.PlanSet{ScheduledStart: 1788220800, ScheduledEnd: 1788825600, LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75}},
		{name: "unknown field", body: `{` + times + `,"min_attendance":0.5}`, field: "min_attendance"},
		{name: "unknown nested", body: `{` + times + `,"roster":[{"participant":"a"},{"participant":"b","uid":"x"}]}`, field: "roster[1].uid"},
		{name: "trailing data", body: `{` + times + `} {}`, field: "body"},
		{name: "null", body: `null`, field: "scheduled_start"},
		{name: "empty participant", body: `{` + times + `,"roster":[{"participant":""}]}`, field: "roster[0].participant"},
		{name: "bidi in participant is a name's right", body: `{` + times + `,"roster":[{"participant":"a\u0000"}]}`, field: "roster[0].participant"},
		{name: "ratio NaN-like string", body: `{` + times + `,"min_attendance_ratio":"NaN"}`, field: "min_attendance_ratio"},
		{name: "year 0", body: `{"scheduled_start":"0000-01-01T00:00:00Z","scheduled_end":"2026-09-01T10:00:00Z"}`, field: "scheduled_start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := plans.Decode([]byte(tc.body))
			if tc.field != "" {
				var perr *domain.PlanError
				if !errors.As(err, &perr) || perr.Field != tc.field {
					t.Fatalf("error %v, want one naming %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a, b := planString(got), planString(tc.want); a != b {
				t.Fatalf("got %s\nwant %s", a, b)
			}
		})
	}
}

func planString(p domain.PlanSet) string {
	b, _ := codec.MarshalEvent(domain.Event{Payload: p})
	return string(b)
}

// FuzzDecode: any body is a plan that validates and round-trips through
// BodyOf, or a *domain.PlanError with a field name free of control
// characters; never a panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","roster":[{"participant":"a","name":"A"}]}`))
	f.Add([]byte(`{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","late_after_seconds":1e3}`))
	f.Add([]byte(`{"x\u0000y":1}`))
	f.Add([]byte(`{"roster":[{"participant":"a"},{"participant":"a"}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := plans.Decode(body)
		if err != nil {
			var perr *domain.PlanError
			if !errors.As(err, &perr) || perr.Field == "" || strings.ContainsFunc(perr.Field, func(r rune) bool { return r < 0x20 }) {
				t.Fatalf("error %v is not a PlanError with a printable field", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("a decoded plan must validate: %v", err)
		}
		b := plans.BodyOf(p)
		q, err := b.Plan()
		if err != nil || planString(p) != planString(q) {
			t.Fatalf("BodyOf does not round-trip: %v\n%s\n%s", err, planString(p), planString(q))
		}
	})
}
