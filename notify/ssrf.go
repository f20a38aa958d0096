package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Resolver resolves host names (net.DefaultResolver in production).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// URLPolicy decides which endpoints notifications may go to.
type URLPolicy struct {
	// AllowHTTP admits http:// URLs (MEETINGD_NOTIFY_ALLOW_HTTP).
	AllowHTTP bool
	// AllowPrivate admits loopback, link-local, private and other
	// non-public addresses (MEETINGD_NOTIFY_ALLOW_PRIVATE).
	AllowPrivate bool
	// Resolver resolves host names at subscription time; nil: net.DefaultResolver.
	Resolver Resolver
}

// ErrBlockedAddress is returned when an endpoint resolves to an address
// the policy refuses.
var ErrBlockedAddress = errors.New("notify: endpoint address not allowed")

// maxURLBytes bounds a subscription URL.
const maxURLBytes = 2048

// nonPublic are ranges no notification goes to, beyond what netip's
// predicates name: CGNAT, "this network", benchmarking, reserved.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Allowed reports whether the policy lets a notification go to addr.
func (p URLPolicy) Allowed(addr netip.Addr) bool {
	if p.AllowPrivate {
		return true
	}
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() ||
		addr.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Check validates a subscription URL: its form, its scheme, and every
// address its host resolves to now. The error is an *InvalidError naming "url".
func (p URLPolicy) Check(ctx context.Context, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, invalid("url", "required")
	}
	if len(raw) > maxURLBytes {
		return nil, invalid("url", "longer than %d bytes", maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid("url", "not a URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	default:
		return nil, invalid("url", "want an https:// URL")
	}
	if u.User != nil {
		return nil, invalid("url", "must not carry credentials")
	}
	if u.Fragment != "" || u.Opaque != "" {
		return nil, invalid("url", "must not have a fragment or an opaque part")
	}
	host := u.Hostname()
	if host == "" {
		return nil, invalid("url", "has no host")
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if !p.Allowed(addr) {
			return nil, invalid("url", "the address %s is loopback, link-local, private or otherwise not public", addr)
		}
		return u, nil
	}
	if !p.AllowPrivate && (strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost")) {
		return nil, invalid("url", "localhost is not allowed")
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return nil, invalid("url", "the host %q does not resolve", host)
	}
	for _, a := range addrs {
		if !p.Allowed(a) {
			return nil, invalid("url", "the host %q resolves to %s, which is loopback, link-local, private or otherwise not public", host, a)
		}
	}
	return u, nil
}

// control is a net.Dialer Control hook: it refuses to connect to an
// address the policy does not allow, whatever name resolved to it (DNS
// rebinding, a name that changed since the subscription was made).
func (p URLPolicy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBlockedAddress, address)
	}
	if !p.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
	}
	return nil
}
