package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestMappedMiBSetting(t *testing.T) {
	for _, tc := range []struct {
		value string // "" = unset
		want  int64
		bad   bool
	}{
		{"", 128, false},
		{"0", 0, false},
		{"512", 512, false},
		{"-1", 0, true},
		{"1.5", 0, true},
		{"lots", 0, true},
		{"99999999999999999999", 0, true},
	} {
		env := map[string]string{"MEETINGD_DATA_DIR": t.TempDir()}
		if tc.value != "" {
			env["MEETINGD_READMODEL_MAPPED_MIB"] = tc.value
		}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		cfg, err := loadConfig("rebuild", false, nil, io.Discard, lookup)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "MEETINGD_READMODEL_MAPPED_MIB") {
				t.Errorf("%q: error %v; want one naming MEETINGD_READMODEL_MAPPED_MIB", tc.value, err)
			}
			continue
		}
		if err != nil || cfg.MappedMiB != tc.want {
			t.Errorf("%q: MappedMiB %d, %v; want %d", tc.value, cfg.MappedMiB, err, tc.want)
		}
	}
}

// gcPercent returns the collector's current GOGC (-1: off).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestRebuildGC(t *testing.T) {
	before, beforeLimit := gcPercent(), debug.SetMemoryLimit(-1)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want func(percent int, limit int64) bool
	}{
		{"GOGC set: untouched", map[string]string{"GOGC": "200"}, func(p int, l int64) bool { return p == before && l == beforeLimit }},
		{"GOMEMLIMIT set: collect near it", map[string]string{"GOMEMLIMIT": "1GiB"}, func(p int, l int64) bool { return p == -1 }},
		{"neither: a limit found, or GOGC 400", map[string]string{}, func(p int, l int64) bool {
			return (p == -1 && l > 0 && l < math.MaxInt64) || p == rebuildGCPercent
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restore := rebuildGC(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }, slog.New(slog.DiscardHandler))
			p, l := gcPercent(), debug.SetMemoryLimit(-1)
			restore()
			if !tc.want(p, l) {
				t.Errorf("during the rebuild: GOGC %d, memory limit %d", p, l)
			}
			if gcPercent() != before || debug.SetMemoryLimit(-1) != beforeLimit {
				t.Errorf("not restored: GOGC %d, memory limit %d", gcPercent(), debug.SetMemoryLimit(-1))
			}
		})
	}
}

// TestUsageShowsEachDefaultOnce checks the -h text: every setting's default
// once (the flag package printed the flag's default again after ours), and a
// secret that the environment sets as "(set)", never its value.
func TestUsageShowsEachDefaultOnce(t *testing.T) {
	env := map[string]string{"MEETINGD_WEBHOOK_PASSWORD": "hunter2", "MEETINGD_ADDR": "127.0.0.1:9999"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var out strings.Builder
	if _, err := loadConfig("serve", true, []string{"-h"}, &out, lookup); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("loadConfig -h: %v", err)
	}
	help := out.String()
	if strings.Contains(help, "hunter2") {
		t.Errorf("the usage text shows the webhook password:\n%s", help)
	}
	for _, want := range []string{`[MEETINGD_WEBHOOK_PASSWORD] (default "(set)")`, `[MEETINGD_ADDR] (default "127.0.0.1:9999")`} {
		if !strings.Contains(help, want) {
			t.Errorf("the usage text lacks %s", want)
		}
	}
	if got, want := strings.Count(help, "(default "), len(settings()); got != want {
		t.Errorf("%d defaults shown for %d settings:\n%s", got, want, help)
	}
}

// TestSettingPrecedence checks where a setting's value comes from: the flag,
// else the environment, else the default.
func TestSettingPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		args      []string
		want      string
	}{
		{"default", "", nil, "info"},
		{"environment", "warn", nil, "warn"},
		{"flag over environment", "warn", []string{"-log-level", "error"}, "error"},
		{"flag without environment", "", []string{"-log-level", "debug"}, "debug"},
		{"flag set to the empty string", "warn", []string{"-log-level="}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MEETINGD_DATA_DIR": t.TempDir()}
			if tc.env != "" {
				env["MEETINGD_LOG_LEVEL"] = tc.env
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := loadConfig("rebuild", false, tc.args, io.Discard, lookup)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "MEETINGD_LOG_LEVEL") {
					t.Errorf("an empty log level: error %v, want one naming MEETINGD_LOG_LEVEL", err)
				}
				return
			}
			if err != nil || cfg.LogLevel != tc.want {
				t.Errorf("LogLevel %q, %v; want %q", cfg.LogLevel, err, tc.want)
			}
		})
	}
}
