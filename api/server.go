package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meetingd/meetingd/codec"
)

// BodyLimit is the largest webhook body accepted.
const BodyLimit = 1 << 20

// Config configures the HTTP server.
type Config struct {
	// WebhookUser and WebhookPassword are the Basic credentials CometChat
	// sends, valid for every app. Both empty only with InsecureDev or
	// WebhookCredentials.
	WebhookUser, WebhookPassword string
	// WebhookCredentials are per-app Basic credentials
	// (MEETINGD_WEBHOOK_CREDENTIALS): a webhook whose appId is not its
	// credential's app is refused with 403 and nothing is stored. Not
	// together with WebhookUser/WebhookPassword, which would open every app.
	WebhookCredentials WebhookCredentials
	// InsecureDev accepts webhooks without credentials (development only).
	InsecureDev bool
	// Tokens are the bearer tokens of /v1.
	Tokens Tokens
	// ReadTimeout, WriteTimeout and IdleTimeout bound slow clients
	// (defaults 10s, 10s, 60s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds the wait for requests in flight (default 10s).
	ShutdownTimeout time.Duration
	// QueryTimeout bounds one read of the event log by /v1 (a page of a
	// session's events or of the quarantine); past it the answer is 503.
	// Default 15s, the reports' bound.
	QueryTimeout time.Duration
	// WebhookRate caps the webhook requests per second of each client (by
	// IP address), with a burst of one second's worth; past it the intake
	// answers 429 with Retry-After. 0 turns the limit off.
	WebhookRate float64
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// for the rate limit (see ParseTrustedProxies); from any other peer the
	// client is the TCP peer.
	TrustedProxies []netip.Prefix
	// SeparateMetrics leaves GET /metrics off the main listener: RunMetrics
	// serves it, alone, on a listener of its own (MEETINGD_METRICS_ADDR).
	SeparateMetrics bool
}

func (c *Config) setDefaults() {
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 10 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = queryTimeout
	}
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	switch single := c.WebhookUser != "" || c.WebhookPassword != ""; {
	case single && c.WebhookCredentials.Len() > 0:
		errs = append(errs, errors.New("webhook credentials: set either the single user and password (every app) or the per-app credentials, not both"))
	case single && (c.WebhookUser == "" || c.WebhookPassword == ""):
		errs = append(errs, errors.New("webhook credentials: set both user and password"))
	case !single && c.WebhookCredentials.Len() == 0 && !c.InsecureDev:
		errs = append(errs, errors.New("webhook credentials: set a user and password, or per-app credentials (or the insecure development mode)"))
	}
	if c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.ShutdownTimeout < 0 || c.QueryTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if c.WebhookRate < 0 || math.IsNaN(c.WebhookRate) || math.IsInf(c.WebhookRate, 0) {
		errs = append(errs, errors.New("webhook rate must be a non-negative number (0: no limit)"))
	}
	return errors.Join(errs...)
}

// Deps are the parts of meetingd that the HTTP server calls.
type Deps struct {
	Intake Ingester
	Events EventReader
	// Reports serves the /v1 reports; nil leaves those routes out.
	Reports ReportRoutes
	// Subscriptions serves /v1/subscriptions; nil leaves those routes out.
	// Deliveries serves their delivery logs; nil (a replica that does not
	// deliver notifications) answers those 503.
	Subscriptions SubscriptionService
	Deliveries    DeliveryLog
	// Plans serves the attendance plans (PlanRoutes); nil leaves them out.
	Plans ReportRoutes
	// Erasures serves /v1/erasures; nil leaves those routes out.
	Erasures ErasureService
	// Ready lists what /readyz checks.
	Ready []Pinger
	// Live lists what /healthz (and /readyz) check: failures that only a
	// restart cures, such as an event log that failed-stop.
	Live []HealthChecker
	// Registry receives the API's metrics; Gatherer serves /metrics.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
}

// Pinger is something /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HealthChecker is something /healthz checks. Health fails only when the
// process must be restarted, never because a dependency is unreachable
// (that is Pinger's, for /readyz): the orchestrator restarts a process
// whose liveness probe fails.
type HealthChecker interface {
	Health(ctx context.Context) error
}

// ReportRoutes mounts the report endpoints on the authenticated /v1 group.
type ReportRoutes interface {
	Mount(v1 fiber.Router)
}

// Server is meetingd's HTTP server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	deps    Deps
	metrics *Metrics
	app     *fiber.App
	// metricsApp serves GET /metrics alone; nil unless SeparateMetrics.
	metricsApp *fiber.App
}

// New builds the server and its routes. A nil log logs nothing.
func New(cfg Config, deps Deps, log *slog.Logger) (*Server, error) {
	cfg.setDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Intake == nil || deps.Events == nil || deps.Registry == nil || deps.Gatherer == nil {
		errs = append(errs, errors.New("api: Intake, Events, Registry and Gatherer are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m, err := NewMetrics(deps.Registry)
	if err != nil {
		return nil, fmt.Errorf("api metrics: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, deps: deps, metrics: m}
	s.app = fiber.New(s.fiberConfig())
	s.routes()
	if cfg.SeparateMetrics {
		s.metricsApp = fiber.New(s.fiberConfig())
		s.metricsApp.Use(finishBody, recover.New())
		s.metricsApp.Get("/metrics", s.metricsHandler())
	}
	return s, nil
}

// fiberConfig is the configuration of both listeners' apps.
func (s *Server) fiberConfig() fiber.Config {
	return fiber.Config{
		AppName: "meetingd",
		// Bodies are streamed past BodyLimit so that the webhook handler can
		// answer an oversized one with a JSON 413 after draining it, instead
		// of the connection being reset under the client's feet.
		BodyLimit:         BodyLimit,
		StreamRequestBody: true,
		// Nothing in meetingd takes multipart forms. fasthttp would otherwise
		// read a multipart/form-data body whole (into memory up to 16 MiB a
		// file, past BodyLimit) before any route, authentication or rate
		// limit runs; disabled, it is a stream like any other body.
		DisablePreParseMultipartForm: true,
		// One spelling per route: /metrics/ or /METRICS are not /metrics
		// (a proxy that blocks a path must not be bypassed by another
		// spelling of it).
		StrictRouting:         true,
		CaseSensitive:         true,
		ReadTimeout:           s.cfg.ReadTimeout,
		WriteTimeout:          s.cfg.WriteTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(s.log),
		// encoding/json's bytes, with unknown (zero) times as null.
		JSONEncoder: codec.MarshalAnswer,
	}
}

// App exposes the fiber app (for tests with app.Test).
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
}

func (s *Server) routes() {
	s.app.Use(finishBody)
	s.app.Use(recover.New())
	s.app.Use(requestid.New())
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/readyz", s.ready)
	if !s.cfg.SeparateMetrics {
		s.app.Get("/metrics", s.metricsHandler())
	}
	s.app.Get("/openapi.json", serveOpenAPI)

	hook := s.app.Group("/webhooks")
	if s.cfg.WebhookRate > 0 {
		// Before authentication: it also slows down credential guessing.
		hook.Use(rateLimit(newClientLimiter(s.cfg.WebhookRate, time.Now), s.cfg.TrustedProxies, func(*fiber.Ctx) {
			s.metrics.webhook("", "rate_limited")
		}))
	}
	creds := s.cfg.WebhookCredentials
	if s.cfg.WebhookUser != "" {
		creds = SingleWebhookCredential(s.cfg.WebhookUser, s.cfg.WebhookPassword)
	}
	if creds.Len() > 0 { // none: the insecure development mode (Validate)
		hook.Use(webhookAuth(creds, func(*fiber.Ctx) {
			s.metrics.webhook("", "unauthorized")
		}))
	}
	hook.Post("/cometchat", s.webhook)

	v1 := s.app.Group("/v1", bearer(s.cfg.Tokens))
	v1.Get("/quarantine", s.quarantine)
	v1.Get("/meetings/:sessionId/events", s.events)
	if s.deps.Reports != nil {
		s.deps.Reports.Mount(v1)
	}
	if s.deps.Subscriptions != nil {
		s.mountSubscriptions(v1)
	}
	if s.deps.Plans != nil {
		s.deps.Plans.Mount(v1)
	}
	if s.deps.Erasures != nil {
		s.mountErasures(v1)
	}
}

func (s *Server) healthz(c *fiber.Ctx) error {
	if err := s.health(c.UserContext()); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "failed", "error": err.Error()})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// health runs the liveness checks, logging a failure.
func (s *Server) health(ctx context.Context) error {
	for _, h := range s.deps.Live {
		if err := h.Health(ctx); err != nil {
			s.log.Error("not live: restart meetingd", "error", err)
			return err
		}
	}
	return nil
}

func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.health(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": err.Error()})
	}
	for _, p := range s.deps.Ready {
		if err := p.Ping(ctx); err != nil {
			s.log.Warn("not ready", "error", err)
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": err.Error()})
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// Run serves on ln until ctx is done, then stops accepting connections and
// waits up to ShutdownTimeout for requests in flight (appends finish, their
// answers go out).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.run(ctx, s.app, ln, "http")
}

// RunMetrics serves GET /metrics alone on ln until ctx is done, like Run;
// only with Config.SeparateMetrics.
func (s *Server) RunMetrics(ctx context.Context, ln net.Listener) error {
	if s.metricsApp == nil {
		return errors.New("metrics listener: the server was built without SeparateMetrics")
	}
	return s.run(ctx, s.metricsApp, ln, "metrics http")
}

func (s *Server) run(ctx context.Context, app *fiber.App, ln net.Listener, name string) error {
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", name, err)
	case <-ctx.Done():
	}
	err := app.ShutdownWithTimeout(s.cfg.ShutdownTimeout)
	// Shutdown closes only the listeners the server has registered: when ctx
	// ends before the serving goroutine registered ln, it would serve on,
	// and Run would wait for it forever. Closing ln ends it either way.
	_ = ln.Close()
	if err != nil {
		return fmt.Errorf("%s shutdown: %w", name, err)
	}
	return <-errc
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return id
}
