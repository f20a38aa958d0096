// Package esdbkeys is a privacy.KeyStore on a KurrentDB (EventStoreDB) log:
// the data subjects' keys kept in the cluster that holds the events they
// seal, so that every replica of meetingd and every restart on a fresh data
// directory finds them (a KurrentDB deployment's data directory is
// disposable). privacy.OpenExternal turns it into the keyring.
//
// # Streams
//
//   - privacy-keys-secret: one event, the keyring's HMAC secret (32 random
//     bytes), written once with NoStream by the first process that needs it.
//   - privacy-keys-k-<key id>: one stream per key generation of a subject
//     (<key id>: the hex of the key's 8 random bytes), holding one event
//     (type privacy.key.v1): the subject's keyed hash (the keyring's HMAC,
//     never the identity), the key id and the key. A subject who reappears
//     after an erasure gets a new key, hence a new stream; the id alone
//     finds a key (FindKey).
//   - privacy-keys-erased: one event per erasure (privacy.keys-erased.v1):
//     the subject's keyed hash and the ids of the keys it had, no key.
//
// # Contract (privacy.KeyStore)
//
//   - PutKey appends the key's event with NoStream and a fixed event id, so
//     a retried PutKey after ErrUnavailable stores it once.
//   - EraseKeys first records the erasure in privacy-keys-erased, then
//     tombstones (hard-deletes) each key's stream: a tombstoned stream can
//     never be written again, so no retry or race resurrects a key. A crash
//     between the two is finished by the next Keys (below).
//   - Keys reads the erasures, then every key event through one filtered read
//     of $all (prefix privacy-keys-k-), yields the keys no erasure names and
//     tombstones again the streams of erased keys that $all still shows
//     without a $streamDeleted event (an erasure interrupted by a crash).
//     Until a scavenge, $all keeps the bytes of tombstoned streams: Keys
//     skips them by the erasure record, and an operator's scheduled
//     scavenge removes them from disk (PRIVACY.md).
//   - FindKey (privacy.KeyFinder) reads one key by id: a replica finds the
//     keys another replica created after it opened, and learns of the
//     erasure of a key it never loaded. A key a replica loaded before
//     another erased it stays usable in that replica until it restarts
//     (PRIVACY.md §7).
//   - Every method honours ctx and is durable when it returns (the log's
//     quorum acknowledgement).
//
// The store needs no projection and no stream metadata, only appends, reads
// and tombstones (Log, which eventstore/esdb.Store implements). The tests
// run privacytest's contract suite over esdbtest's in-process server, and
// over a real server when MEETINGD_TEST_KURRENTDB holds its connection
// string. Why keys live in the event cluster and how erasure removes them:
// docs/adr/0026-keys-on-kurrentdb.md.
package esdbkeys
