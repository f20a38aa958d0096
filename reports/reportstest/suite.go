package reportstest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// Target is a report store under test.
type Target struct {
	// Sink receives the suite's batches. Its Write must be durable and
	// visible to Reports when it returns.
	Sink projections.Sink
	// Reports answers the queries the suite checks.
	Reports reports.Store
}

// Run runs the contract suite. open returns the target of one subtest and
// registers its cleanup with t.Cleanup. Subtests run one after another and
// use app ids of their own, so targets may share a database; but the Reset
// subtest resets its target, which drops the data of every app it holds.
func Run(t *testing.T, open func(t *testing.T) Target) {
	tests := []struct {
		name string
		run  func(t *testing.T, tg Target)
	}{
		{"Scenario", testScenario},
		{"OlderVersionIgnored", testOlderVersionIgnored},
		{"StartedAtMoves", testStartedAtMoves},
		{"RewriteSameBatch", testRewriteSameBatch},
		{"AppIsolation", testAppIsolation},
		{"NotFound", testNotFound},
		{"BadCursor", testBadCursor},
		{"InvalidQuery", testInvalidQuery},
		{"TimeZones", testTimeZones},
		{"UsageBilling", testUsageBilling},
		{"Limits", testLimits},
		{"Reset", testReset},
		{"ConcurrentReadsAndWrites", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// harness writes batches to a target and to the model of what it must hold.
type harness struct {
	t  *testing.T
	tg Target
	md *model
	v  uint64 // the last version written
}

func newHarness(t *testing.T, tg Target) *harness { return &harness{t: t, tg: tg, md: newModel()} }

// write writes b (its Version must already be set).
func (h *harness) write(b projections.Batch) {
	h.t.Helper()
	if err := h.tg.Sink.Write(h.t.Context(), b); err != nil {
		h.t.Fatalf("Write(version %d, %d sessions): %v", b.Version, len(b.Sessions), err)
	}
	h.md.write(b)
	h.v = max(h.v, b.Version)
}

// next writes vs as a batch with the next version.
func (h *harness) next(vs ...version) projections.Batch {
	h.t.Helper()
	b := batch(h.v+1, vs...)
	h.write(b)
	return b
}

// scenario writes the sessions of builders the way the runner would over a
// long life: some first in an intermediate state, then every final state in
// batches of 1 to 7, some batches twice, and then older states of some
// sessions after their final ones. moving are written intermediate-first
// (their started_at moves between the two).
func (h *harness) scenario(r *rand.Rand, builders, moving []*builder) {
	h.t.Helper()
	var early []version
	for _, b := range moving {
		early = append(early, b.upTo(2))
	}
	for _, b := range builders {
		if r.IntN(3) == 0 {
			early = append(early, b.upTo(len(b.events)/2))
		}
	}
	h.inBatches(r, early)
	all := append(append([]*builder{}, builders...), moving...)
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	finals := make([]version, len(all))
	for i, b := range all {
		finals[i] = b.final()
	}
	h.inBatches(r, finals)
	var older []version
	for _, b := range all {
		if r.IntN(4) == 0 && len(b.events) > 1 {
			older = append(older, b.upTo(1+r.IntN(len(b.events)-1)))
		}
	}
	if len(older) > 0 {
		h.write(batch(0, older...)) // older than every final
	}
}

func (h *harness) inBatches(r *rand.Rand, vs []version) {
	h.t.Helper()
	for len(vs) > 0 {
		n := min(1+r.IntN(7), len(vs))
		b := h.next(vs[:n]...)
		if r.IntN(4) == 0 {
			h.write(b) // a re-flush after a crash
		}
		vs = vs[n:]
	}
}

// span is a named range of started_at.
type span struct {
	name     string
	from, to time.Time
}

// Ranges of started_at the checks use.
var ranges = []span{
	{"open", time.Time{}, time.Time{}},
	{"from", base.AddDate(0, 0, 3), time.Time{}},
	{"to", time.Time{}, base.AddDate(0, 0, 10)},
	{"week", monday, monday.AddDate(0, 0, 7)},
	{"30d", base, base.AddDate(0, 0, 30)},
	{"midnight", sunday.Add(23 * time.Hour), monday.Add(time.Hour)},
	{"empty", monday, monday},
	{"inverted", monday.Add(time.Hour), monday},
	{"subsecond", monday.Add(-500 * time.Millisecond), monday.Add(600*time.Second + 500*time.Millisecond)},
	{"hour", monday.Add(35*time.Hour - time.Second), monday.Add(35 * time.Hour)},
}

// identities are the participants the checks ask about.
func identities() []string {
	out := []string{"nobody", "u-an"} // "u-an" is a prefix of "u-ann"
	for _, p := range pool {
		out = append(out, p.identity())
	}
	return out
}

// checkAll checks every query of every app the model holds against the model.
func (h *harness) checkAll() {
	h.t.Helper()
	for _, app := range h.md.apps() {
		h.checkMeetings(app)
		h.checkLists(app)
		h.checkParticipants(app)
		h.checkDurations(app)
		h.checkUsage(app)
	}
}

func (h *harness) checkMeetings(app string) {
	h.t.Helper()
	ctx := h.t.Context()
	for k, e := range h.md.sessions {
		if k.AppID != app {
			continue
		}
		got, err := h.tg.Reports.Meeting(ctx, k)
		if err != nil {
			h.t.Errorf("Meeting(%s): %v", k.SessionID, err)
			continue
		}
		sameJSON(h.t, fmt.Sprintf("Meeting(%s)", k.SessionID), e.m, got)
	}
}

func (h *harness) checkLists(app string) {
	h.t.Helper()
	statuses := []domain.Status{"", domain.StatusLive, domain.StatusEnded, domain.StatusAbandoned}
	people := append([]string{""}, identities()...)
	for _, st := range statuses {
		for _, p := range people {
			for _, rg := range ranges {
				limits := []int{0, 3}
				if st == "" && (p == "" || p == "u-ann") {
					limits = append(limits, 1, 1000)
				}
				for _, limit := range limits {
					q := reports.MeetingQuery{AppID: app, From: rg.from, To: rg.to, Status: st, Participant: p, Limit: limit}
					h.checkList(fmt.Sprintf("Meetings(app=%s status=%q participant=%q range=%s limit=%d)", app, st, p, rg.name, limit), q)
				}
			}
		}
	}
}

// checkList pages through q and compares the concatenated pages with the model.
func (h *harness) checkList(what string, q reports.MeetingQuery) {
	h.t.Helper()
	want := h.md.wantMeetings(q)
	got := h.pages(what, q, len(want))
	sameJSON(h.t, what, want, got)
}

// pages reads every page of q, checking the page invariants.
func (h *harness) pages(what string, q reports.MeetingQuery, want int) []domain.Meeting {
	h.t.Helper()
	nq, err := q.Normalize()
	if err != nil {
		h.t.Errorf("%s: %v", what, err)
		return nil
	}
	limit := nq.Limit
	got := []domain.Meeting{}
	for i := 0; ; i++ {
		if i > want+1 {
			h.t.Errorf("%s: more than %d pages for %d meetings", what, i, want)
			return got
		}
		page, err := h.tg.Reports.Meetings(h.t.Context(), q)
		if err != nil {
			h.t.Errorf("%s page %d: %v", what, i, err)
			return got
		}
		if msg := pageShapeError(i, len(page.Meetings), limit, page.NextCursor != ""); msg != "" {
			h.t.Errorf("%s page %d: %s", what, i, msg)
		}
		for _, m := range page.Meetings {
			if m.Participants != nil || m.UnmatchedParticipants != nil {
				h.t.Errorf("%s: listed meeting %s carries participants", what, m.SessionID)
			}
		}
		got = append(got, page.Meetings...)
		if page.NextCursor == "" {
			return got
		}
		q.Cursor = page.NextCursor
	}
}

func (h *harness) checkParticipants(app string) {
	h.t.Helper()
	for _, p := range identities() {
		for _, rg := range ranges {
			limits := []int{0, 2}
			if p == "u-ann" {
				limits = append(limits, 1, 1000)
			}
			for _, limit := range limits {
				q := reports.ParticipantQuery{AppID: app, Participant: p, From: rg.from, To: rg.to, Limit: limit}
				what := fmt.Sprintf("ParticipantAttendance(app=%s participant=%q range=%s limit=%d)", app, p, rg.name, limit)
				want := h.md.wantParticipant(q)
				sameJSON(h.t, what, want, h.participantPages(what, q, want))
			}
		}
	}
}

// participantPages reads every page of q, checking the page invariants and
// that every page carries the totals of the whole range (want's), and returns
// the pages' meetings concatenated under want's totals.
func (h *harness) participantPages(what string, q reports.ParticipantQuery, want reports.ParticipantReport) reports.ParticipantReport {
	h.t.Helper()
	nq, err := q.Normalize()
	if err != nil {
		h.t.Errorf("%s: %v", what, err)
		return want
	}
	limit := nq.Limit
	all := reports.ParticipantReport{Participant: want.Participant, Meetings: []reports.ParticipantMeeting{},
		TotalAttendedSeconds: want.TotalAttendedSeconds, MeetingsAttended: want.MeetingsAttended}
	for i := 0; ; i++ {
		if i > len(want.Meetings)+1 {
			h.t.Errorf("%s: more than %d pages for %d meetings", what, i, len(want.Meetings))
			return all
		}
		page, err := h.tg.Reports.ParticipantAttendance(h.t.Context(), q)
		if err != nil {
			h.t.Errorf("%s page %d: %v", what, i, err)
			return all
		}
		switch msg := pageShapeError(i, len(page.Meetings), limit, page.NextCursor != ""); {
		case msg != "":
			h.t.Errorf("%s page %d: %s", what, i, msg)
		case page.TotalAttendedSeconds != want.TotalAttendedSeconds || page.MeetingsAttended != want.MeetingsAttended:
			h.t.Errorf("%s page %d: totals %d s in %d meetings, want the range's %d s in %d", what, i,
				page.TotalAttendedSeconds, page.MeetingsAttended, want.TotalAttendedSeconds, want.MeetingsAttended)
		}
		all.Meetings = append(all.Meetings, page.Meetings...)
		if page.NextCursor == "" {
			return all
		}
		q.Cursor = page.NextCursor
	}
}

func (h *harness) checkDurations(app string) {
	h.t.Helper()
	for _, loc := range zones(h.t) {
		buckets := []reports.Bucket{reports.Hour, reports.Day, reports.Week, reports.Month}
		for _, b := range buckets {
			for _, rg := range rangesIn(loc) {
				h.checkDuration(fmt.Sprintf("Durations(app=%s bucket=%s tz=%s range=%s)", app, b, loc, rg.name),
					reports.DurationQuery{AppID: app, From: rg.from, To: rg.to, Bucket: b, Location: loc})
			}
		}
	}
}

func (h *harness) checkDuration(what string, q reports.DurationQuery) {
	h.t.Helper()
	got, err := h.tg.Reports.Durations(h.t.Context(), q)
	if err != nil {
		h.t.Errorf("%s: %v", what, err)
		return
	}
	sameBuckets(h.t, what, h.md.wantDurations(q), got)
}

func (h *harness) checkUsage(app string) {
	h.t.Helper()
	for _, loc := range zones(h.t) {
		for _, b := range []reports.Bucket{reports.Day, reports.Week, reports.Month} {
			for _, rg := range rangesIn(loc) {
				h.checkUsageQuery(fmt.Sprintf("Usage(app=%s bucket=%s tz=%s range=%s)", app, b, loc, rg.name),
					reports.UsageQuery{AppID: app, From: rg.from, To: rg.to, Bucket: b, Location: loc})
			}
		}
	}
}

func (h *harness) checkUsageQuery(what string, q reports.UsageQuery) []reports.UsageBucket {
	h.t.Helper()
	got, err := h.tg.Reports.Usage(h.t.Context(), q)
	if err != nil {
		h.t.Errorf("%s: %v", what, err)
		return nil
	}
	want := h.md.wantUsage(q)
	sameJSON(h.t, what, want, got)
	for i := range min(len(want), len(got)) {
		if !want[i].Start.Equal(got[i].Start) {
			h.t.Errorf("%s: bucket %d starts at %s, want %s", what, i, got[i].Start, want[i].Start)
		}
	}
	return got
}

// rangesIn returns the ranges the scenario checks run in loc: every range
// in UTC (nil), those whose edges fall inside other zones' buckets in the
// others (testTimeZones checks the zones' own boundaries).
func rangesIn(loc *time.Location) []span {
	if loc == nil {
		return ranges
	}
	var out []span
	for _, rg := range ranges {
		switch rg.name {
		case "open", "30d", "midnight", "subsecond", "inverted":
			out = append(out, rg)
		}
	}
	return out
}

// zones are the Locations every bucketed check runs in: nil (UTC), a
// +05:30 and a +05:45 zone and one with DST.
func zones(t *testing.T) []*time.Location {
	t.Helper()
	out := []*time.Location{nil}
	for _, name := range []string{"Asia/Kolkata", "Asia/Kathmandu", "America/New_York"} {
		out = append(out, mustZone(t, name))
	}
	return out
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

func sameBuckets(t *testing.T, what string, want, got []reports.DurationBucket) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d buckets, want %d\n got: %s\nwant: %s", what, len(got), len(want), js(got), js(want))
		return
	}
	for i := range want {
		w, g := want[i], got[i]
		avgOK := math.Abs(w.AvgDurationSeconds-g.AvgDurationSeconds) <= 1e-9*math.Max(1, math.Abs(w.AvgDurationSeconds))
		g.AvgDurationSeconds = w.AvgDurationSeconds
		if !avgOK || !w.Start.Equal(g.Start) || js(w) != js(g) {
			t.Errorf("%s: bucket %d:\n got: %s (avg %v)\nwant: %s", what, i, js(got[i]), got[i].AvgDurationSeconds, js(w))
		}
	}
}

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// sameJSON compares want and got by their JSON, the form the API serves.
func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	if w, g := js(want), js(got); w != g {
		t.Errorf("%s:\n got: %s\nwant: %s", what, g, w)
	}
}

// scenarioBuilders returns the sessions of app: the boundary specials and n
// random ones (ids s-2…s-(n+1), so that s-1 is a prefix of s-10…).
func scenarioBuilders(r *rand.Rand, app string, n int) []*builder {
	out := specials(app)
	for i := range n {
		out = append(out, randomSession(r, app, fmt.Sprintf("s-%d", i+2)))
	}
	return out
}

// movingSessions are sessions whose first two events give another
// started_at than all of them: the first moves earlier across a week
// boundary, the second later across a day boundary.
func movingSessions(app string) []*builder {
	ann, bob := pool[0], pool[2]
	t1 := unix(monday) - 300 // Sunday 23:55
	t2 := unix(monday) + 2*86400 - 1800
	return []*builder{
		newSession(app, "moves-earlier").join(ann, t1+600).join(bob, t1+700).started(t1).ended(t1, t1+3600),
		newSession(app, "moves-later").join(ann, t2).leave(ann, t2, t2+100).started(t2+4000).
			join(bob, t2+4000).ended(t2+4000, t2+8000),
	}
}

func testScenario(t *testing.T, tg Target) {
	r := rand.New(rand.NewPCG(1, 2))
	h := newHarness(t, tg)
	a := uniqueApp("scenario")
	b := a + "x" // an app id of which a is a prefix
	var builders []*builder
	for _, app := range []string{a, b} {
		builders = append(builders, scenarioBuilders(r, app, 40)...)
	}
	builders = append(builders, newSession(b, "only-b").started(unix(monday)+100).join(pool[3], unix(monday)+100).ended(unix(monday)+100, unix(monday)+200))
	h.scenario(r, builders, append(movingSessions(a), movingSessions(b)...))

	// The scenario must exercise what it claims to.
	statuses := map[domain.Status]int{}
	for _, m := range h.md.meetings(a) {
		statuses[m.Status]++
	}
	for _, st := range []domain.Status{domain.StatusLive, domain.StatusEnded, domain.StatusAbandoned} {
		if statuses[st] < 2 {
			t.Fatalf("scenario has %d %s meetings; the checks need some of each (%v)", statuses[st], st, statuses)
		}
	}
	h.checkAll()
}

func testOlderVersionIgnored(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("older")
	ann, bob := pool[0], pool[2]
	t0 := unix(monday) + 3600
	s := newSession(app, "s").join(ann, t0+900).join(bob, t0+1000).started(t0).leave(bob, t0+1000, t0+1500).ended(t0, t0+3600)
	h.write(batch(10, s.final()))
	h.write(batch(5, s.upTo(2))) // live, started at t0+900
	h.write(batch(7, s.upTo(4)))
	h.checkAll()
	m, err := tg.Reports.Meeting(t.Context(), reports.SessionKey{AppID: app, SessionID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != domain.StatusEnded || m.StartedAt.Unix() != t0 {
		t.Fatalf("after an older version: status %s started %s, want ended at %s", m.Status, m.StartedAt, time.Unix(t0, 0).UTC())
	}
	// The older version's started_at left no index entry behind.
	from := time.Unix(t0+900, 0)
	page, err := tg.Reports.Meetings(t.Context(), reports.MeetingQuery{AppID: app, From: from, Limit: 10})
	if err != nil || len(page.Meetings) != 0 {
		t.Fatalf("Meetings(from the older started_at) = %d meetings, %v; want none", len(page.Meetings), err)
	}
}

func testStartedAtMoves(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("moves")
	bs := movingSessions(app)
	var early, final []version
	for _, b := range bs {
		early = append(early, b.upTo(2))
		final = append(final, b.final())
	}
	h.next(early...)
	for i, v := range early {
		if v.m.StartedAt.Equal(final[i].m.StartedAt) {
			t.Fatalf("%s: started_at does not move (%s)", v.key.SessionID, v.m.StartedAt)
		}
	}
	h.checkAll() // the intermediate state is served
	h.next(final...)
	h.checkAll()
	ctx := t.Context()
	for i, v := range early {
		old := v.m.StartedAt
		page, err := tg.Reports.Meetings(ctx, reports.MeetingQuery{AppID: app, From: old, To: old.Add(time.Second)})
		if err != nil || len(page.Meetings) != 0 {
			t.Errorf("%s: Meetings at the old started_at = %d, %v; want none", v.key.SessionID, len(page.Meetings), err)
		}
		rep, err := tg.Reports.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: app, Participant: "u-ann"})
		if err != nil || rep.MeetingsAttended != len(bs) {
			t.Errorf("participant u-ann: %d meetings, %v; want %d", rep.MeetingsAttended, err, len(bs))
		}
		page, err = tg.Reports.Meetings(ctx, reports.MeetingQuery{AppID: app, From: final[i].m.StartedAt, To: final[i].m.StartedAt.Add(time.Second)})
		if err != nil || len(page.Meetings) != 1 {
			t.Errorf("%s: Meetings at the new started_at = %d, %v; want 1", v.key.SessionID, len(page.Meetings), err)
		}
	}
}

func testRewriteSameBatch(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	r := rand.New(rand.NewPCG(3, 4))
	app := uniqueApp("rewrite")
	var vs []version
	for _, b := range scenarioBuilders(r, app, 10) {
		vs = append(vs, b.final())
	}
	b := h.next(vs...)
	h.write(b)
	h.write(b)
	h.checkAll()
}

func testAppIsolation(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	a := uniqueApp("iso")
	apps := []string{a, a + "x", "x" + a}
	t0 := unix(monday) + 7200
	var vs []version
	for i, app := range apps {
		// The same session ids and participants, different times and lengths.
		for j := range 3 {
			at := t0 + int64(i*600+j*60)
			vs = append(vs, newSession(app, fmt.Sprintf("same-%d", j)).started(at).join(pool[0], at).
				join(pool[4], at+5).ended(at, at+int64(300*(i+1))).final())
		}
	}
	h.next(vs...)
	h.checkAll()
	_, err := tg.Reports.Meeting(t.Context(), reports.SessionKey{AppID: a + "-none", SessionID: "same-0"})
	if !errors.Is(err, reports.ErrNotFound) {
		t.Fatalf("Meeting of an app with no meetings: %v, want ErrNotFound", err)
	}
}

func testNotFound(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("notfound")
	at := unix(monday)
	h.next(newSession(app, "s-1").started(at).join(pool[0], at).final(),
		newSession(app+"x", "only-x").started(at).join(pool[0], at).final())
	for _, k := range []reports.SessionKey{
		{AppID: app, SessionID: "missing"},
		{AppID: app, SessionID: "s-"},        // a prefix of a stored id
		{AppID: app, SessionID: "s-1x"},      // a stored id is its prefix
		{AppID: app, SessionID: "only-x"},    // another app's session
		{AppID: app + "x", SessionID: "s-1"}, // this session in another app
	} {
		_, err := tg.Reports.Meeting(t.Context(), k)
		if !errors.Is(err, reports.ErrNotFound) {
			t.Errorf("Meeting(%q, %q) = %v, want ErrNotFound", k.AppID, k.SessionID, err)
		}
	}
}

func testBadCursor(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("cursor")
	var vs []version
	for i := range 5 {
		at := unix(monday) + int64(i)*60
		vs = append(vs, newSession(app, fmt.Sprintf("s-%d", i)).started(at).join(pool[0], at).final())
	}
	h.next(vs...)
	page, err := tg.Reports.Meetings(t.Context(), reports.MeetingQuery{AppID: app, Limit: 2})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("first page: cursor %q, %v", page.NextCursor, err)
	}
	good := page.NextCursor
	flipped := []byte(good)
	if i := len(flipped) / 2; flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}
	for _, c := range []string{
		"garbage!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "null", "%00",
		good[:len(good)-3], good + "AAAA", string(flipped), strings.Repeat(good, 2),
	} {
		_, err := tg.Reports.Meetings(t.Context(), reports.MeetingQuery{AppID: app, Limit: 2, Cursor: c})
		if !errors.Is(err, reports.ErrBadCursor) {
			t.Errorf("Meetings(cursor %q) = %v, want ErrBadCursor", c, err)
		}
		_, err = tg.Reports.ParticipantAttendance(t.Context(), reports.ParticipantQuery{AppID: app, Participant: pool[0].identity(), Limit: 2, Cursor: c})
		if !errors.Is(err, reports.ErrBadCursor) {
			t.Errorf("ParticipantAttendance(cursor %q) = %v, want ErrBadCursor", c, err)
		}
	}

	// A cursor of another query (the meeting list's, another participant's)
	// is harmless: a page of this query, from that place in the order.
	h.next(newSession(app, "s-2a").started(unix(monday)+2*60).join(pool[1], unix(monday)+2*60).final(),
		newSession(app, "s-0a").started(unix(monday)).join(pool[1], unix(monday)).final())
	list, err := tg.Reports.Meetings(t.Context(), reports.MeetingQuery{AppID: app, Limit: 2})
	if err != nil || list.NextCursor == "" {
		t.Fatalf("list: cursor %q, %v", list.NextCursor, err)
	}
	second, err := tg.Reports.ParticipantAttendance(t.Context(), reports.ParticipantQuery{AppID: app, Participant: pool[1].identity(), Limit: 1})
	if err != nil || second.NextCursor == "" {
		t.Fatalf("other participant: cursor %q, %v", second.NextCursor, err)
	}
	for _, c := range []string{good, list.NextCursor, second.NextCursor} {
		q := reports.ParticipantQuery{AppID: app, Participant: pool[0].identity(), Limit: 2, Cursor: c}
		got, err := tg.Reports.ParticipantAttendance(t.Context(), q)
		if err != nil {
			t.Errorf("ParticipantAttendance(cursor of another query %q): %v", c, err)
			continue
		}
		want := h.md.wantParticipant(q)
		cur, _ := reports.ParseCursor(c)
		var rest []reports.ParticipantMeeting
		for _, m := range want.Meetings {
			if s := m.StartedAt.Unix(); s < cur.StartedUnix || (s == cur.StartedUnix && m.SessionID < cur.SessionID) {
				rest = append(rest, m)
			}
		}
		want.Meetings = rest[:min(2, len(rest))]
		if (got.NextCursor != "") != (len(rest) > 2) {
			t.Errorf("ParticipantAttendance(cursor of another query %q): next cursor %q with %d meetings after it", c, got.NextCursor, len(rest))
		}
		sameJSON(t, fmt.Sprintf("ParticipantAttendance(cursor of another query %q)", c), want, got)
	}
}

func testInvalidQuery(t *testing.T, tg Target) {
	ctx := t.Context()
	app := uniqueApp("invalid")
	rep := tg.Reports
	calls := []struct {
		name string
		call func() error
	}{
		{"Meeting without app", func() error {
			_, err := rep.Meeting(ctx, reports.SessionKey{SessionID: "s"})
			return err
		}},
		{"Meetings without app", func() error { _, err := rep.Meetings(ctx, reports.MeetingQuery{}); return err }},
		{"Meetings with an unknown status", func() error {
			_, err := rep.Meetings(ctx, reports.MeetingQuery{AppID: app, Status: "closed"})
			return err
		}},
		{"ParticipantAttendance without app", func() error {
			_, err := rep.ParticipantAttendance(ctx, reports.ParticipantQuery{Participant: "u-ann"})
			return err
		}},
		{"Durations without app", func() error {
			_, err := rep.Durations(ctx, reports.DurationQuery{Bucket: reports.Day})
			return err
		}},
		{"Durations with an unknown bucket", func() error {
			_, err := rep.Durations(ctx, reports.DurationQuery{AppID: app, Bucket: "fortnight"})
			return err
		}},
		{"Durations without a bucket", func() error {
			_, err := rep.Durations(ctx, reports.DurationQuery{AppID: app})
			return err
		}},
	}
	for _, b := range []reports.Bucket{"", reports.Hour, "fortnight", "Day", "month "} {
		calls = append(calls, struct {
			name string
			call func() error
		}{fmt.Sprintf("Usage with bucket %q", b), func() error {
			_, err := rep.Usage(ctx, reports.UsageQuery{AppID: app, Bucket: b, Location: time.UTC})
			return err
		}})
	}
	calls = append(calls, struct {
		name string
		call func() error
	}{"Usage without app", func() error {
		_, err := rep.Usage(ctx, reports.UsageQuery{Bucket: reports.Day})
		return err
	}})
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, reports.ErrInvalidQuery) {
			t.Errorf("%s: %v, want ErrInvalidQuery", c.name, err)
		}
	}
}

func testLimits(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	app := uniqueApp("limits")
	n := reports.MaxLimit + 5
	vs := make([]version, 0, n)
	for i := range n {
		at := unix(base) + int64(i)*600
		b := newSession(app, fmt.Sprintf("m-%04d", i)).started(at).join(pool[i%len(pool)], at)
		if i%len(pool) != 0 {
			b = b.join(pool[0], at+int64(i%60))
		}
		vs = append(vs, b.ended(at, at+300).final())
	}
	h.next(vs...)
	ctx := t.Context()
	for _, c := range []struct {
		limit, want int
	}{{0, reports.DefaultLimit}, {-1, reports.DefaultLimit}, {5000, reports.MaxLimit}, {reports.MaxLimit, reports.MaxLimit}, {7, 7}} {
		page, err := tg.Reports.Meetings(ctx, reports.MeetingQuery{AppID: app, Limit: c.limit})
		if err != nil || len(page.Meetings) != c.want || page.NextCursor == "" {
			t.Errorf("Meetings(limit %d) = %d meetings, cursor %q, %v; want %d and a cursor", c.limit, len(page.Meetings), page.NextCursor, err, c.want)
		}
	}
	q := reports.MeetingQuery{AppID: app, Limit: 5000}
	sameJSON(t, "all pages of limit 5000", h.md.wantMeetings(q), h.pages("limit 5000", q, n))

	// pool[0] attends every meeting: the participant report pages alike.
	for _, c := range []struct {
		limit, want int
	}{{0, reports.DefaultLimit}, {-1, reports.DefaultLimit}, {5000, reports.MaxLimit}, {reports.MaxLimit, reports.MaxLimit}, {7, 7}} {
		rep, err := tg.Reports.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: app, Participant: pool[0].identity(), Limit: c.limit})
		if err != nil || len(rep.Meetings) != c.want || rep.NextCursor == "" || rep.MeetingsAttended != n {
			t.Errorf("ParticipantAttendance(limit %d) = %d meetings of %d, cursor %q, %v; want %d of %d and a cursor",
				c.limit, len(rep.Meetings), rep.MeetingsAttended, rep.NextCursor, err, c.want, n)
		}
	}
	pq := reports.ParticipantQuery{AppID: app, Participant: pool[0].identity(), Limit: 5000}
	want := h.md.wantParticipant(pq)
	sameJSON(t, "all participant pages of limit 5000", want, h.participantPages("participant limit 5000", pq, want))
}

func testReset(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	r := rand.New(rand.NewPCG(5, 6))
	app := uniqueApp("reset")
	h.scenario(r, scenarioBuilders(r, app, 10), nil)
	h.checkAll()
	if err := tg.Sink.Reset(t.Context()); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	gone := h.md.sessions
	h.md = newModel()
	for k := range gone {
		if _, err := tg.Reports.Meeting(t.Context(), k); !errors.Is(err, reports.ErrNotFound) {
			t.Errorf("after Reset: Meeting(%s) = %v, want ErrNotFound", k.SessionID, err)
		}
	}
	// The emptied model holds no app: query this one explicitly.
	h.checkLists(app)
	h.checkParticipants(app)
	h.checkDurations(app)
	h.checkUsage(app)
	// The store takes batches again, from version 1.
	h.v = 0
	h.scenario(r, scenarioBuilders(r, app, 5), nil)
	h.checkAll()
}

func testConcurrent(t *testing.T, tg Target) {
	h := newHarness(t, tg)
	r := rand.New(rand.NewPCG(7, 8))
	app := uniqueApp("concurrent")
	builders := scenarioBuilders(r, app, 30)
	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch i % 4 {
				case 0:
					_, err = tg.Reports.Meetings(ctx, reports.MeetingQuery{AppID: app, Limit: 5})
				case 1:
					_, err = tg.Reports.Durations(ctx, reports.DurationQuery{AppID: app, Bucket: reports.Day})
				case 3:
					_, err = tg.Reports.Usage(ctx, reports.UsageQuery{AppID: app, Bucket: reports.Month, Location: time.UTC})
				default:
					_, err = tg.Reports.ParticipantAttendance(ctx, reports.ParticipantQuery{AppID: app, Participant: "u-ann"})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	h.scenario(r, builders, nil)
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("query during writes: %v", err)
	}
	h.checkAll()
}

// pageShapeError says what breaks the page rules on page i (n items, limit
// per page, next: a cursor followed it), or "": no page over the limit, no
// short page with a next cursor, no empty page after a cursor.
func pageShapeError(i, n, limit int, next bool) string {
	switch {
	case n > limit:
		return fmt.Sprintf("%d meetings, limit %d", n, limit)
	case next && n < limit:
		return fmt.Sprintf("a short page (%d) with a next cursor", n)
	case i > 0 && n == 0:
		return "an empty page after a cursor"
	}
	return ""
}
