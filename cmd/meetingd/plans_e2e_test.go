package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEndToEndPlans generates a school term — several series of weekly
// classes, each with a roster; students who attend, come late, leave early,
// attend too little, rejoin, never come, or come without being on the
// roster; a student renamed mid-class; a class that ends before its
// schedule; classes not held yet — and drives meetingd with it as a school
// would: a timetable loaded with `meetingd import` before the service
// starts, plans PUT before the meetings, the CometChat webhooks of every
// class shuffled across classes and partly delivered twice, then plans PUT
// after the meetings, some replacing earlier ones (other thresholds,
// rosters, even another series). Every meeting's plan fields and rows and
// every series gradebook (JSON and CSV) are then checked against termOracle,
// an independent computation of API.md's rules from what was generated.
func TestEndToEndPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("runs meetingd import and serve as child processes")
	}
	seed := uint64(20260901)
	if v, err := strconv.ParseUint(os.Getenv("MEETINGD_E2E_SEED"), 10, 64); err == nil && v > 0 {
		seed = v
	}
	t.Logf("term seed %d (MEETINGD_E2E_SEED)", seed)
	term := generateTerm(rand.New(rand.NewPCG(seed, 3)))

	dir := t.TempDir()
	// 1. The timetable, imported before the service runs.
	var jsonl bytes.Buffer
	for _, c := range term.classes {
		if c.planBy == "import" {
			line, _ := json.Marshal(map[string]any{"session_id": c.id, "app_id": termApp, "plan": c.plans[0].body()})
			jsonl.Write(append(line, '\n'))
		}
	}
	jsonl.WriteString(`{"session_id":"bad","app_id":"` + termApp + `","plan":{"scheduled_start":"2026-09-01T09:00:00Z","scheduled_end":"2026-09-01T10:00:00Z","lat_after_seconds":1}}` + "\n")
	file := filepath.Join(dir, "timetable.jsonl")
	if err := os.WriteFile(file, jsonl.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(meetingdBinary(t), "import", file)
	dieWithTest(cmd)
	cmd.Env = append(os.Environ(), "MEETINGD_DATA_DIR="+filepath.Join(dir, "data"), "MEETINGD_LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	imported := term.count("import")
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d accepted", imported)) ||
		!strings.Contains(string(out), "1 rejected") || !strings.Contains(string(out), "lat_after_seconds") {
		t.Fatalf("meetingd import: %v\n%s", err, out)
	}

	srv := startServe(t, filepath.Join(dir, "data"), freeAddr(t), "MEETINGD_STALE_AFTER=876000h",
		"MEETINGD_API_TOKENS="+termToken+"="+termApp+","+otherToken+"=other-app")
	e := &termClient{t: t, base: srv.base}

	// 2. Plans before the meetings.
	for _, c := range term.classes {
		if c.planBy == "before" {
			e.putPlan(c.id, c.plans[0])
		}
	}
	// 3. Every class's webhooks, shuffled together, a fifth of them twice.
	r := rand.New(rand.NewPCG(seed, 4))
	var hooks [][]byte
	for _, c := range term.classes {
		hooks = append(hooks, c.webhooks...)
	}
	distinct := len(hooks)
	for _, i := range r.Perm(distinct)[:distinct/5] {
		hooks = append(hooks, hooks[i])
	}
	r.Shuffle(len(hooks), func(i, j int) { hooks[i], hooks[j] = hooks[j], hooks[i] })
	e.postAll(hooks)
	// 4. Plans after the meetings, and the replacements.
	plansStored := imported
	for _, c := range term.classes {
		from := 1
		if c.planBy == "after" {
			from = 0
		}
		if c.planBy == "before" {
			plansStored++
		}
		for _, p := range c.plans[from:] {
			e.putPlan(c.id, p)
			plansStored++
		}
	}
	e.waitLag(distinct + plansStored)

	o := termOracle(term)
	// The term must exercise what the test claims.
	seen := map[string]int{}
	for _, m := range o.meetings {
		seen["status "+m.Status]++
		for _, r := range m.Participants {
			seen[r.Verdict]++
			if !r.OnRoster {
				seen["off roster"]++
			}
			if strings.HasPrefix(r.Name, "Renamed ") {
				seen["renamed"]++
			}
		}
	}
	for _, c := range term.classes {
		if c.held && c.ended < c.plans[0].end {
			seen["ended early"]++
		}
		if len(c.plans) > 1 {
			seen["replaced"]++
		}
		seen["plan "+c.planBy]++
	}
	for _, k := range []string{"absent", "partial", "late_and_left_early", "late", "left_early", "present", "off roster",
		"renamed", "ended early", "replaced", "status scheduled", "status ended", "plan import", "plan before", "plan after"} {
		if seen[k] == 0 {
			t.Fatalf("the generated term has no %q: %v", k, seen)
		}
	}
	t.Logf("term: %v", seen)
	for _, c := range term.classes {
		e.checkMeeting(c, o.meetings[c.id])
	}
	for _, s := range term.series() {
		e.checkSeries(s, o.series[s])
	}
	// Another app's token sees none of it.
	if st, _ := e.get("/v1/series/"+term.classes[0].final().series+"/attendance", otherToken); st != 404 {
		t.Errorf("another app's token: series %d, want 404", st)
	}
	if st, _ := e.get("/v1/meetings/"+term.classes[0].id+"/plan", otherToken); st != 404 {
		t.Errorf("another app's token: plan %d, want 404", st)
	}
	if st, _ := e.get("/v1/meetings/"+term.classes[0].id+"/plan?app_id="+termApp, otherToken); st != 403 {
		t.Errorf("another app's token naming the app: plan %d, want 403", st)
	}
}

const (
	termApp    = "app-school"
	termToken  = "term-token-0123456789abcdef"
	otherToken = "term-other-0123456789abcdef"
	hour       = int64(3600)
)

// termPlan is one plan of a class.
type termPlan struct {
	start, end         int64
	series             string
	roster             []string // uids
	late, early        int64
	ratio              float64
	defaultsThresholds bool
}

func (p termPlan) body() map[string]any {
	roster := []map[string]string{}
	for _, id := range p.roster {
		roster = append(roster, map[string]string{"participant": id, "name": rosterName(id)})
	}
	b := map[string]any{
		"scheduled_start": time.Unix(p.start, 0).UTC().Format(time.RFC3339),
		"scheduled_end":   time.Unix(p.end, 0).UTC().Format(time.RFC3339),
		"series_id":       p.series, "roster": roster,
	}
	if !p.defaultsThresholds {
		b["late_after_seconds"], b["early_leave_seconds"], b["min_attendance_ratio"] = p.late, p.early, p.ratio
	}
	return b
}

func rosterName(id string) string { return "Roster " + id }

// termPresence is one interval of a participant as generated: left 0
// means no leave webhook (closed by the meeting's end).
type termPresence struct{ joined, left int64 }

type termStudent struct {
	uid, name, renamed string // renamed: the name of the last leave, when not ""
	ivs                []termPresence
}

func (s termStudent) identity() string {
	if s.uid != "" {
		return s.uid
	}
	return s.name
}

type termClass struct {
	id             string
	planBy         string // import, before, after
	plans          []termPlan
	held           bool
	started, ended int64
	students       []termStudent
	webhooks       [][]byte
}

func (c termClass) final() termPlan { return c.plans[len(c.plans)-1] }

type term struct{ classes []termClass }

func (tm term) count(by string) int {
	n := 0
	for _, c := range tm.classes {
		if c.planBy == by {
			n++
		}
	}
	return n
}

func (tm term) series() []string {
	seen := map[string]bool{}
	for _, c := range tm.classes {
		seen[c.final().series] = true
	}
	out := []string{}
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// generateTerm makes three series of six weekly classes from 2026-09-07;
// the last week of each series is not held yet.
func generateTerm(r *rand.Rand) term {
	var tm term
	monday := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC).Unix()
	for si, series := range []string{"maths-7b", "physics-8a", "art-9c"} {
		roster := []string{}
		for i := range 10 {
			roster = append(roster, fmt.Sprintf("stu-%d-%02d", si, i))
		}
		for week := range 6 {
			start := monday + int64(week)*7*86400 + int64(si)*2*hour + 9*hour
			p := termPlan{start: start, end: start + hour, series: series, roster: roster,
				late: 300, early: 300, ratio: 0.75, defaultsThresholds: r.IntN(2) == 0}
			if !p.defaultsThresholds {
				p.late, p.early, p.ratio = []int64{0, 120, 300}[r.IntN(3)], []int64{60, 300, 600}[r.IntN(3)], []float64{0.5, 0.75, 0.9}[r.IntN(3)]
			}
			c := termClass{id: fmt.Sprintf("%s-w%d", series, week+1), planBy: []string{"import", "before", "after"}[r.IntN(3)],
				plans: []termPlan{p}, held: week < 5}
			switch r.IntN(6) {
			case 0: // replaced: other thresholds and one student fewer on the roster
				q := p
				q.roster = roster[1:]
				q.defaultsThresholds, q.late, q.early, q.ratio = false, 60, 60, 0.6
				c.plans = append(c.plans, q)
			case 1: // replaced into another series (a make-up class)
				q := p
				q.series = series + "-makeup"
				c.plans = append(c.plans, q)
			}
			if c.held {
				generateClass(r, &c, roster)
			}
			tm.classes = append(tm.classes, c)
		}
	}
	return tm
}

// generateClass makes the meeting of c and its webhooks.
func generateClass(r *rand.Rand, c *termClass, roster []string) {
	p := c.plans[0]
	c.started = p.start + r.Int64N(240) - 120
	c.ended = p.end + r.Int64N(300)
	if r.IntN(4) == 0 {
		c.ended = p.end - 600 - r.Int64N(600) // ends before its schedule
	}
	people := []termStudent{}
	for i, uid := range roster {
		s := termStudent{uid: uid, name: fmt.Sprintf("Student %s", uid)}
		j, l := c.started+r.Int64N(60), c.ended-r.Int64N(60)
		switch r.IntN(8) {
		case 0: // absent
			continue
		case 1: // late
			j = p.start + 200 + r.Int64N(900)
		case 2: // leaves early
			l = min(c.ended, p.end) - 200 - r.Int64N(900)
		case 3: // partial
			l = j + 600 + r.Int64N(1200)
		case 4: // rejoins after a gap
			mid := j + 900 + r.Int64N(900)
			s.ivs = append(s.ivs, termPresence{j, mid})
			j = mid + 60 + r.Int64N(900)
		case 5: // joins early, before the class started
			j = p.start - 600
		}
		if i == 3 {
			s.renamed = "Renamed " + uid
		}
		if l <= j {
			l = j + 60
		}
		s.ivs = append(s.ivs, termPresence{j, l})
		if r.IntN(5) == 0 {
			s.ivs[len(s.ivs)-1].left = 0 // no leave webhook: closed at the end
		}
		people = append(people, s)
	}
	for g := range r.IntN(3) { // guests without a uid, not on the roster
		j := c.started + r.Int64N(1800)
		people = append(people, termStudent{name: fmt.Sprintf("Guest %d of %s", g, c.id), ivs: []termPresence{{j, j + 600 + r.Int64N(1200)}}})
	}
	c.students = people
	hook := func(trigger string, data map[string]any) {
		data["sessionId"] = c.id
		b, _ := json.Marshal(map[string]any{"trigger": trigger, "data": data, "type": "meet", "appId": termApp,
			"region": "eu", "webhook": "term-webhook"})
		c.webhooks = append(c.webhooks, b)
	}
	hook("meeting_started", map[string]any{"created_at": c.started})
	for _, s := range people {
		for k, iv := range s.ivs {
			occ := map[string]any{"joined_at": iv.joined, "name": s.name}
			if s.uid != "" {
				occ["uid"] = s.uid
			}
			hook("meeting_participant_joined", map[string]any{"occupant": occ})
			if iv.left != 0 {
				left := map[string]any{"joined_at": iv.joined, "left_at": iv.left, "name": s.name}
				if s.uid != "" {
					left["uid"] = s.uid
				}
				if k == len(s.ivs)-1 && s.renamed != "" {
					left["name"] = s.renamed
				}
				hook("meeting_participant_left", map[string]any{"occupant": left})
			}
		}
	}
	hook("meeting_ended", map[string]any{"created_at": c.started, "destroyed_at": c.ended})
}

// oracleRow is an attendance row as API.md defines it.
type oracleRow struct {
	Participant              string  `json:"participant"`
	Name                     string  `json:"name"`
	JoinCount                int     `json:"join_count"`
	OnRoster                 bool    `json:"on_roster"`
	ScheduledAttendedSeconds int64   `json:"scheduled_attended_seconds"`
	ScheduledAttendanceRatio float64 `json:"scheduled_attendance_ratio"`
	LateSeconds              int64   `json:"late_seconds"`
	LeftEarlySeconds         int64   `json:"left_early_seconds"`
	Late                     bool    `json:"late"`
	LeftEarly                bool    `json:"left_early"`
	Verdict                  string  `json:"verdict"`
}

type oracleMeeting struct {
	Status           string      `json:"status"`
	ScheduledStart   string      `json:"scheduled_start"`
	ScheduledEnd     string      `json:"scheduled_end"`
	SeriesID         string      `json:"series_id"`
	RosterCount      int         `json:"roster_count"`
	AbsentCount      int         `json:"absent_count"`
	ParticipantCount int         `json:"participant_count"`
	Participants     []oracleRow `json:"participants"`
}

type oracleSeriesSession struct {
	SessionID      string `json:"session_id"`
	ScheduledStart string `json:"scheduled_start"`
	ScheduledEnd   string `json:"scheduled_end"`
	Status         string `json:"status"`
}

type oracleSeriesParticipant struct {
	Participant      string    `json:"participant"`
	Name             string    `json:"name"`
	OnRoster         bool      `json:"on_roster"`
	SessionsAttended int       `json:"sessions_attended"`
	SessionsAbsent   int       `json:"sessions_absent"`
	LateCount        int       `json:"late_count"`
	LeftEarlyCount   int       `json:"left_early_count"`
	PartialCount     int       `json:"partial_count"`
	AttendedSeconds  int64     `json:"attended_seconds"`
	AttendanceRate   float64   `json:"attendance_rate"`
	Verdicts         []*string `json:"verdicts"`
}

type oracleSeries struct {
	SeriesID     string                    `json:"series_id"`
	Sessions     []oracleSeriesSession     `json:"sessions"`
	Participants []oracleSeriesParticipant `json:"participants"`
}

type oracle struct {
	meetings map[string]oracleMeeting
	series   map[string]oracleSeries
}

func rfc3339s(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

// round4 rounds n/d half up to 4 decimals.
func round4(n, d int64) float64 {
	if d <= 0 || n <= 0 {
		return 0
	}
	return float64((n*20000+d)/(2*d)) / 10000
}

// termOracle computes every meeting's plan fields and rows, and every
// series' gradebook, from the generated term by API.md's rules.
func termOracle(tm term) oracle {
	o := oracle{meetings: map[string]oracleMeeting{}, series: map[string]oracleSeries{}}
	bySeries := map[string][]termClass{}
	for _, c := range tm.classes {
		p := c.final()
		m := oracleMeeting{Status: "scheduled", ScheduledStart: rfc3339s(p.start), ScheduledEnd: rfc3339s(p.end), SeriesID: p.series,
			RosterCount: len(p.roster), Participants: []oracleRow{}}
		onRoster := map[string]bool{}
		for _, id := range p.roster {
			onRoster[id] = true
		}
		joined := map[string]bool{}
		if c.held {
			m.Status = "ended"
			windowEnd := min(p.end, c.ended)
			for _, s := range c.students {
				row := oracleRow{Participant: s.identity(), Name: s.name, JoinCount: len(s.ivs), OnRoster: onRoster[s.identity()]}
				if s.renamed != "" && s.ivs[len(s.ivs)-1].left != 0 {
					row.Name = s.renamed
				}
				// Seconds of [start, windowEnd) covered by any interval.
				firstJoin, lastLeft := s.ivs[0].joined, int64(0)
				var covered int64
				for sec := p.start; sec < windowEnd; sec++ {
					for _, iv := range s.ivs {
						l := iv.left
						if l == 0 {
							l = c.ended
						}
						if iv.joined <= sec && sec < l {
							covered++
							break
						}
					}
				}
				for _, iv := range s.ivs {
					l := iv.left
					if l == 0 {
						l = c.ended
					}
					firstJoin, lastLeft = min(firstJoin, iv.joined), max(lastLeft, l)
				}
				row.ScheduledAttendedSeconds = covered
				row.ScheduledAttendanceRatio = round4(covered, p.end-p.start)
				row.LateSeconds = max(0, firstJoin-p.start)
				row.LeftEarlySeconds = max(0, windowEnd-lastLeft)
				row.Late, row.LeftEarly = row.LateSeconds > p.late, row.LeftEarlySeconds > p.early
				switch {
				case row.ScheduledAttendanceRatio < p.ratio:
					row.Verdict = "partial"
				case row.Late && row.LeftEarly:
					row.Verdict = "late_and_left_early"
				case row.Late:
					row.Verdict = "late"
				case row.LeftEarly:
					row.Verdict = "left_early"
				default:
					row.Verdict = "present"
				}
				joined[row.Participant] = true
				m.Participants = append(m.Participants, row)
			}
			m.ParticipantCount = len(m.Participants)
		}
		for _, id := range p.roster {
			if !joined[id] {
				m.Participants = append(m.Participants, oracleRow{Participant: id, Name: rosterName(id), OnRoster: true, Verdict: "absent"})
				m.AbsentCount++
			}
		}
		slices.SortFunc(m.Participants, func(a, b oracleRow) int { return strings.Compare(a.Participant, b.Participant) })
		o.meetings[c.id] = m
		bySeries[p.series] = append(bySeries[p.series], c)
	}
	for series, cs := range bySeries {
		slices.SortFunc(cs, func(a, b termClass) int {
			if a.final().start != b.final().start {
				return int(a.final().start - b.final().start)
			}
			return strings.Compare(a.id, b.id)
		})
		rep := oracleSeries{SeriesID: series}
		people := map[string]*oracleSeriesParticipant{}
		seen := map[string]int{}
		for i, c := range cs {
			m := o.meetings[c.id]
			rep.Sessions = append(rep.Sessions, oracleSeriesSession{SessionID: c.id, ScheduledStart: m.ScheduledStart,
				ScheduledEnd: m.ScheduledEnd, Status: m.Status})
			for _, row := range m.Participants {
				sp := people[row.Participant]
				if sp == nil {
					sp = &oracleSeriesParticipant{Participant: row.Participant, Verdicts: make([]*string, len(cs))}
					people[row.Participant] = sp
				}
				v := row.Verdict
				sp.Verdicts[i] = &v
				sp.Name = row.Name
				sp.OnRoster = sp.OnRoster || row.OnRoster
				sp.AttendedSeconds += row.ScheduledAttendedSeconds
				seen[row.Participant]++
				if v == "absent" {
					sp.SessionsAbsent++
				} else {
					sp.SessionsAttended++
				}
				if v == "late" || v == "late_and_left_early" {
					sp.LateCount++
				}
				if v == "left_early" || v == "late_and_left_early" {
					sp.LeftEarlyCount++
				}
				if v == "partial" {
					sp.PartialCount++
				}
			}
		}
		for id, sp := range people {
			sp.AttendanceRate = round4(int64(sp.SessionsAttended), int64(seen[id]))
			rep.Participants = append(rep.Participants, *sp)
		}
		slices.SortFunc(rep.Participants, func(a, b oracleSeriesParticipant) int { return strings.Compare(a.Participant, b.Participant) })
		o.series[series] = rep
	}
	return o
}

// termClient talks to the child meetingd.
type termClient struct {
	t    *testing.T
	base string
}

func (e *termClient) do(method, path, token string, body []byte) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.SetBasicAuth(testUser, testPass)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

func (e *termClient) get(path, token string) (int, []byte) { return e.do("GET", path, token, nil) }

func (e *termClient) putPlan(session string, p termPlan) {
	e.t.Helper()
	b, _ := json.Marshal(p.body())
	if st, body := e.do("PUT", "/v1/meetings/"+session+"/plan", termToken, b); st != 200 {
		e.t.Fatalf("PUT plan of %s: %d %s", session, st, body)
	}
}

// postAll posts the webhooks, 16 at a time; each must be accepted.
func (e *termClient) postAll(hooks [][]byte) {
	e.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, len(hooks))
	next := make(chan []byte)
	for range 16 {
		wg.Go(func() {
			for h := range next {
				if st, body := e.do("POST", "/webhooks/cometchat", "", h); st != 200 {
					errs <- fmt.Sprintf("%d %s for %s", st, body, h)
				}
			}
		})
	}
	for _, h := range hooks {
		next <- h
	}
	close(next)
	wg.Wait()
	close(errs)
	for msg := range errs {
		e.t.Fatal(msg)
	}
}

// waitLag waits until the read models hold every one of events (the log's
// session events: webhooks and plans).
func (e *termClient) waitLag(events int) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		st, body := e.get("/v1/status", termToken)
		var s struct {
			Events    uint64 `json:"events"`
			LagEvents uint64 `json:"lag_events"`
		}
		if st == 200 && json.Unmarshal(body, &s) == nil && s.Events == uint64(events) && s.LagEvents == 0 {
			return
		}
		last = body
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("read models did not catch up with %d events: %s", events, last)
}

func (e *termClient) checkMeeting(c termClass, want oracleMeeting) {
	e.t.Helper()
	st, body := e.get("/v1/meetings/"+c.id, termToken)
	var got oracleMeeting
	if st != 200 || json.Unmarshal(body, &got) != nil {
		e.t.Errorf("meeting %s: %d %s", c.id, st, body)
		return
	}
	slices.SortFunc(got.Participants, func(a, b oracleRow) int { return strings.Compare(a.Participant, b.Participant) })
	if d := cmp.Diff(want, got); d != "" {
		e.t.Errorf("meeting %s (-oracle +meetingd):\n%s", c.id, d)
	}
}

func (e *termClient) checkSeries(id string, want oracleSeries) {
	e.t.Helper()
	st, body := e.get("/v1/series/"+id+"/attendance", termToken)
	var got oracleSeries
	if st != 200 || json.Unmarshal(body, &got) != nil {
		e.t.Errorf("series %s: %d %s", id, st, body)
		return
	}
	if d := cmp.Diff(want, got); d != "" {
		e.t.Errorf("series %s (-oracle +meetingd):\n%s", id, d)
	}
	var csvWant strings.Builder
	csvWant.WriteString("participant,name,sessions_attended,sessions_absent,late_count,left_early_count,partial_count,attended_seconds,attendance_rate")
	for _, s := range want.Sessions {
		csvWant.WriteString("," + s.SessionID)
	}
	csvWant.WriteByte('\n')
	for _, p := range want.Participants {
		fmt.Fprintf(&csvWant, "%s,%s,%d,%d,%d,%d,%d,%d,%s", p.Participant, p.Name, p.SessionsAttended, p.SessionsAbsent,
			p.LateCount, p.LeftEarlyCount, p.PartialCount, p.AttendedSeconds, strconv.FormatFloat(p.AttendanceRate, 'f', -1, 64))
		for _, v := range p.Verdicts {
			csvWant.WriteByte(',')
			if v != nil {
				csvWant.WriteString(*v)
			}
		}
		csvWant.WriteByte('\n')
	}
	if st, body := e.get("/v1/series/"+id+"/attendance?format=csv", termToken); st != 200 || string(body) != csvWant.String() {
		e.t.Errorf("series %s CSV: %d\n%s\nwant\n%s", id, st, body, csvWant.String())
	}
}
