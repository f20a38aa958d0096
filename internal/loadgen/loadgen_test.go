package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/internal/loadgen"
)

// seq yields bodies, then err when not nil.
func seq(bodies [][]byte, err error) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for _, b := range bodies {
			if !yield(b, nil) {
				return
			}
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

func makeBodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"trigger":"meeting_started","data":{"n":%d}}`, i)
	}
	return out
}

// verdict is the fake server's answer to a body: a pure function of it, so
// that the test knows the counts to expect without asking the server.
func verdict(body []byte) (code int, answer string) {
	h := fnv.New32a()
	h.Write(body)
	switch h.Sum32() % 10 {
	case 0:
		return http.StatusServiceUnavailable, `{"error":"store unavailable"}`
	case 1:
		return http.StatusAccepted, `{"status":"quarantined","reason":"test"}`
	case 2, 3:
		return http.StatusOK, `{"status":"accepted","event_id":"x","duplicate":true}`
	case 4:
		return http.StatusBadRequest, `not json at all`
	default:
		return http.StatusOK, `{"status":"accepted","event_id":"x","duplicate":false}`
	}
}

// fakeMeetingd answers webhooks by verdict, checks Basic Auth, records every
// body and when it arrived, and delays bodies for which slow says so.
type fakeMeetingd struct {
	*httptest.Server
	slow func(body []byte) time.Duration

	mu       sync.Mutex
	bodies   []string
	arrivals []time.Time
}

func newFake(t *testing.T, slow func([]byte) time.Duration) *fakeMeetingd {
	f := &fakeMeetingd{slow: slow}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(body))
		f.arrivals = append(f.arrivals, time.Now())
		f.mu.Unlock()
		if u, p, ok := r.BasicAuth(); !ok || u != "cometchat" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"wrong credentials"}`)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/webhooks/cometchat" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		if f.slow != nil {
			time.Sleep(f.slow(body))
		}
		code, answer := verdict(body)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMeetingd) config() loadgen.Config {
	return loadgen.Config{URL: f.URL + "/webhooks/cometchat", User: "cometchat", Password: "secret", Clients: 8}
}

func TestRunCounts(t *testing.T) {
	f := newFake(t, nil)
	bodies := makeBodies(500)
	res, err := loadgen.Run(context.Background(), f.config(), seq(bodies, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := loadgen.Result{Status: map[int]int64{}}
	for _, b := range bodies {
		code, answer := verdict(b)
		want.Status[code]++
		want.Duplicates += int64(strings.Count(answer, `"duplicate":true`))
		want.Quarantined += int64(strings.Count(answer, `"quarantined"`))
	}
	if res.Requests != 500 || res.Errors != 0 || res.Interrupted {
		t.Fatalf("requests %d, errors %d, interrupted %v; want 500, 0, false", res.Requests, res.Errors, res.Interrupted)
	}
	if fmt.Sprint(res.Status) != fmt.Sprint(want.Status) || res.Duplicates != want.Duplicates || res.Quarantined != want.Quarantined {
		t.Fatalf("status %v, duplicates %d, quarantined %d; want %v, %d, %d",
			res.Status, res.Duplicates, res.Quarantined, want.Status, want.Duplicates, want.Quarantined)
	}
	// Every body arrived exactly once.
	sent := make([]string, len(bodies))
	for i, b := range bodies {
		sent[i] = string(b)
	}
	slices.Sort(sent)
	slices.Sort(f.bodies)
	if !slices.Equal(sent, f.bodies) {
		t.Fatalf("the server received %d bodies, not the %d sent each once", len(f.bodies), len(sent))
	}
	if res.Elapsed <= 0 || res.Throughput <= 0 || res.Clients != 8 {
		t.Fatalf("elapsed %s, throughput %v, clients %d", res.Elapsed, res.Throughput, res.Clients)
	}
	if res.Latency != res.Service {
		t.Fatalf("as fast as possible, latency %+v must be the service time %+v (due when sent)", res.Latency, res.Service)
	}
	s := res.Latency
	if !(s.P50 > 0 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
		t.Fatalf("latency percentiles out of order: %+v", s)
	}
}

func TestRunWrongCredentials(t *testing.T) {
	f := newFake(t, nil)
	cfg := f.config()
	cfg.Password = "wrong"
	res, err := loadgen.Run(context.Background(), cfg, seq(makeBodies(20), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[http.StatusUnauthorized] != 20 || len(res.Status) != 1 {
		t.Fatalf("status %v, want 20 × 401", res.Status)
	}
}

// TestRunLatency: a fifth of the bodies take at least 30 ms to answer, so
// p90, p99, max and the mean must show it (lower bounds only: how fast the
// rest goes depends on the machine).
func TestRunLatency(t *testing.T) {
	const slowFor = 30 * time.Millisecond
	slow := func(body []byte) time.Duration {
		if bytes.HasSuffix(body, []byte("0}}")) || bytes.HasSuffix(body, []byte("5}}")) {
			return slowFor
		}
		return 0
	}
	f := newFake(t, slow)
	res, err := loadgen.Run(context.Background(), f.config(), seq(makeBodies(200), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]time.Duration{
		"latency p90": res.Latency.P90, "latency p99": res.Latency.P99, "latency max": res.Latency.Max,
		"service p90": res.Service.P90, "service max": res.Service.Max, "mean ×5": res.Service.Mean * 5,
	} {
		if d < slowFor {
			t.Errorf("%s = %s, want at least %s (a fifth of the answers took that long)", name, d, slowFor)
		}
	}
}

// TestPercentiles: the histogram's percentiles of 1..1000 ms are those
// values, within its 0.1% precision.
func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1000; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Percentiles(ds)
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", got.P50, 500 * time.Millisecond}, {"p90", got.P90, 900 * time.Millisecond},
		{"p99", got.P99, 990 * time.Millisecond}, {"max", got.Max, time.Second},
		{"mean", got.Mean, 500500 * time.Microsecond},
	} {
		if diff := c.got - c.want; diff < -c.want/1000 || diff > c.want/1000 {
			t.Errorf("%s = %s, want %s ± 0.1%%", c.name, c.got, c.want)
		}
	}
	if got := loadgen.Percentiles(nil); got != (loadgen.Summary{}) {
		t.Errorf("Percentiles(nil) = %+v, want zeros", got)
	}
	// Beyond the range: clamped, not lost.
	if got := loadgen.Percentiles([]time.Duration{time.Hour, 0}); got.Max < 4*time.Minute || got.P50 > time.Millisecond {
		t.Errorf("Percentiles(1h, 0) = %+v, want the hour clamped to 5 min and 0 to 1 µs", got)
	}
}

// TestRunRate: at a target rate request i is not sent before start + i/rate,
// so n requests take at least (n−1)/rate. Only this lower bound is checked:
// an upper bound would depend on how busy the machine is.
func TestRunRate(t *testing.T) {
	const n, rate = 40, 100.0
	f := newFake(t, nil)
	cfg := f.config()
	cfg.Rate = rate
	res, err := loadgen.Run(context.Background(), cfg, seq(makeBodies(n), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	minElapsed := time.Duration(float64(n-1) / rate * float64(time.Second))
	if res.Elapsed < minElapsed || res.Requests != n {
		t.Fatalf("%d requests at %v/s took %s, want at least %s", res.Requests, rate, res.Elapsed, minElapsed)
	}
	if res.Throughput > rate*float64(n)/float64(n-1)*(1+1e-9) {
		t.Fatalf("throughput %v/s above the target %v/s", res.Throughput, rate)
	}
	// The server saw the same: request n−1 arrived no earlier than it was
	// due, (n−1)/rate after the start, and the first arrival came no later
	// than the longest latency after the start.
	f.mu.Lock()
	arrivals := slices.Clone(f.arrivals)
	f.mu.Unlock()
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	if span := arrivals[n-1].Sub(arrivals[0]); span < minElapsed-res.Latency.Max-time.Millisecond {
		t.Fatalf("arrivals spread over %s, want at least %s − the longest latency (%s)", span, minElapsed, res.Latency.Max)
	}
	if res.TargetRate != rate {
		t.Fatalf("TargetRate %v", res.TargetRate)
	}
}

func TestRunInterrupted(t *testing.T) {
	f := newFake(t, nil)
	cfg := f.config()
	cfg.Rate = 50 // 1,000 bodies would take 20 s
	ctx, cancel := context.WithCancel(context.Background())
	bodies := makeBodies(1000)
	var yielded int
	src := func(yield func([]byte, error) bool) {
		for i, b := range bodies {
			if i == 10 {
				cancel()
			}
			yielded++
			if !yield(b, nil) {
				return
			}
		}
	}
	res, err := loadgen.Run(ctx, cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Requests >= 1000 || yielded >= 1000 {
		t.Fatalf("interrupted %v after %d requests (%d bodies generated): want an early stop", res.Interrupted, res.Requests, yielded)
	}
}

func TestRunStopsAtGeneratorError(t *testing.T) {
	f := newFake(t, nil)
	res, err := loadgen.Run(context.Background(), f.config(), seq(makeBodies(5), fmt.Errorf("boom")), nil)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the generator's", err)
	}
	if res.Requests != 5 {
		t.Fatalf("%d requests, want the 5 generated before the error", res.Requests)
	}
}

func TestRunTransportErrors(t *testing.T) {
	f := newFake(t, nil)
	cfg := f.config()
	f.Close() // nothing listens any more
	res, err := loadgen.Run(context.Background(), cfg, seq(makeBodies(5), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 5 || res.FirstError == "" || len(res.Status) != 0 {
		t.Fatalf("errors %d (%q), status %v; want 5 transport errors", res.Errors, res.FirstError, res.Status)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  loadgen.Config
		want string
	}{
		{loadgen.Config{URL: "localhost:8080"}, "URL"},
		{loadgen.Config{URL: "http://x/webhooks/cometchat", Rate: -1}, "rate"},
		{loadgen.Config{URL: "http://x/webhooks/cometchat", Clients: -3}, "clients"},
		{loadgen.Config{URL: "ftp://x", Rate: -1}, "rate"}, // every problem at once
	} {
		_, err := loadgen.Run(context.Background(), tc.cfg, seq(nil, nil), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}

func TestResultOutput(t *testing.T) {
	res := loadgen.Result{
		Requests: 3, Status: map[int]int64{200: 2, 503: 1}, Duplicates: 1, Elapsed: 1500 * time.Millisecond,
		Throughput: 2, Latency: loadgen.Summary{P50: time.Millisecond, P99: 2500 * time.Microsecond},
		TargetRate: 10, Clients: 4,
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Requests       int64            `json:"requests"`
		Status         map[string]int64 `json:"status"`
		ElapsedSeconds float64          `json:"elapsed_seconds"`
		Throughput     float64          `json:"throughput_per_second"`
		Latency        map[string]float64
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Requests != 3 || got.Status["503"] != 1 || got.ElapsedSeconds != 1.5 || got.Throughput != 2 ||
		got.Latency["p50_ms"] != 1 || got.Latency["p99_ms"] != 2.5 {
		t.Fatalf("JSON %s", b)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3 requests in 1.5s", "target 10/s", "200×2", "503×1", "p99 2.50ms", "duplicates 1"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
}
