package privacy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
)

// StoredKey is one subject's key as a KeyStore keeps it: the keyed hash of
// the subject (never the identity), the key's id and the key.
type StoredKey struct {
	Subject [32]byte
	ID      [8]byte
	Key     [32]byte
}

// Tombstone is an erasure as a KeyStore keeps it: the subject's keyed hash
// and the ids of the keys it had (no key material).
type Tombstone struct {
	Subject [32]byte
	IDs     [][8]byte
}

// KeyStore is where an External keyring keeps its keys, for deployments
// where the embedded file does not fit (several replicas, keys kept apart
// from the data): a KMS or key vault (each key stored wrapped by a master
// key that never leaves it), or KurrentDB (privacy/esdbkeys: a stream per
// key; erasure: tombstone it, then scavenge). Every method honours ctx and is durable
// when it returns without error. EraseKeys must leave no readable copy of
// the keys (a KMS: schedule the key versions' destruction; KurrentDB:
// tombstone and scavenge, PRIVACY.md). MemoryKeyStore is the fake for
// tests.
type KeyStore interface {
	// Secret returns the keyring's HMAC secret, creating it on first use.
	Secret(ctx context.Context) ([32]byte, error)
	// Keys yields every stored key and Tombstones every erasure (at open).
	Keys(ctx context.Context) iter.Seq2[StoredKey, error]
	Tombstones(ctx context.Context) iter.Seq2[Tombstone, error]
	// PutKey stores a new key.
	PutKey(ctx context.Context, k StoredKey) error
	// EraseKeys deletes the keys t.IDs of t.Subject and records t.
	EraseKeys(ctx context.Context, t Tombstone) error
}

// KeyFinder is a KeyStore that other processes share (several replicas on
// one KurrentDB): FindKey returns the key with id stored since this process
// opened the store, ErrErased when it was erased, ErrKeyNotFound when the
// store has no such key. An External over a KeyFinder looks up a ciphertext's
// key id that it does not know before it reports ErrCiphertext, so that a
// replica reads what another sealed under a key created after its start.
type KeyFinder interface {
	KeyStore
	FindKey(ctx context.Context, id [8]byte) (StoredKey, error)
}

// ErrKeyNotFound: a KeyFinder has no key of that id.
var ErrKeyNotFound = errors.New("privacy: no such key")

// External is a Keyring over a KeyStore.
type External struct {
	*core
	ks KeyStore
}

var _ Ring = (*External)(nil)

// OpenExternal loads every key and erasure of ks.
func OpenExternal(ctx context.Context, ks KeyStore) (*External, error) {
	secret, err := ks.Secret(ctx)
	if err != nil {
		return nil, fmt.Errorf("privacy: key store secret: %w", err)
	}
	e := &External{ks: ks}
	e.core = newCore(secret, (*externalStore)(e))
	for t, err := range ks.Tombstones(ctx) {
		if err != nil {
			return nil, fmt.Errorf("privacy: key store erasures: %w", err)
		}
		e.erasedSubj[t.Subject] = struct{}{}
		for _, id := range t.IDs {
			e.erasedIDs[id] = struct{}{}
		}
	}
	for sk, err := range ks.Keys(ctx) {
		if err != nil {
			return nil, fmt.Errorf("privacy: key store keys: %w", err)
		}
		if _, erased := e.erasedIDs[sk.ID]; erased {
			continue
		}
		k := &key{id: sk.ID, owner: sk.Subject, raw: sk.Key, ready: make(chan struct{})}
		close(k.ready)
		e.byID[k.id] = k
		e.current[k.owner] = k
	}
	return e, nil
}

type externalStore External

func (s *externalStore) addKey(ctx context.Context, k *key) error {
	if err := s.ks.PutKey(ctx, StoredKey{Subject: k.owner, ID: k.id, Key: k.raw}); err != nil {
		return fmt.Errorf("privacy: store key: %w", err)
	}
	return nil
}

func (s *externalStore) findKey(ctx context.Context, c *core, id kid) (*key, error) {
	f, ok := s.ks.(KeyFinder)
	if !ok {
		return nil, fmt.Errorf("%w: unknown key", ErrCiphertext)
	}
	sk, err := f.FindKey(ctx, id)
	switch {
	case errors.Is(err, ErrErased):
		c.mu.Lock()
		c.erasedIDs[id] = struct{}{}
		c.mu.Unlock()
		return nil, ErrErased
	case errors.Is(err, ErrKeyNotFound):
		return nil, fmt.Errorf("%w: unknown key", ErrCiphertext)
	case err != nil:
		return nil, fmt.Errorf("privacy: find key: %w", err)
	case sk.ID != id:
		return nil, fmt.Errorf("%w: the key store answered another key", ErrCiphertext)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, erased := c.erasedIDs[id]; erased {
		return nil, ErrErased
	}
	if k := c.byID[id]; k != nil { // found by another call meanwhile
		return k, nil
	}
	k := &key{id: sk.ID, owner: sk.Subject, raw: sk.Key, ready: make(chan struct{})}
	close(k.ready)
	c.byID[id] = k
	return k, nil
}

func (s *externalStore) erase(ctx context.Context, _ *core, m mac, ids []kid) error {
	t := Tombstone{Subject: m}
	for _, id := range ids {
		t.IDs = append(t.IDs, id)
	}
	if err := s.ks.EraseKeys(ctx, t); err != nil {
		return fmt.Errorf("privacy: erase keys: %w", err)
	}
	return nil
}

// MemoryKeyStore is a KeyStore in memory: the fake of the tests.
type MemoryKeyStore struct {
	mu         sync.Mutex
	secret     *[32]byte
	keys       map[[8]byte]StoredKey
	tombstones []Tombstone
}

// NewMemoryKeyStore returns an empty MemoryKeyStore.
func NewMemoryKeyStore() *MemoryKeyStore {
	return &MemoryKeyStore{keys: map[[8]byte]StoredKey{}}
}

func (m *MemoryKeyStore) Secret(ctx context.Context) ([32]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secret == nil {
		var s [32]byte
		if _, err := rand.Read(s[:]); err != nil {
			return s, err
		}
		m.secret = &s
	}
	return *m.secret, ctx.Err()
}

func (m *MemoryKeyStore) Keys(ctx context.Context) iter.Seq2[StoredKey, error] {
	m.mu.Lock()
	keys := slices.Collect(maps.Values(m.keys))
	m.mu.Unlock()
	return func(yield func(StoredKey, error) bool) {
		for _, k := range keys {
			if !yield(k, ctx.Err()) {
				return
			}
		}
	}
}

func (m *MemoryKeyStore) Tombstones(ctx context.Context) iter.Seq2[Tombstone, error] {
	m.mu.Lock()
	ts := slices.Clone(m.tombstones)
	m.mu.Unlock()
	return func(yield func(Tombstone, error) bool) {
		for _, t := range ts {
			if !yield(t, ctx.Err()) {
				return
			}
		}
	}
}

func (m *MemoryKeyStore) PutKey(ctx context.Context, k StoredKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.ID] = k
	return nil
}

func (m *MemoryKeyStore) EraseKeys(ctx context.Context, t Tombstone) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range t.IDs {
		delete(m.keys, id)
	}
	m.tombstones = append(m.tombstones, t)
	return nil
}
