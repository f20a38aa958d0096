package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/projections"
)

// sinkMetrics measure each projection sink's writes, apart from the
// runner's whole-batch metrics (meetingd_projection_batch_*).
type sinkMetrics struct {
	seconds  *prometheus.HistogramVec
	sessions *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newSinkMetrics(reg prometheus.Registerer) (*sinkMetrics, error) {
	m := &sinkMetrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "meetingd_sink_write_seconds", Help: "Time of one batch write, by sink (readmodel, clickhouse, …).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"sink"}),
		sessions: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "meetingd_sink_batch_sessions", Help: "Sessions per batch written, by sink.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}, []string{"sink"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_sink_write_errors_total", Help: "Failed batch writes, by sink (the runner retries them).",
		}, []string{"sink"}),
	}
	for _, c := range []prometheus.Collector{m.seconds, m.sessions, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// sinkName labels a sink by its package: *clickhouse.Sink → clickhouse.
func sinkName(s projections.Sink) string {
	name := strings.TrimPrefix(fmt.Sprintf("%T", s), "*")
	if pkg, _, ok := strings.Cut(name, "."); ok {
		return pkg
	}
	return name
}

func (m *sinkMetrics) observe(name string, b projections.Batch, start time.Time, err error) {
	m.seconds.WithLabelValues(name).Observe(time.Since(start).Seconds())
	m.sessions.WithLabelValues(name).Observe(float64(len(b.Sessions)))
	if err != nil {
		m.errors.WithLabelValues(name).Inc()
	}
}

// timedSink measures a sink's writes.
type timedSink struct {
	projections.Sink
	name string
	m    *sinkMetrics
}

func (s timedSink) Write(ctx context.Context, b projections.Batch) error {
	start := time.Now()
	err := s.Sink.Write(ctx, b)
	s.m.observe(s.name, b, start, err)
	return err
}

// timedState measures the state store's writes.
type timedState struct {
	projections.StateStore
	m *sinkMetrics
}

func (s timedState) Write(ctx context.Context, b projections.Batch) error {
	start := time.Now()
	err := s.StateStore.Write(ctx, b)
	s.m.observe(sinkName(s.StateStore), b, start, err)
	return err
}

// instrumentSinks wraps the state store and the sinks so that each write is
// measured; with reg nil (rebuild) it returns them as they are.
func instrumentSinks(reg prometheus.Registerer, state projections.StateStore, sinks []projections.Sink) (projections.StateStore, []projections.Sink, error) {
	if reg == nil {
		return state, sinks, nil
	}
	m, err := newSinkMetrics(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("sink metrics: %w", err)
	}
	out := make([]projections.Sink, len(sinks))
	for i, s := range sinks {
		out[i] = timedSink{Sink: s, name: sinkName(s), m: m}
	}
	return timedState{StateStore: state, m: m}, out, nil
}
