package privacytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/meetingd/meetingd/privacy"
)

// Factory returns a new, empty keyring and a function that reopens it (the
// same state, as after a restart); reopen may be nil for a keyring without
// durability.
type Factory func(t *testing.T) (k privacy.Keyring, reopen func() privacy.Keyring)

// Run runs the contract suite.
func Run(t *testing.T, newKeyring Factory) {
	ctx := context.Background()
	alice := privacy.Subject{AppID: "app-1", Participant: "alice"}
	aliceOther := privacy.Subject{AppID: "app-2", Participant: "alice"}
	bob := privacy.Subject{AppID: "app-1", Participant: "bob"}

	t.Run("round trip", func(t *testing.T) {
		k, _ := newKeyring(t)
		for _, tc := range []struct {
			name    string
			pt, aad []byte
		}{
			{"empty", nil, nil},
			{"name", []byte("Alice Ångström"), []byte("session-1")},
			{"large", bytes.Repeat([]byte("x"), 1<<16), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ct, err := k.Seal(ctx, alice, tc.pt, tc.aad)
				if err != nil {
					t.Fatal(err)
				}
				if len(tc.pt) > 0 && bytes.Contains(ct, tc.pt) {
					t.Fatal("ciphertext holds the plaintext")
				}
				pt, err := k.Open(ctx, alice, ct, tc.aad)
				if err != nil || !bytes.Equal(pt, tc.pt) {
					t.Fatalf("Open = %q, %v; want %q", pt, err, tc.pt)
				}
			})
		}
	})

	t.Run("rejects altered, wrong aad, wrong subject", func(t *testing.T) {
		k, _ := newKeyring(t)
		ct, err := k.Seal(ctx, alice, []byte("Alice"), []byte("a"))
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(ct)
		flipped[len(flipped)-1] ^= 1
		for _, tc := range []struct {
			name string
			s    privacy.Subject
			ct   []byte
			aad  string
		}{
			{"altered", alice, flipped, "a"},
			{"aad", alice, ct, "b"},
			{"another subject", bob, ct, "a"},
			{"same participant of another app", aliceOther, ct, "a"},
			{"truncated", alice, ct[:10], "a"},
			{"empty", alice, nil, "a"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := k.Open(ctx, tc.s, tc.ct, []byte(tc.aad))
				if !errors.Is(err, privacy.ErrCiphertext) {
					t.Fatalf("Open = %v, want ErrCiphertext", err)
				}
			})
		}
	})

	t.Run("erase", func(t *testing.T) {
		k, reopen := newKeyring(t)
		ca, _ := k.Seal(ctx, alice, []byte("Alice"), nil)
		co, _ := k.Seal(ctx, aliceOther, []byte("Alice"), nil)
		cb, _ := k.Seal(ctx, bob, []byte("Bob"), nil)
		if e, err := k.Erased(ctx, alice); err != nil || e {
			t.Fatalf("Erased before = %v, %v", e, err)
		}
		for range 2 { // idempotent
			if err := k.Erase(ctx, alice); err != nil {
				t.Fatal(err)
			}
		}
		check := func(t *testing.T, k privacy.Keyring) {
			if _, err := k.Open(ctx, alice, ca, nil); !errors.Is(err, privacy.ErrErased) {
				t.Fatalf("Open erased = %v, want ErrErased", err)
			}
			if e, err := k.Erased(ctx, alice); err != nil || !e {
				t.Fatalf("Erased = %v, %v", e, err)
			}
			if pt, err := k.Open(ctx, bob, cb, nil); err != nil || string(pt) != "Bob" {
				t.Fatalf("Bob = %q, %v", pt, err)
			}
			if pt, err := k.Open(ctx, aliceOther, co, nil); err != nil || string(pt) != "Alice" {
				t.Fatalf("alice of app-2 = %q, %v", pt, err)
			}
			if e, _ := k.Erased(ctx, bob); e {
				t.Fatal("bob erased")
			}
		}
		check(t, k)
		// reappearance: new data under a new key, the old stays erased
		cn, err := k.Seal(ctx, alice, []byte("Alice again"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := k.Open(ctx, alice, cn, nil); err != nil || string(pt) != "Alice again" {
			t.Fatalf("new data = %q, %v", pt, err)
		}
		check(t, k)
		if reopen != nil {
			k2 := reopen()
			check(t, k2)
			if pt, err := k2.Open(ctx, alice, cn, nil); err != nil || string(pt) != "Alice again" {
				t.Fatalf("new data after reopen = %q, %v", pt, err)
			}
		}
	})

	t.Run("erase a subject never sealed", func(t *testing.T) {
		k, reopen := newKeyring(t)
		if err := k.Erase(ctx, bob); err != nil {
			t.Fatal(err)
		}
		if e, _ := k.Erased(ctx, bob); !e {
			t.Fatal("not erased")
		}
		if reopen != nil {
			if e, _ := reopen().Erased(ctx, bob); !e {
				t.Fatal("not erased after reopen")
			}
		}
	})

	t.Run("durable", func(t *testing.T) {
		k, reopen := newKeyring(t)
		if reopen == nil {
			t.Skip("an in-memory keyring has no restart")
		}
		cts := map[privacy.Subject][]byte{}
		for i := range 50 {
			s := privacy.Subject{AppID: "app-1", Participant: fmt.Sprint("p", i)}
			ct, err := k.Seal(ctx, s, []byte(s.Participant), nil)
			if err != nil {
				t.Fatal(err)
			}
			cts[s] = ct
		}
		k2 := reopen()
		for s, ct := range cts {
			if pt, err := k2.Open(ctx, s, ct, nil); err != nil || string(pt) != s.Participant {
				t.Fatalf("%v: %q, %v", s, pt, err)
			}
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		k, _ := newKeyring(t)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					s := privacy.Subject{AppID: "app-1", Participant: fmt.Sprint("p", i%20)}
					ct, err := k.Seal(ctx, s, []byte(s.Participant), nil)
					if err != nil {
						errs <- err
						return
					}
					pt, err := k.Open(ctx, s, ct, nil)
					if i%50 == g && err == nil {
						err = k.Erase(ctx, s)
					}
					if err != nil && !errors.Is(err, privacy.ErrErased) {
						errs <- err
						return
					}
					if err == nil && string(pt) != s.Participant {
						errs <- fmt.Errorf("%v: %q", s, pt)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})

	t.Run("pseudonym", func(t *testing.T) {
		// "erased-" + 12 hex of SHA-256("app-1/alice") (sha256sum)
		if got, want := alice.Pseudonym(), "erased-e0bd7463e8a0"; got != want {
			t.Fatalf("Pseudonym = %q, want %q", got, want)
		}
		if alice.Pseudonym() == aliceOther.Pseudonym() {
			t.Fatal("same pseudonym in two apps")
		}
	})
}
