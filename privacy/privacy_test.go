package privacy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/meetingd/meetingd/privacy"
	"github.com/meetingd/meetingd/privacy/privacytest"
)

func TestMemory(t *testing.T) {
	privacytest.Run(t, func(t *testing.T) (privacy.Keyring, func() privacy.Keyring) {
		return privacy.NewMemory(), nil
	})
}

func TestEmbedded(t *testing.T) {
	privacytest.Run(t, func(t *testing.T) (privacy.Keyring, func() privacy.Keyring) {
		dir := t.TempDir()
		k := openEmbedded(t, dir)
		return k, func() privacy.Keyring {
			k.Close()
			k = openEmbedded(t, dir)
			return k
		}
	})
}

func openEmbedded(t *testing.T, dir string) *privacy.Embedded {
	t.Helper()
	k, err := privacy.OpenEmbedded(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// TestEmbeddedEraseLeavesNoBytes takes the erased key's bytes from the
// record that its first Seal appended, then scans every file of the data
// directory for them (and for any 8 bytes of them) after the erasure.
func TestEmbeddedEraseLeavesNoBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := openEmbedded(t, dir)
	alice := privacy.Subject{AppID: "app-1", Participant: "alice"}
	var others []privacy.Subject
	for _, p := range []string{"bob", "carol", "dave"} {
		s := privacy.Subject{AppID: "app-1", Participant: p}
		others = append(others, s)
		if _, err := k.Seal(ctx, s, []byte(p), nil); err != nil {
			t.Fatal(err)
		}
	}
	before := readFile(t, dir)
	if _, err := k.Seal(ctx, alice, []byte("Alice"), nil); err != nil {
		t.Fatal(err)
	}
	withAlice := readFile(t, dir)
	if !bytes.HasPrefix(withAlice, before) || len(withAlice) <= len(before) {
		t.Fatalf("the key record was not appended: %d -> %d bytes", len(before), len(withAlice))
	}
	aliceRecord := withAlice[len(before):]
	// the 32 key bytes sit before the record's 4-byte checksum
	aliceKey := aliceRecord[len(aliceRecord)-4-32 : len(aliceRecord)-4]
	for _, name := range []string{"alice", "app-1"} {
		if bytes.Contains(withAlice, []byte(name)) {
			t.Fatalf("the keyring file names %q", name)
		}
	}
	if err := k.Erase(ctx, alice); err != nil {
		t.Fatal(err)
	}
	for _, name := range dirFiles(t, dir) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, aliceKey) {
			t.Fatalf("%s still holds the erased key", name)
		}
		// any 8 consecutive bytes of the key would be a leak too
		for i := 0; i+8 <= len(aliceKey); i++ {
			if bytes.Contains(b, aliceKey[i:i+8]) {
				t.Fatalf("%s holds bytes %d..%d of the erased key", name, i, i+8)
			}
		}
	}
	// the others' keys survive the rewrite and a reopen
	k.Close()
	k2 := openEmbedded(t, dir)
	for _, s := range others {
		ct, err := k2.Seal(ctx, s, []byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k2.Open(ctx, s, ct, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmbeddedTornTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := openEmbedded(t, dir)
	s := privacy.Subject{AppID: "a", Participant: "p"}
	ct, err := k.Seal(ctx, s, []byte("kept"), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	path := filepath.Join(dir, privacy.FileName)
	good := readFile(t, dir)
	for _, tail := range [][]byte{{1, 2, 3}, bytes.Repeat([]byte{1}, 77)} {
		if err := os.WriteFile(path, append(bytes.Clone(good), tail...), 0o600); err != nil {
			t.Fatal(err)
		}
		k2 := openEmbedded(t, dir)
		if pt, err := k2.Open(ctx, s, ct, nil); err != nil || string(pt) != "kept" {
			t.Fatalf("after a torn tail: %q, %v", pt, err)
		}
		k2.Close()
		if got := readFile(t, dir); !bytes.Equal(got, good) {
			t.Fatalf("the torn tail was not cut: %d bytes, want %d", len(got), len(good))
		}
	}
	// damage in the middle is corruption, not a torn tail
	bad := bytes.Clone(good)
	bad[len(bad)-40] ^= 1
	if err := os.WriteFile(path, append(bad, good[len(good)-77:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := privacy.OpenEmbedded(dir); !errors.Is(err, privacy.ErrKeyringCorrupt) {
		t.Fatalf("OpenEmbedded = %v, want ErrKeyringCorrupt", err)
	}
}

func TestKeyedHash(t *testing.T) {
	a, b := privacy.NewMemory(), privacy.NewMemory()
	x := []byte("app-1/alice")
	h1 := a.KeyedHash(x)
	if h2 := a.KeyedHash(bytes.Clone(x)); h1 != h2 {
		t.Fatal("not stable")
	}
	if a.KeyedHash(x) == b.KeyedHash(x) {
		t.Fatal("two secrets, one hash")
	}
	dir := t.TempDir()
	e := openEmbedded(t, dir)
	h := e.KeyedHash(x)
	e.Close()
	if openEmbedded(t, dir).KeyedHash(x) != h {
		t.Fatal("the secret did not survive a reopen")
	}
}

func readFile(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, privacy.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzOpenEmbedded: any bytes in keys.ring open or fail with an error, never
// a panic.
func FuzzOpenEmbedded(f *testing.F) {
	dir := f.TempDir()
	k, err := privacy.OpenEmbedded(dir)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := k.Seal(context.Background(), privacy.Subject{AppID: "a", Participant: "p"}, []byte("x"), nil); err != nil {
		f.Fatal(err)
	}
	k.Close()
	good, err := os.ReadFile(filepath.Join(dir, privacy.FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:40])
	f.Fuzz(func(t *testing.T, data []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, privacy.FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if k, err := privacy.OpenEmbedded(d); err == nil {
			k.Close()
		}
	})
}

func TestExternal(t *testing.T) {
	privacytest.Run(t, func(t *testing.T) (privacy.Keyring, func() privacy.Keyring) {
		ks := privacy.NewMemoryKeyStore()
		open := func() privacy.Keyring {
			k, err := privacy.OpenExternal(context.Background(), ks)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		return open(), open
	})
}

func TestEmbeddedCreatesItsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	k := openEmbedded(t, dir)
	if _, err := k.Seal(context.Background(), privacy.Subject{AppID: "a", Participant: "p"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, privacy.FileName)); err != nil {
		t.Fatal(err)
	}
}
