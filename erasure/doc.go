// Package erasure honours a data subject's erasure request (API.md "Privacy:
// erasure and retention"): the request is an event of its app's stream
// (Stream: "erasures-<app>"), and a Processor removes the subject's personal
// data from everything derived from the log.
//
// # The request
//
// Service.Request erases the subject's key first (privacy.Keyring.Erase,
// durable when it returns): from then on the log's copies of the subject's
// identity, names and raw bodies decode to the pseudonym only, and a
// subject who reappears later gets a new key (new data). It then appends
// erasure.requested.v1, which names the erasure id, the app, who asked (the
// token's label) and when, and the subject only by its pseudonym
// (privacy.Subject.Pseudonym) — never the identity, so that nothing needs
// to keep the identity once the request is answered. A failed append is
// answered with an error and the client retries; Erase is idempotent.
//
// # Processing
//
// The Processor (Run) finds every erasure without an erasure.done.v1 (at
// start, from the log: a crash at any point resumes it), and for each one:
//
//  1. Derived.Pseudonymise rewrites the read models: every session of the
//     app naming an identity whose pseudonym is the erasure's gets that
//     identity and every name it had replaced by the pseudonym (the rows
//     stay, so every count, duration and ratio is unchanged); the sessions
//     rewritten are appended as erasure.progress.v1, so that a resumed
//     erasure still knows them once the read models no longer show them;
//  2. every Rewriter rewrites its copy of those sessions (ClickHouse rows
//     by mutations, the intake's cache) or erases what it cannot rewrite
//     (Quarantine: the keys of the quarantined bodies naming the subject);
//  3. every Scrubber removes the freed bytes (the free pages of the
//     read-model file overwritten with zeros);
//  4. erasure.done.v1 records the time it ended.
//
// Each step is idempotent, so a step repeated after a crash is harmless.
// Matching by pseudonym (48 bits of SHA-256 of app and identity) can in
// principle also match another identity of the app with the same
// pseudonym: for one subject among a million participants, about 4·10⁻⁹.
//
// Events acknowledged after the key is erased are new data, except the
// events of a subject who reappears between the request and the end of its
// processing (seconds), whose rows are pseudonymised too.
package erasure
