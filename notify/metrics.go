package notify

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the notifier's Prometheus metrics.
type metrics struct {
	attempts      *prometheus.CounterVec
	duration      prometheus.Histogram
	deadLetters   prometheus.Counter
	notifications *prometheus.CounterVec
	skipped       prometheus.Counter
	restarts      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, store *Store, clock Clock) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_notify_attempts_total",
			Help: "Delivery attempts of notifications, by result: delivered, http_error (a non-2xx answer), timeout, blocked (SSRF policy) or network_error.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "meetingd_notify_attempt_duration_seconds",
			Help:    "Duration of one delivery attempt.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_notify_dead_letters_total",
			Help: "Notifications failed after their retry window (dead-lettered).",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_notify_notifications_total",
			Help: "Notifications owed to subscriptions, by type (meeting.final, meeting.revised).",
		}, []string{"type"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_notify_skipped_events_total",
			Help: "Session events the notifier could not attribute to a session (skipped).",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "meetingd_notify_restarts_total",
			Help: "Times the notifier started again from its checkpoint after a failure of its store or of the log (a full disk, a lost connection).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "meetingd_notify_pending",
		Help: "Notifications waiting to be delivered (including those being retried).",
	}, func() float64 {
		n, _, err := store.pendingStats()
		if err != nil {
			return 0
		}
		return float64(n)
	})
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "meetingd_notify_queue_age_seconds",
		Help: "Age of the oldest notification waiting to be delivered (0: none).",
	}, func() float64 {
		n, oldest, err := store.pendingStats()
		if err != nil || n == 0 {
			return 0
		}
		return max(clock.Now().Sub(oldest).Seconds(), 0)
	})
	for _, c := range []prometheus.Collector{m.attempts, m.duration, m.deadLetters, m.notifications, m.skipped, m.restarts, pending, age} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("notify metrics: %w", err)
		}
	}
	return m, nil
}

// attempt counts one attempt's result.
func (m *metrics) attempt(r result, err error) {
	m.duration.Observe(r.dur.Seconds())
	var ne net.Error
	switch {
	case err == nil && r.code >= 200 && r.code < 300:
		m.attempts.WithLabelValues("delivered").Inc()
	case err == nil:
		m.attempts.WithLabelValues("http_error").Inc()
	case errors.Is(err, ErrBlockedAddress):
		m.attempts.WithLabelValues("blocked").Inc()
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		m.attempts.WithLabelValues("timeout").Inc()
	default:
		m.attempts.WithLabelValues("network_error").Inc()
	}
}
