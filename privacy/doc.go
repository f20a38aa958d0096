// Package privacy is crypto-shredding for meetingd: personal data (a
// participant's identity, display names, raw webhook bodies that name them)
// is stored sealed under a key of its data subject, and erasing the subject
// deletes the key, so that every copy of the ciphertext, in the log, in
// backups of it, in free pages, becomes unreadable at once.
//
// # Contract
//
//   - Keyring.Seal seals plaintext with AES-256-GCM under the subject's
//     current key, creating the key (durably, before Seal returns) on the
//     subject's first Seal and after an Erase: a subject who reappears after
//     an erasure is new data under a new key. aad is authenticated, not
//     stored.
//   - Keyring.Open returns the plaintext, ErrErased when the key that sealed
//     it was erased, ErrCiphertext for anything else it cannot open (altered,
//     another subject's, another keyring's).
//   - Keyring.Erase deletes every key the subject ever had; it is idempotent
//     and durable when it returns. Erased reports whether the subject was
//     ever erased (a later Seal does not reset it).
//   - Subject.Pseudonym is what readers show for an erased subject's
//     identity and names (API.md).
//   - Hasher.KeyedHash is HMAC-SHA256 under a secret kept in the keyring:
//     stable, and useless without the keyring.
//
// # Ciphertext
//
// version 1 ‖ key id (8 random bytes) ‖ nonce (12 random bytes) ‖ AES-GCM
// sealed data with its 16-byte tag: 37 bytes over the plaintext. The key id
// names the subject's key generation, so Open knows an erased key from a
// corrupt ciphertext without trying keys.
//
// # Implementations
//
//   - Embedded (OpenEmbedded): the file keys.ring in the data directory,
//     an append-only list of (keyed hash of the subject, key id, key) and of
//     erasure tombstones (keyed hash, key ids). New keys are appended and
//     fsynced with group commit; Erase rewrites the whole file without the
//     subject's keys into keys.ring.tmp, fsyncs it, renames it over
//     keys.ring and fsyncs the directory: no byte of an erased key stays in
//     a file of the data directory (no free pages, no write-ahead file;
//     TestEmbeddedEraseLeavesNoBytes scans the file). The file never names
//     a subject in the clear.
//   - Memory (NewMemory): the same contract in memory, for tests.
//   - External (OpenExternal): the same over a KeyStore, the interface that
//     a KMS or key vault, or KurrentDB (privacy/esdbkeys: a stream per key,
//     tombstoned on erasure), implements for production (external.go says
//     what each must guarantee); MemoryKeyStore is its fake. Over a
//     KeyFinder (a store shared by replicas), a key id it does not know is
//     looked up in the store before a ciphertext is called invalid. No
//     adapter to a real KMS is built yet.
//
// privacytest.Run is the contract suite every implementation passes.
package privacy
