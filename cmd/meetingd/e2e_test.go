package main_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/internal/corpus/expect"
)

// TestEndToEndReports runs `meetingd serve` on its embedded defaults, posts
// a generated corpus of CometChat webhooks over HTTP — 2,000 sessions
// (MEETINGD_E2E_SESSIONS) of three apps, every event delivered in a shuffled
// order by 32 concurrent clients, 15% of them more than once under another
// webhook id or spelling — waits for GET /v1/status to show lag_events 0,
// and checks every report endpoint of API.md against package expect, which
// computes the reports from the generated events by API.md's rules alone:
// each meeting, its attendance as JSON and CSV (audio and video seconds of
// each row from media flags that sometimes disagree between the reports of
// an interval), the meeting list through its cursor pages with each filter,
// each participant's attendance across meetings, duration buckets by hour,
// day, week and month in UTC and in zones (+05:30, +05:45, New York over its
// 23-hour day), the usage report in those zones as JSON and CSV with the
// configured prices, the status, and the app
// scoping of tokens (403 for another app). MEETINGD_E2E_SEED changes the
// corpus; a failure logs the seed.
func TestEndToEndReports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs meetingd serve as a child process")
	}
	sessions, seed := 2000, uint64(20240306)
	if v, err := strconv.Atoi(os.Getenv("MEETINGD_E2E_SESSIONS")); err == nil && v > 0 {
		sessions = v
	}
	if v, err := strconv.ParseUint(os.Getenv("MEETINGD_E2E_SEED"), 10, 64); err == nil && v > 0 {
		seed = v
	}
	t.Logf("corpus: %d sessions, seed %d (MEETINGD_E2E_SEED)", sessions, seed)
	cfg := corpus.Config{Sessions: sessions, Seed: seed}
	ss, err := corpus.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := corpus.Deliveries(ss, 0.15, seed)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, s := range ss {
		events += len(s.Events)
	}

	e := &e2e{t: t, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(e.client.CloseIdleConnections)
	var specs []string
	e.tokens = map[string]string{}
	for _, s := range ss {
		if _, ok := e.tokens[s.AppID]; !ok {
			e.tokens[s.AppID] = fmt.Sprintf("e2e-token-%d-0123456789abcdef", len(e.tokens))
			e.apps = append(e.apps, s.AppID)
			specs = append(specs, e.tokens[s.AppID]+"="+s.AppID)
		}
	}
	e.allToken = "e2e-token-all-0123456789abcdef"
	specs = append(specs, e.allToken+"=*")
	// No meeting of the corpus (2024) may become abandoned while the test runs:
	// which ones would, and when, depends on the wall clock.
	srv := startServe(t, t.TempDir(), freeAddr(t),
		"MEETINGD_API_TOKENS="+strings.Join(specs, ","), "MEETINGD_STALE_AFTER=876000h",
		"MEETINGD_PRICE_AUDIO_PER_MINUTE="+e2eAudioPrice, "MEETINGD_PRICE_VIDEO_PER_MINUTE="+e2eVideoPrice, "MEETINGD_PRICE_CURRENCY=INR")
	e.base = srv.base

	start := time.Now()
	e.postAll(ss, ds)
	t.Logf("posted %d webhooks (%d distinct events) in %s", len(ds), events, time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
	e.waitCaughtUp(uint64(events))
	t.Logf("caught up %s after the first post", time.Since(start).Round(time.Millisecond))

	md := expect.New(ss)
	r := rand.New(rand.NewPCG(seed, 99))
	t.Run("meeting", func(t *testing.T) { e.checkMeetings(t, ss, md) })
	t.Run("attendance", func(t *testing.T) { e.checkAttendance(t, ss, md) })
	t.Run("events", func(t *testing.T) { e.checkEvents(t, ss, r) })
	t.Run("list", func(t *testing.T) { e.checkList(t, md, cfg, r) })
	t.Run("participants", func(t *testing.T) { e.checkParticipants(t, md, cfg, r) })
	t.Run("durations", func(t *testing.T) { e.checkDurations(t, md, cfg) })
	t.Run("durations in zones", func(t *testing.T) { e.checkZoneDurations(t, md, cfg) })
	t.Run("usage", func(t *testing.T) { e.checkUsage(t, md, cfg) })
	t.Run("scope", func(t *testing.T) { e.checkScope(t, ss, md) })
	t.Run("status", func(t *testing.T) { e.waitCaughtUp(uint64(events)) })
}

type e2e struct {
	t        *testing.T
	base     string
	client   *http.Client
	apps     []string
	tokens   map[string]string // app → its token
	allToken string
}

// postAll posts every delivery, 32 at a time, and checks the answers: each
// 200 accepted; every copy of an event has the same event id; exactly one
// copy of each event is new.
func (e *e2e) postAll(ss []corpus.Session, ds []corpus.Delivery) {
	t := e.t
	type answer struct {
		status int
		ans    struct {
			Status    string `json:"status"`
			EventID   string `json:"event_id"`
			Duplicate *bool  `json:"duplicate"`
		}
	}
	answers := make([]answer, len(ds))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ds) {
					return
				}
				req, err := http.NewRequest(http.MethodPost, e.base+"/webhooks/cometchat", bytes.NewReader(ds[i].Body))
				if err != nil {
					errs <- err
					return
				}
				req.SetBasicAuth(testUser, testPass)
				req.Header.Set("Content-Type", "application/json")
				resp, err := e.client.Do(req)
				if err != nil {
					errs <- fmt.Errorf("post %d: %w", i, err)
					return
				}
				answers[i].status = resp.StatusCode
				err = json.NewDecoder(resp.Body).Decode(&answers[i].ans)
				resp.Body.Close()
				if err != nil {
					errs <- fmt.Errorf("post %d: answer: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	type copies struct {
		ids  map[string]bool
		news int
	}
	byEvent := map[[2]int]*copies{}
	for i, d := range ds {
		a := answers[i]
		if a.status != http.StatusOK || a.ans.Status != "accepted" || a.ans.Duplicate == nil || a.ans.EventID == "" {
			t.Fatalf("%s of %s: %d %+v\n%s", ss[d.Session].Events[d.Event].Trigger, ss[d.Session].SessionID, a.status, a.ans, d.Body)
		}
		c := byEvent[[2]int{d.Session, d.Event}]
		if c == nil {
			c = &copies{ids: map[string]bool{}}
			byEvent[[2]int{d.Session, d.Event}] = c
		}
		c.ids[a.ans.EventID] = true
		if !*a.ans.Duplicate {
			c.news++
		}
	}
	for k, c := range byEvent {
		if len(c.ids) != 1 || c.news != 1 {
			s := ss[k[0]]
			t.Errorf("%s event %d (%s): event ids %v, %d answered as new; want one id, one new",
				s.SessionID, k[1], s.Events[k[1]].Trigger, c.ids, c.news)
		}
	}
}

// waitCaughtUp polls /v1/status until the read models have folded every one
// of the events, and checks the status then.
func (e *e2e) waitCaughtUp(events uint64) {
	t := e.t
	type status struct {
		Events            uint64 `json:"events"`
		ProjectedPosition any    `json:"projected_position"`
		ProjectedEvents   uint64 `json:"projected_events"`
		LagEvents         uint64 `json:"lag_events"`
	}
	deadline := time.Now().Add(3 * time.Minute)
	var st status
	for {
		code, body := e.get(t, "/v1/status", e.tokens[e.apps[0]], "")
		if code != http.StatusOK {
			t.Fatalf("GET /v1/status: %d %s", code, body)
		}
		st = status{}
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("GET /v1/status: %v: %s", err, body)
		}
		if st.LagEvents == 0 && st.Events >= events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after 3 minutes: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Events != events || st.ProjectedEvents != events || st.ProjectedPosition == nil {
		t.Fatalf("status %+v: want %d events, all projected (one per distinct event of the corpus)", st, events)
	}
}

// get GETs path (relative to the server) with a bearer token and an optional
// Accept header.
func (e *e2e) get(t *testing.T, path, token, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// getJSONAs GETs path, demands 200 and decodes the answer into out.
func (e *e2e) getJSONAs(t *testing.T, path, token string, out any) bool {
	t.Helper()
	code, body := e.get(t, path, token, "")
	if code != http.StatusOK {
		t.Errorf("GET %s: %d %s", path, code, body)
		return false
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Errorf("GET %s: %v: %s", path, err, body)
		return false
	}
	return true
}

// forEach runs check on every session, 8 at a time; after 10 failures it stops.
func forEach(t *testing.T, ss []corpus.Session, check func(s corpus.Session) error) {
	t.Helper()
	var next, failures atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failures.Load() < 10 {
				i := int(next.Add(1)) - 1
				if i >= len(ss) {
					return
				}
				if err := check(ss[i]); err != nil {
					failures.Add(1)
					t.Errorf("%s (%s): %v", ss[i].SessionID, ss[i].Scenario, err)
				}
			}
		}()
	}
	wg.Wait()
}

// fetch GETs path for the concurrent checks: an error instead of t.Fatal.
func (e *e2e) fetch(path, token, accept string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, e.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (e *e2e) fetchJSON(path, token string, out any) error {
	code, body, err := e.fetch(path, token, "")
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w: %s", path, err, body)
	}
	return nil
}

// API.md leaves the order of recordings, transcriptions and a row's
// intervals open: compare them sorted.
func normalize(m *expect.Meeting) {
	slices.SortFunc(m.Recordings, func(a, b expect.Recording) int { return strings.Compare(a.URL, b.URL) })
	slices.SortFunc(m.Transcriptions, func(a, b expect.Transcription) int { return strings.Compare(a.URL, b.URL) })
	normalizeRows(m.Participants)
}

func normalizeRows(rows []expect.Row) {
	for _, r := range rows {
		slices.SortFunc(r.Intervals, func(a, b expect.Interval) int { return a.JoinedAt.Compare(b.JoinedAt) })
	}
}

var equateEmpty = cmpopts.EquateEmpty()

// diff returns "" when want and got are equal (empty and absent lists
// alike), else their difference. Equal JSON is the fast path: cmp, which
// reflects over every field, is slow under -race.
func diff(want, got any, opts ...cmp.Option) string {
	a, errA := json.Marshal(want)
	b, errB := json.Marshal(got)
	if errA == nil && errB == nil && bytes.Equal(a, b) {
		return ""
	}
	return cmp.Diff(want, got, append(opts, equateEmpty)...)
}

func (e *e2e) checkMeetings(t *testing.T, ss []corpus.Session, md *expect.Model) {
	forEach(t, ss, func(s corpus.Session) error {
		want, _ := md.Meeting(s.AppID, s.SessionID)
		var got expect.Meeting
		if err := e.fetchJSON("/v1/meetings/"+url.PathEscape(s.SessionID), e.tokens[s.AppID], &got); err != nil {
			return err
		}
		normalize(&got)
		if d := diff(want, got); d != "" {
			return fmt.Errorf("meeting (-want +got):\n%s", d)
		}
		return nil
	})
}

func (e *e2e) checkAttendance(t *testing.T, ss []corpus.Session, md *expect.Model) {
	forEach(t, ss, func(s corpus.Session) error {
		want, _ := md.Meeting(s.AppID, s.SessionID)
		path := "/v1/meetings/" + url.PathEscape(s.SessionID) + "/attendance"
		var got struct {
			SessionID    string       `json:"session_id"`
			Participants []expect.Row `json:"participants"`
		}
		if err := e.fetchJSON(path, e.tokens[s.AppID], &got); err != nil {
			return err
		}
		normalizeRows(got.Participants)
		if got.SessionID != s.SessionID {
			return fmt.Errorf("attendance of session %q", got.SessionID)
		}
		if d := diff(want.Participants, got.Participants); d != "" {
			return fmt.Errorf("attendance (-want +got):\n%s", d)
		}
		// CSV: by ?format=csv, and by the Accept header for every tenth session.
		query, accept := "?format=csv", ""
		if s.Index%10 == 0 {
			query, accept = "", "text/csv"
		}
		code, body, err := e.fetch(path+query, e.tokens[s.AppID], accept)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("GET %s%s: %d %s", path, query, code, body)
		}
		return checkCSV(body, want.Participants)
	})
}

// checkCSV compares the attendance CSV with the rows: a header line naming
// the row's fields, then one line per row, in the rows' order.
func checkCSV(body []byte, rows []expect.Row) error {
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		return fmt.Errorf("csv: %w\n%s", err, body)
	}
	if len(recs) != len(rows)+1 {
		return fmt.Errorf("csv has %d lines, want a header and %d rows\n%s", len(recs), len(rows), body)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"participant", "name", "first_joined_at", "last_left_at", "attended_seconds",
		"attendance_ratio", "join_count", "intervals"} {
		if _, ok := col[h]; !ok {
			return fmt.Errorf("csv header %v lacks %s", recs[0], h)
		}
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for i, r := range rows {
		rec := recs[i+1]
		field := func(name string) string {
			if j, ok := col[name]; ok && j < len(rec) {
				return rec[j]
			}
			return ""
		}
		ivs := make([]string, len(r.Intervals))
		for k, iv := range r.Intervals {
			ivs[k] = stamp(&iv.JoinedAt) + "/" + stamp(iv.LeftAt)
		}
		gotIvs := strings.Split(field("intervals"), ";")
		slices.Sort(gotIvs)
		slices.Sort(ivs)
		ratio, err := strconv.ParseFloat(field("attendance_ratio"), 64)
		checks := []struct{ name, got, want string }{
			{"participant", field("participant"), r.Participant},
			{"name", field("name"), r.Name},
			{"first_joined_at", field("first_joined_at"), stamp(&r.FirstJoinedAt)},
			{"last_left_at", field("last_left_at"), stamp(r.LastLeftAt)},
			{"attended_seconds", field("attended_seconds"), strconv.FormatInt(r.AttendedSeconds, 10)},
			{"join_count", field("join_count"), strconv.Itoa(r.JoinCount)},
			{"intervals", strings.Join(gotIvs, ";"), strings.Join(ivs, ";")},
		}
		if _, ok := col["platform"]; ok {
			checks = append(checks, struct{ name, got, want string }{"platform", field("platform"), r.Platform},
				struct{ name, got, want string }{"sdk", field("sdk"), r.SDK})
		}
		for _, c := range []struct {
			name string
			v    int64
		}{{"audio_seconds", r.AudioSeconds}, {"video_seconds", r.VideoSeconds}} {
			if _, ok := col[c.name]; !ok {
				return fmt.Errorf("csv header %v lacks %s", recs[0], c.name)
			}
			checks = append(checks, struct{ name, got, want string }{c.name, field(c.name), strconv.FormatInt(c.v, 10)})
		}
		if _, ok := col["audio_only"]; ok && r.AudioOnly != nil {
			checks = append(checks, struct{ name, got, want string }{"audio_only", field("audio_only"), strconv.FormatBool(*r.AudioOnly)})
		}
		for _, c := range checks {
			if c.got != c.want {
				return fmt.Errorf("csv row %d %s = %q, want %q\n%s", i+1, c.name, c.got, c.want, body)
			}
		}
		if err != nil || ratio != r.AttendanceRatio {
			return fmt.Errorf("csv row %d attendance_ratio = %q, want %v", i+1, field("attendance_ratio"), r.AttendanceRatio)
		}
	}
	return nil
}

// checkEvents: the audit trail of a sample of sessions holds each distinct
// event once.
func (e *e2e) checkEvents(t *testing.T, ss []corpus.Session, r *rand.Rand) {
	sample := make([]corpus.Session, 0, 100)
	for _, i := range r.Perm(len(ss))[:min(100, len(ss))] {
		sample = append(sample, ss[i])
	}
	forEach(t, sample, func(s corpus.Session) error {
		var page struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := e.fetchJSON("/v1/meetings/"+url.PathEscape(s.SessionID)+"/events?limit=1000", e.tokens[s.AppID], &page); err != nil {
			return err
		}
		ids := map[string]bool{}
		for _, ev := range page.Events {
			ids[ev.EventID] = true
		}
		if len(page.Events) != len(s.Events) || len(ids) != len(s.Events) || page.NextCursor != nil {
			return fmt.Errorf("%d stored events (%d distinct ids), want %d", len(page.Events), len(ids), len(s.Events))
		}
		return nil
	})
}

// listPages reads every page of GET /v1/meetings?query with page size limit
// (0: the default) and checks that every page but the last is full.
func (e *e2e) listPages(t *testing.T, token string, query url.Values, limit, want int) []expect.Meeting {
	t.Helper()
	if limit > 0 {
		query.Set("limit", strconv.Itoa(limit))
	}
	pageSize := limit
	if pageSize == 0 {
		pageSize = 100 // API.md's default
	}
	var all []expect.Meeting
	for pages := 0; ; pages++ {
		if pages > want/pageSize+2 {
			t.Fatalf("GET /v1/meetings?%s: more than %d pages for %d meetings", query.Encode(), pages, want)
		}
		var page struct {
			Meetings   []expect.Meeting `json:"meetings"`
			NextCursor *string          `json:"next_cursor"`
		}
		if !e.getJSONAs(t, "/v1/meetings?"+query.Encode(), token, &page) {
			t.FailNow()
		}
		if len(page.Meetings) > pageSize {
			t.Fatalf("GET /v1/meetings?%s: %d meetings on a page of %d", query.Encode(), len(page.Meetings), pageSize)
		}
		all = append(all, page.Meetings...)
		if page.NextCursor == nil {
			return all
		}
		if len(page.Meetings) < pageSize {
			t.Errorf("GET /v1/meetings?%s: a page of %d before the last (limit %d)", query.Encode(), len(page.Meetings), pageSize)
		}
		query.Set("cursor", *page.NextCursor)
	}
}

func compareList(t *testing.T, what string, want, got []expect.Meeting) {
	t.Helper()
	for i := range got {
		normalize(&got[i])
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d meetings, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if d := diff(want[i], got[i]); d != "" {
			t.Errorf("%s: meeting %d of the list (-want +got):\n%s", what, i, d)
			return
		}
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (e *e2e) checkList(t *testing.T, md *expect.Model, cfg corpus.Config, r *rand.Rand) {
	start := cfg.Start
	if start.IsZero() {
		start = time.Date(2024, 3, 6, 7, 0, 0, 0, time.UTC)
	}
	for k, app := range e.apps {
		people := md.Participants(app)
		from := start.Add(time.Duration(r.Int64N(int64(10*24*time.Hour))) / time.Second * time.Second)
		to := from.Add(time.Duration(1+r.IntN(72)) * time.Hour)
		cases := []struct {
			name  string
			q     expect.ListQuery
			limit int
		}{
			{"all", expect.ListQuery{}, 97},
			{"all, default limit", expect.ListQuery{}, 0},
			{"all, limit 1000", expect.ListQuery{}, 1000},
			{"status live", expect.ListQuery{Status: "live"}, 10},
			{"status ended", expect.ListQuery{Status: "ended"}, 250},
			{"status abandoned", expect.ListQuery{Status: "abandoned"}, 10},
			{"from", expect.ListQuery{From: from}, 100},
			{"to", expect.ListQuery{To: to}, 100},
			{"from-to, limit 1", expect.ListQuery{From: from, To: to}, 1},
			{"participant", expect.ListQuery{Participant: people[r.IntN(len(people))]}, 3},
			{"participant", expect.ListQuery{Participant: people[r.IntN(len(people))]}, 0},
			{"participant, ended, from", expect.ListQuery{Participant: people[r.IntN(len(people))], Status: "ended", From: from}, 2},
			{"live, to", expect.ListQuery{Status: "live", To: to}, 5},
		}
		for _, c := range cases {
			q := url.Values{}
			if !c.q.From.IsZero() {
				q.Set("from", rfc(c.q.From))
			}
			if !c.q.To.IsZero() {
				q.Set("to", rfc(c.q.To))
			}
			if c.q.Status != "" {
				q.Set("status", c.q.Status)
			}
			if c.q.Participant != "" {
				q.Set("participant", c.q.Participant)
			}
			token := e.tokens[app]
			if k == 1 && c.name == "all" { // a * token names the app
				token = e.allToken
				q.Set("app_id", app)
			}
			want := md.List(app, c.q)
			got := e.listPages(t, token, q, c.limit, len(want))
			compareList(t, fmt.Sprintf("app %s, %s (?%s)", app, c.name, q.Encode()), want, got)
		}
	}
}

func (e *e2e) checkParticipants(t *testing.T, md *expect.Model, cfg corpus.Config, r *rand.Rand) {
	start := cfg.Start
	if start.IsZero() {
		start = time.Date(2024, 3, 6, 7, 0, 0, 0, time.UTC)
	}
	type job struct {
		app, who string
		from, to time.Time
		limit    int // 0: the default page size
	}
	var jobs []job
	for _, app := range e.apps {
		for _, p := range md.Participants(app) {
			jobs = append(jobs, job{app: app, who: p, limit: []int{0, 0, 1, 3}[r.IntN(4)]})
			if r.IntN(10) == 0 {
				from := start.Add(time.Duration(r.Int64N(int64(7*24*time.Hour))) / time.Second * time.Second)
				jobs = append(jobs, job{app, p, from, from.Add(time.Duration(1+r.IntN(5)) * 24 * time.Hour), 2},
					job{app, p, from, time.Time{}, 0}, job{app, p, time.Time{}, from, 1000})
			}
		}
		jobs = append(jobs, job{app: app, who: "nobody-at-all"})
	}
	var next, failures atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for failures.Load() < 10 {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				q := url.Values{}
				if !j.from.IsZero() {
					q.Set("from", rfc(j.from))
				}
				if !j.to.IsZero() {
					q.Set("to", rfc(j.to))
				}
				if j.limit != 0 {
					q.Set("limit", strconv.Itoa(j.limit))
				}
				path := "/v1/participants/" + url.PathEscape(j.who) + "/attendance?" + q.Encode()
				want := md.Participant(j.app, j.who, j.from, j.to)
				got, err := e.participantPages(path, e.tokens[j.app], j.limit, want)
				if err != nil {
					failures.Add(1)
					t.Error(err)
					continue
				}
				if d := diff(want, got); d != "" {
					failures.Add(1)
					t.Errorf("GET %s (-want +got):\n%s", path, d)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d participant reports checked", len(jobs))
}

// participantPages follows a participant report's pages from path and
// returns their meetings concatenated, under the totals every page carried
// (each must carry the whole range's, want's).
func (e *e2e) participantPages(path, token string, limit int, want expect.ParticipantReport) (expect.ParticipantReport, error) {
	if limit == 0 {
		limit = 100 // API.md's default
	}
	var all expect.ParticipantReport
	for page := 0; ; page++ {
		if page > len(want.Meetings)+1 {
			return all, fmt.Errorf("GET %s: more than %d pages for %d meetings", path, page, len(want.Meetings))
		}
		var got struct {
			expect.ParticipantReport
			NextCursor *string `json:"next_cursor"`
		}
		p := path
		if all.Meetings != nil {
			p = path + "&cursor=" + url.QueryEscape(*all.NextCursor)
		}
		if err := e.fetchJSON(p, token, &got); err != nil {
			return all, err
		}
		switch {
		case len(got.Meetings) > limit || (got.NextCursor != nil && len(got.Meetings) < limit):
			return all, fmt.Errorf("GET %s: %d meetings with limit %d, next cursor %v", p, len(got.Meetings), limit, got.NextCursor != nil)
		case page > 0 && (got.TotalAttendedSeconds != all.TotalAttendedSeconds || got.MeetingsAttended != all.MeetingsAttended):
			return all, fmt.Errorf("GET %s: totals %d s in %d meetings, the first page said %d s in %d", p,
				got.TotalAttendedSeconds, got.MeetingsAttended, all.TotalAttendedSeconds, all.MeetingsAttended)
		}
		meetings := append(all.Meetings, got.Meetings...)
		if meetings == nil {
			meetings = []expect.ParticipantMeeting{}
		}
		all = got.ParticipantReport
		all.Meetings, all.NextCursor = meetings, got.NextCursor
		if got.NextCursor == nil {
			return all, nil
		}
	}
}

func (e *e2e) checkDurations(t *testing.T, md *expect.Model, cfg corpus.Config) {
	start, span := cfg.Start, cfg.Span
	if start.IsZero() {
		start, span = time.Date(2024, 3, 6, 7, 0, 0, 0, time.UTC), 14*24*time.Hour
	}
	whole := [2]time.Time{start.Truncate(24 * time.Hour), start.Add(span + 24*time.Hour).Truncate(24 * time.Hour)}
	part := [2]time.Time{start.Add(50*time.Hour + 17*time.Minute + 3*time.Second), start.Add(9*24*time.Hour + 5*time.Minute)}
	for _, app := range e.apps {
		for _, c := range []struct {
			bucket string // "" is the default, day
			rng    [2]time.Time
		}{
			{"hour", whole}, {"day", whole}, {"week", whole}, {"", whole}, {"hour", part}, {"week", part},
		} {
			q := url.Values{"from": {rfc(c.rng[0])}, "to": {rfc(c.rng[1])}}
			if c.bucket != "" {
				q.Set("bucket", c.bucket)
			}
			var got struct {
				Buckets []expect.Bucket `json:"buckets"`
			}
			if !e.getJSONAs(t, "/v1/reports/durations?"+q.Encode(), e.tokens[app], &got) {
				continue
			}
			width := c.bucket
			if width == "" {
				width = "day" // API.md's default
			}
			want := md.Durations(app, c.rng[0], c.rng[1], width, nil)
			if len(want) == 0 {
				t.Fatalf("app %s: no expected bucket for %v: the corpus does not test durations", app, q)
			}
			if d := diff(want, got.Buckets, cmpopts.EquateApprox(0, 1e-9)); d != "" {
				t.Errorf("GET /v1/reports/durations?%s (-want +got):\n%s", q.Encode(), d)
			}
		}
	}
}

// checkScope: a token reads its own app only.
func (e *e2e) checkScope(t *testing.T, ss []corpus.Session, md *expect.Model) {
	mine, other := e.apps[0], e.apps[1]
	var theirs corpus.Session
	for _, s := range ss {
		if s.AppID == other {
			theirs = s
			break
		}
	}
	token := e.tokens[mine]
	forbidden := []string{
		"/v1/meetings?app_id=" + other,
		"/v1/meetings/" + url.PathEscape(theirs.SessionID) + "?app_id=" + other,
		"/v1/meetings/" + url.PathEscape(theirs.SessionID) + "/attendance?app_id=" + other,
		"/v1/meetings/" + url.PathEscape(theirs.SessionID) + "/attendance?format=csv&app_id=" + other,
		"/v1/participants/someone/attendance?app_id=" + other,
		"/v1/reports/durations?from=2024-03-01&to=2024-03-30&app_id=" + other,
		"/v1/status?app_id=" + other,
	}
	for _, path := range forbidden {
		code, body := e.get(t, path, token, "")
		var ans struct {
			Error string `json:"error"`
		}
		if code != http.StatusForbidden || json.Unmarshal(body, &ans) != nil || ans.Error == "" {
			t.Errorf("GET %s with app %s's token: %d %s, want 403 with an error", path, mine, code, body)
		}
	}
	// Without app_id the other app's session is simply not there.
	for _, path := range []string{
		"/v1/meetings/" + url.PathEscape(theirs.SessionID),
		"/v1/meetings/" + url.PathEscape(theirs.SessionID) + "/attendance",
	} {
		if code, body := e.get(t, path, token, ""); code != http.StatusNotFound {
			t.Errorf("GET %s with app %s's token: %d %s, want 404", path, mine, code, body)
		}
	}
	// Its own token, and a * token naming the app, read it.
	want, _ := md.Meeting(other, theirs.SessionID)
	for _, c := range []struct{ token, query string }{{e.tokens[other], ""}, {e.allToken, "?app_id=" + other}} {
		var got expect.Meeting
		if e.getJSONAs(t, "/v1/meetings/"+url.PathEscape(theirs.SessionID)+c.query, c.token, &got) {
			normalize(&got)
			if d := cmp.Diff(want, got, equateEmpty); d != "" {
				t.Errorf("meeting read with %s (-want +got):\n%s", c.query, d)
			}
		}
	}
	if code, body := e.get(t, "/v1/meetings", e.allToken, ""); code != http.StatusBadRequest || !bytes.Contains(body, []byte("app_id")) {
		t.Errorf("GET /v1/meetings with a * token and no app_id: %d %s, want 400 naming app_id", code, body)
	}
}
