package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/billing"
	"github.com/meetingd/meetingd/eventstore/esdb"
)

// config is the whole of meetingd's configuration (API.md's table).
type config struct {
	Addr            string
	DataDir         string
	WebhookUser     string
	WebhookPassword string
	InsecureDev     bool
	APITokens       string
	EventStore      string
	MaxAppendBytes  int
	ClickHouseDSN   string
	Reports         string
	StaleAfter      time.Duration
	LogLevel        string
	WebhookRate     float64
	MappedMiB       int64
	// MetricsAddr is the listen address of GET /metrics alone; empty: the
	// main listener serves it.
	MetricsAddr string

	tokens         api.Tokens
	webhookCreds   api.WebhookCredentials
	trustedProxies []netip.Prefix
	jobs           jobConfig
	notify         notifyConfig
	prices         billing.Prices
}

// setting is one configuration variable: its environment name, its flag and its help.
type setting struct {
	env, flag, def, help string
	secret               bool
}

// settings lists every configuration variable.
func settings() []setting {
	return append([]setting{
		{"MEETINGD_ADDR", "addr", "127.0.0.1:8080", "listen address", false},
		{"MEETINGD_DATA_DIR", "data-dir", "./data", "directory of the embedded event store and read models", false},
		{"MEETINGD_WEBHOOK_USER", "webhook-user", "", "HTTP Basic user that CometChat sends", false},
		{"MEETINGD_WEBHOOK_PASSWORD", "webhook-password", "", "HTTP Basic password that CometChat sends", true},
		{"MEETINGD_WEBHOOK_CREDENTIALS", "webhook-credentials", "", "per-app HTTP Basic credentials, comma list of appId=user:password (not with MEETINGD_WEBHOOK_USER/PASSWORD)", true},
		{"MEETINGD_INSECURE_DEV", "insecure-dev", "", "1 accepts webhooks without credentials, and the development token on /v1 when MEETINGD_API_TOKENS is empty (development only)", false},
		{"MEETINGD_API_TOKENS", "api-tokens", "", "comma list of token=appId (or token=*) for /v1", true},
		{"MEETINGD_EVENTSTORE", "eventstore", "embedded", "'embedded', or an esdb:// or kurrentdb:// connection string", true},
		{"MEETINGD_EVENTSTORE_MAX_APPEND_BYTES", "eventstore-max-append-bytes", "1048576", "KurrentDB's MaxAppendSize (the server's default): an event larger than it is quarantined with the reason instead of appended", false},
		{"MEETINGD_CLICKHOUSE_DSN", "clickhouse-dsn", "", "ClickHouse DSN (clickhouse://host:9000/db); empty: no ClickHouse", true},
		reportsSetting,
		{"MEETINGD_STALE_AFTER", "stale-after", "6h", "a meeting with no end and no event for this long becomes abandoned", false},
		{"MEETINGD_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false},
		{"MEETINGD_WEBHOOK_RATE", "webhook-rate", "0", "webhook requests per second per client IP (burst: one second's worth); past it 429 with Retry-After; 0: no limit", false},
		{"MEETINGD_TRUSTED_PROXIES", "trusted-proxies", "", "comma list of proxy addresses or CIDRs whose right-most X-Forwarded-For entry is the client for the rate limit", false},
		{"MEETINGD_METRICS_ADDR", "metrics-addr", "", "listen address of a second listener for GET /metrics only (e.g. 127.0.0.1:9090); empty: the main listener serves it", false},
		{"MEETINGD_READMODEL_MAPPED_MIB", "readmodel-mapped-mib", "128", "MiB that the read-model file's mapped pages may add to the resident set before they are released to the page cache; 0: never release", false},
	}, append(append(priceSettings(), jobSettings()...), notifySettings()...)...)
}

// loadConfig reads the environment, then the flags (flags win), and validates
// the result, naming every problem at once.
func loadConfig(name string, needWebhookAuth bool, args []string, stderr io.Writer, lookupEnv func(string) (string, bool)) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := settings()
	// The flags are registered without a default value, so that the flag
	// package prints none: the usage text shows the default (or "(set)" for
	// a secret the environment sets) once, and never a secret's value.
	values := make(map[string]*string, len(all))
	defaults := make(map[string]string, len(all))
	for _, s := range all {
		def := s.def
		if v, ok := lookupEnv(s.env); ok {
			def = v
		}
		defaults[s.env] = def
		shown := def
		if s.secret && def != "" && def != s.def {
			shown = "(set)"
		}
		values[s.env] = fs.String(s.flag, "", fmt.Sprintf("%s [%s] (default %q)", s.help, s.env, shown))
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: meetingd %s [flags]\n", name)
		fs.PrintDefaults()
		if name == "serve" {
			fmt.Fprint(stderr, jobsUsage)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, usageError{err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range all {
		if !given[s.flag] {
			*values[s.env] = defaults[s.env]
		}
	}
	get := func(env string) string { return strings.TrimSpace(*values[env]) }
	cfg := config{
		Addr:            get("MEETINGD_ADDR"),
		DataDir:         get("MEETINGD_DATA_DIR"),
		WebhookUser:     get("MEETINGD_WEBHOOK_USER"),
		WebhookPassword: *values["MEETINGD_WEBHOOK_PASSWORD"],
		APITokens:       get("MEETINGD_API_TOKENS"),
		EventStore:      get("MEETINGD_EVENTSTORE"),
		ClickHouseDSN:   get("MEETINGD_CLICKHOUSE_DSN"),
		LogLevel:        get("MEETINGD_LOG_LEVEL"),
		MetricsAddr:     get("MEETINGD_METRICS_ADDR"),
	}
	var errs []error
	switch v := get("MEETINGD_INSECURE_DEV"); v {
	case "", "0", "false":
	case "1", "true":
		cfg.InsecureDev = true
	default:
		errs = append(errs, fmt.Errorf("MEETINGD_INSECURE_DEV: want 1 or 0, got %q", v))
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		errs = append(errs, fmt.Errorf("MEETINGD_ADDR: %q is not host:port", cfg.Addr))
	}
	if cfg.DataDir == "" {
		errs = append(errs, errors.New("MEETINGD_DATA_DIR: must not be empty"))
	}
	creds, err := api.ParseWebhookCredentials(get("MEETINGD_WEBHOOK_CREDENTIALS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("MEETINGD_WEBHOOK_CREDENTIALS: %w", err))
	}
	cfg.webhookCreds = creds
	perApp := get("MEETINGD_WEBHOOK_CREDENTIALS") != ""
	switch {
	case (cfg.WebhookUser != "" || cfg.WebhookPassword != "") && perApp:
		// The single pair opens every app: with it, the per-app
		// credentials would bound nothing.
		errs = append(errs, errors.New("MEETINGD_WEBHOOK_CREDENTIALS and MEETINGD_WEBHOOK_USER/MEETINGD_WEBHOOK_PASSWORD: set one or the other (the single pair would open every app)"))
	case (cfg.WebhookUser == "") != (cfg.WebhookPassword == ""):
		errs = append(errs, errors.New("MEETINGD_WEBHOOK_USER and MEETINGD_WEBHOOK_PASSWORD: set both or neither"))
	case cfg.WebhookUser == "" && !perApp && !cfg.InsecureDev && needWebhookAuth:
		errs = append(errs, errors.New("MEETINGD_WEBHOOK_USER/MEETINGD_WEBHOOK_PASSWORD or MEETINGD_WEBHOOK_CREDENTIALS: required (CometChat's Basic Auth); set MEETINGD_INSECURE_DEV=1 to run without them in development"))
	}
	if cfg.trustedProxies, err = api.ParseTrustedProxies(get("MEETINGD_TRUSTED_PROXIES")); err != nil {
		errs = append(errs, fmt.Errorf("MEETINGD_TRUSTED_PROXIES: %w", err))
	}
	if cfg.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("MEETINGD_METRICS_ADDR: %q is not host:port", cfg.MetricsAddr))
		} else if cfg.MetricsAddr == cfg.Addr && !strings.HasSuffix(cfg.Addr, ":0") {
			errs = append(errs, fmt.Errorf("MEETINGD_METRICS_ADDR: %q is MEETINGD_ADDR too; want another address", cfg.MetricsAddr))
		}
	}
	if cfg.tokens, err = api.ParseTokens(cfg.APITokens); err != nil {
		errs = append(errs, fmt.Errorf("MEETINGD_API_TOKENS: %w", err))
	}
	if cfg.EventStore != "embedded" && !esdb.IsConnectionString(cfg.EventStore) {
		errs = append(errs, errors.New("MEETINGD_EVENTSTORE: want 'embedded' or an esdb:// or kurrentdb:// connection string"))
	}
	if n, err := strconv.Atoi(get("MEETINGD_EVENTSTORE_MAX_APPEND_BYTES")); err != nil || n < 1024 {
		errs = append(errs, fmt.Errorf("MEETINGD_EVENTSTORE_MAX_APPEND_BYTES: want bytes (a whole number ≥ 1024), got %q", get("MEETINGD_EVENTSTORE_MAX_APPEND_BYTES")))
	} else {
		cfg.MaxAppendBytes = n
	}
	if cfg.ClickHouseDSN != "" && !strings.HasPrefix(cfg.ClickHouseDSN, "clickhouse://") && !strings.HasPrefix(cfg.ClickHouseDSN, "tcp://") {
		errs = append(errs, errors.New("MEETINGD_CLICKHOUSE_DSN: want clickhouse://host:port/database"))
	}
	errs = append(errs, loadReports(&cfg, get)...)
	errs = append(errs, loadPrices(&cfg, get)...)
	if d, err := time.ParseDuration(get("MEETINGD_STALE_AFTER")); err != nil || d <= 0 {
		errs = append(errs, fmt.Errorf("MEETINGD_STALE_AFTER: want a positive duration such as 6h, got %q", get("MEETINGD_STALE_AFTER")))
	} else {
		cfg.StaleAfter = d
	}
	if name == "serve" { // the jobs run in serve only; import and rebuild need no API key file
		errs = append(errs, cfg.jobs.load(get, os.ReadFile)...)
		errs = append(errs, cfg.notify.load(get)...)
	}
	if n, err := strconv.ParseInt(get("MEETINGD_READMODEL_MAPPED_MIB"), 10, 64); err != nil || n < 0 || n > 1<<40 {
		errs = append(errs, fmt.Errorf("MEETINGD_READMODEL_MAPPED_MIB: want MiB (a whole number ≥ 0; 0: never release), got %q", get("MEETINGD_READMODEL_MAPPED_MIB")))
	} else {
		cfg.MappedMiB = n
	}
	if r, err := strconv.ParseFloat(get("MEETINGD_WEBHOOK_RATE"), 64); err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		errs = append(errs, fmt.Errorf("MEETINGD_WEBHOOK_RATE: want requests per second (a number ≥ 0; 0: no limit), got %q", get("MEETINGD_WEBHOOK_RATE")))
	} else {
		cfg.WebhookRate = r
	}
	if _, err := parseLevel(cfg.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("invalid configuration:\n%w", indent(err))
	}
	return cfg, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("MEETINGD_LOG_LEVEL: want debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// indent prefixes every line of a joined error with "  - ".
func indent(err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = "  - " + l
	}
	return errors.New(strings.Join(lines, "\n"))
}

func newLogger(w io.Writer, level string) *slog.Logger {
	l, _ := parseLevel(level)
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
