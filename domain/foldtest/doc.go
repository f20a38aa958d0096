// Package foldtest generates and reads the sessions that the tests and
// benchmarks of domain and codec fold: random plausible sessions
// (RandomSession), a fixed benchmark meeting (BenchSession), and the golden
// inputs of domain/testdata/fold (ReadSession). Test code only.
package foldtest
