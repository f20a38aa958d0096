package api

import (
	"math"
	"strconv"
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

// rateLimit refuses a client's requests past its rate with 429, a
// Retry-After header (whole seconds, at least 1) and a JSON error. The
// request is answered, never dropped: CometChat retries a 429, so a limited
// delivery is delayed, not lost. onLimit counts the refusal.
func rateLimit(l *clientLimiter, onLimit func(c *fiber.Ctx)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ok, wait := l.allow(c.IP())
		if ok {
			return c.Next()
		}
		onLimit(c)
		secs := int(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, secs)))
		return httpError(fiber.StatusTooManyRequests, "too many requests from this client: retry after %d s", max(1, secs))
	}
}
