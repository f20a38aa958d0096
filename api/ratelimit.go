package api

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// maxLimitedClients bounds how many clients' limiters are kept; the least
// recently seen client is forgotten first (and starts again with a full
// burst when it returns).
const maxLimitedClients = 10_000

// clientLimiter is a token bucket per client (its IP address): rate
// requests per second with a burst of one second's worth (at least 1).
type clientLimiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex // makes get-or-create atomic
	clients *lru.Cache[string, *rate.Limiter]
}

func newClientLimiter(perSecond float64, now func() time.Time) *clientLimiter {
	clients, _ := lru.New[string, *rate.Limiter](maxLimitedClients) // size > 0: no error
	return &clientLimiter{
		rate:    rate.Limit(perSecond),
		burst:   max(1, int(math.Ceil(perSecond))),
		now:     now,
		clients: clients,
	}
}

// allow takes a token for client, or says how long until one is due.
func (l *clientLimiter) allow(client string) (bool, time.Duration) {
	l.mu.Lock()
	lim, ok := l.clients.Get(client)
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.clients.Add(client, lim)
	}
	l.mu.Unlock()
	now := l.now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // the request is refused: give the token back
		return false, d
	}
	return true, 0
}

// ParseTrustedProxies parses MEETINGD_TRUSTED_PROXIES: a comma list of IP
// addresses or CIDR prefixes (IPv4 or IPv6). An error names every bad entry.
func ParseTrustedProxies(spec string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		var err error
		if strings.Contains(item, "/") {
			p, err = netip.ParsePrefix(item)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(item); err == nil && a.Zone() != "" {
				err = errors.New("zone")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: want an IP address or a CIDR prefix (10.0.0.0/8, fd00::/8)", item))
			continue
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:10.0.0.1 is 10.0.0.1
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, errors.Join(errs...)
}

// clientAddr is the address a request is rate-limited by: the TCP peer,
// or, when the peer is one of the trusted proxies, the right-most entry of
// X-Forwarded-For (the one that proxy appended: the entries left of it are
// whatever the client sent). A missing or unreadable entry falls back to
// the peer. fiber's ProxyHeader is not used: it takes the left-most entry.
func clientAddr(peer netip.Addr, forwardedFor [][]byte, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap()
	if len(forwardedFor) == 0 || !contains(trusted, peer) {
		return peer
	}
	last := string(forwardedFor[len(forwardedFor)-1]) // the last header line, if several
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimSpace(last)
	a, err := netip.ParseAddr(last)
	if err != nil {
		ap, perr := netip.ParseAddrPort(last) // "1.2.3.4:5678", "[::1]:5678"
		if perr != nil {
			return peer
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// rateLimit refuses a client's requests past its rate with 429, a
// Retry-After header (whole seconds, at least 1) and a JSON error. The
// request is answered, never dropped: CometChat retries a 429, so a limited
// delivery is delayed, not lost. Clients are told apart by clientAddr.
// onLimit counts the refusal.
func rateLimit(l *clientLimiter, trusted []netip.Prefix, onLimit func(c *fiber.Ctx)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
		var xff [][]byte
		if len(trusted) > 0 {
			xff = c.Request().Header.PeekAll(fiber.HeaderXForwardedFor)
		}
		ok, wait := l.allow(clientAddr(peer, xff, trusted).String())
		if ok {
			return c.Next()
		}
		onLimit(c)
		secs := int(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, secs)))
		return httpError(fiber.StatusTooManyRequests, "too many requests from this client: retry after %d s", max(1, secs))
	}
}
