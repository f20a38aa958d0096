package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/reports"
)

// retentionMetric reads a sample of /metrics (0 when absent).
func retentionMetric(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestEndToEndRetention: with MEETINGD_RETENTION, sessions whose newest
// CometChat timestamp is older than the window vanish from every /v1
// answer, from ClickHouse and from every byte of the data directory (their
// participants' names), within a stale-closer period; newer sessions are
// untouched and the reports' totals are those of the retained sessions
// only; a late webhook for a deleted session starts it afresh; the same
// after a restart and after `meetingd rebuild`.
func TestEndToEndRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("runs meetingd serve as a child process")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	env := []string{"MEETINGD_API_TOKENS=" + erasureToken + "=" + erasureApp + "," + erasureTok2 + "=" + erasureApp2 + "," + testToken + "=" + testApp,
		"MEETINGD_STALE_AFTER=876000h", "MEETINGD_STALE_SCHEDULE=@every 1s", "MEETINGD_RETENTION=400d",
		"MEETINGD_FINAL_AFTER=1s", "MEETINGD_NOTIFY_ALLOW_HTTP=1", "MEETINGD_NOTIFY_ALLOW_PRIVATE=1"}
	var chDSN string
	if os.Getenv(clickhousetest.EnvVar) != "" {
		chDSN = clickhousetest.DSN(t)
		env = append(env, "MEETINGD_CLICKHOUSE_DSN="+chDSN)
	}
	srv := startServe(t, dir, addr, env...)
	var mu sync.Mutex
	var received int
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		received++
		mu.Unlock()
	}))
	defer hook.Close()
	if status, body := request(t, http.MethodPost, srv.base+"/v1/subscriptions", erasureToken,
		[]byte(`{"url":"`+hook.URL+`","events":["meeting.final"]}`)); status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	const day = 86400
	now := time.Now().Unix()
	gone := [2]string{"u-oldrich-gone", "Oldrich Gönè-Retained-Not"}
	gone2 := [2]string{"u-olga-gone", "Olga Departed"}
	ann, bob, kept := [2]string{"u-ann", "Ann"}, [2]string{"u-bob", "Bob"}, [2]string{"u-newton-kept", "Newton Kept"}
	// A quarantined webhook (a join without joined_at) of an expiring
	// session, naming its participant: its body's key is erased with it.
	bad := []byte(`{"trigger":"meeting_participant_joined","data":{"occupant":{"uid":"` + gone2[0] + `","name":"` + gone2[1] +
		`"},"sessionId":"ret-old-2"},"type":"meet","appId":"` + erasureApp + `","region":"us","webhook":"wh"}`)
	if status, ans, err := postWebhook(t.Context(), srv.base, bad); err != nil || status != 202 {
		t.Fatalf("post the quarantined webhook: %d %v %v", status, ans, err)
	}
	if status, body := request(t, http.MethodGet, srv.base+"/v1/quarantine", erasureToken, nil); status != 200 || !bytes.Contains(body, []byte(gone2[0])) {
		t.Fatalf("the quarantine before the deletion: %d %s", status, body)
	}
	postSession(t, srv.base, erasureApp, "ret-old-1", now-500*day, ann, gone)
	postSession(t, srv.base, erasureApp, "ret-old-2", now-450*day, gone2, bob)
	postSession(t, srv.base, erasureApp2, "ret-old-other", now-401*day, gone)
	postSession(t, srv.base, erasureApp, "ret-new-1", now-10*day, ann, bob)
	postSession(t, srv.base, erasureApp, "ret-new-2", now-399*day, kept, ann) // inside the window by a day
	waitCaughtUp(t, srv.base)
	oldSessions := map[string]string{"ret-old-1": erasureToken, "ret-old-2": erasureToken, "ret-old-other": erasureTok2}
	newSessions := []string{"ret-new-1", "ret-new-2"}
	needles := func() []string {
		var out []string
		for _, p := range [][2]string{gone, gone2} {
			q, _ := json.Marshal(p[1])
			out = append(out, p[0], p[1], string(q[1:len(q)-1]), "Oldrich", "Olga")
		}
		return out
	}()
	waitGone := func(stage, base string) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			left := 0
			for s, tok := range oldSessions {
				if status, _ := request(t, http.MethodGet, base+"/v1/meetings/"+s, tok, nil); status != 404 {
					left++
				}
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d expired sessions still shown after 60s", stage, left)
			}
		}
	}
	waitGone("serve", srv.base)
	// One more whole run after they were gone: nothing left half done.
	runs := retentionMetric(t, srv.base, `meetingd_retention_runs_total{outcome="success"}`)
	for deadline := time.Now().Add(30 * time.Second); retentionMetric(t, srv.base, `meetingd_retention_runs_total{outcome="success"}`) < runs+2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no retention run completed in 30s")
		}
	}
	if n := retentionMetric(t, srv.base, "meetingd_retention_sessions_deleted_total"); n < 3 {
		t.Errorf("meetingd_retention_sessions_deleted_total = %v, want at least 3", n)
	}
	before := figures(t, srv.base, newSessions)

	check := func(stage, base string) {
		t.Helper()
		for s, tok := range oldSessions {
			for _, p := range []string{"/v1/meetings/" + s, "/v1/meetings/" + s + "/attendance", "/v1/meetings/" + s + "/events"} {
				if status, body := request(t, http.MethodGet, base+p, tok, nil); status != 404 {
					t.Errorf("%s: GET %s: %d %s, want 404", stage, p, status, body)
				}
			}
		}
		answers := erasureAnswers(t, base, newSessions, true)
		for _, p := range []string{"/v1/participants/" + ann[0] + "/attendance?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"} {
			status, body := request(t, http.MethodGet, base+p, erasureToken, nil)
			if status != 200 {
				t.Fatalf("%s: GET %s: %d %s", stage, p, status, body)
			}
			answers[p] = body
		}
		// The report of a deleted meeting's participant is empty (its
		// answer echoes only the participant asked for).
		var gr struct {
			Meetings []json.RawMessage `json:"meetings"`
		}
		p := "/v1/participants/" + gone[0] + "/attendance?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"
		if status, body := request(t, http.MethodGet, base+p, erasureToken, nil); status != 200 || json.Unmarshal(body, &gr) != nil || len(gr.Meetings) != 0 {
			t.Errorf("%s: GET %s: %d %s, want no meeting", stage, p, status, body)
		}
		for p, body := range answers {
			for _, n := range needles {
				if bytes.Contains(body, []byte(n)) {
					t.Errorf("%s: GET %s shows %q", stage, p, n)
				}
			}
		}
		var ar struct {
			Meetings []json.RawMessage `json:"meetings"`
		}
		if err := json.Unmarshal(answers["/v1/participants/"+ann[0]+"/attendance?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z"], &ar); err != nil || len(ar.Meetings) != 2 {
			t.Errorf("%s: Ann's attendance lists %d meetings (%v), want the 2 retained", stage, len(ar.Meetings), err)
		}
		if after := figures(t, base, newSessions); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: the retained meetings changed:\n%v\n%v", stage, before, after)
		}
		// The totals are those of the retained meetings (the oracle: two
		// ended meetings of 1,800 s, with 2 participants each).
		from, to := time.Unix(now-600*day, 0).UTC().Format(time.RFC3339), time.Unix(now+day, 0).UTC().Format(time.RFC3339)
		status, body := request(t, http.MethodGet, base+"/v1/reports/durations?bucket=week&from="+from+"&to="+to, erasureToken, nil)
		var rep struct {
			Buckets []reports.DurationBucket `json:"buckets"`
		}
		if status != 200 || json.Unmarshal(body, &rep) != nil {
			t.Fatalf("%s: durations: %d %s", stage, status, body)
		}
		var meetings, total int64
		for _, b := range rep.Buckets {
			meetings += b.Meetings
			total += b.TotalDurationSeconds
		}
		if meetings != 2 || total != 2*1800 {
			t.Errorf("%s: durations report %d meetings, %d s; want 2, 3600 s: %s", stage, meetings, total, body)
		}
		if chDSN != "" {
			conn, err := clickhouse.Connect(t.Context(), chDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, n := range []string{gone[0], gone2[0], "Oldrich", "Olga", "ret-old-2", "ret-old-other"} {
				if got := clickhousetest.TablesHolding(t, conn, n, ""); len(got) > 0 {
					t.Errorf("%s: ClickHouse tables %v hold %q", stage, got, n)
				}
			}
			q := reports.DurationQuery{AppID: erasureApp, From: time.Unix(now-600*day, 0), To: time.Unix(now+day, 0), Bucket: reports.Week}
			got, err := clickhouse.NewReports(conn).Durations(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			var chMeetings, chTotal int64
			for _, b := range got {
				chMeetings += b.Meetings
				chTotal += b.TotalDurationSeconds
			}
			if chMeetings != 2 || chTotal != 2*1800 {
				t.Errorf("%s: ClickHouse durations %d meetings, %d s; want 2, 3600 s", stage, chMeetings, chTotal)
			}
		}
	}
	check("after the retention run", srv.base)
	srv.stop(t)
	bytescan.None(t, dir, needles...)
	srv = startServe(t, dir, addr, env...)
	check("after a restart", srv.base)
	srv.stop(t)
	runRebuild(t, dir, env, 0)
	bytescan.None(t, dir, needles...)
	srv = startServe(t, dir, addr, env...)
	waitCaughtUp(t, srv.base)
	check("after meetingd rebuild", srv.base)

	// A late webhook for a deleted session, with a recent timestamp, starts
	// it afresh: only the new data is shown.
	late := [2]string{"u-late", "Late Comer"}
	j := now - 3600
	for _, b := range [][]byte{
		occupantBody(erasureApp, "meeting_participant_joined", "ret-old-1", late[0], late[1], j, 0),
		occupantBody(erasureApp, "meeting_participant_left", "ret-old-1", late[0], late[1], j, j+60),
	} {
		if status, ans, err := postWebhook(t.Context(), srv.base, b); err != nil || status != 200 {
			t.Fatalf("post a late webhook: %d %v %v", status, ans, err)
		}
	}
	waitCaughtUp(t, srv.base)
	status, body := request(t, http.MethodGet, srv.base+"/v1/meetings/ret-old-1", erasureToken, nil)
	var m struct {
		Count int `json:"participant_count"`
	}
	if status != 200 || json.Unmarshal(body, &m) != nil || m.Count != 1 || !bytes.Contains(body, []byte(late[0])) ||
		bytes.Contains(body, []byte(ann[0])) || bytes.Contains(body, []byte(gone[0])) {
		t.Errorf("the deleted session after a late webhook: %d %s", status, body)
	}
	status, body = request(t, http.MethodGet, srv.base+"/v1/meetings/ret-old-1/events", erasureToken, nil)
	if status != 200 || bytes.Contains(body, []byte("meeting_started")) || bytes.Contains(body, []byte("session.started")) {
		t.Errorf("the re-created session's events: %d %s", status, body)
	}
}
