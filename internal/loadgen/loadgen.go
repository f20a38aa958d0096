package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Config of a run.
type Config struct {
	// URL is the webhook endpoint, e.g. http://127.0.0.1:8080/webhooks/cometchat.
	URL string
	// User and Password are the HTTP Basic credentials; none are sent when
	// both are empty.
	User, Password string
	// Rate is the target request rate per second; 0 sends as fast as the
	// clients can.
	Rate float64
	// Clients is the number of concurrent senders (default 64).
	Clients int
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// HTTP sends the requests; nil uses an http.Client that keeps a
	// connection per client.
	HTTP *http.Client
}

func (c *Config) setDefaults() {
	if c.Clients == 0 {
		c.Clients = 64
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
}

// Validate names every problem of a Config.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("loadgen: URL %q: want http(s)://host[:port]/path", c.URL))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("loadgen: rate %v: want 0 (as fast as possible) or more", c.Rate))
	}
	if c.Clients < 1 {
		errs = append(errs, fmt.Errorf("loadgen: clients %d: want at least 1", c.Clients))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("loadgen: timeout %s is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// Result is what a run measured.
type Result struct {
	// Requests counts the requests that got an answer or failed.
	Requests int64 `json:"requests"`
	// Errors counts requests that got no HTTP answer (refused, timed out…).
	Errors int64 `json:"errors"`
	// FirstError is the first of those errors, for the operator.
	FirstError string `json:"first_error,omitempty"`
	// Status counts answers by HTTP status code.
	Status map[int]int64 `json:"status"`
	// Duplicates counts accepted answers that said "duplicate": true;
	// Quarantined counts answers with "status": "quarantined".
	Duplicates  int64 `json:"duplicates"`
	Quarantined int64 `json:"quarantined"`
	// Elapsed is from the start to the last answer.
	Elapsed time.Duration `json:"-"`
	// Throughput is Requests per second of Elapsed.
	Throughput float64 `json:"throughput_per_second"`
	// Latency is measured from when each request was due (see the package
	// doc); Service from when it was sent.
	Latency Summary `json:"latency"`
	Service Summary `json:"service"`
	// TargetRate and Clients echo the Config.
	TargetRate float64 `json:"target_rate"`
	Clients    int     `json:"clients"`
	// Interrupted is set when ctx ended the run before every body was sent.
	Interrupted bool `json:"interrupted"`
}

// MarshalJSON adds elapsed_seconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		ElapsedSeconds float64 `json:"elapsed_seconds"`
	}{plain(r), r.Elapsed.Seconds()})
}

// job is one body to send, with when it is due (zero: as soon as a client
// is free).
type job struct {
	body []byte
	due  time.Time
}

// Run posts every body of bodies and returns what it measured. It stops at
// the first error of bodies (and returns it) or when ctx ends (Interrupted;
// the requests already sent are counted, their answers awaited within
// Timeout). log may be nil.
func Run(ctx context.Context, cfg Config, bodies iter.Seq2[[]byte, error], log *slog.Logger) (Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTP
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = cfg.Clients, cfg.Clients
		client = &http.Client{Transport: tr}
		defer client.CloseIdleConnections()
	}

	jobs := make(chan job, cfg.Clients)
	workers := make([]*worker, cfg.Clients)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = newWorker(cfg, client)
		wg.Add(1)
		go func() {
			defer wg.Done()
			workers[i].run(ctx, jobs)
		}()
	}

	var genErr error
	interrupted := false
	n := 0
produce:
	for body, err := range bodies {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		if err != nil {
			genErr = fmt.Errorf("loadgen: generating bodies: %w", err)
			break
		}
		var due time.Time // as fast as possible: due when a client is free
		if cfg.Rate > 0 {
			due = start.Add(time.Duration(float64(n) / cfg.Rate * float64(time.Second)))
		}
		select {
		case jobs <- job{body: body, due: due}:
			n++
		case <-ctx.Done():
			interrupted = true
			break produce
		}
	}
	close(jobs)
	wg.Wait() // once ctx ends, workers drain the jobs left without sending them

	res := Result{Status: map[int]int64{}, TargetRate: cfg.Rate, Clients: cfg.Clients}
	lat, svc := newRecorder(), newRecorder()
	var last time.Time
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		res.Duplicates += w.duplicates
		res.Quarantined += w.quarantined
		if res.FirstError == "" {
			res.FirstError = w.firstError
		}
		for code, c := range w.status {
			res.Status[code] += c
		}
		lat.merge(w.latency)
		svc.merge(w.service)
		if w.last.After(last) {
			last = w.last
		}
	}
	if res.Requests > 0 {
		res.Elapsed = last.Sub(start)
		if s := res.Elapsed.Seconds(); s > 0 {
			res.Throughput = float64(res.Requests) / s
		}
	}
	res.Latency, res.Service = lat.summary(), svc.summary()
	res.Interrupted = interrupted || res.Requests < int64(n)
	log.Info("loadgen done", "requests", res.Requests, "errors", res.Errors, "elapsed", res.Elapsed, "interrupted", res.Interrupted)
	return res, genErr
}

// worker sends jobs one at a time and keeps its own counts (merged at the end).
type worker struct {
	cfg    Config
	client *http.Client

	requests, errors, duplicates, quarantined int64
	firstError                                string
	status                                    map[int]int64
	latency, service                          *recorder
	last                                      time.Time
}

func newWorker(cfg Config, client *http.Client) *worker {
	return &worker{
		cfg: cfg, client: client, status: map[int]int64{},
		latency: newRecorder(), service: newRecorder(),
	}
}

// answer is the part of meetingd's webhook answer that is counted.
type answer struct {
	Status    string `json:"status"`
	Duplicate bool   `json:"duplicate"`
}

// run sends the jobs, each when due; once ctx ends it drains the rest
// without sending them (requests in flight finish, within Timeout).
func (w *worker) run(ctx context.Context, jobs <-chan job) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for j := range jobs {
		if ctx.Err() != nil {
			continue
		}
		if d := time.Until(j.due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				continue
			}
		}
		sent := time.Now()
		if j.due.IsZero() {
			j.due = sent
		}
		code, ans, err := w.post(ctx, j.body)
		done := time.Now()
		w.requests++
		w.last = done
		w.latency.record(done.Sub(j.due))
		w.service.record(done.Sub(sent))
		if err != nil {
			w.errors++
			if w.firstError == "" {
				w.firstError = err.Error()
			}
			continue
		}
		w.status[code]++
		switch {
		case ans.Status == "quarantined":
			w.quarantined++
		case ans.Status == "accepted" && ans.Duplicate:
			w.duplicates++
		}
	}
}

// post sends one body and reads the answer (a body that is not meetingd's
// JSON answer counts by its status alone).
func (w *worker) post(ctx context.Context, body []byte) (int, answer, error) {
	// A request in flight when the run is interrupted still gets its answer.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.cfg.User != "" || w.cfg.Password != "" {
		req.SetBasicAuth(w.cfg.User, w.cfg.Password)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	var ans answer
	_ = json.Unmarshal(raw, &ans)
	return resp.StatusCode, ans, nil
}
