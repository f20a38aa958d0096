package main

import (
	"errors"
	"flag"
	"io"
	"math"
	"net"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/api"
	"github.com/meetingd/meetingd/eventstore/esdb"
)

// FuzzLoadConfig feeds the configuration loader arbitrary values for the
// variables with a syntax of their own (through the environment, and the
// listen address also as a flag): it never panics; it either fails naming
// the variables it refuses, or returns a configuration whose every field
// is valid; and no secret (the webhook password, a per-app webhook
// password, a token, credentials in the event store's connection string or
// the ClickHouse DSN) is ever quoted in its error.
func FuzzLoadConfig(f *testing.F) {
	f.Add("127.0.0.1:8080", "embedded", "tok-aaaaaaaaaaaaaaaa=app", "6h", "0", "info", "", "", "", "")
	f.Add("[::1]:0", "kurrentdb://u:p@h:2113?tls=false", "t=*", "-1s", "2.5", "DEBUG", "clickhouse://u:p@h:9000/db", "app-1=cc:pw", "10.0.0.0/8,::1", "127.0.0.1:9090")
	f.Add(":x", "esdb://", ",,,", "1e9h", "-1", "trace", "tcp://h", "app-1=cc", "caddy", "9090")
	f.Add("host", "redis://", "=", "NaN", "NaN", "", "mysql://", "=u:p,app-2=:p", "10.0.0.0/33", "[::1]:9090")
	f.Add("1.2.3.4:80", "embedded ", "a=b=c", "0", "+Inf", "warn", " ", "app-1=cc:same,app-2=cc:same", "fe80::1%eth0", "1.2.3.4:80")
	f.Add("127.0.0.1:8080", "embedded", "", "6h", "0", "info", "", " app-1=cc:p:w=1 , app-1=cc:next ", "::ffff:10.0.0.1, 192.168.0.0/16", "")
	f.Fuzz(func(t *testing.T, addr, store, tokens, stale, rate, level, ch, creds, proxies, metricsAddr string) {
		env := map[string]string{
			"MEETINGD_DATA_DIR":         t.TempDir(),
			"MEETINGD_EVENTSTORE":       store,
			"MEETINGD_API_TOKENS":       tokens + ",⟪s⟫=app-x",
			"MEETINGD_STALE_AFTER":      stale,
			"MEETINGD_WEBHOOK_RATE":     rate,
			"MEETINGD_LOG_LEVEL":        level,
			"MEETINGD_CLICKHOUSE_DSN":   ch,
			"MEETINGD_WEBHOOK_USER":     "cometchat",
			"MEETINGD_WEBHOOK_PASSWORD": "⟪password⟫",
			// Refused with the single pair; and never quoted.
			"MEETINGD_WEBHOOK_CREDENTIALS": creds + ",app-y=cc-y:⟪app-password⟫",
			"MEETINGD_TRUSTED_PROXIES":     proxies,
			"MEETINGD_METRICS_ADDR":        metricsAddr,
		}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		for _, name := range []string{"import", "rebuild"} {
			cfg, err := loadConfig(name, false, []string{"-addr", addr}, io.Discard, lookup)
			if err == nil {
				t.Fatalf("accepted a token shorter than 16 characters: %+v", cfg)
			}
			var u usageError
			if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
				continue // the flag itself did not parse (addr starting with "-")
			}
			msg := err.Error()
			if strings.Contains(msg, "⟪") && !strings.Contains(addr+store+tokens+stale+rate+level+ch, "⟪") {
				t.Fatalf("the error quotes a secret:\n%s", msg)
			}
			for _, v := range []string{"MEETINGD_API_TOKENS", "MEETINGD_WEBHOOK_CREDENTIALS"} {
				if !strings.Contains(msg, v) {
					t.Fatalf("the error does not name %s:\n%s", v, msg)
				}
			}
		}
		// Without the bad token and with one kind of webhook credentials,
		// what loads is valid.
		env["MEETINGD_API_TOKENS"] = tokens
		env["MEETINGD_WEBHOOK_CREDENTIALS"] = creds
		if strings.TrimSpace(creds) != "" {
			delete(env, "MEETINGD_WEBHOOK_USER")
			delete(env, "MEETINGD_WEBHOOK_PASSWORD")
		}
		cfg, err := loadConfig("import", false, []string{"-addr", addr}, io.Discard, lookup)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid configuration:") && !errors.As(err, new(usageError)) {
				t.Fatalf("error %q", err)
			}
			return
		}
		if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
			t.Fatalf("accepted address %q", cfg.Addr)
		}
		if cfg.EventStore != "embedded" && !esdb.IsConnectionString(cfg.EventStore) {
			t.Fatalf("accepted event store %q", cfg.EventStore)
		}
		if cfg.StaleAfter <= 0 || cfg.WebhookRate < 0 || math.IsNaN(cfg.WebhookRate) || math.IsInf(cfg.WebhookRate, 0) {
			t.Fatalf("accepted stale-after %v, rate %v", cfg.StaleAfter, cfg.WebhookRate)
		}
		if _, err := parseLevel(cfg.LogLevel); err != nil {
			t.Fatalf("accepted log level %q", cfg.LogLevel)
		}
		if err := (api.Config{WebhookUser: cfg.WebhookUser, WebhookPassword: cfg.WebhookPassword, WebhookCredentials: cfg.webhookCreds}).Validate(); err != nil {
			t.Fatalf("accepted webhook credentials that the server refuses: %v", err)
		}
		for _, p := range cfg.trustedProxies {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("accepted trusted proxy %v", p)
			}
		}
		if cfg.MetricsAddr != "" {
			if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
				t.Fatalf("accepted metrics address %q", cfg.MetricsAddr)
			}
		}
	})
}
