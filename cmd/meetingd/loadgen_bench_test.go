package main_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"iter"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/meetingd/meetingd/internal/corpus"
	"github.com/meetingd/meetingd/internal/loadgen"
)

var lgSessions = flag.Int("meetingd.lgsessions", 1000, "sessions of generated traffic BenchmarkServeLoadgen sends")

// BenchmarkServeLoadgen is intake as an operator measures it: `meetingd
// serve` as a child process over an empty data directory, fed by the load
// generator of cmd/loadgen (internal/loadgen: -meetingd.lgsessions sessions
// of realistic CometChat traffic, windows of 200 sessions shuffled, 10% of
// the webhooks delivered twice) from 64 clients as fast as they go. It
// reports the webhooks/s and the p50/p99 latency of serve, the peak RSS of
// the child (VmHWM, after the projections caught up with the load) and its
// RSS before the load; then, as the baseline of the rate and latency, the
// same traffic from the same generator against a bare fiber handler
// answering 200 in this process.
func BenchmarkServeLoadgen(b *testing.B) {
	gen, err := corpus.New(corpus.Config{Sessions: *lgSessions, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	traffic := func() iter.Seq2[[]byte, error] {
		return func(yield func([]byte, error) bool) {
			for d, err := range gen.Stream(*lgSessions, 200, 0.1, 3) {
				if !yield(d.Body, err) {
					return
				}
			}
		}
	}
	for b.Loop() {
		c := startServe(b, b.TempDir(), freeAddr(b))
		idle := procStatus(b, c.cmd.Process.Pid)
		res := runLoadgen(b, c.base+"/webhooks/cometchat", traffic())
		awaitProjections(b, c.base)
		peak := procStatus(b, c.cmd.Process.Pid)
		_ = c.cmd.Process.Kill()

		bare := runLoadgen(b, bareFiber(b)+"/webhooks/cometchat", traffic())

		b.ReportMetric(float64(res.Requests), "webhooks")
		b.ReportMetric(res.Throughput, "serve-webhooks/s")
		b.ReportMetric(ms(res.Service.P50), "serve-p50-ms")
		b.ReportMetric(ms(res.Service.P99), "serve-p99-ms")
		b.ReportMetric(peak["VmHWM"], "serve-hwm-MiB")
		b.ReportMetric(idle["VmRSS"], "serve-idle-rss-MiB")
		b.ReportMetric(bare.Throughput, "bare-webhooks/s")
		b.ReportMetric(ms(bare.Service.P50), "bare-p50-ms")
		b.ReportMetric(ms(bare.Service.P99), "bare-p99-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runLoadgen sends the traffic to url and fails b on any error or answer
// other than 200.
func runLoadgen(b *testing.B, url string, bodies iter.Seq2[[]byte, error]) loadgen.Result {
	b.Helper()
	res, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, User: testUser, Password: testPass, Clients: 64}, bodies, nil)
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 || res.Interrupted || res.Status[http.StatusOK] != res.Requests {
		b.Fatalf("loadgen against %s: %d requests, %d errors (%s), answers %v", url, res.Requests, res.Errors, res.FirstError, res.Status)
	}
	return res
}

// bareFiber serves a handler that answers 200 with a small JSON body, as
// BenchmarkBareFiberHTTP of package api does, until b ends.
func bareFiber(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/webhooks/cometchat", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "accepted"})
	})
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	// Shutdown closes only a listener fiber has registered: close ln too, or
	// a benchmark ending at once would wait for a server that serves on.
	b.Cleanup(func() { _ = app.Shutdown(); _ = ln.Close(); <-done })
	return "http://" + ln.Addr().String()
}

// awaitProjections waits until serve's projections have no lag.
func awaitProjections(b *testing.B, base string) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var st struct {
			Lag *uint64 `json:"lag_events"`
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if json.Unmarshal(body, &st) == nil && st.Lag != nil && *st.Lag == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("the projections did not catch up with the load within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
