package main

import (
	"io"
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
