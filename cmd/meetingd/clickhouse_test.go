package main_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
)

// proxy forwards TCP connections to a target until cut; restore listens
// again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	delay atomic.Int64 // nanoseconds added before each chunk forwarded
}

// copySlow is io.Copy that waits p.delay before forwarding each chunk.
func (p *proxy) copySlow(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := p.delay.Load(); d > 0 {
				time.Sleep(time.Duration(d))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.restore()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { p.copySlow(up, c); up.Close(); c.Close() }()
			go func() { p.copySlow(c, up); up.Close(); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: ClickHouse is unreachable.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// proxiedClickHouse creates a database of the test's own and returns a
// proxy in front of the test server and the serve setting that reaches the
// database through it.
func proxiedClickHouse(t *testing.T) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(clickhousetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.addr
	return px, "MEETINGD_CLICKHOUSE_DSN=" + u.String()
}

// outageWebhooks are the webhooks of sessions [from, to): two people join,
// one leaves, the meeting ends.
func outageWebhooks(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		s := fmt.Sprintf("outage-%03d", i)
		t0 := int64(1700000000 + i*3600)
		out = append(out,
			joinedBody(s, "Ann", t0, "wh-1"), joinedBody(s, "Bob", t0+60, "wh-1"),
			leftBody(s, "Bob", t0+60, t0+600), sessionBody("meeting_ended", s, t0))
	}
	return out
}

// TestClickHouseOutage: ClickHouse becomes unreachable while webhooks keep
// arriving through the real HTTP server; every one is answered 200, /readyz
// says 503; once ClickHouse is back the sink catches up and the reports
// served from ClickHouse equal the embedded store's.
func TestClickHouseOutage(t *testing.T) {
	t.Parallel()
	px, chEnv := proxiedClickHouse(t)

	dataDir := t.TempDir()
	srv := startServe(t, dataDir, freeAddr(t), chEnv)
	post := func(bodies [][]byte) {
		t.Helper()
		for _, b := range bodies {
			status, ans, err := postWebhook(t.Context(), srv.base, b)
			if err != nil || status != http.StatusOK {
				t.Fatalf("webhook: %d %v %v", status, ans, err)
			}
		}
	}
	post(outageWebhooks(0, 10))
	waitCaughtUp(t, srv.base)

	px.cut()
	post(outageWebhooks(10, 30)) // all accepted while ClickHouse is down
	resp, err := http.Get(srv.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", resp.StatusCode)
	}
	px.restore()
	waitCaughtUp(t, srv.base)
	fromClickHouse := reportSnapshot(t, srv.base)
	if n := len(fromClickHouse["list"].([]any)); n != 30 {
		t.Fatalf("ClickHouse lists %d meetings, want 30", n)
	}
	srv.stop(t)

	embedded := startServe(t, dataDir, freeAddr(t), chEnv, "MEETINGD_REPORTS=embedded")
	waitCaughtUp(t, embedded.base)
	if diff := cmp.Diff(reportSnapshot(t, embedded.base), fromClickHouse); diff != "" {
		t.Fatalf("reports from ClickHouse differ from the embedded store's (-embedded +clickhouse):\n%s", diff)
	}
}

// TestClickHouseSlow: ClickHouse answers slowly (every chunk each way
// delayed by 150 ms) while webhooks keep arriving: every webhook is still
// answered 200 (the intake never waits for ClickHouse), the sink falls behind
// and catches up, and the reports served from ClickHouse equal the embedded
// store's.
func TestClickHouseSlow(t *testing.T) {
	t.Parallel()
	px, chEnv := proxiedClickHouse(t)

	dataDir := t.TempDir()
	srv := startServe(t, dataDir, freeAddr(t), chEnv)
	px.delay.Store(int64(150 * time.Millisecond))
	for _, b := range outageWebhooks(0, 40) {
		status, ans, err := postWebhook(t.Context(), srv.base, b)
		if err != nil || status != http.StatusOK {
			t.Fatalf("webhook while ClickHouse is slow: %d %v %v", status, ans, err)
		}
	}
	waitCaughtUp(t, srv.base)
	px.delay.Store(0)
	fromClickHouse := reportSnapshot(t, srv.base)
	if n := len(fromClickHouse["list"].([]any)); n != 40 {
		t.Fatalf("ClickHouse lists %d meetings, want 40", n)
	}
	srv.stop(t)
	embedded := startServe(t, dataDir, freeAddr(t), chEnv, "MEETINGD_REPORTS=embedded")
	waitCaughtUp(t, embedded.base)
	if diff := cmp.Diff(reportSnapshot(t, embedded.base), fromClickHouse); diff != "" {
		t.Fatalf("reports from ClickHouse differ from the embedded store's (-embedded +clickhouse):\n%s", diff)
	}
}
