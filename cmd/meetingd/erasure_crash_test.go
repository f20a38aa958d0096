package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/erasure"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/privacy"
)

// importJSONL writes lines to a file and runs `meetingd import` on it into
// dataDir, checking that every line was accepted.
func importJSONL(t *testing.T, dataDir string, lines [][]byte, env ...string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "import.jsonl")
	if err := os.WriteFile(file, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(meetingdBinary(t), "import", file)
	cmd.Env = append(os.Environ(), "MEETINGD_DATA_DIR="+dataDir, "MEETINGD_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 10 * time.Second
	dieWithTest(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d accepted", len(lines))) {
		t.Fatalf("meetingd import: %v\n%s", err, out)
	}
}

// sessionLines returns the webhooks of one ended meeting of app with people.
func sessionLines(app, session string, t0 int64, people ...[2]string) [][]byte {
	lines := [][]byte{appBody(app, "meeting_started", session, t0)}
	for i, p := range people {
		j := t0 + int64(10*i)
		lines = append(lines, occupantBody(app, "meeting_participant_joined", session, p[0], p[1], j, 0),
			occupantBody(app, "meeting_participant_left", session, p[0], p[1], j, j+600+int64(i)))
	}
	return append(lines, appBody(app, "meeting_ended", session, t0))
}

// erasureLogState reads the embedded log of dataDir (serve is not running)
// and returns how far each erasure got: "requested", "progress" or "done".
func erasureLogState(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	ctx := t.Context()
	s, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dataDir, "eventstore")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	state := map[string]string{}
	for ev, err := range s.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{erasure.StreamPrefix}}) {
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ ID string }
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		switch ev.Type {
		case erasure.TypeRequested:
			state[d.ID] = "requested"
		case erasure.TypeProgress:
			if state[d.ID] != "done" {
				state[d.ID] = "progress"
			}
		case erasure.TypeDone:
			state[d.ID] = "done"
		}
	}
	return state
}

// erasureStatus is GET /v1/erasures/{id}: its status and how many sessions
// it has rewritten so far.
func erasureStatus(t *testing.T, base, id string) (string, int) {
	t.Helper()
	var e struct {
		Status   string
		Sessions []string
	}
	status, body := request(t, http.MethodGet, base+"/v1/erasures/"+id, erasureToken, nil)
	if status != 200 || json.Unmarshal(body, &e) != nil {
		t.Fatalf("GET erasure %s: %d %s", id, status, body)
	}
	return e.Status, len(e.Sessions)
}

// TestErasureSurvivesSIGKILL kills serve with SIGKILL while erasures are in
// progress, at two points in turn: right after POST /v1/erasures was
// answered (the key erased, the request recorded, the processing begun),
// and once the erasure's progress shows (the read models rewritten, the
// other copies not yet). Four subjects, each in every one of many meetings,
// one per round; every restart resumes what the kill interrupted. After a
// last start every erasure is done and the whole contract holds: no /v1
// answer, no byte of the data directory and no ClickHouse row (when
// MEETINGD_TEST_CLICKHOUSE is set) holds any of them; the meetings' figures
// are those before; the other app's namesake is untouched.
func TestErasureSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary through several kills")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	env := []string{"MEETINGD_API_TOKENS=" + erasureToken + "=" + erasureApp + "," + erasureTok2 + "=" + erasureApp2 + "," + testToken + "=" + testApp,
		"MEETINGD_STALE_AFTER=876000h", "MEETINGD_FINAL_AFTER=1s"}
	var chDSN string
	if os.Getenv(clickhousetest.EnvVar) != "" {
		chDSN = clickhousetest.DSN(t)
		env = append(env, "MEETINGD_CLICKHOUSE_DSN="+chDSN)
	}
	type person struct{ uid, name string }
	subjects := []person{{"u-kill-0", "Zoë Kïll Nought"}, {"u-kill-1", "Zoë Kïll One"}, {"u-kill-2", "Zoë Kïll Two"}, {"u-kill-3", "Zoë Kïll Three"}}
	needles := func(p person) []string { return bytescan.Forms(p.uid, p.name) }
	const meetings = 600
	var lines [][]byte
	var all []string
	t0 := int64(1_700_000_000)
	for i := range meetings {
		people := [][2]string{{"u-ann", "Ann"}}
		if i%10 != 9 { // every tenth meeting without them
			for _, s := range subjects {
				people = append(people, [2]string{s.uid, s.name})
			}
		}
		session := fmt.Sprintf("kill-%04d", i)
		all = append(all, session)
		lines = append(lines, sessionLines(erasureApp, session, t0+int64(i)*3600, people...)...)
	}
	lines = append(lines, sessionLines(erasureApp2, "kill-other", t0, [2]string{subjects[0].uid, subjects[0].name})...)
	importJSONL(t, dir, lines)

	srv := startServe(t, dir, addr, env...)
	waitCaughtUp(t, srv.base)
	sample := slices.Concat(all[:12], all[meetings-12:])
	before := figures(t, srv.base, sample)
	named := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s[len(s)-1] == '9' })

	ids := make([]string, len(subjects))
	midway := 0
	for round, s := range subjects {
		if round > 0 {
			srv = startServe(t, dir, addr, env...)
		}
		status, body := request(t, http.MethodPost, srv.base+"/v1/erasures", erasureToken, []byte(`{"participant":"`+s.uid+`"}`))
		var accepted struct{ ID string }
		if status != http.StatusAccepted || json.Unmarshal(body, &accepted) != nil {
			t.Fatalf("round %d: POST /v1/erasures: %d %s", round, status, body)
		}
		ids[round] = accepted.ID
		if round%2 == 1 { // wait for its progress
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Millisecond) {
				st, n := erasureStatus(t, srv.base, accepted.ID)
				if n > 0 || st == erasure.StatusDone {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("round %d: no progress after 60s", round)
				}
			}
		}
		srv.kill(t)
		state := erasureLogState(t, dir)[accepted.ID]
		t.Logf("round %d: killed with the erasure %s", round, state)
		if state != "done" {
			midway++
		}
	}
	if midway == 0 {
		t.Fatal("no kill interrupted an erasure: the test proved nothing (make the store larger)")
	}

	srv = startServe(t, dir, addr, env...)
	for i, s := range subjects {
		waitErased(t, srv.base, erasureToken, ids[i], privacy.Subject{AppID: erasureApp, Participant: s.uid}.Pseudonym(), named)
	}
	check := func(stage string) {
		t.Helper()
		answers := erasureAnswers(t, srv.base, sample, true)
		for _, s := range subjects {
			for path, body := range answers {
				for _, n := range needles(s) {
					if bytes.Contains(body, []byte(n)) {
						t.Errorf("%s: GET %s shows %q", stage, path, n)
					}
				}
			}
		}
		if after := figures(t, srv.base, sample); !slices.Equal(after, before) {
			t.Errorf("%s: figures changed:\n%v\n%v", stage, before, after)
		}
		status, body := request(t, http.MethodGet, srv.base+"/v1/meetings/kill-other", erasureTok2, nil)
		if status != 200 || !bytes.Contains(body, []byte(subjects[0].uid)) {
			t.Errorf("%s: the other app's namesake: %d %s", stage, status, body)
		}
		if chDSN != "" {
			conn, err := clickhouse.Connect(context.Background(), chDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, s := range subjects {
				for _, n := range []string{s.uid, s.name} {
					if got := clickhousetest.TablesHolding(t, conn, n, erasureApp); len(got) > 0 {
						t.Errorf("%s: ClickHouse tables %v hold %q", stage, got, n)
					}
				}
			}
		}
	}
	check("after the kills")
	srv.stop(t)
	// The namesake of the other app is in the data directory by right:
	// only the erased subjects' other forms must be absent.
	var erased []string
	for _, s := range subjects[1:] {
		erased = append(erased, needles(s)...)
	}
	bytescan.None(t, dir, erased...)
	srv = startServe(t, dir, addr, env...)
	check("after a restart")
	srv.stop(t)
}
