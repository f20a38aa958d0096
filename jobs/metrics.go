package jobs

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/domain"
)

// Metrics are the scheduler's and the jobs' Prometheus metrics.
type Metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	running     *prometheus.GaugeVec
	// changes counts what the jobs did: meetings abandoned, reconciled, …
	changes *prometheus.CounterVec
	// usageDiff is the difference between meetingd's and CometChat's
	// usage of each meeting the reconciliation recorded usage for.
	usageDiff *prometheus.HistogramVec
}

// NewMetrics registers the job metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.lastSuccess, m.running, m.changes, m.usageDiff} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func newMetrics() *Metrics {
	return &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_job_runs_total",
			Help: "Scheduled job runs, by job and outcome (success, failure, skipped: the previous run was still going).",
		}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meetingd_job_duration_seconds",
			Help:    "Duration of scheduled job runs (successful or failed), by job.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meetingd_job_last_success_timestamp_seconds",
			Help: "Unix time at which the job's last successful run ended (0: none since start).",
		}, []string{"job"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "meetingd_job_running",
			Help: "1 while a run of the job is going.",
		}, []string{"job"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meetingd_job_changes_total",
			Help: "What the jobs did, by job and what: abandoned, reconciled, unmatched, conflict (a concurrent event made the job retry), unknown (CometChat did not know the session), error.",
		}, []string{"job", "what"}),
		usageDiff: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meetingd_provider_usage_difference_seconds",
			Help:    "Per reconciled meeting, by medium (audio, video): |meetingd's seconds − CometChat's totalAudioMinutes/totalVideoMinutes × 60| over the participants CometChat reported (the meeting report's provider_usage), observed when the reconciliation records CometChat's figures.",
			Buckets: []float64{0, 1, 5, 15, 60, 300, 900, 3600},
		}, []string{"medium"}),
	}
}

// usageDifference observes a meeting's provider usage difference.
func (m *Metrics) usageDifference(pu *domain.ProviderUsage) {
	if m == nil || pu == nil {
		return
	}
	m.usageDiff.WithLabelValues("audio").Observe(math.Abs(float64(pu.AudioDifferenceSeconds)))
	m.usageDiff.WithLabelValues("video").Observe(math.Abs(float64(pu.VideoDifferenceSeconds)))
}

// declare creates a job's series, so that they read 0 before the first run.
func (m *Metrics) declare(job string) {
	for _, o := range []Outcome{Succeeded, Failed, Skipped} {
		m.runs.WithLabelValues(job, string(o))
	}
	m.lastSuccess.WithLabelValues(job)
	m.running.WithLabelValues(job)
}

func (m *Metrics) count(job, what string, n int) {
	if m != nil && n > 0 {
		m.changes.WithLabelValues(job, what).Add(float64(n))
	}
}
