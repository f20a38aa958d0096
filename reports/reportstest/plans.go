package reportstest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/reports"
)

// The attendance-plan cases of the contract: every verdict and its
// precedence, thresholds at the exact boundary, a meeting that ends before
// its scheduled end, a plan replaced (also into another series), a plan
// without any meeting, a roster member with a uid and a display-name
// change; and the series report, computed here independently of
// reports.BuildSeries.

// plan adds a plan to b.
func (b *builder) plan(rev uint64, start, end int64, series string, roster ...domain.RosterEntry) *builder {
	return b.add("", domain.PlanSet{Revision: rev, ScheduledStart: start, ScheduledEnd: end, SeriesID: series,
		Roster: roster, LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.75})
}

func on(ids ...string) []domain.RosterEntry {
	out := make([]domain.RosterEntry, len(ids))
	for i, id := range ids {
		out[i] = domain.RosterEntry{Participant: id, Name: "Roster " + id}
	}
	return out
}

// wantSeries is the series report of the model's meetings: a plain
// restatement of API.md, nil when no meeting names the series.
func (md *model) wantSeries(app, series string) *reports.SeriesReport {
	var ms []domain.Meeting
	for _, m := range md.meetings(app) {
		if m.SeriesID != nil && *m.SeriesID == series {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil
	}
	slices.SortFunc(ms, func(a, b domain.Meeting) int {
		return cmp.Or(a.ScheduledStart.Compare(*b.ScheduledStart), strings.Compare(a.SessionID, b.SessionID))
	})
	rep := &reports.SeriesReport{SeriesID: series, Sessions: []reports.SeriesSession{}, Participants: []reports.SeriesParticipant{}}
	ids := map[string]bool{}
	for _, m := range ms {
		rep.Sessions = append(rep.Sessions, reports.SeriesSession{SessionID: m.SessionID,
			ScheduledStart: m.ScheduledStart.UTC(), ScheduledEnd: m.ScheduledEnd.UTC(), Status: m.Status})
		for _, r := range m.Participants {
			ids[r.Participant] = true
		}
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range ids {
			if !yield(id) {
				return
			}
		}
	}) {
		p := reports.SeriesParticipant{Participant: id, Verdicts: []*string{}}
		seen := 0
		for _, m := range ms {
			var v *string
			for _, r := range m.Participants {
				if r.Participant != id {
					continue
				}
				verdict := r.Verdict
				v = &verdict
				seen++
				if r.Name != "" {
					p.Name = r.Name
				}
				p.OnRoster = p.OnRoster || r.OnRoster
				p.AttendedSeconds += r.ScheduledAttendedSeconds
				if verdict == domain.VerdictAbsent {
					p.SessionsAbsent++
				} else {
					p.SessionsAttended++
				}
				p.PartialCount += b2i(verdict == domain.VerdictPartial)
				p.LateCount += b2i(verdict == domain.VerdictLate || verdict == domain.VerdictLateAndLeftEarly)
				p.LeftEarlyCount += b2i(verdict == domain.VerdictLeftEarly || verdict == domain.VerdictLateAndLeftEarly)
			}
			p.Verdicts = append(p.Verdicts, v)
		}
		if seen > 0 && p.SessionsAttended > 0 {
			p.AttendanceRate = float64((int64(p.SessionsAttended)*20000+int64(seen))/(2*int64(seen))) / 10000
		}
		rep.Participants = append(rep.Participants, p)
	}
	return rep
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seriesOf lists the series the app's meetings name.
func (md *model) seriesOf(app string) []string {
	seen := map[string]bool{}
	for _, m := range md.meetings(app) {
		if m.SeriesID != nil {
			seen[*m.SeriesID] = true
		}
	}
	out := []string{"no-such-series"}
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// checkSeries compares every series of app (and one that does not exist)
// with the model.
func (h *harness) checkSeries(app string) {
	h.t.Helper()
	for _, s := range h.md.seriesOf(app) {
		want := h.md.wantSeries(app, s)
		got, err := h.tg.Reports.Series(h.t.Context(), reports.SeriesQuery{AppID: app, SeriesID: s})
		what := fmt.Sprintf("Series(%s, %s)", app, s)
		switch {
		case want == nil && !errors.Is(err, reports.ErrNotFound):
			h.t.Errorf("%s: %v, want ErrNotFound", what, err)
		case want == nil:
		case err != nil:
			h.t.Errorf("%s: %v", what, err)
		default:
			sameJSON(h.t, what, want, got)
		}
	}
}

// rowOf returns the row of participant in the store's meeting.
func (h *harness) rowOf(app, session, participant string) domain.Attendance {
	h.t.Helper()
	m, err := h.tg.Reports.Meeting(h.t.Context(), reports.SessionKey{AppID: app, SessionID: session})
	if err != nil {
		h.t.Fatalf("Meeting(%s): %v", session, err)
	}
	for _, r := range m.Participants {
		if r.Participant == participant {
			return r
		}
	}
	h.t.Fatalf("Meeting(%s) has no row for %s", session, participant)
	return domain.Attendance{}
}

func testPlanVerdicts(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("plans")
	S := unix(monday) + 9*3600 // 09:00, scheduled until 10:00
	E := S + 3600
	ann, anna, bob, carl, dee := pool[0], pool[1], pool[2], pool[3], pool[6]
	guest, weird := pool[4], pool[5]
	renamed := person{ann.uid, "Ann Renamed"}

	// One class with one student per verdict and the exact boundaries.
	class := newSession(app, "class-1").plan(0, S, E, "maths", on(ann.uid, anna.uid, bob.uid, carl.uid, dee.uid, "u-ivy", guest.name)...).
		started(S).
		join(ann, S-600).leave(renamed, S-600, E). // uid, name changes to "Ann Renamed": present
		leave(anna, S+301, E).                     // 301 s late: late
		leave(bob, S+300, E-300).                  // both exactly at the threshold: present
		leave(carl, S+301, E-301).                 // late and left early (ratio 0.8328)
		leave(dee, S, S+2699).                     // ratio 0.7497 < 0.75: partial, not left_early
		leave(guest, S, S+2700).                   // ratio 0.75 exactly: left_early
		leave(weird, S+10, E).                     // not on the roster: present, on_roster false
		ended(S, E)
	// The meeting ends 20 minutes before its scheduled end: leaving at the
	// end is not leaving early.
	short := newSession(app, "class-2").add("", domain.PlanSet{ScheduledStart: S + 86400, ScheduledEnd: E + 86400,
		SeriesID: "maths", Roster: on(ann.uid, bob.uid), LateAfterSeconds: 300, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.5}).
		started(S+86400).leave(ann, S+86400, E+86400-1200).leave(bob, S+86400, E+86400-1800).ended(S+86400, E+86400-1200)
	// A plan without any meeting (yet): scheduled, in the series, not in lists.
	future := newSession(app, "class-3").plan(0, S+7*86400, E+7*86400, "maths", on(ann.uid, "u-ivy")...)
	h.next(class.final(), short.final(), future.final())
	h.checkAll()

	for _, tc := range []struct {
		session, who, verdict string
		onRoster              bool
	}{
		{"class-1", ann.uid, domain.VerdictPresent, true},
		{"class-1", anna.uid, domain.VerdictLate, true},
		{"class-1", bob.uid, domain.VerdictPresent, true},
		{"class-1", carl.uid, domain.VerdictLateAndLeftEarly, true},
		{"class-1", dee.uid, domain.VerdictPartial, true},
		{"class-1", guest.name, domain.VerdictLeftEarly, true},
		{"class-1", weird.name, domain.VerdictPresent, false},
		{"class-1", "u-ivy", domain.VerdictAbsent, true},
		{"class-2", ann.uid, domain.VerdictPresent, true},
		{"class-2", bob.uid, domain.VerdictLeftEarly, true},
		{"class-3", ann.uid, domain.VerdictAbsent, true},
	} {
		r := h.rowOf(app, tc.session, tc.who)
		if r.PlanAttendance == nil || r.Verdict != tc.verdict || r.OnRoster != tc.onRoster {
			t.Errorf("%s %s: verdict %+v on_roster %v, want %s %v", tc.session, tc.who, r.PlanAttendance, r.OnRoster, tc.verdict, tc.onRoster)
		}
	}
	if r := h.rowOf(app, "class-1", ann.uid); r.Name != "Ann Renamed" {
		t.Errorf("a roster member by uid shows the newest display name, got %q", r.Name)
	}
	if r := h.rowOf(app, "class-1", "u-ivy"); r.Name != "Roster u-ivy" || r.JoinCount != 0 || r.LastLeftAt != nil || !r.FirstJoinedAt.IsZero() {
		t.Errorf("an absent roster row: %+v", r)
	}
	m, err := tg.Reports.Meeting(t.Context(), reports.SessionKey{AppID: app, SessionID: "class-3"})
	if err != nil || m.Status != domain.StatusScheduled || m.AbsentCount != 2 || m.ParticipantCount != 0 {
		t.Errorf("a plan without a meeting: %v %+v", err, m)
	}
	page, err := tg.Reports.Meetings(t.Context(), reports.MeetingQuery{AppID: app})
	if err != nil || len(page.Meetings) != 2 {
		t.Errorf("the scheduled session must not be listed: %v, %d meetings", err, len(page.Meetings))
	}
	rep, err := tg.Reports.ParticipantAttendance(t.Context(), reports.ParticipantQuery{AppID: app, Participant: "u-ivy"})
	if err != nil || rep.MeetingsAttended != 0 || len(rep.Meetings) != 0 {
		t.Errorf("an absent roster member attended nothing: %v %+v", err, rep)
	}
	got, err := tg.Reports.Series(t.Context(), reports.SeriesQuery{AppID: app, SeriesID: "maths"})
	if err != nil || len(got.Sessions) != 3 || got.Sessions[2].Status != domain.StatusScheduled {
		t.Errorf("series: %v %s", err, js(got))
	}
}

func testPlanReplacedAndSeries(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("plans-replaced")
	S := unix(sunday) + 14*3600
	E := S + 1800
	ann, bob := pool[0], pool[2]
	b := newSession(app, "lesson").plan(0, S, E, "old", on(ann.uid, bob.uid)...).started(S).
		leave(ann, S+60, E).ended(S, E)
	// Written first with the first plan only, then with a later plan that
	// moves the session to another series, drops Bob from the roster and
	// makes any lateness count.
	h.next(b.upTo(1))
	h.next(b.final())
	h.checkAll()
	later := domain.PlanSet{Revision: 9, ScheduledStart: S, ScheduledEnd: E, SeriesID: "new", Roster: on(ann.uid),
		LateAfterSeconds: 0, EarlyLeaveSeconds: 300, MinAttendanceRatio: 0.5}
	b.add("", later)
	h.next(b.final())
	h.checkAll()
	if _, err := tg.Reports.Series(t.Context(), reports.SeriesQuery{AppID: app, SeriesID: "old"}); !errors.Is(err, reports.ErrNotFound) {
		t.Errorf("the session moved out of series old: %v", err)
	}
	r := h.rowOf(app, "lesson", ann.uid)
	if r.Verdict != domain.VerdictLate {
		t.Errorf("the replaced plan's thresholds apply: %+v", r.PlanAttendance)
	}
	m, _ := tg.Reports.Meeting(t.Context(), reports.SessionKey{AppID: app, SessionID: "lesson"})
	if m.RosterCount != 1 || m.AbsentCount != 0 || len(m.Participants) != 1 {
		t.Errorf("Bob left the roster with the old plan: %s", js(m))
	}
	// A series of another app is not this app's.
	if _, err := tg.Reports.Series(t.Context(), reports.SeriesQuery{AppID: uniqueApp("other"), SeriesID: "new"}); !errors.Is(err, reports.ErrNotFound) {
		t.Errorf("another app sees the series: %v", err)
	}
}
