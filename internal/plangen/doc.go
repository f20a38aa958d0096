// Package plangen generates planned sessions for the benchmarks of the
// attendance plans (make bench): a series of weekly classes with rosters
// (absent, late, early-leaving and rejoining students, and guests), folded
// with the domain fold, as the projection runner hands them to a report
// store. Deterministic for a given *rand.Rand.
package plangen
