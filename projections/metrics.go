package projections

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the runner's Prometheus metrics.
type Metrics struct {
	batchEvents   prometheus.Histogram
	batchSessions prometheus.Histogram
	batchSeconds  prometheus.Histogram
	events        prometheus.Counter
	skipped       prometheus.Counter
	sinkErrors    prometheus.Counter
	resets        *prometheus.CounterVec
}

// NewMetrics registers the runner's metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range []prometheus.Collector{m.batchEvents, m.batchSessions, m.batchSeconds, m.events, m.skipped, m.sinkErrors, m.resets} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func nopMetrics() *Metrics { return newMetrics() }

func newMetrics() *Metrics {
	return &Metrics{
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "meetingd_projection_batch_events", Help: "Events per projection batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		batchSessions: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "meetingd_projection_batch_sessions", Help: "Sessions written per projection batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "meetingd_projection_batch_seconds", Help: "Time to fold and write one projection batch to every sink.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_projection_events_total", Help: "Session events folded into the read models.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_projection_skipped_events_total", Help: "Events the projections could not decode and skipped.",
		}),
		sinkErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_projection_write_errors_total", Help: "Failed writes of a projection batch (retried).",
		}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_projection_resets_total",
			Help: "Read models dropped at start and rebuilt from the log because their checkpoint does not match it (reason: checkpoint_ahead, log_replaced).",
		}, []string{"reason"}),
	}
}

func (m *Metrics) batch(events, sessions int, d time.Duration) {
	m.batchEvents.Observe(float64(events))
	m.batchSessions.Observe(float64(sessions))
	m.batchSeconds.Observe(d.Seconds())
	m.events.Add(float64(events))
}
