package envelope_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meetingd/meetingd/codec"
	"github.com/meetingd/meetingd/domain"
	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/embedded"
	"github.com/meetingd/meetingd/intake"
	"github.com/meetingd/meetingd/internal/bytescan"
	"github.com/meetingd/meetingd/internal/eventgen"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/envelope"
)

var errKilled = errors.New("killed")

// TestMigrateInPlace writes a log as meetingd wrote it before sealing
// (plaintext names, plain ids, a quarantined body), migrates it with a
// failure injected after the second chunk, resumes, and checks: no name
// in any byte of the data directory, the same events read back through the
// envelope, joins and leaves under their keyed ids (a redelivery is a
// duplicate), and a third run does nothing.
func TestMigrateInPlace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := eventgen.Sessions(eventgen.Config{Users: 30, Seed: 7}, 60)
	if err != nil {
		t.Fatal(err)
	}
	var want []domain.Event
	names := map[string]bool{}
	for evs := range sessions {
		for _, ev := range evs {
			data, err := codec.MarshalEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Append(ctx, domain.StreamName(ev.AppID, ev.SessionID), eventstore.Any,
				eventstore.Event{ID: domain.EventID(ev), Type: ev.Type(), Data: data}); err != nil {
				t.Fatal(err)
			}
			want = append(want, ev)
			for _, k := range domain.AppendIntervalKeys(nil, ev) {
				names[k.Participant] = true
			}
		}
	}
	body := []byte(`{"trigger":"meeting_participant_joined","appId":"app-q","data":{"name":"Quarantined Quentin"}}`)
	qdata, _ := json.Marshal(intake.QuarantineRecord{AppID: "app-q", Reason: "r", ReceivedAt: time.Unix(1, 0).UTC(), Body: body})
	if _, err := store.Append(ctx, domain.QuarantineStream("app-q"), eventstore.Any,
		eventstore.Event{ID: [16]byte{1}, Type: intake.TypeQuarantined, Data: qdata}); err != nil {
		t.Fatal(err)
	}
	names["Quarantined Quentin"] = true
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("only %d names in the corpus", len(names))
	}
	if !holdsAny(t, dir, names) {
		t.Fatal("the plaintext log holds no name: the scan is broken")
	}

	ring, err := privacy.OpenEmbedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	env := envelope.New(ring)
	chunks := 0
	_, err = embedded.Rewrite(ctx, dir, envelope.RewriteName, env.SealRecord, embedded.RewriteOptions{
		Chunk: 50,
		AfterChunk: func(n int, next uint64) error {
			chunks = n
			if n == 2 {
				return errKilled
			}
			return nil
		},
	})
	if !errors.Is(err, errKilled) || chunks != 2 {
		t.Fatalf("first run = %v after %d chunks, want the injected failure after 2", err, chunks)
	}
	// The first 100 records are sealed, the rest not yet: a reader sees both.
	checkLog(t, dir, env, want)
	st, err := embedded.Rewrite(ctx, dir, envelope.RewriteName, env.SealRecord, embedded.RewriteOptions{Chunk: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Compacted || st.Rewritten == 0 || st.Records >= uint64(len(want)) {
		t.Fatalf("resumed run = %+v: want it to start after the first 100 records and compact", st)
	}
	if holdsAny(t, dir, names) {
		t.Fatal("a name is still in the data directory after the migration")
	}
	checkLog(t, dir, env, want)
	st, err = embedded.Rewrite(ctx, dir, envelope.RewriteName, env.SealRecord, embedded.RewriteOptions{})
	if err != nil || !st.AlreadyDone {
		t.Fatalf("third run = %+v, %v: want done already", st, err)
	}

	// A redelivered join is a duplicate under its keyed id.
	store, err = embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, ev := range want {
		if _, ok := ev.Payload.(domain.ParticipantJoined); !ok {
			continue
		}
		sealed, err := env.Seal(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := codec.MarshalEvent(sealed)
		res, err := store.Append(ctx, domain.StreamName(ev.AppID, ev.SessionID), eventstore.Any,
			eventstore.Event{ID: env.EventID(ev), Type: ev.Type(), Data: data})
		if err != nil || !res.Duplicate {
			t.Fatalf("redelivered join = %+v, %v: want a duplicate", res, err)
		}
		break
	}
}

// checkLog reads the whole log through the envelope and compares it with want.
func checkLog(t *testing.T, dir string, env *envelope.Envelope, want []domain.Event) {
	t.Helper()
	ctx := context.Background()
	store, err := embedded.Open(ctx, embedded.Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var got []domain.Event
	quarantined := 0
	for rec, err := range store.ReadAll(ctx, eventstore.Start, eventstore.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type == intake.TypeQuarantined {
			quarantined++
			lg := envelope.NewLog(store, env)
			for r, err := range lg.ReadStream(ctx, rec.Stream, 0) {
				if err != nil {
					t.Fatal(err)
				}
				var q intake.QuarantineRecord
				if err := json.Unmarshal(r.Data, &q); err != nil || !bytes.Contains(q.Body, []byte("Quentin")) {
					t.Fatalf("quarantine record read back: %s, %v", r.Data, err)
				}
			}
			continue
		}
		ev, err := codec.UnmarshalEvent(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Open(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if quarantined != 1 {
		t.Fatalf("%d quarantine records", quarantined)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("log read back (-want +got):\n%s", diff)
	}
}

// holdsAny reports whether any file under dir holds one of names (in any
// of its JSON spellings).
func holdsAny(t *testing.T, dir string, names map[string]bool) bool {
	t.Helper()
	var needles []string
	for n := range names {
		needles = append(needles, bytescan.Forms(n)...)
	}
	hits, err := bytescan.Find(dir, needles, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Logf("%s holds %q", h.Path, h.Needle)
	}
	return len(hits) > 0
}
