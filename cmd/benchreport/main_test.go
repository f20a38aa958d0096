package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	canned := filepath.Join("..", "..", "internal", "benchreport", "testdata", "canned.txt")
	tests := []struct {
		name    string
		args    func(dir string) []string
		wantErr string
		want    []string // substrings of the written report
	}{
		{
			name: "renders saved output",
			args: func(dir string) []string {
				return []string{"-from", canned, "-o", filepath.Join(dir, "B.md"), "-data", filepath.Join(dir, "data"), "-command", "test run"}
			},
			want: []string{
				"Written by `test run`",
				"| Durable webhook intake over HTTP, 64 clients on loopback (in process) | 2,389 webhooks/s (n=3) | bare fiber handler answering 200: 2,982 webhooks/s | 0.801 | ratio ≥ 0.25 | met |",
				"read from " + canned,
			},
		},
		{name: "stray argument", args: func(string) []string { return []string{"extra"} }, wantErr: `unexpected arguments ["extra"]`},
		{name: "negative rounds", args: func(string) []string { return []string{"-rounds", "-1"} }, wantErr: "-rounds -1"},
		{name: "missing saved output", args: func(dir string) []string {
			return []string{"-from", filepath.Join(dir, "absent.txt"), "-data", dir}
		}, wantErr: "absent.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args(dir), &stdout, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v\n%s", err, stderr.String())
			}
			got, err := os.ReadFile(filepath.Join(dir, "B.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
			if !strings.Contains(stdout.String(), "targets met") {
				t.Errorf("stdout = %q, want the count of targets met", stdout.String())
			}
		})
	}
}
