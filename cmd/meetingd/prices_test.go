package main

import (
	"io"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/billing"
)

func TestPriceSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want billing.Prices
		bad  []string // variables the error must name
	}{
		{name: "defaults", want: billing.Defaults()},
		{name: "environment", env: map[string]string{"MEETINGD_PRICE_AUDIO_PER_MINUTE": "0.0004", "MEETINGD_PRICE_VIDEO_PER_MINUTE": "0.0015", "MEETINGD_PRICE_CURRENCY": "EUR"},
			want: billing.Prices{Audio: billing.MustPrice("0.0004"), Video: billing.MustPrice("0.0015"), Currency: "EUR"}},
		{name: "flags win", env: map[string]string{"MEETINGD_PRICE_AUDIO_PER_MINUTE": "0.5"},
			args: []string{"-price-audio-per-minute", "0.002", "-price-currency", "INR"},
			want: billing.Prices{Audio: billing.MustPrice("0.002"), Video: billing.MustPrice("0.003"), Currency: "INR"}},
		{name: "free", env: map[string]string{"MEETINGD_PRICE_AUDIO_PER_MINUTE": "0", "MEETINGD_PRICE_VIDEO_PER_MINUTE": "0"},
			want: billing.Prices{Currency: "USD"}},
		{name: "negative, exponent, bad currency", env: map[string]string{"MEETINGD_PRICE_AUDIO_PER_MINUTE": "-1",
			"MEETINGD_PRICE_VIDEO_PER_MINUTE": "3e-3", "MEETINGD_PRICE_CURRENCY": "usd"},
			bad: []string{"MEETINGD_PRICE_AUDIO_PER_MINUTE", "MEETINGD_PRICE_VIDEO_PER_MINUTE", "MEETINGD_PRICE_CURRENCY"}},
		{name: "too many decimals, not a number, empty currency", env: map[string]string{"MEETINGD_PRICE_AUDIO_PER_MINUTE": "0.0000000001",
			"MEETINGD_PRICE_VIDEO_PER_MINUTE": "cheap", "MEETINGD_PRICE_CURRENCY": ""},
			bad: []string{"MEETINGD_PRICE_AUDIO_PER_MINUTE", "MEETINGD_PRICE_VIDEO_PER_MINUTE", "MEETINGD_PRICE_CURRENCY"}},
		{name: "over the bound", env: map[string]string{"MEETINGD_PRICE_VIDEO_PER_MINUTE": "1000.5"}, bad: []string{"MEETINGD_PRICE_VIDEO_PER_MINUTE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MEETINGD_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := loadConfig("rebuild", false, tc.args, io.Discard, lookup)
			if len(tc.bad) > 0 {
				if err == nil {
					t.Fatalf("accepted: %+v", cfg.prices)
				}
				for _, name := range tc.bad {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error does not name %s: %v", name, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.prices != tc.want {
				t.Fatalf("prices %+v, want %+v", cfg.prices, tc.want)
			}
		})
	}
}
