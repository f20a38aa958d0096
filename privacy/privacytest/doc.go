// Package privacytest is the contract suite of privacy.Keyring: Run checks
// a keyring's round trips, its refusals (altered ciphertext, another
// subject's, another app's person of the same name), erasure (idempotent,
// ErrErased, the other subjects untouched, a reappearing subject under a
// new key), durability across a reopen and concurrent use. Every
// implementation's tests call Run.
package privacytest
