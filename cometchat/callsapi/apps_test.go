package callsapi_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/cometchat/callsapi"
)

func TestParseApps(t *testing.T) {
	files := map[string]string{"/run/secrets/k1": "  key-from-file\n"}
	readFile := func(name string) ([]byte, error) {
		if v, ok := files[name]; ok {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
	}
	tests := []struct {
		name    string
		spec    string
		want    []callsapi.App
		wantErr []string
	}{
		{"empty", "  ", nil, nil},
		{"inline and file", "31780434a95d45:us:secret-inline-1, 2a0b:EU:@/run/secrets/k1", []callsapi.App{
			{AppID: "31780434a95d45", Region: "us", APIKey: "secret-inline-1"},
			{AppID: "2a0b", Region: "eu", APIKey: "key-from-file", KeyFile: "/run/secrets/k1"},
		}, nil},
		{"every problem at once", "a:us,b:us:@/missing,c::secret-inline-2,d:us:,e:us:k,e:us:secret-inline-3",
			nil, []string{"entry 1: want appId:region:key", `app "b": read key file`, "entry 3", "region", "entry 4", "API key is empty", `app "e": configured twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := callsapi.ParseApps(tc.spec, readFile)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "secret-inline") {
					t.Errorf("error leaks a key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := callsapi.Secret("hunter2")
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "key", s, "app", callsapi.App{AppID: "a", APIKey: s})
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, callsapi.App{APIKey: s}, s, s), logs.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal lost the value")
	}
	if errors.Is(nil, fs.ErrNotExist) {
		t.Fatal("unreachable")
	}
}
