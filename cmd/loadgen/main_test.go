package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/internal/corpus"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadgen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestLoadgenJSON runs the binary against a fake meetingd that decodes every
// body with meetingd's decoder and answers like the intake, and checks the
// JSON result against the corpus the same flags generate.
func TestLoadgenJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := build(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "cc" || p != "pw" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		wh, err := cometchat.Decoder{}.Decode(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"bad"}`)
			return
		}
		key := domain.Key(wh.Event)
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "accepted", "event_id": "x", "duplicate": dup})
	}))
	defer srv.Close()

	cmd := exec.Command(bin, "-url", srv.URL+"/webhooks/cometchat", "-user", "cc", "-password", "pw",
		"-sessions", "60", "-seed", "9", "-dup", "0.3", "-clients", "4", "-json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out)
	}
	var res struct {
		Requests    int64            `json:"requests"`
		Errors      int64            `json:"errors"`
		Status      map[string]int64 `json:"status"`
		Duplicates  int64            `json:"duplicates"`
		Throughput  float64          `json:"throughput_per_second"`
		Latency     map[string]float64
		Interrupted bool `json:"interrupted"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}

	g, err := corpus.New(corpus.Config{Sessions: 60, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var deliveries, dups int64
	for d, err := range g.Stream(60, 200, 0.3, 9) {
		if err != nil {
			t.Fatal(err)
		}
		deliveries++
		if d.Copy > 0 {
			dups++
		}
	}
	if res.Requests != deliveries || res.Status["200"] != deliveries || res.Errors != 0 || res.Interrupted {
		t.Fatalf("result %+v, want %d requests all answered 200", res, deliveries)
	}
	if res.Duplicates != dups {
		t.Fatalf("%d duplicates answered, want the corpus's %d", res.Duplicates, dups)
	}
	if res.Throughput <= 0 || res.Latency["p99_ms"] <= 0 || res.Latency["max_ms"] < res.Latency["p50_ms"] {
		t.Fatalf("throughput %v, latency %v", res.Throughput, res.Latency)
	}
}

func TestLoadgenBadFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := build(t)
	out, err := exec.Command(bin, "-sessions", "0", "-dup", "2", "-rate", "-1", "-url", "nowhere").CombinedOutput()
	if err == nil {
		t.Fatalf("loadgen accepted bad flags:\n%s", out)
	}
	for _, want := range []string{"-sessions", "-dup", "rate", "URL"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error does not name %s:\n%s", want, out)
		}
	}
}
