package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/cometchat"
	"github.com/meetingd/meetingd/domain"
)

// Metrics are the intake's Prometheus metrics.
type Metrics struct {
	webhooks      *prometheus.CounterVec
	appendSeconds prometheus.Histogram
}

// NewMetrics registers the intake metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_webhooks_total",
			Help: "CometChat webhooks received, by trigger and outcome (accepted, duplicate, quarantined, rejected, unauthorized, forbidden, rate_limited, too_large, unavailable, error).",
		}, []string{"trigger", "outcome"}),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meetingd_intake_append_seconds",
			Help:    "Time to store one webhook durably (decode, append, fsync or quorum).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2},
		}),
	}
	for _, c := range []prometheus.Collector{m.webhooks, m.appendSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// triggerLabel bounds the label's values to the known triggers.
func triggerLabel(t domain.Trigger) string {
	for _, known := range cometchat.Triggers {
		if t == known {
			return string(t)
		}
	}
	if t == "" {
		return "none"
	}
	return "unknown"
}

func (m *Metrics) webhook(t domain.Trigger, outcome string) {
	m.webhooks.WithLabelValues(triggerLabel(t), outcome).Inc()
}
