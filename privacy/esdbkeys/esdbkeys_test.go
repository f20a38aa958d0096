package esdbkeys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore/esdb"
	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/esdbkeys"
	"github.com/meetingd/meetingd/privacy/privacytest"
)

// realServerEnv names a real KurrentDB server's connection string (README).
const realServerEnv = "MEETINGD_TEST_KURRENTDB"

func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openLog(t *testing.T, conn string) *esdb.Store {
	t.Helper()
	s, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openRing(t *testing.T, log esdbkeys.Log, prefix string) *privacy.External {
	t.Helper()
	k, err := privacy.OpenExternal(bounded(t), esdbkeys.New(log, prefix))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// uniquePrefix keeps the tests on a shared real server apart.
func uniquePrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "-" + esdbkeys.Prefix
}

// TestContract runs privacytest's suite over the in-process server (a fresh
// one per test) and over the server in MEETINGD_TEST_KURRENTDB when it is
// set; a reopen is a new client and a new keyring, as after a restart.
func TestContract(t *testing.T) {
	t.Run("inprocess", func(t *testing.T) {
		privacytest.Run(t, func(t *testing.T) (privacy.Keyring, func() privacy.Keyring) {
			conn, _ := esdbtest.StartServer(t)
			reopen := func() privacy.Keyring { return openRing(t, openLog(t, conn), "") }
			return reopen(), reopen
		})
	})
	conn := os.Getenv(realServerEnv)
	if conn == "" {
		t.Logf("%s is not set: the suite ran against the in-process server only", realServerEnv)
		return
	}
	t.Run("kurrentdb", func(t *testing.T) {
		privacytest.Run(t, func(t *testing.T) (privacy.Keyring, func() privacy.Keyring) {
			prefix := uniquePrefix()
			reopen := func() privacy.Keyring { return openRing(t, openLog(t, conn), prefix) }
			return reopen(), reopen
		})
	})
}

// keyBytes returns the data of every key event of the server, by stream.
func keyBytes(srv *esdbtest.Server) map[string][]byte {
	out := map[string][]byte{}
	srv.Records(func(stream, typ string, data, _ []byte) {
		if strings.HasPrefix(stream, esdbkeys.Prefix+"k-") && typ == "privacy.key.v1" {
			out[stream] = data
		}
	})
	return out
}

// TestEraseTombstonesThenScavengeRemoves: an erasure records itself and
// tombstones the subject's key streams; the key bytes stay in $all until a
// scavenge, are never loaded again by a reopen, and are gone after the
// scavenge; the other subject's key is untouched. No stream name or event
// names a subject in the clear.
func TestEraseTombstonesThenScavengeRemoves(t *testing.T) {
	ctx := bounded(t)
	conn, srv := esdbtest.StartServer(t)
	log := openLog(t, conn)
	k := openRing(t, log, "")
	alice := privacy.Subject{AppID: "app-1", Participant: "alice-uid"}
	bob := privacy.Subject{AppID: "app-1", Participant: "bob-uid"}
	ca, err := k.Seal(ctx, alice, []byte("Alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := k.Seal(ctx, bob, []byte("Bob"), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := keyBytes(srv)
	if len(before) != 2 {
		t.Fatalf("%d key streams, want 2", len(before))
	}
	if err := k.Erase(ctx, alice); err != nil {
		t.Fatal(err)
	}
	var aliceStreams []string
	for stream := range before {
		if srv.Deleted(stream) {
			aliceStreams = append(aliceStreams, stream)
		}
	}
	if len(aliceStreams) != 1 {
		t.Fatalf("tombstoned %v, want alice's one stream", aliceStreams)
	}
	// A reopen (restart) before the scavenge does not load the erased key
	// although $all still shows it.
	if len(keyBytes(srv)) != 2 {
		t.Fatal("the key's bytes left $all before a scavenge: the fake differs from the server")
	}
	k2 := openRing(t, openLog(t, conn), "")
	if _, err := k2.Open(ctx, alice, ca, nil); !errors.Is(err, privacy.ErrErased) {
		t.Fatalf("Open after reopen = %v, want ErrErased", err)
	}
	srv.Scavenge()
	after := keyBytes(srv)
	if _, ok := after[aliceStreams[0]]; ok || len(after) != 1 {
		t.Fatalf("after scavenge the key streams are %v", after)
	}
	erasedKey := before[aliceStreams[0]]
	srv.Records(func(stream, typ string, data, meta []byte) {
		if bytes.Equal(data, erasedKey) {
			t.Errorf("%s (%s) still holds the erased key", stream, typ)
		}
		for _, name := range []string{"alice", "bob", "Alice", "Bob"} {
			if strings.Contains(stream, name) || bytes.Contains(data, []byte(name)) || bytes.Contains(meta, []byte(name)) {
				t.Errorf("%s (%s) names %s", stream, typ, name)
			}
		}
	})
	k3 := openRing(t, openLog(t, conn), "")
	if pt, err := k3.Open(ctx, bob, cb, nil); err != nil || string(pt) != "Bob" {
		t.Fatalf("bob after scavenge = %q, %v", pt, err)
	}
	if e, _ := k3.Erased(ctx, alice); !e {
		t.Fatal("alice not erased after scavenge and reopen")
	}
}

// failingTombstones is a Log whose tombstones fail: a crash between the
// record of an erasure and the deletion of the keys.
type failingTombstones struct{ esdbkeys.Log }

func (failingTombstones) Tombstone(context.Context, string) error {
	return errors.New("killed")
}

// TestInterruptedErasureFinishedOnOpen: the next open of the store deletes
// the keys an interrupted erasure recorded but did not delete, and never
// loads them.
func TestInterruptedErasureFinishedOnOpen(t *testing.T) {
	ctx := bounded(t)
	conn, srv := esdbtest.StartServer(t)
	log := openLog(t, conn)
	k := openRing(t, failingTombstones{log}, "")
	alice := privacy.Subject{AppID: "app-1", Participant: "alice-uid"}
	ca, err := k.Seal(ctx, alice, []byte("Alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Erase(ctx, alice); err == nil {
		t.Fatal("Erase succeeded although the tombstone failed")
	}
	var stream string
	for s := range keyBytes(srv) {
		stream = s
	}
	if srv.Deleted(stream) {
		t.Fatal("deleted although the tombstone failed")
	}
	k2 := openRing(t, openLog(t, conn), "")
	if !srv.Deleted(stream) {
		t.Fatal("the reopen did not finish the erasure")
	}
	if _, err := k2.Open(ctx, alice, ca, nil); !errors.Is(err, privacy.ErrErased) {
		t.Fatalf("Open = %v, want ErrErased", err)
	}
	openRing(t, openLog(t, conn), "") // a deleted stream deleted again is no error
}

// TestSecretRace: processes that start at once agree on one secret.
func TestSecretRace(t *testing.T) {
	ctx := bounded(t)
	conn, _ := esdbtest.StartServer(t)
	var wg sync.WaitGroup
	secrets := make([][32]byte, 4)
	errs := make([]error, 4)
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			secrets[i], errs[i] = esdbkeys.New(openLog(t, conn), "").Secret(ctx)
		}()
	}
	wg.Wait()
	for i := range secrets {
		if errs[i] != nil || secrets[i] != secrets[0] || secrets[i] == ([32]byte{}) {
			t.Fatalf("secret %d: %x, %v; first %x", i, secrets[i], errs[i], secrets[0])
		}
	}
}

// TestReplicasShareKeys: two keyrings on one server (two replicas of
// meetingd) each read what the other sealed under a key created after they
// opened, and a key the other erased before this one ever loaded it is
// reported erased; a ciphertext of another server's keyring stays invalid.
func TestReplicasShareKeys(t *testing.T) {
	ctx := bounded(t)
	conn, _ := esdbtest.StartServer(t)
	a := openRing(t, openLog(t, conn), "")
	b := openRing(t, openLog(t, conn), "")
	alice := privacy.Subject{AppID: "app-1", Participant: "alice-uid"}
	bob := privacy.Subject{AppID: "app-1", Participant: "bob-uid"}
	ca, err := a.Seal(ctx, alice, []byte("Alice"), []byte("s1"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := b.Open(ctx, alice, ca, []byte("s1")); err != nil || string(pt) != "Alice" {
		t.Fatalf("replica b opens a's new key: %q, %v", pt, err)
	}
	if pt, err := b.OpenByKey(ctx, ca, []byte("s1")); err != nil || string(pt) != "Alice" {
		t.Fatalf("replica b opens a's new key by id: %q, %v", pt, err)
	}
	cb, err := b.Seal(ctx, bob, []byte("Bob"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Erase(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(ctx, bob, cb, nil); !errors.Is(err, privacy.ErrErased) {
		t.Fatalf("replica a opens a key b erased: %v, want ErrErased", err)
	}
	otherConn, _ := esdbtest.StartServer(t)
	other := openRing(t, openLog(t, otherConn), "")
	co, err := other.Seal(ctx, alice, []byte("Alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Open(ctx, alice, co, nil); !errors.Is(err, privacy.ErrCiphertext) {
		t.Fatalf("another server's ciphertext: %v, want ErrCiphertext", err)
	}
}
