package retention

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the retention job's metrics.
type Metrics struct {
	deleted prometheus.Counter
	runs    *prometheus.CounterVec
	last    prometheus.Gauge
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		deleted: prometheus.NewCounter(prometheus.CounterOpts{Name: "meetingd_retention_sessions_deleted_total",
			Help: "Sessions deleted by the retention job (MEETINGD_RETENTION)."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "meetingd_retention_runs_total",
			Help: "Retention runs by outcome (success, failure)."}, []string{"outcome"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "meetingd_retention_last_run_timestamp_seconds",
			Help: "When the last retention run ended (Unix seconds)."}),
	}
	for _, c := range []prometheus.Collector{m.deleted, m.runs, m.last} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(deleted int, err error, now time.Time) {
	if m == nil {
		return
	}
	m.deleted.Add(float64(deleted))
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	m.runs.WithLabelValues(outcome).Inc()
	m.last.Set(float64(now.Unix()))
}
