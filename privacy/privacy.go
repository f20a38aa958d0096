package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Subject is one data subject: a participant identity of one app.
type Subject struct{ AppID, Participant string }

// Pseudonym is what erased data shows instead of the identity and every display
// name: "erased-" + the first 12 hex digits of SHA-256(app_id + "/" + participant) (API.md).
func (s Subject) Pseudonym() string {
	h := sha256.Sum256([]byte(s.AppID + "/" + s.Participant))
	return "erased-" + hex.EncodeToString(h[:6])
}

// ErrErased: the subject's key was deleted; its personal data can never be read again.
var ErrErased = errors.New("privacy: subject erased")

// ErrCiphertext: a ciphertext that is not one of a Keyring's (truncated,
// altered, sealed for another subject or under an unknown key that no erasure
// explains).
var ErrCiphertext = errors.New("privacy: invalid ciphertext")

// Keyring keeps one AEAD key per subject (created on first Seal). Implementations: embedded (a file of its
// own in the data directory, whose deleted keys leave no bytes behind), a KurrentDB stream, a KMS interface.
type Keyring interface {
	Seal(ctx context.Context, s Subject, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, s Subject, ciphertext, aad []byte) ([]byte, error) // ErrErased after Erase
	Erase(ctx context.Context, s Subject) error                                  // idempotent; durable when it returns
	Erased(ctx context.Context, s Subject) (bool, error)
}

// Hasher is the keyed hash of a keyring: HMAC-SHA256 under a secret that the
// keyring keeps beside its keys. Anything derived from an identity that must
// stay stable across events (dedupe keys, event IDs, index keys) is derived
// through it, so that it cannot be recomputed from a guessed name.
type Hasher interface {
	KeyedHash(data []byte) [32]byte
}

// KeyOpener opens a ciphertext by the key id it carries, without being told
// its subject (the reader of an event does not know whose sealed name it
// holds until it has opened it). ErrErased and ErrCiphertext as Open.
type KeyOpener interface {
	OpenByKey(ctx context.Context, ciphertext, aad []byte) ([]byte, error)
}

// Ring is everything a writer and reader of sealed events needs of a keyring.
type Ring interface {
	Keyring
	Hasher
	KeyOpener
}
