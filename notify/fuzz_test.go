package notify_test

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/meetingd/meetingd/notify"
)

// FuzzURLPolicyCheck: any string is refused with an *InvalidError naming
// url, or accepted as an https URL with a host, no credentials and no
// fragment; never a panic.
func FuzzURLPolicyCheck(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://example.com", "https://127.0.0.1/", "https://[::1]:8443/x",
		"https://user:pw@example.com/", "https://example.com/#frag", "https://%zz/", "https://localhost./", "https://0x7f.1/", "",
		"https://[fe80::1%25eth0]/", "https://exa mple.com/", "HTTPS://EXAMPLE.COM/"} {
		f.Add(s)
	}
	p := notify.URLPolicy{Resolver: fakeResolver{[]netip.Addr{netip.MustParseAddr("93.184.216.34")}}}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := p.Check(t.Context(), raw)
		if err != nil {
			var inv *notify.InvalidError
			if !errors.As(err, &inv) || inv.Param != "url" {
				t.Fatalf("Check(%q) = %v, want an *InvalidError naming url", raw, err)
			}
			return
		}
		if u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
			t.Fatalf("Check(%q) accepted %q", raw, u)
		}
		if _, err := url.Parse(u.String()); err != nil {
			t.Fatalf("accepted %q does not parse again: %v", u, err)
		}
	})
}

// FuzzDeliveriesParams: any status, limit and cursor of the delivery log
// give a page or an *InvalidError naming the parameter; never a panic.
func FuzzDeliveriesParams(f *testing.F) {
	for _, s := range []string{"", "pending", "delivered", "failed", "bogus"} {
		f.Add(s, 100, "")
	}
	f.Add("", 1, "AAAA")
	f.Add("failed", 0, "!!")
	f.Add("", 1001, "ZmFrZS1jdXJzb3I")
	h := newHarness(f, notify.Config{})
	f.Fuzz(func(t *testing.T, status string, limit int, cursor string) {
		_, err := h.n.Deliveries(t.Context(), "00000000-0000-0000-0000-000000000000", status, limit, cursor)
		if err == nil {
			return
		}
		var inv *notify.InvalidError
		if !errors.As(err, &inv) {
			t.Fatalf("Deliveries(%q, %d, %q) = %v, want an *InvalidError", status, limit, cursor, err)
		}
	})
}
