// Package bytescan finds strings in the raw bytes of a directory's files.
//
// The privacy tests use it to prove that no file of a data directory (the
// event log, the keyring, the read models, the notification outbox, their
// free pages included) holds a name that was erased, expired or sealed:
// Find reads every regular file under a directory, whole, and reports
// every needle it contains, byte for byte. Forms gives the spellings a name
// can take in a stored JSON document (UTF-8 and JSON-escaped), so that a
// test looks for each of them.
//
// It is a test helper: it reads whole files into memory and is meant for
// test-sized directories.
package bytescan
