package main_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRunsJobs: serve schedules the stale-meeting closer (here every
// second), which abandons a meeting whose events are years old; each run
// writes one JSON log line; /metrics shows the job runs next to the intake,
// projection and lag metrics.
func TestServeRunsJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs meetingd serve as a child process")
	}
	srv := startServe(t, t.TempDir(), freeAddr(t),
		"MEETINGD_STALE_SCHEDULE=@every 1s", "MEETINGD_STALE_AFTER=1h", "MEETINGD_LOG_LEVEL=info")
	const session = "jobs-wired"
	const t0 = 1_700_000_000
	for _, body := range [][]byte{sessionBody("meeting_started", session, t0), joinedBody(session, "ana", t0+5, "wh")} {
		if status, ans, err := postWebhook(context.Background(), srv.base, body); err != nil || status != 200 {
			t.Fatalf("post: %d %v %v", status, ans, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var m struct {
			Status string `json:"status"`
		}
		if getJSON(t, srv.base+"/v1/meetings/"+session, &m) == 200 && m.Status == "abandoned" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("meeting not abandoned within 30s (status %q)\n%s", m.Status, srv.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(srv.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`meetingd_job_runs_total{job="stale-closer",outcome="success"}`,
		`meetingd_job_duration_seconds_bucket{job="stale-closer"`,
		`meetingd_job_last_success_timestamp_seconds{job="stale-closer"}`,
		`meetingd_job_changes_total{job="stale-closer",what="abandoned"} 1`,
		`meetingd_webhooks_total{outcome="accepted",trigger="meeting_started"} 1`,
		`meetingd_intake_append_seconds_bucket`,
		`meetingd_projection_batch_sessions_bucket`,
		`meetingd_projection_lag_events 0`,
		`meetingd_sink_write_seconds_bucket{sink="readmodel"`,
		`meetingd_sink_batch_sessions_bucket{sink="readmodel"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	srv.stop(t)
	logs := srv.stderr.String()
	for _, want := range []string{`"msg":"job run","component":"jobs","job":"stale-closer"`, `"msg":"meeting abandoned"`, `"msg":"shutdown: projections stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestServeJobSettings: bad job settings are all reported at once, and no
// API key appears in the message.
func TestServeJobSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs meetingd serve as a child process")
	}
	cmd := exec.Command(meetingdBinary(t), "serve")
	dieWithTest(cmd)
	cmd.Env = append(os.Environ(), "MEETINGD_INSECURE_DEV=1", "MEETINGD_DATA_DIR="+t.TempDir(),
		"MEETINGD_STALE_SCHEDULE=every five minutes", "MEETINGD_RECONCILE_AFTER=-1m",
		"MEETINGD_COMETCHAT_APPS=app1:us:sekrit-key-1,app2:?:sekrit-key-2,app3:eu:@"+filepath.Join(t.TempDir(), "missing"),
		"MEETINGD_COMETCHAT_RATE=0", "MEETINGD_SHUTDOWN_TIMEOUT=soon")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("serve started with bad settings")
	}
	out := stderr.String()
	for _, want := range []string{"MEETINGD_STALE_SCHEDULE", "MEETINGD_RECONCILE_AFTER", "MEETINGD_COMETCHAT_APPS",
		`region "?"`, `app "app3": read key file`, "MEETINGD_COMETCHAT_RATE", "MEETINGD_SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(out, want) {
			t.Errorf("message lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sekrit") {
		t.Errorf("message leaks an API key:\n%s", out)
	}
}
