// Package envelope seals the personal data of meetingd's events under the
// keys of their data subjects (package privacy) before they are written to
// the log, and opens it when they are read back.
//
// # What is sealed
//
// Every string that names a person, each under the key of the person it
// names (the subject: the app and the occupant's identity, uid or else
// display name):
//
//   - an Occupant (joins, leaves, all_occupants of an end, a
//     reconciliation's intervals and unmatched participants): uid and name;
//   - a reconciliation's usage rows: the participant;
//   - a ringing step: sender with sender_name, and receiver (each its own
//     subject); its conversation id, which names both, sealed under the
//     receiver's key and then the sender's ("\uFFFD2" + the number of
//     layers + base64url): erasing either makes it unreadable (shown empty);
//   - a plan's roster entries: participant with name.
//
// Times, intervals, flags, ids of apps, sessions and calls, recordings'
// URLs are not personal data and stay in the clear, so every count and
// duration is computed as before.
//
// # Stored form
//
// A sealed field is one string in the field that held the identity (uid
// emptied, the rest in name; sender_name emptied, the rest in sender):
// "\uFFFD1" + base64url(mask ‖ ciphertext). U+FFFD cannot start a name that
// the intake accepts (domain.CheckID refuses it), so a sealed string is
// never confused with a name. ciphertext is privacy's (key id, nonce,
// AES-256-GCM) of uid ‖ 0x00 ‖ name, authenticated with the event's app and
// session. mask is the subject's pseudonym (6 bytes) XOR the first 6 bytes
// of the keyring's keyed hash of the nonce: it survives the erasure of the
// key, and only a holder of the keyring's secret reads it.
//
// Open replaces each sealed string by its plaintext, or, when the key was
// erased (privacy.ErrErased), uid and name alike by the subject's pseudonym
// (privacy.Subject.Pseudonym): the fold and every report then show the
// pseudonym without knowing an erasure happened. Strings that are not
// sealed (a log written before sealing, during its migration) are left as
// they are.
//
// # Event ids and raw bodies
//
// EventID derives a join's or a leave's event id from the keyring's keyed
// hash of domain.Key (which holds the identity), never from a plain hash of
// it; the other events keep domain.EventID. SealBody seals a quarantined
// raw body (which may name anyone) under a subject of its own, the
// quarantine record (QuarantineSubject): an erasure erases the records
// whose body names the person.
package envelope
