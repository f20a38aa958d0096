package callsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/time/rate"

	"github.com/meetingd/meetingd/cometchat"
)

// StatusError is an answer the client gave up on: a status other than 200
// and 404, after any retries.
type StatusError struct {
	Status int
	// Body is the start of the answer, for the log.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("cometchat: HTTP %d: %s", e.Status, e.Body)
}

// Config configures a Client for one CometChat app.
type Config struct {
	// AppID and Region (us, eu, in, …) select the app's API host. Required.
	AppID, Region string
	// APIKey is the app's REST API key, sent in the apikey header. Required;
	// it never appears in errors or logs.
	APIKey string
	// BaseURL overrides https://{AppID}.call-{Region}.cometchat.io/v3 (tests).
	BaseURL string
	// HTTPClient sends the requests (default: a client with a 15s timeout).
	HTTPClient *http.Client
	// Rate bounds the requests per second to this app (default 2); Burst is
	// how many may go at once (default 1).
	Rate  float64
	Burst int
	// MaxAttempts bounds the tries of one request on 429, 5xx and transport
	// errors (default 4). RetryInitial and RetryMax shape the exponential
	// backoff between them (defaults 1s and 30s); a Retry-After longer than
	// RetryMax ends the retries.
	MaxAttempts            int
	RetryInitial, RetryMax time.Duration
	// PerPage is the page size of list requests (default 100); MaxPages
	// bounds how many pages one listing reads (default 50).
	PerPage, MaxPages int
}

func (c *Config) setDefaults() {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.Rate == 0 {
		c.Rate = 2
	}
	if c.Burst == 0 {
		c.Burst = 1
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 4
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.PerPage == 0 {
		c.PerPage = 100
	}
	if c.MaxPages == 0 {
		c.MaxPages = 50
	}
}

var (
	appIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	regionPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
)

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if !appIDPattern.MatchString(c.AppID) {
		errs = append(errs, fmt.Errorf("cometchat: app id %q: want letters, digits, '-' or '_'", c.AppID))
	}
	if !regionPattern.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("cometchat: app %s: region %q: want a region such as us, eu or in", c.AppID, c.Region))
	}
	if strings.TrimSpace(c.APIKey) == "" {
		errs = append(errs, fmt.Errorf("cometchat: app %s: API key is empty", c.AppID))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("cometchat: app %s: base URL %q is not an http(s) URL", c.AppID, c.BaseURL))
		}
	}
	if c.Rate < 0 || c.Burst < 0 || c.MaxAttempts < 0 || c.RetryInitial < 0 || c.RetryMax < 0 || c.PerPage < 0 || c.MaxPages < 0 {
		errs = append(errs, fmt.Errorf("cometchat: app %s: Rate, Burst, MaxAttempts, RetryInitial, RetryMax, PerPage and MaxPages must not be negative", c.AppID))
	}
	return errors.Join(errs...)
}

// Client reads one app's calls from the Calls REST API. It is safe for
// concurrent use; every request waits for the app's rate limiter.
type Client struct {
	cfg  Config
	base string
	lim  *rate.Limiter
	m    *Metrics
	log  *slog.Logger
}

// New returns a client of cfg's app. m may be nil (no metrics).
func New(cfg Config, m *Metrics, log *slog.Logger) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := cfg.BaseURL
	if base == "" {
		base = fmt.Sprintf("https://%s.call-%s.cometchat.io/v3", cfg.AppID, cfg.Region)
	}
	return &Client{
		cfg: cfg, base: strings.TrimRight(base, "/"), lim: rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst),
		m: m, log: log.With("app_id", cfg.AppID),
	}, nil
}

// AppID returns the client's app.
func (c *Client) AppID() string { return c.cfg.AppID }

// Call returns one call session: GET /calls/{sessionId}. A session the API
// does not know is cometchat.ErrNotFound.
func (c *Client) Call(ctx context.Context, sessionID string) (cometchat.Call, error) {
	body, err := c.get(ctx, "call", "/calls/"+url.PathEscape(sessionID), nil)
	if err != nil {
		return cometchat.Call{}, fmt.Errorf("get call %s: %w", sessionID, err)
	}
	call, err := cometchat.DecodeCall(body)
	if err != nil {
		return cometchat.Call{}, fmt.Errorf("get call %s: %w", sessionID, err)
	}
	return call, nil
}

// Ongoing lists the app's ongoing calls: GET /calls?status=ongoing, every
// page up to MaxPages.
func (c *Client) Ongoing(ctx context.Context) ([]cometchat.Call, error) {
	var calls []cometchat.Call
	for page := 1; page <= c.cfg.MaxPages; page++ {
		q := url.Values{"status": {cometchat.StatusOngoing}, "perPage": {strconv.Itoa(c.cfg.PerPage)}, "page": {strconv.Itoa(page)}}
		body, err := c.get(ctx, "list", "/calls", q)
		if err != nil {
			return nil, fmt.Errorf("list ongoing calls, page %d: %w", page, err)
		}
		p, err := cometchat.DecodePage(body)
		if err != nil {
			return nil, fmt.Errorf("list ongoing calls, page %d: %w", page, err)
		}
		calls = append(calls, p.Calls...)
		if len(p.Calls) == 0 || p.TotalPages <= page {
			return calls, nil
		}
	}
	c.log.Warn("ongoing call list truncated", "max_pages", c.cfg.MaxPages, "calls", len(calls))
	return calls, nil
}

// maxBody bounds an answer (a call has at most 50 participants).
const maxBody = 8 << 20

// get sends one GET with retries and returns the 200 body.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values) ([]byte, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	body, err := backoff.Retry(ctx, func() ([]byte, error) {
		return c.once(ctx, endpoint, u)
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: c.cfg.RetryInitial, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: c.cfg.RetryMax,
	}), backoff.WithMaxTries(uint(max(c.cfg.MaxAttempts, 1))), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			c.log.Warn("CometChat request failed; retrying", "endpoint", endpoint, "in", next.String(), "error", err)
		}))
	if err != nil {
		if re := (*retryAfter)(nil); errors.As(err, &re) {
			err = re.err // the tries ran out on a Retry-After: report the answer
		}
		return nil, err
	}
	return body, nil
}

// retryAfter is a retryable answer that named its own delay.
type retryAfter struct {
	err   error
	delay time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() []error {
	return []error{r.err, &backoff.RetryAfterError{Duration: r.delay}}
}

// once sends one request and classifies the answer: 200 → body; 404 →
// cometchat.ErrNotFound (permanent); 429 and 5xx → retryable (honouring
// Retry-After);
// anything else → permanent.
func (c *Client) once(ctx context.Context, endpoint, u string) ([]byte, error) {
	if err := c.lim.Wait(ctx); err != nil {
		return nil, backoff.Permanent(fmt.Errorf("rate limiter: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	req.Header.Set("apikey", c.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		c.m.observe(c.cfg.AppID, endpoint, "error", time.Since(start))
		if ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		return nil, fmt.Errorf("request: %w", redactURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	c.m.observe(c.cfg.AppID, endpoint, strconv.Itoa(resp.StatusCode), time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if len(body) > maxBody {
			return nil, backoff.Permanent(fmt.Errorf("%w: answer over %d bytes", cometchat.ErrDecode, maxBody))
		}
		return body, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, backoff.Permanent(cometchat.ErrNotFound)
	}
	serr := &StatusError{Status: resp.StatusCode, Body: snippet(body)}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return nil, backoff.Permanent(serr)
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		if d > c.cfg.RetryMax {
			return nil, backoff.Permanent(fmt.Errorf("%w (Retry-After %s is past the retry limit)", serr, d))
		}
		return nil, &retryAfter{err: serr, delay: d}
	}
	return nil, serr
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// snippet is the start of an answer body, for errors.
func snippet(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "?")
	return strings.TrimSpace(s)
}

// redactURL keeps a transport error's message; the URL holds no secret (the
// key travels in a header), so this only strips the query for brevity.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}
