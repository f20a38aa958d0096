package bytescan_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/meetingd/meetingd/internal/bytescan"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.db", "\x00\x00Ann\x00free page")
	write("sub/b.db", `{"name":"M\u00efgrant"}`)
	write("sub/c.log", "nothing here")
	for _, tc := range []struct {
		name    string
		needles []string
		skip    func(string) bool
		want    []bytescan.Hit
	}{
		{"none", []string{"Zed"}, nil, nil},
		{"raw bytes", []string{"Ann"}, nil, []bytescan.Hit{{filepath.Join(dir, "a.db"), "Ann"}}},
		{"escaped form", bytescan.Forms("Mïgrant"), nil, []bytescan.Hit{{filepath.Join(dir, "sub/b.db"), `M\u00efgrant`}}},
		{"skipped file", []string{"Ann", "here"}, func(p string) bool { return filepath.Ext(p) == ".db" },
			[]bytescan.Hit{{filepath.Join(dir, "sub/c.log"), "here"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bytescan.Find(dir, tc.needles, tc.skip)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Find = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := bytescan.Find(filepath.Join(dir, "missing"), []string{"x"}, nil); err == nil {
		t.Error("a missing directory is not an error")
	}
}

func TestForms(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"Ann"}, []string{"Ann"}},
		{[]string{"Mïgrant"}, []string{"Mïgrant", `M\u00efgrant`, `M\u00EFgrant`}},
		{[]string{"<b>", "Ann", "Ann"}, []string{"<b>", `\u003cb\u003e`, "Ann"}},
		{[]string{"A😀"}, []string{"A😀", `A\ud83d\ude00`, `A\uD83D\uDE00`}},
		{[]string{""}, nil},
	} {
		if got := bytescan.Forms(tc.in...); !slices.Equal(got, tc.want) {
			t.Errorf("Forms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
