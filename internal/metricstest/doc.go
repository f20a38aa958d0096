// Package metricstest finds a series in a Prometheus registry, for the tests
// of the packages that measure.
package metricstest
