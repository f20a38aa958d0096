package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/cometchat/cometchattest"
	"github.com/meetingd/meetingd/intake"
)

func TestParseTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
		bad  []string // entries the error must name
	}{
		{"", nil, nil},
		{"10.0.0.1", []string{"10.0.0.1/32"}, nil},
		{" 10.0.0.0/8 , fd00::/8,::1 ", []string{"10.0.0.0/8", "fd00::/8", "::1/128"}, nil},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, nil},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}, nil},
		{"caddy,10.0.0.0/33,1.2.3.4", nil, []string{`"caddy"`, `"10.0.0.0/33"`}},
		{"fe80::1%eth0", nil, []string{`"fe80::1%eth0"`}},
		{"10.0.0.1:80", nil, []string{`"10.0.0.1:80"`}},
	} {
		got, err := api.ParseTrustedProxies(tc.spec)
		if tc.bad != nil {
			for _, b := range tc.bad {
				if err == nil || !strings.Contains(err.Error(), b) {
					t.Errorf("%q: error %v; want one naming %s", tc.spec, err, b)
				}
			}
			continue
		}
		var gotS []string
		for _, p := range got {
			gotS = append(gotS, p.String())
		}
		if err != nil || strings.Join(gotS, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: %v, %v; want %v", tc.spec, gotS, err, tc.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := api.ParseTrustedProxies("10.0.0.0/8,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer: never the header", "192.0.2.7", []string{"203.0.113.9"}, "192.0.2.7"},
		{"untrusted IPv6 peer", "2001:db8::7", []string{"203.0.113.9"}, "2001:db8::7"},
		{"trusted, no header", "10.1.1.1", nil, "10.1.1.1"},
		{"trusted, one entry", "10.1.1.1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"trusted: the right-most entry, not the client's", "10.1.1.1", []string{"1.1.1.1, 6.6.6.6 ,203.0.113.9"}, "203.0.113.9"},
		{"trusted: the last of several header lines", "10.1.1.1", []string{"1.1.1.1", "198.51.100.4, 203.0.113.9"}, "203.0.113.9"},
		{"trusted, malformed entry: the peer", "10.1.1.1", []string{"203.0.113.9, not-an-address"}, "10.1.1.1"},
		{"trusted, empty entry: the peer", "10.1.1.1", []string{"203.0.113.9,"}, "10.1.1.1"},
		{"trusted, empty header: the peer", "10.1.1.1", []string{""}, "10.1.1.1"},
		{"trusted, entry with a port", "10.1.1.1", []string{"203.0.113.9:5678"}, "203.0.113.9"},
		{"trusted IPv6 peer, IPv6 client", "fd00::2", []string{"2001:db8::1"}, "2001:db8::1"},
		{"trusted IPv6 peer, bracketed with port", "fd00::2", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"trusted IPv6 peer, IPv4 client", "fd00::2", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped trusted peer", "::ffff:10.1.1.1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"IPv4-mapped client entry", "10.1.1.1", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"zone dropped", "fd00::2", []string{"fe80::1%eth0"}, "fe80::1"},
	} {
		var xff [][]byte
		for _, h := range tc.xff {
			xff = append(xff, []byte(h))
		}
		if got := api.ClientAddr(netip.MustParseAddr(tc.peer), xff, trusted); got.String() != tc.want {
			t.Errorf("%s: %s; want %s", tc.name, got, tc.want)
		}
	}
}

// serveOn runs srv on a listener at addr (e.g. "[::1]:0") until the test
// ends and returns its base URL.
func serveOn(t *testing.T, srv *api.Server, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("server on %s did not stop", addr)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestRateLimitBehindTrustedProxy: with a limit of one request per 1000 s,
// each bucket takes exactly one request. From a peer that is not trusted,
// X-Forwarded-For changes nothing (a spoofed header does not escape the
// limit); from a trusted proxy, two different right-most entries are two
// clients, whatever the entries left of them say, and a missing or
// malformed header is the proxy's own bucket. Over IPv4 and IPv6 loopback.
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name, listen, trusted string
		steps                 []struct {
			xff  string // "-": no header
			want int
		}
	}{
		{"untrusted peer, spoofed header", "127.0.0.1:0", "127.0.0.2", []struct {
			xff  string
			want int
		}{{"203.0.113.1", 200}, {"203.0.113.2", 429}, {"-", 429}}},
		{"trusted IPv4 proxy", "127.0.0.1:0", "127.0.0.0/8", []struct {
			xff  string
			want int
		}{{"6.6.6.6, 203.0.113.1", 200}, {"6.6.6.6, 203.0.113.2", 200}, {"7.7.7.7, 203.0.113.1", 429},
			{"-", 200}, {"not-an-address", 429}, {"203.0.113.3,", 429}}},
		{"trusted IPv6 proxy", "[::1]:0", "::1", []struct {
			xff  string
			want int
		}{{"2001:db8::1", 200}, {"2001:db8::2", 200}, {"203.0.113.1", 200}, {"6.6.6.6, 2001:db8::1", 429}, {"-", 200}, {"", 429}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trusted, err := api.ParseTrustedProxies(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.DiscardHandler)
			store := newMemStore()
			in, err := intake.New(intake.Config{Now: func() time.Time { return time.Unix(1700000000, 0) }}, store, log)
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			srv, err := api.New(api.Config{WebhookUser: hookUser, WebhookPassword: hookPass, WebhookRate: 0.001, TrustedProxies: trusted},
				api.Deps{Intake: in, Events: store, Registry: reg, Gatherer: reg}, log)
			if err != nil {
				t.Fatal(err)
			}
			base := serveOn(t, srv, tc.listen)
			client := &http.Client{Timeout: 30 * time.Second}
			t.Cleanup(client.CloseIdleConnections)
			body := cometchattest.Fixture(t, "meeting_started", nil)
			for i, st := range tc.steps {
				req := webhookReq(body, hookUser, hookPass)
				req.URL.Scheme, req.URL.Host, req.RequestURI = "http", strings.TrimPrefix(base, "http://"), ""
				if st.xff != "-" {
					req.Header.Set("X-Forwarded-For", st.xff)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != st.want {
					t.Fatalf("step %d (X-Forwarded-For %q): %d %s; want %d", i, st.xff, resp.StatusCode, raw, st.want)
				}
			}
		})
	}
}
