package privacy

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
)

const (
	version   = 1
	kidLen    = 8
	nonceLen  = 12
	keyLen    = 32
	macLen    = 32
	headerLen = 1 + kidLen + nonceLen
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = headerLen + 16
)

type (
	kid [kidLen]byte
	mac [macLen]byte
)

// key is one generation of a subject's key. ready is closed once the key is
// durable (or failed: err); nothing sealed under it is returned before.
type key struct {
	id    kid
	owner mac
	raw   [keyLen]byte
	once  sync.Once
	aead  cipher.AEAD
	ready chan struct{}
	err   error
}

func (k *key) cipher() cipher.AEAD {
	k.once.Do(func() {
		b, err := aes.NewCipher(k.raw[:])
		if err != nil { // keyLen is a valid AES key size
			return
		}
		k.aead, _ = cipher.NewGCM(b)
	})
	return k.aead
}

// persister makes the core's changes durable (nil: memory only). Both are
// called without core.mu held.
type persister interface {
	// addKey makes k durable.
	addKey(ctx context.Context, k *key) error
	// erase makes the erasure of subject m (whose keys ids were, and which
	// c no longer holds) durable, leaving no copy of the keys behind.
	erase(ctx context.Context, c *core, m mac, ids []kid) error
}

// finder is a persister shared with other processes, which may have stored
// keys since this one loaded them: findKey looks up the key id that no key
// of c has, adds it to c and returns it (ErrErased, ErrCiphertext when it
// is erased or unknown there too). Called without core.mu held.
type finder interface {
	findKey(ctx context.Context, c *core, id kid) (*key, error)
}

// core is the state every Keyring implementation shares: the keys by id, the
// current key of each subject, the erased key ids and subjects.
type core struct {
	secret [32]byte
	store  persister

	mu         sync.RWMutex
	subjects   map[Subject]mac // cache of the keyed hashes
	current    map[mac]*key
	byID       map[kid]*key
	erasedIDs  map[kid]struct{}
	erasedSubj map[mac]struct{}
	eraseMu    sync.Mutex // one Erase at a time
}

func newCore(secret [32]byte, store persister) *core {
	return &core{
		secret: secret, store: store,
		subjects: map[Subject]mac{}, current: map[mac]*key{}, byID: map[kid]*key{},
		erasedIDs: map[kid]struct{}{}, erasedSubj: map[mac]struct{}{},
	}
}

// KeyedHash is HMAC-SHA256(secret, data).
func (c *core) KeyedHash(data []byte) [32]byte {
	h := hmac.New(sha256.New, c.secret[:])
	h.Write(data)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (c *core) subjectMAC(s Subject) mac {
	c.mu.RLock()
	m, ok := c.subjects[s]
	c.mu.RUnlock()
	if ok {
		return m
	}
	b := make([]byte, 0, 9+len(s.AppID)+len(s.Participant))
	b = append(b, "subject\x00"...)
	b = append(b, s.AppID...)
	b = append(b, 0)
	b = append(b, s.Participant...)
	m = c.KeyedHash(b)
	c.mu.Lock()
	if len(c.subjects) > 1<<20 { // a cache, not a list: keep it bounded
		clear(c.subjects)
	}
	c.subjects[s] = m
	c.mu.Unlock()
	return m
}

func (c *core) Seal(ctx context.Context, s Subject, plaintext, aad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := c.subjectMAC(s)
	c.mu.RLock()
	k := c.current[m]
	c.mu.RUnlock()
	if k == nil {
		var err error
		if k, err = c.newKey(ctx, m); err != nil {
			return nil, err
		}
	}
	select {
	case <-k.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if k.err != nil {
		return nil, k.err
	}
	out := make([]byte, headerLen, Overhead+len(plaintext))
	out[0] = version
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+kidLen : headerLen]); err != nil {
		return nil, fmt.Errorf("privacy: nonce: %w", err)
	}
	return k.cipher().Seal(out, out[1+kidLen:headerLen], plaintext, aad), nil
}

// newKey creates the subject's current key (or returns the one another Seal
// just created) and makes it durable.
func (c *core) newKey(ctx context.Context, m mac) (*key, error) {
	k := &key{owner: m, ready: make(chan struct{})}
	if _, err := rand.Read(k.raw[:]); err != nil {
		return nil, fmt.Errorf("privacy: new key: %w", err)
	}
	c.mu.Lock()
	if cur := c.current[m]; cur != nil {
		c.mu.Unlock()
		return cur, nil
	}
	for {
		if _, err := rand.Read(k.id[:]); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("privacy: new key id: %w", err)
		}
		_, used := c.byID[k.id]
		_, erased := c.erasedIDs[k.id]
		if !used && !erased && k.id != (kid{}) {
			break
		}
	}
	c.current[m] = k
	c.byID[k.id] = k
	c.mu.Unlock()
	if c.store != nil {
		k.err = c.store.addKey(ctx, k)
	}
	if k.err != nil {
		c.mu.Lock()
		if c.current[m] == k {
			delete(c.current, m)
		}
		delete(c.byID, k.id)
		c.mu.Unlock()
	}
	close(k.ready)
	return k, nil
}

func (c *core) Open(ctx context.Context, s Subject, ciphertext, aad []byte) ([]byte, error) {
	k, err := c.keyOf(ctx, ciphertext)
	if err != nil {
		return nil, err
	}
	if k.owner != c.subjectMAC(s) {
		return nil, fmt.Errorf("%w: not this subject's key", ErrCiphertext)
	}
	return c.open(k, ciphertext, aad)
}

func (c *core) OpenByKey(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	k, err := c.keyOf(ctx, ciphertext)
	if err != nil {
		return nil, err
	}
	return c.open(k, ciphertext, aad)
}

// keyOf returns the key that sealed ciphertext.
func (c *core) keyOf(ctx context.Context, ciphertext []byte) (*key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(ciphertext) < Overhead || ciphertext[0] != version {
		return nil, fmt.Errorf("%w: %d bytes", ErrCiphertext, len(ciphertext))
	}
	id := kid(ciphertext[1 : 1+kidLen])
	c.mu.RLock()
	k := c.byID[id]
	_, erased := c.erasedIDs[id]
	c.mu.RUnlock()
	if k == nil {
		if erased {
			return nil, ErrErased
		}
		f, ok := c.store.(finder)
		if !ok {
			return nil, fmt.Errorf("%w: unknown key", ErrCiphertext)
		}
		var err error
		if k, err = f.findKey(ctx, c, id); err != nil {
			return nil, err
		}
	}
	select {
	case <-k.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if k.err != nil {
		return nil, fmt.Errorf("%w: unknown key", ErrCiphertext)
	}
	return k, nil
}

func (c *core) open(k *key, ciphertext, aad []byte) ([]byte, error) {
	pt, err := k.cipher().Open(nil, ciphertext[1+kidLen:headerLen], ciphertext[headerLen:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCiphertext, err)
	}
	return pt, nil
}

func (c *core) Erase(ctx context.Context, s Subject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := c.subjectMAC(s)
	c.eraseMu.Lock()
	defer c.eraseMu.Unlock()
	c.mu.Lock()
	_, was := c.erasedSubj[m]
	var ids []kid
	for id, k := range c.byID {
		if k.owner == m {
			ids = append(ids, id)
		}
	}
	if was && len(ids) == 0 {
		c.mu.Unlock()
		return nil
	}
	for _, id := range ids {
		c.byID[id].raw = [keyLen]byte{}
		delete(c.byID, id)
		c.erasedIDs[id] = struct{}{}
	}
	delete(c.current, m)
	c.erasedSubj[m] = struct{}{}
	c.mu.Unlock()
	if c.store == nil {
		return nil
	}
	return c.store.erase(ctx, c, m, ids)
}

func (c *core) Erased(ctx context.Context, s Subject) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m := c.subjectMAC(s)
	c.mu.RLock()
	_, ok := c.erasedSubj[m]
	c.mu.RUnlock()
	return ok, nil
}

// Memory is a Keyring in memory (tests; a process that needs no durability).
type Memory struct{ *core }

// NewMemory returns an empty in-memory keyring with a random secret.
func NewMemory() *Memory {
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		secret = sha256.Sum256([]byte(err.Error()))
	}
	return &Memory{newCore(secret, nil)}
}

var _ Ring = (*Memory)(nil)
