package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/projections/readmodel"
	"github.com/meetingd/meetingd/reports"
)

// BenchmarkServe runs `meetingd serve` as a child process over a data
// directory whose read models hold -meetingd.meetings meetings (default
// 20,000; the README's figures use 1,000,000 and keep the directory):
//
//	go test -run '^$' -bench Serve -benchtime 1x ./cmd/meetingd \
//	    -meetingd.meetings 1000000 -meetingd.dir /tmp/serve-1m
//
// It reports, over HTTP on loopback, the p50/p99 latency of a meeting's
// attendance, the meeting list page (100 newest; 100 of a 30-day window) and
// the 30-day daily duration report, beside the p99 of GET /healthz (the
// HTTP floor, the baseline); then the peak RSS of the process (VmHWM):
// after those queries, and after an intake load of 64 concurrent clients
// posting webhooks of new sessions until the projections caught up. The
// RSS baseline is the peak of the same serve over an empty data directory
// under the same intake load.
//
// The read models are written directly (folded from a generated corpus,
// one session per meeting, 120 starting per hour: a year of meetings); the
// event log of the data directory stays empty, so serve starts caught up.
var (
	serveMeetings = flag.Int("meetingd.meetings", 20_000, "meetings in the read models of BenchmarkServe")
	serveDir      = flag.String("meetingd.dir", "", "directory that keeps BenchmarkServe's data directory between runs")
	serveQueries  = flag.Int("meetingd.queries", 2000, "requests per endpoint in BenchmarkServe")
	serveHooks    = flag.Int("meetingd.hooks", 20_000, "webhooks posted by BenchmarkServe's intake load")
)

const (
	benchToken = "bench-token-0123456789"
	benchApp   = "app-bench-0" // eventgen.AppID(0)
)

var benchEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// buildServeDir writes n meetings into dir's read models (once: a marker
// file keeps the count) and returns the session ids.
func buildServeDir(b *testing.B, dir string, n int) {
	b.Helper()
	marker := filepath.Join(dir, "bench-meetings")
	if got, _ := os.ReadFile(marker); string(got) == benchMarker(n) {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := readmodel.Open(ctx, readmodel.Config{Dir: filepath.Join(dir, "readmodels")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sessions, err := eventgen.Sessions(eventgen.Config{Apps: 1, Seed: 11, Start: benchEpoch, SessionsPerHour: 120}, n)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const batchSize = 20_000
	bt := projections.Batch{}
	write := func() {
		bt.Version++
		if err := s.Write(ctx, bt); err != nil {
			b.Fatal(err)
		}
		bt.Sessions = bt.Sessions[:0]
	}
	for evs := range sessions {
		f := domain.NewFacts(evs[0].AppID, evs[0].SessionID)
		for _, ev := range evs {
			f.Apply(ev)
		}
		bt.Sessions = append(bt.Sessions, projections.SessionUpdate{Key: reports.SessionKey{AppID: f.AppID(), SessionID: f.SessionID()}, Facts: f, Meeting: f.Meeting()})
		if len(bt.Sessions) == batchSize {
			write()
		}
	}
	if len(bt.Sessions) > 0 {
		write()
	}
	fmt.Fprintf(os.Stderr, "built read models of %d meetings in %s (%s)\n", n, time.Since(start).Round(time.Second), dir)
	if err := os.WriteFile(marker, []byte(benchMarker(n)), 0o600); err != nil {
		b.Fatal(err)
	}
}

// sessionID is the id eventgen.Sessions gives the i-th session (from 1).
func sessionID(i int) string { return fmt.Sprintf("v1.us.bench.%09d", i) }

func BenchmarkServe(b *testing.B) {
	dir := *serveDir
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "data")
	}
	buildServeDir(b, dir, *serveMeetings)
	for b.Loop() {
		// An empty data directory under the same intake load: the RSS baseline.
		base := startServe(b, b.TempDir(), freeAddr(b), "MEETINGD_API_TOKENS="+benchToken+"="+benchApp)
		intakeLoad(b, base, *serveHooks, "base")
		baseRSS := procStatus(b, base.cmd.Process.Pid)
		_ = base.cmd.Process.Kill()

		c := startServe(b, dir, freeAddr(b), "MEETINGD_API_TOKENS="+benchToken+"="+benchApp)
		idle := procStatus(b, c.cmd.Process.Pid)
		r := rand.New(rand.NewPCG(5, 5))
		n := *serveMeetings
		month := func() string {
			from := benchEpoch.AddDate(0, 0, r.IntN(max(n/120/24-30, 1)))
			return "from=" + from.Format(time.RFC3339) + "&to=" + from.AddDate(0, 0, 30).Format(time.RFC3339)
		}
		for _, q := range []struct {
			name string
			path func() string
		}{
			{"healthz", func() string { return "/healthz" }},
			{"attendance", func() string { return "/v1/meetings/" + sessionID(1+r.IntN(n)) + "/attendance" }},
			{"list-newest-100", func() string { return "/v1/meetings?limit=100" }},
			{"list-30d-100", func() string { return "/v1/meetings?limit=100&" + month() }},
			{"durations-30d-day", func() string { return "/v1/reports/durations?bucket=day&" + month() }},
		} {
			p50, p99 := latencies(b, c.base, q.path, *serveQueries)
			b.ReportMetric(p50, q.name+"-p50-ms")
			b.ReportMetric(p99, q.name+"-p99-ms")
		}
		queried := procStatus(b, c.cmd.Process.Pid)
		intakeLoad(b, c, *serveHooks, "1m")
		loaded := procStatus(b, c.cmd.Process.Pid)
		b.ReportMetric(idle["VmRSS"], "rss-idle-MiB")
		b.ReportMetric(queried["VmHWM"], "hwm-queried-MiB")
		b.ReportMetric(loaded["VmHWM"], "hwm-intake-MiB")
		b.ReportMetric(loaded["RssAnon"], "anon-intake-MiB")
		b.ReportMetric(loaded["RssFile"], "file-intake-MiB")
		b.ReportMetric(baseRSS["VmHWM"], "hwm-empty-intake-MiB")
		_ = c.cmd.Process.Kill()
	}
}

// latencies times n sequential GETs (one keep-alive client) and returns
// the p50 and p99 in milliseconds.
func latencies(b *testing.B, base string, path func() string, n int) (p50, p99 float64) {
	b.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, 0, n)
	for range n {
		req, err := http.NewRequest(http.MethodGet, base+path(), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+benchToken)
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t))
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", req.URL, resp.StatusCode)
		}
	}
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / 1e6 }
	return ms(0.50), ms(0.99)
}

// intakeLoad posts hooks webhooks from 64 concurrent clients: each client
// plays whole meetings of new sessions (started, joined, left, ended), then
// waits until the projections have caught up.
func intakeLoad(b *testing.B, c *child, hooks int, tag string) {
	b.Helper()
	kinds := []string{"meeting_started", "meeting_participant_joined", "meeting_participant_left", "meeting_ended"}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 64 {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			for {
				i := int(next.Add(1)) - 1
				if i >= hooks {
					return
				}
				body := cometchattest.Fixture(b, kinds[i%len(kinds)], cometchattest.Vars{
					"<sessionId>": fmt.Sprintf("v1.us.load-%s.%d.%d", tag, w, i/len(kinds)), "<appId>": benchApp,
				})
				req, _ := http.NewRequest(http.MethodPost, c.base+"/webhooks/cometchat", bytes.NewReader(body))
				req.SetBasicAuth(testUser, testPass)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Sprintf("webhook %d: status %d", i, resp.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var st struct {
			Lag uint64 `json:"lag_events"`
		}
		req, _ := http.NewRequest(http.MethodGet, c.base+"/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+benchToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := json.Unmarshal(body, &st); err == nil && st.Lag == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("projections did not catch up with the intake load within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStatus returns the memory lines of /proc/<pid>/status in MiB.
func procStatus(b *testing.B, pid int) map[string]float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(rest, "kB") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(rest, "kB")), 64)
		if err == nil {
			out[name] = kb / 1024
		}
	}
	return out
}

var (
	rebuildEvents = flag.Int("meetingd.events", 100_000, "events in the log of BenchmarkRebuildCommand")
	rebuildDir    = flag.String("meetingd.logdir", "", "directory that keeps BenchmarkRebuildCommand's data directory between runs")
)

// BenchmarkRebuildCommand runs `meetingd rebuild` as a child process over a
// data directory whose embedded log holds -meetingd.events events of the
// internal/eventgen generator (default 100,000; the README's figure uses
// 1,000,000 and keeps the directory), and reports the events/s the command
// prints and its peak RSS:
//
//	go test -run '^$' -bench RebuildCommand -benchtime 1x ./cmd/meetingd \
//	    -meetingd.events 1000000 -meetingd.logdir /tmp/rebuild-1m
func BenchmarkRebuildCommand(b *testing.B) {
	dir := *rebuildDir
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "data")
	}
	fillLog(b, dir, *rebuildEvents)
	bin := meetingdBinary(b)
	for b.Loop() {
		cmd := exec.Command(bin, "rebuild")
		cmd.Env = append(os.Environ(), "MEETINGD_DATA_DIR="+dir, "MEETINGD_LOG_LEVEL=warn")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("meetingd rebuild: %v\n%s", err, out.String())
		}
		var n, rate float64
		var took string
		if _, err := fmt.Sscanf(lastLine(out.String()), "rebuilt read models from %g events in %s (%g events/s)", &n, &took, &rate); err != nil {
			b.Fatalf("unexpected output of meetingd rebuild (%v):\n%s", err, out.String())
		}
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, "maxrss-MiB")
		b.ReportMetric(cmd.ProcessState.UserTime().Seconds()+cmd.ProcessState.SystemTime().Seconds(), "cpu-s")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// fillLog appends n corpus events to dir's embedded log, once (a marker
// file keeps the count).
func fillLog(b *testing.B, dir string, n int) {
	b.Helper()
	marker := filepath.Join(dir, "bench-events")
	if got, _ := os.ReadFile(marker); string(got) == strconv.Itoa(n) {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dir, "eventstore"), MaxBatchEvents: 8192}, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := eventgen.Fill(ctx, s, eventgen.Config{Events: n}, 8192); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "built a %d-event log in %s (%s)\n", n, time.Since(start).Round(time.Second), dir)
	if err := os.WriteFile(marker, []byte(strconv.Itoa(n)), 0o600); err != nil {
		b.Fatal(err)
	}
}

// benchMarker is the content of the marker file of a read-model data set of
// n meetings: a data set of another layout is built again.
func benchMarker(n int) string {
	return fmt.Sprintf("%d meetings, layout %d", n, readmodel.LayoutVersion)
}
