package domaintest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// SharedDir returns the shared/ folder that sits beside the repository
// (MEETINGD_SHARED_DIR overrides it). It fails the test when it is missing.
func SharedDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("MEETINGD_SHARED_DIR"); dir != "" {
		return dir
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("domaintest: cannot locate the source file")
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file))) // domain/domaintest/fixtures.go → repo
	dir := filepath.Join(root, "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures", "cometchat")); err != nil {
		t.Fatalf("domaintest: shared fixtures not found at %s (set MEETINGD_SHARED_DIR): %v", dir, err)
	}
	return dir
}

// Vars substitute CometChat's placeholders (<sessionId>, <appId>, …).
type Vars map[string]string

// DefaultVars are the placeholder values used when a test gives none.
func DefaultVars() Vars {
	return Vars{
		"<sessionId>": "v1.us.test.session-1", "<appId>": "app-1", "<region>": "us",
		"<webhookID>": "webhook-1", "<recording_url>": "https://recordings.example/rec-1.mp4",
		"<tid>": "tid-1", "<transcript_url>": "https://transcripts.example/t-1.json",
	}
}

// Fixture returns the named webhook fixture (e.g. "meeting_started") with
// placeholders replaced by vars layered over DefaultVars.
func Fixture(t testing.TB, name string, vars Vars) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SharedDir(t), "fixtures", "cometchat", name+".json"))
	if err != nil {
		t.Fatalf("domaintest: %v", err)
	}
	all := DefaultVars()
	for k, v := range vars {
		all[k] = v
	}
	pairs := make([]string, 0, 2*len(all))
	for k, v := range all {
		pairs = append(pairs, k, jsonEscape(v))
	}
	out := []byte(strings.NewReplacer(pairs...).Replace(strings.TrimSpace(string(b))))
	if !json.Valid(out) {
		t.Fatalf("domaintest: fixture %s is not valid JSON after substitution", name)
	}
	return out
}

// FixtureNames lists the webhook fixtures (without .json), sorted.
func FixtureNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(SharedDir(t), "fixtures", "cometchat", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("domaintest: no fixtures found: %v", err)
	}
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	sort.Strings(names)
	return names
}

// RESTFixture returns a CometChat Calls REST API response fixture.
func RESTFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SharedDir(t), "fixtures", "cometchat-rest", name+".json"))
	if err != nil {
		t.Fatalf("domaintest: %v", err)
	}
	return b
}

// jsonEscape escapes v for use inside a JSON string literal.
func jsonEscape(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}
