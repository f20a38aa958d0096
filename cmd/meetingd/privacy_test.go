package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/privacy"
)

// TestSealedDataDir: a data directory of a version before sealing (names in
// the clear in the log) is migrated by `meetingd rebuild`, a webhook
// imported afterwards is stored sealed, and the read models the rebuild
// writes still show every name: no name in the log or the keyring, all of
// them in the reports.
func TestSealedDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := embedded.Open(ctx, embedded.Config{Dir: filepath.Join(dir, "eventstore")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := domain.Event{AppID: "app-1", SessionID: "v1.us.old.1", Kind: domain.KindMeeting, Trigger: "meeting_participant_joined",
		Payload: domain.ParticipantJoined{Occupant: domain.Occupant{UID: "uid-olga", Name: "Olga Oldlog", JoinedAt: 1696934000}}}
	data, err := codec.MarshalEvent(old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, domain.StreamName(old.AppID, old.SessionID), eventstore.Any,
		eventstore.Event{ID: domain.EventID(old), Type: old.Type(), Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MEETINGD_DATA_DIR": dir}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	hook, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "cometchat", "meeting_participant_joined.json"))
	if err != nil {
		t.Skip("the shared fixtures are not here: ", err)
	}
	hook = []byte(strings.NewReplacer("<sessionId>", "v1.us.new.1", "<appId>", "app-1",
		"<region>", "us", "<webhookID>", "wh-1").Replace(string(hook)))
	var compact bytes.Buffer
	if err := json.Compact(&compact, hook); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "hooks.jsonl")
	if err := os.WriteFile(file, append(compact.Bytes(), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"import", file}, &out, io.Discard, lookup); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 accepted") {
		t.Fatalf("import: %s", out.String())
	}
	if err := run(ctx, []string{"rebuild"}, io.Discard, io.Discard, lookup); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	names := []string{"Olga Oldlog", "uid-olga", "Andrew Joseph"}
	for _, sub := range []string{"eventstore", privacy.FileName} {
		if n := namesIn(t, filepath.Join(dir, sub), names); len(n) > 0 {
			t.Errorf("%s holds %q", sub, n)
		}
	}
	// The read models are derived data in the clear (rewritten by an
	// erasure, not sealed): the rebuild could read every name.
	if n := namesIn(t, filepath.Join(dir, "readmodels"), names); len(n) != len(names) {
		t.Errorf("the read models hold %q of %q: the rebuild did not open the sealed names", n, names)
	}
}

// namesIn returns the names found in the files under path, in the order
// of names.
func namesIn(t *testing.T, path string, names []string) []string {
	t.Helper()
	hits, err := bytescan.Find(path, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if slices.ContainsFunc(hits, func(h bytescan.Hit) bool { return h.Needle == n }) {
			out = append(out, n)
		}
	}
	return out
}
