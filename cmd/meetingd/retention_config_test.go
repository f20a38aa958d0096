package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"400d", 400 * 24 * time.Hour, false},
		{" 30d ", 30 * 24 * time.Hour, false},
		{"9600h", 9600 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"-1d", 0, true},
		{"0d", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"-5h", 0, true},
		{"forever", 0, true},
		{"99999999d", 0, true},
	} {
		got, err := parseRetention(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("parseRetention(%q) = %s, %v; want %s, error %v", c.in, got, err, c.want, c.bad)
		}
		if err != nil && !strings.Contains(err.Error(), "MEETINGD_RETENTION") {
			t.Errorf("parseRetention(%q): the error %q does not name the setting", c.in, err)
		}
	}
}

func TestRetentionNeedsTheStaleSchedule(t *testing.T) {
	env := map[string]string{"MEETINGD_RETENTION": "400d", "MEETINGD_STALE_SCHEDULE": "off"}
	var c jobConfig
	get := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		for _, s := range jobSettings() {
			if s.env == k {
				return s.def
			}
		}
		return ""
	}
	errs := c.load(get, nil)
	found := false
	for _, err := range errs {
		found = found || strings.Contains(err.Error(), "MEETINGD_RETENTION")
	}
	if !found {
		t.Fatalf("retention with the stale schedule off: errors %v, want one naming MEETINGD_RETENTION", errs)
	}
	env["MEETINGD_STALE_SCHEDULE"] = "@every 1m"
	c = jobConfig{}
	if errs := c.load(get, nil); len(errs) > 0 || c.Retention != 400*24*time.Hour {
		t.Fatalf("load: %v, retention %s", errs, c.Retention)
	}
}
