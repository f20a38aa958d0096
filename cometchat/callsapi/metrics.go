package callsapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count the Calls API requests of every client that shares them.
type Metrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

// NewMetrics registers the client metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_cometchat_requests_total",
			Help: "Requests to CometChat's Calls REST API, by app, endpoint (call, list) and HTTP status (or error), each try counted.",
		}, []string{"app_id", "endpoint", "status"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meetingd_cometchat_request_seconds",
			Help:    "Latency of one request to CometChat's Calls REST API, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}, []string{"endpoint"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(app, endpoint, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(app, endpoint, status).Inc()
	m.seconds.WithLabelValues(endpoint).Observe(d.Seconds())
}
