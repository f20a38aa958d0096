package main

import (
	"io"
	"strings"
	"testing"
)

// TestEdgeSettings: MEETINGD_METRICS_ADDR, MEETINGD_TRUSTED_PROXIES and
// MEETINGD_WEBHOOK_CREDENTIALS parse, are checked at start naming the
// variable and the bad entry, and never quote a password.
func TestEdgeSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		bad  []string // what the error must name; nil: loads
		no   []string // what the error must not contain
	}{
		{"metrics address", map[string]string{"MEETINGD_METRICS_ADDR": "127.0.0.1:9090"}, nil, nil},
		{"metrics address not host:port", map[string]string{"MEETINGD_METRICS_ADDR": "9090"}, []string{"MEETINGD_METRICS_ADDR", `"9090"`}, nil},
		{"metrics address = listen address", map[string]string{"MEETINGD_METRICS_ADDR": "127.0.0.1:8080"}, []string{"MEETINGD_METRICS_ADDR", "MEETINGD_ADDR"}, nil},
		{"trusted proxies", map[string]string{"MEETINGD_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}, nil, nil},
		{"trusted proxies, bad entries", map[string]string{"MEETINGD_TRUSTED_PROXIES": "10.0.0.1,caddy,10.0.0.0/40"}, []string{"MEETINGD_TRUSTED_PROXIES", `"caddy"`, `"10.0.0.0/40"`}, nil},
		{"per-app credentials alone", map[string]string{"MEETINGD_WEBHOOK_USER": "", "MEETINGD_WEBHOOK_PASSWORD": "",
			"MEETINGD_WEBHOOK_CREDENTIALS": "app-1=cc:pw-secret-1,app-2=cc:pw-secret-2"}, nil, nil},
		{"per-app credentials with the single pair", map[string]string{"MEETINGD_WEBHOOK_CREDENTIALS": "app-1=cc:pw-secret-1"},
			[]string{"MEETINGD_WEBHOOK_CREDENTIALS and MEETINGD_WEBHOOK_USER/MEETINGD_WEBHOOK_PASSWORD"}, []string{"pw-secret", "hook-password"}},
		{"per-app credentials malformed", map[string]string{"MEETINGD_WEBHOOK_USER": "", "MEETINGD_WEBHOOK_PASSWORD": "",
			"MEETINGD_WEBHOOK_CREDENTIALS": "app-1=cc:pw-secret-1,app-2=pw-secret-2"}, []string{"MEETINGD_WEBHOOK_CREDENTIALS", "credential 2 (for app app-2)"}, []string{"pw-secret"}},
		{"no credentials at all", map[string]string{"MEETINGD_WEBHOOK_USER": "", "MEETINGD_WEBHOOK_PASSWORD": ""},
			[]string{"MEETINGD_WEBHOOK_CREDENTIALS: required"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MEETINGD_DATA_DIR": t.TempDir(), "MEETINGD_WEBHOOK_USER": "cometchat", "MEETINGD_WEBHOOK_PASSWORD": "hook-password"}
			for k, v := range tc.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := loadConfig("serve", true, nil, io.Discard, lookup)
			if tc.bad == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if cfg.MetricsAddr != env["MEETINGD_METRICS_ADDR"] {
					t.Errorf("MetricsAddr %q", cfg.MetricsAddr)
				}
				if v := env["MEETINGD_TRUSTED_PROXIES"]; v != "" && len(cfg.trustedProxies) != strings.Count(v, ",")+1 {
					t.Errorf("trusted proxies %v from %q", cfg.trustedProxies, v)
				}
				if v := env["MEETINGD_WEBHOOK_CREDENTIALS"]; v != "" && cfg.webhookCreds.Len() != strings.Count(v, ",")+1 {
					t.Errorf("%d webhook credentials from %q", cfg.webhookCreds.Len(), v)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded %+v; want an error", cfg)
			}
			for _, want := range tc.bad {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			for _, secret := range tc.no {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %s", err, secret)
				}
			}
		})
	}
}
