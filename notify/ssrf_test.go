package notify_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/notify"
)

func asInvalid(err error, inv **notify.InvalidError) bool { return errors.As(err, inv) }

// fakeResolver answers every name with addrs.
type fakeResolver struct{ addrs []netip.Addr }

func (f fakeResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return f.addrs, nil
}

func TestPolicyAllowed(t *testing.T) {
	strict, open := notify.URLPolicy{}, notify.URLPolicy{AllowPrivate: true}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34", true}, {"2606:2800:220:1::248", true},
		{"127.0.0.1", false}, {"::1", false}, {"10.0.0.1", false}, {"172.16.5.4", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"0.0.0.0", false}, {"::", false}, {"fc00::1", false},
		{"100.64.1.1", false}, {"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"224.0.0.1", false},
	} {
		if got := strict.Allowed(netip.MustParseAddr(tc.addr)); got != tc.ok {
			t.Errorf("Allowed(%s) = %v, want %v", tc.addr, got, tc.ok)
		}
		if !open.Allowed(netip.MustParseAddr(tc.addr)) {
			t.Errorf("AllowPrivate refuses %s", tc.addr)
		}
	}
}

func TestPolicyResolvesAtSubscription(t *testing.T) {
	p := notify.URLPolicy{Resolver: fakeResolver{[]netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.7")}}}
	if _, err := p.Check(t.Context(), "https://hooks.example.com/x"); err == nil || !strings.Contains(err.Error(), "10.0.0.7") {
		t.Fatalf("a name resolving to a private address: %v", err)
	}
	p.Resolver = fakeResolver{[]netip.Addr{netip.MustParseAddr("93.184.216.34")}}
	if _, err := p.Check(t.Context(), "https://hooks.example.com/x"); err != nil {
		t.Fatal(err)
	}
}

// A subscription made while its host was public, whose host now resolves
// to loopback (DNS rebinding): the dialer's check refuses the connection,
// the receiver gets nothing, and the attempt is a failure.
func TestDeliveryChecksTheDialledAddress(t *testing.T) {
	h := newHarness(t, notify.Config{FinalAfter: time.Minute, Policy: notify.URLPolicy{AllowHTTP: true}})
	rc := newReceiver(t, nil)
	// The harness's Subscriptions allow private addresses: as if the
	// name had resolved to a public one at subscription time.
	sub := h.subscribe("app-a", strings.Replace(rc.srv.URL, "127.0.0.1", "localhost", 1))
	h.endedMeeting("app-a", "s1")
	h.advance(time.Minute)
	eventually(t, "a refused attempt", func() bool {
		ds := h.deliveries(sub.ID, notify.StatusPending)
		return len(ds) == 1 && ds[0].Attempts == 1
	})
	d := h.deliveries(sub.ID, "")[0]
	if rc.count() != 0 || !strings.Contains(d.LastError, "not allowed") {
		t.Fatalf("receiver got %d requests; last error %q", rc.count(), d.LastError)
	}
}
