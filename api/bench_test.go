package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
)

// benchClients is the number of concurrent HTTP clients of the intake benchmarks.
const benchClients = 64

// BenchmarkIntakeHTTP measures durable webhook intake through the real HTTP
// stack (fiber, Basic Auth, decode, dedupe key, fsynced append to the embedded
// store) with 64 concurrent clients on loopback. Compare with
// BenchmarkBareFiberHTTP, a handler that only answers 200, run in the same
// invocation: the ratio of their webhooks/s is the figure of the README.
func BenchmarkIntakeHTTP(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := embedded.Open(context.Background(), embedded.Config{Dir: b.TempDir()}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	in, err := intake.New(intake.Config{}, store, log)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass},
		api.Deps{Intake: in, Events: store, Registry: reg, Gatherer: reg}, log)
	if err != nil {
		b.Fatal(err)
	}
	before := store.CommitStats()
	runHTTPBench(b, srv.Run)
	if st := store.CommitStats(); st.Commits > before.Commits {
		b.ReportMetric(float64(st.Events-before.Events)/float64(st.Commits-before.Commits), "events/commit")
	}
}

// BenchmarkBareFiberHTTP is the baseline: fiber answering 200 with a small
// JSON body, the same clients and bodies.
func BenchmarkBareFiberHTTP(b *testing.B) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/webhooks/cometchat", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "accepted"})
	})
	runHTTPBench(b, func(ctx context.Context, ln net.Listener) error {
		// ln closed too: Shutdown closes only a listener fiber has registered.
		go func() { <-ctx.Done(); _ = app.Shutdown(); _ = ln.Close() }()
		return app.Listener(ln)
	})
}

func runHTTPBench(b *testing.B, serve func(context.Context, net.Listener) error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	url := "http://" + ln.Addr().String() + "/webhooks/cometchat"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients}}
	// Runs before the server's shutdown (defers run last first), which
	// otherwise waits for the clients' idle keep-alive connections.
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var failures atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/benchClients + 1
	for c := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat[c] = make([]time.Duration, 0, per)
			for range per {
				i := seq.Add(1)
				body := []byte(fmt.Sprintf(`{"trigger":"meeting_participant_joined","data":{"occupant":{"joined_at":%d,"audio_call":"false","name":"Participant %d"},"initial_config":{"is_video_muted":"false","sdk":"react","platform":"web","is_audio_only":"false"},"sessionId":"bench-%d"},"type":"meet","appId":"app-bench","region":"us","webhook":"wh-1"}`,
					1700000000+i, i, i%500))
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.SetBasicAuth(hookUser, hookPass)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d requests failed", n)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	// CPU of the whole process (clients and server) per webhook: unlike
	// webhooks/s, it hardly depends on what else runs on the machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu-us/webhook")
}

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
