package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestNotifySettings(t *testing.T) {
	defaults := notifyConfig{Enabled: true, FinalAfter: 2 * time.Minute, RetryMin: 5 * time.Second}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want notifyConfig
		bad  string // the variable the error names; "" : valid
	}{
		{"defaults", nil, nil, defaults, ""},
		{"env", map[string]string{"MEETINGD_FINAL_AFTER": "30s", "MEETINGD_NOTIFY_RETRY_MIN": "1s", "MEETINGD_NOTIFY_ALLOW_HTTP": "1", "MEETINGD_NOTIFY_ALLOW_PRIVATE": "true", "MEETINGD_NOTIFY": "off"}, nil,
			notifyConfig{FinalAfter: 30 * time.Second, RetryMin: time.Second, AllowHTTP: true, AllowPrivate: true}, ""},
		{"flags win", map[string]string{"MEETINGD_FINAL_AFTER": "30s"}, []string{"-final-after", "5m", "-notify-allow-http", "1", "-notify", "on"},
			notifyConfig{Enabled: true, FinalAfter: 5 * time.Minute, RetryMin: 5 * time.Second, AllowHTTP: true}, ""},
		{"final after not a duration", map[string]string{"MEETINGD_FINAL_AFTER": "soon"}, nil, notifyConfig{}, "MEETINGD_FINAL_AFTER"},
		{"final after under 100ms", map[string]string{"MEETINGD_FINAL_AFTER": "50ms"}, nil, notifyConfig{}, "MEETINGD_FINAL_AFTER"},
		{"final after over a day", map[string]string{"MEETINGD_FINAL_AFTER": "25h"}, nil, notifyConfig{}, "MEETINGD_FINAL_AFTER"},
		{"retry min too small", map[string]string{"MEETINGD_NOTIFY_RETRY_MIN": "1ms"}, nil, notifyConfig{}, "MEETINGD_NOTIFY_RETRY_MIN"},
		{"retry min negative", map[string]string{"MEETINGD_NOTIFY_RETRY_MIN": "-5s"}, nil, notifyConfig{}, "MEETINGD_NOTIFY_RETRY_MIN"},
		{"allow http yes", map[string]string{"MEETINGD_NOTIFY_ALLOW_HTTP": "yes"}, nil, notifyConfig{}, "MEETINGD_NOTIFY_ALLOW_HTTP"},
		{"allow private 2", map[string]string{"MEETINGD_NOTIFY_ALLOW_PRIVATE": "2"}, nil, notifyConfig{}, "MEETINGD_NOTIFY_ALLOW_PRIVATE"},
		{"notify maybe", map[string]string{"MEETINGD_NOTIFY": "maybe"}, nil, notifyConfig{}, "MEETINGD_NOTIFY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MEETINGD_DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := loadConfig("serve", false, tc.args, io.Discard, lookup)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad+":") {
					t.Fatalf("error %v; want one naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.notify != tc.want {
				t.Fatalf("notify config %+v, want %+v", cfg.notify, tc.want)
			}
		})
	}
}
