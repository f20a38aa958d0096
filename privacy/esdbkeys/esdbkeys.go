package esdbkeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/privacy"
)

// Prefix begins the names of the store's streams (package documentation).
const Prefix = "privacy-keys-"

// Event types.
const (
	secretType    = "privacy.secret.v1"
	keyType       = "privacy.key.v1"
	erasedType    = "privacy.keys-erased.v1"
	tombstoneType = "$streamDeleted"
)

// Log is what the store needs of the event log: eventstore.Store's appends
// and reads, and Tombstone, a hard delete that is idempotent (deleting a
// deleted or absent stream is not an error). eventstore/esdb.Store is one.
type Log interface {
	Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error]
	ReadAll(ctx context.Context, from eventstore.Position, filter eventstore.Filter) iter.Seq2[eventstore.RecordedEvent, error]
	Tombstone(ctx context.Context, stream string) error
}

// Store is the privacy.KeyStore on a Log. It keeps no state of its own.
type Store struct {
	log                                   Log
	secretStream, erasedStream, keyPrefix string
}

var _ privacy.KeyFinder = (*Store)(nil)

// New returns the key store on log whose streams begin with prefix (Prefix
// when empty; the tests on a shared server give each store its own).
func New(log Log, prefix string) *Store {
	if prefix == "" {
		prefix = Prefix
	}
	return &Store{log: log, secretStream: prefix + "secret", erasedStream: prefix + "erased", keyPrefix: prefix + "k-"}
}

type secretData struct {
	Secret []byte `json:"secret"`
}

type keyData struct {
	Subject string `json:"subject"`
	ID      string `json:"id"`
	Key     []byte `json:"key"`
}

type erasedData struct {
	Subject string   `json:"subject"`
	IDs     []string `json:"ids"`
}

// KeyStream is the stream of the key with id (one key generation of one
// subject).
func (s *Store) KeyStream(id [8]byte) string {
	return s.keyPrefix + hex.EncodeToString(id[:])
}

// eventID derives an event's id from its content, so that a retried append
// is recognised as the same event.
func eventID(typ string, data []byte) uuid.UUID {
	return uuid.NewHash(sha256.New(), uuid.NameSpaceOID, append([]byte(typ+"\x00"), data...), 5)
}

// Secret returns the HMAC secret, writing a random one on first use; of two
// processes racing to write it, the first wins and both return it.
func (s *Store) Secret(ctx context.Context) ([32]byte, error) {
	for attempt := 0; ; attempt++ {
		sec, ok, err := s.readSecret(ctx)
		if err != nil || ok {
			return sec, err
		}
		if attempt > 0 {
			return sec, fmt.Errorf("esdbkeys: %s: written but not read back", s.secretStream)
		}
		if _, err := rand.Read(sec[:]); err != nil {
			return sec, fmt.Errorf("esdbkeys: new secret: %w", err)
		}
		data, _ := json.Marshal(secretData{Secret: sec[:]})
		_, err = s.log.Append(ctx, s.secretStream, eventstore.NoStream,
			eventstore.Event{ID: uuid.New(), Type: secretType, Data: data})
		if err != nil && !errors.Is(err, eventstore.ErrConcurrency) {
			return [32]byte{}, fmt.Errorf("esdbkeys: write the secret: %w", err)
		}
	}
}

func (s *Store) readSecret(ctx context.Context) (sec [32]byte, ok bool, err error) {
	for ev, err := range s.log.ReadStream(ctx, s.secretStream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return sec, false, nil
		}
		if err != nil {
			return sec, false, fmt.Errorf("esdbkeys: read the secret: %w", err)
		}
		var d secretData
		if ev.Type != secretType || json.Unmarshal(ev.Data, &d) != nil || len(d.Secret) != len(sec) {
			return sec, false, fmt.Errorf("esdbkeys: %s: event %d is not a secret", s.secretStream, ev.Revision)
		}
		copy(sec[:], d.Secret)
		return sec, true, nil
	}
	return sec, false, nil
}

// PutKey stores k in a stream of its own.
func (s *Store) PutKey(ctx context.Context, k privacy.StoredKey) error {
	data, _ := json.Marshal(keyData{Subject: hex.EncodeToString(k.Subject[:]), ID: hex.EncodeToString(k.ID[:]), Key: k.Key[:]})
	stream := s.KeyStream(k.ID)
	ev := eventstore.Event{ID: eventID(keyType, []byte(stream)), Type: keyType, Data: data}
	if _, err := s.log.Append(ctx, stream, eventstore.NoStream, ev); err != nil {
		return fmt.Errorf("esdbkeys: put key: %w", err)
	}
	return nil
}

// EraseKeys records t, then tombstones the streams of t's keys.
func (s *Store) EraseKeys(ctx context.Context, t privacy.Tombstone) error {
	d := erasedData{Subject: hex.EncodeToString(t.Subject[:]), IDs: make([]string, len(t.IDs))}
	for i, id := range t.IDs {
		d.IDs[i] = hex.EncodeToString(id[:])
	}
	data, _ := json.Marshal(d)
	ev := eventstore.Event{ID: eventID(erasedType, data), Type: erasedType, Data: data}
	if _, err := s.log.Append(ctx, s.erasedStream, eventstore.Any, ev); err != nil {
		return fmt.Errorf("esdbkeys: record the erasure: %w", err)
	}
	for _, id := range t.IDs {
		if err := s.log.Tombstone(ctx, s.KeyStream(id)); err != nil {
			return fmt.Errorf("esdbkeys: delete a key: %w", err)
		}
	}
	return nil
}

// Tombstones yields every recorded erasure.
func (s *Store) Tombstones(ctx context.Context) iter.Seq2[privacy.Tombstone, error] {
	return func(yield func(privacy.Tombstone, error) bool) {
		for ev, err := range s.log.ReadStream(ctx, s.erasedStream, 0) {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return
			}
			if err != nil {
				yield(privacy.Tombstone{}, fmt.Errorf("esdbkeys: read erasures: %w", err))
				return
			}
			t, err := decodeErased(ev)
			if !yield(t, err) || err != nil {
				return
			}
		}
	}
}

func decodeErased(ev eventstore.RecordedEvent) (privacy.Tombstone, error) {
	var d erasedData
	var t privacy.Tombstone
	bad := fmt.Errorf("esdbkeys: %s: event %d is not an erasure", ev.Stream, ev.Revision)
	if ev.Type != erasedType || json.Unmarshal(ev.Data, &d) != nil || decodeHex(t.Subject[:], d.Subject) != nil {
		return t, bad
	}
	t.IDs = make([][8]byte, len(d.IDs))
	for i, h := range d.IDs {
		if decodeHex(t.IDs[i][:], h) != nil {
			return privacy.Tombstone{}, bad
		}
	}
	return t, nil
}

func decodeHex(dst []byte, s string) error {
	if hex.DecodedLen(len(s)) != len(dst) {
		return errors.New("length")
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

// Keys yields every key that no erasure names, after tombstoning again the
// streams of erased keys whose deletion a crash interrupted.
func (s *Store) Keys(ctx context.Context) iter.Seq2[privacy.StoredKey, error] {
	return func(yield func(privacy.StoredKey, error) bool) {
		erased := map[[8]byte]bool{}
		for t, err := range s.Tombstones(ctx) {
			if err != nil {
				yield(privacy.StoredKey{}, err)
				return
			}
			for _, id := range t.IDs {
				erased[id] = true
			}
		}
		var keys []privacy.StoredKey
		pending := map[string]bool{} // erased keys' streams not seen deleted
		for ev, err := range s.log.ReadAll(ctx, eventstore.Start, eventstore.Filter{StreamPrefixes: []string{s.keyPrefix}}) {
			if err != nil {
				yield(privacy.StoredKey{}, fmt.Errorf("esdbkeys: read keys: %w", err))
				return
			}
			switch ev.Type {
			case tombstoneType:
				delete(pending, ev.Stream)
				continue
			case keyType:
			default:
				continue // not ours
			}
			k, err := s.decodeKey(ev)
			if err != nil {
				yield(privacy.StoredKey{}, err)
				return
			}
			if erased[k.ID] {
				pending[ev.Stream] = true
				continue
			}
			keys = append(keys, k)
		}
		for stream := range pending {
			if !strings.HasPrefix(stream, s.keyPrefix) {
				continue
			}
			if err := s.log.Tombstone(ctx, stream); err != nil {
				yield(privacy.StoredKey{}, fmt.Errorf("esdbkeys: finish an erasure: %w", err))
				return
			}
		}
		for _, k := range keys {
			if !yield(k, nil) {
				return
			}
		}
	}
}

func (s *Store) decodeKey(ev eventstore.RecordedEvent) (privacy.StoredKey, error) {
	var d keyData
	var k privacy.StoredKey
	if json.Unmarshal(ev.Data, &d) != nil || decodeHex(k.Subject[:], d.Subject) != nil ||
		decodeHex(k.ID[:], d.ID) != nil || len(d.Key) != len(k.Key) || s.KeyStream(k.ID) != ev.Stream {
		return privacy.StoredKey{}, fmt.Errorf("esdbkeys: %s: event %d is not a key", ev.Stream, ev.Revision)
	}
	copy(k.Key[:], d.Key)
	return k, nil
}

// FindKey reads the key with id, stored by any process: privacy.ErrErased
// when an erasure names it, privacy.ErrKeyNotFound when no key has it.
func (s *Store) FindKey(ctx context.Context, id [8]byte) (privacy.StoredKey, error) {
	for ev, err := range s.log.ReadStream(ctx, s.KeyStream(id), 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return privacy.StoredKey{}, fmt.Errorf("esdbkeys: find key: %w", err)
		}
		if ev.Type != keyType {
			break
		}
		return s.decodeKey(ev)
	}
	for t, err := range s.Tombstones(ctx) {
		if err != nil {
			return privacy.StoredKey{}, err
		}
		if slices.Contains(t.IDs, id) {
			return privacy.StoredKey{}, privacy.ErrErased
		}
	}
	return privacy.StoredKey{}, privacy.ErrKeyNotFound
}
