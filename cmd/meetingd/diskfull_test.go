package main_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// tmpfs mounts a tmpfs of size bytes on a new directory, or skips the test
// where mounting is not allowed (not root, no CAP_SYS_ADMIN).
func tmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func resizeTmpfs(t *testing.T, dir string, size int64) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", fmt.Sprintf("remount,size=%d", size), dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v %s", dir, err, out)
	}
}

// bigEnded is a meeting_ended carrying n occupants (a large event).
func bigEnded(session string, n int) []byte {
	var occ []string
	for i := range n {
		occ = append(occ, fmt.Sprintf(`{"name":"participant-%05d-%s","joined_at":1700000000,"left_at":1700000600,"audio_call":"false"}`, i, strings.Repeat("x", 60)))
	}
	return []byte(fmt.Sprintf(`{"trigger":"meeting_ended","data":{"created_at":1700000000,"destroyed_at":1700000600,"sessionId":%q,"all_occupants":[%s]},"type":"meet","appId":%q,"region":"us","webhook":"wh"}`,
		session, strings.Join(occ, ","), testApp))
}

// TestDiskFull runs `meetingd serve` with its data directory on a small
// tmpfs and posts large webhooks until the disk is full: the intake answers
// 503 with a JSON error that says so, nothing half-written is stored, and
// once there is room again (the tmpfs grown) webhooks are accepted again
// without a restart. After a restart every acknowledged webhook is in the
// log once and the reports cover them.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := tmpfs(t, 24<<20)
	addr := freeAddr(t)
	srv := startServe(t, dir, addr)
	acked := &ackSet{ids: map[string]map[string]bool{}}
	var full *http.Response
	var fullBody map[string]any
	for i := 0; i < 2000; i++ {
		session := fmt.Sprintf("full-%04d", i)
		status, ans, err := postWebhook(t.Context(), srv.base, bigEnded(session, 1000))
		if err != nil {
			t.Fatalf("webhook %d: %v", i, err)
		}
		if status == http.StatusOK {
			acked.add(session, ans["event_id"].(string))
			continue
		}
		full, fullBody = &http.Response{StatusCode: status}, ans
		break
	}
	if full == nil {
		t.Fatal("2000 webhooks of ~100 KB fit in a 24 MB tmpfs")
	}
	if full.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("on a full disk the intake answered %d %v, want 503", full.StatusCode, fullBody)
	}
	msg, _ := fullBody["error"].(string)
	if !strings.Contains(msg, "disk") {
		t.Errorf("the 503's error %q does not say the disk is full", msg)
	}
	n, _ := acked.count()
	t.Logf("disk full after %d accepted webhooks: 503 %q", n, msg)

	// Room again: the service takes webhooks without a restart.
	resizeTmpfs(t, dir, 256<<20)
	for i := range 20 {
		session := fmt.Sprintf("room-%02d", i)
		status, ans, err := postWebhook(t.Context(), srv.base, bigEnded(session, 10))
		if err != nil || status != http.StatusOK {
			t.Fatalf("webhook after space returned: %d %v %v\n%s", status, ans, err, srv.stderr)
		}
		acked.add(session, ans["event_id"].(string))
	}
	firstLog := srv.stderr.String()
	srv.stop(t)

	srv = startServe(t, dir, addr)
	waitCaughtUp(t, srv.base)
	acked.check(t, srv.base)
	snap := reportSnapshot(t, srv.base)
	if got, want := len(snap["list"].([]any)), acked.sessionCount(); got != want {
		t.Errorf("the reports list %d meetings, want %d", got, want)
		var ids []string
		for _, m := range snap["list"].([]any) {
			ids = append(ids, m.(map[string]any)["session_id"].(string))
		}
		var st any
		getJSON(t, srv.base+"/v1/status", &st)
		t.Logf("listed: %v\nstatus: %v\nthe first serve's log:\n%s\nthe second serve's log:\n%s", ids, st, firstLog, srv.stderr.String())
	}
}
