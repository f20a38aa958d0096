package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// dispatcher runs one lane per subscription with pending deliveries; a
// lane holds at most PerEndpoint attempts in flight, all lanes together at
// most MaxInFlight. One committer writes the results in groups.
type dispatcher struct {
	n       *Notifier
	client  *http.Client
	global  chan struct{}
	results chan result // the committer's queue of the current run (set by run)

	mu    sync.Mutex
	lanes map[string]*lane
	ctx   context.Context // set by run; lanes live within it
	wg    sync.WaitGroup  // lanes and attempts
}

type lane struct {
	sub  string
	wake chan struct{}

	mu sync.Mutex
	// inflight are the deliveries claimed and not yet recorded: being
	// sent, or sent and waiting for the committer. claim skips them.
	inflight map[string]bool
	// sending counts those being sent: at most PerEndpoint.
	sending int
}

func newDispatcher(n *Notifier) *dispatcher {
	dialer := &net.Dialer{Timeout: n.cfg.Timeout, Control: n.cfg.Policy.control}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy from the environment
		DialContext:           dialer.DialContext,
		TLSClientConfig:       n.cfg.TLS,
		TLSHandshakeTimeout:   n.cfg.Timeout,
		ResponseHeaderTimeout: n.cfg.Timeout,
		MaxIdleConnsPerHost:   n.cfg.PerEndpoint,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &dispatcher{
		n:      n,
		client: &http.Client{Transport: tr, Timeout: n.cfg.Timeout, CheckRedirect: noRedirect},
		global: make(chan struct{}, n.cfg.MaxInFlight),
		lanes:  map[string]*lane{},
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// run starts a lane for every subscription with pending deliveries and
// commits results until ctx ends, then waits for the attempts in flight.
//
// It may run again after it returned (the Notifier restarts it after a
// failure): every run has its own lanes and committer queue, and the
// previous run's attempts have all ended before it returned.
func (d *dispatcher) run(ctx context.Context) error {
	results := make(chan result, d.n.cfg.MaxInFlight)
	d.mu.Lock()
	d.ctx = ctx
	d.results = results
	clear(d.lanes) // the previous run's lanes ended with it
	d.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- d.commit(results) }()
	subs, err := d.n.deps.Store.queuedSubs()
	if err == nil {
		for _, s := range subs {
			d.wake(s)
		}
		<-ctx.Done()
	}
	d.mu.Lock()
	d.ctx = nil
	d.mu.Unlock()
	d.wg.Wait()
	close(results)
	return errors.Join(err, <-done)
}

// wake starts sub's lane, or tells it to look at its queue again.
func (d *dispatcher) wake(sub string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil {
		return // not running (a decision before run, or after): run's start finds the queue
	}
	l, ok := d.lanes[sub]
	if !ok {
		l = &lane{sub: sub, wake: make(chan struct{}, 1), inflight: map[string]bool{}}
		d.lanes[sub] = l
		d.wg.Add(1)
		go d.runLane(d.ctx, l)
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// runLane starts sub's due deliveries as slots free up, and ends once
// nothing is pending or in flight.
func (d *dispatcher) runLane(ctx context.Context, l *lane) {
	defer d.wg.Done()
	var timer clockTimer
	defer timer.stop()
	for {
		var next time.Time
		var anyLeft bool
		for {
			l.mu.Lock()
			full := l.sending >= d.n.cfg.PerEndpoint
			l.mu.Unlock()
			if full {
				anyLeft = true
				break
			}
			id, at, ok, any, err := d.n.deps.Store.claim(l.sub, d.n.cfg.Clock.Now(), l.busy)
			if err != nil {
				d.n.log.Error("notify: read the queue", "subscription", l.sub, "error", err)
				anyLeft, next = true, d.n.cfg.Clock.Now().Add(time.Second)
				break
			}
			if !ok {
				anyLeft, next = any, at
				break
			}
			select {
			case d.global <- struct{}{}:
			case <-ctx.Done():
				return
			}
			l.mu.Lock()
			l.inflight[id] = true
			l.sending++
			l.mu.Unlock()
			d.wg.Add(1)
			go d.attempt(ctx, l, id)
		}
		l.mu.Lock()
		idle := len(l.inflight) == 0
		l.mu.Unlock()
		if !anyLeft && idle {
			if d.retire(l) {
				return
			}
			continue // a wake-up came meanwhile: look again
		}
		timer.stop()
		if !next.IsZero() {
			timer.startAt(d.n.cfg.Clock, next)
		}
		select {
		case <-l.wake:
		case <-timer.c():
		case <-ctx.Done():
			return
		}
	}
}

// retire removes an idle lane unless a wake-up came meanwhile.
func (d *dispatcher) retire(l *lane) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-l.wake:
		return false
	default:
	}
	delete(d.lanes, l.sub)
	return true
}

func (l *lane) busy(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inflight[id]
}

// done frees id's slot once its result is committed.
func (d *dispatcher) done(sub, id string) {
	d.mu.Lock()
	l := d.lanes[sub]
	d.mu.Unlock()
	if l == nil {
		return
	}
	l.mu.Lock()
	delete(l.inflight, id)
	l.mu.Unlock()
	l.poke()
}

// attempt sends one delivery and hands the result to the committer. An
// attempt cut short by shutdown records nothing: the delivery stays
// pending and is sent again, with the same id, on the next start.
func (d *dispatcher) attempt(ctx context.Context, l *lane, id string) {
	defer d.wg.Done()
	defer func() { <-d.global }()
	x, err := d.n.deps.Store.forSend(id)
	if err == nil && (x.d.Status != StatusPending || x.sub.Deleted) {
		err = ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			d.n.log.Error("notify: load delivery", "delivery", id, "error", err)
		}
		d.release(l, id)
		return
	}
	at := d.n.cfg.Clock.Now()
	start := time.Now()
	code, sendErr := d.send(ctx, x, at)
	if ctx.Err() != nil {
		d.release(l, id)
		return
	}
	// The slot is free; the delivery stays claimed until its result is
	// recorded.
	l.mu.Lock()
	l.sending--
	l.mu.Unlock()
	l.poke()
	r := result{id: id, sub: l.sub, at: at, code: code, dur: time.Since(start), finished: d.n.cfg.Clock.Now()}
	if sendErr != nil {
		r.err = sendErr.Error()
	} else if code < 200 || code > 299 {
		r.err = "status " + strconv.Itoa(code)
	}
	d.n.m.attempt(r, sendErr)
	d.mu.Lock()
	results := d.results
	d.mu.Unlock()
	results <- r
}

// release frees a slot and its claim without a result.
func (d *dispatcher) release(l *lane, id string) {
	l.mu.Lock()
	delete(l.inflight, id)
	l.sending--
	l.mu.Unlock()
	l.poke()
}

// poke wakes the lane up.
func (l *lane) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// send makes one signed POST.
func (d *dispatcher) send(ctx context.Context, x sendable, at time.Time) (int, error) {
	wh, err := standardwebhooks.NewWebhook(x.sub.Secret)
	if err != nil {
		return 0, fmt.Errorf("secret: %w", err)
	}
	sig, err := wh.Sign(x.d.ID, at, x.body)
	if err != nil {
		return 0, fmt.Errorf("sign: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.sub.URL, bytes.NewReader(x.body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "meetingd-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, x.d.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// commit writes results in groups, then frees their slots.
func (d *dispatcher) commit(results <-chan result) error {
	var failed error
	for r := range results {
		batch := []result{r}
	more:
		for len(batch) < 1000 {
			select {
			case r, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		outs, err := d.n.deps.Store.recordResults(batch, d.n.backoff)
		if err != nil && failed == nil {
			// The attempts stay pending: sent again after a restart.
			failed = err
			d.n.log.Error("notify: recording attempts failed", "error", err)
		}
		for i, r := range batch {
			if i < len(outs) && outs[i] == outcomeDead {
				d.n.m.deadLetters.Inc()
				d.n.log.Warn("notification dead-lettered", "delivery", r.id, "subscription", r.sub, "last_error", r.err)
			}
			d.done(r.sub, r.id)
		}
	}
	return failed
}
