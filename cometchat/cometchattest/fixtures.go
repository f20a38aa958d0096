package cometchattest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
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
		t.Fatal("cometchattest: cannot locate the source file")
	}
	root := filepath.Dir(filepath.Dir(filepath.Dir(file))) // cometchat/cometchattest/fixtures.go → repo
	dir := filepath.Join(root, "..", "shared")
	if _, err := os.Stat(filepath.Join(dir, "fixtures", "cometchat")); err != nil {
		t.Fatalf("cometchattest: shared fixtures not found at %s (set MEETINGD_SHARED_DIR): %v", dir, err)
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
		t.Fatalf("cometchattest: %v", err)
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
		t.Fatalf("cometchattest: fixture %s is not valid JSON after substitution", name)
	}
	return out
}

// FixtureNames lists the webhook fixtures (without .json), sorted.
func FixtureNames(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(SharedDir(t), "fixtures", "cometchat", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("cometchattest: no fixtures found: %v", err)
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
		t.Fatalf("cometchattest: %v", err)
	}
	return b
}

// jsonEscape escapes v for use inside a JSON string literal.
func jsonEscape(v string) string {
	b, _ := json.Marshal(v)
	return string(b[1 : len(b)-1])
}

// Values that Webhooks substitutes for CometChat's placeholders: those the
// decoder's tests expect.
const (
	TestAppID         = "208136f5ba34a5a2"
	TestSessionID     = "v1.us.208136f5ba34a5a2.1696934692c0ffee"
	TestRegion        = "us"
	TestWebhookID     = "webhook-1"
	TestRecordingURL  = "https://recordings.example.test/208136f5ba34a5a2/rec-1.mp4"
	TestTranscriptURL = "https://recordings.example.test/208136f5ba34a5a2/transcript-1.txt"
	TestTID           = "tid-1"
)

var leftoverPlaceholder = regexp.MustCompile(`<[A-Za-z_]+>`)

// Webhooks returns every webhook fixture, by trigger name (the file name
// without .json), with its placeholders replaced by the Test* values. A
// placeholder without a value fails the test.
func Webhooks(tb testing.TB) map[string][]byte {
	tb.Helper()
	placeholders := map[string]string{
		"<appId>": TestAppID, "<sessionId>": TestSessionID, "<region>": TestRegion, "<webhookID>": TestWebhookID,
		"<recording_url>": TestRecordingURL, "<transcript_url>": TestTranscriptURL, "<tid>": TestTID,
	}
	dir := filepath.Join(SharedDir(tb), "fixtures", "cometchat")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatalf("cometchattest: no *.json fixtures in %s", dir)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		s := string(raw)
		for k, v := range placeholders {
			s = strings.ReplaceAll(s, k, v)
		}
		if left := leftoverPlaceholder.FindString(s); left != "" {
			tb.Fatalf("cometchattest: %s: placeholder %s has no test value", p, left)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = []byte(s)
	}
	return out
}
