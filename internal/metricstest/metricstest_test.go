package metricstest_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetingd/meetingd/internal/metricstest"
)

// recorder is a testing.TB that records a failure instead of stopping.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failure = fmt.Sprintf(format, args...) }

func TestFind(t *testing.T) {
	reg := prometheus.NewRegistry()
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_runs_total", Help: "h"}, []string{"job", "outcome"})
	reg.MustRegister(runs)
	runs.WithLabelValues("a", "ok").Add(1)
	runs.WithLabelValues("a", "failed").Add(2)
	runs.WithLabelValues("b", "ok").Add(3)
	for _, tc := range []struct {
		name   string
		family string
		labels map[string]string
		want   float64 // 0: no series, the test fails
	}{
		{"every label", "test_runs_total", map[string]string{"job": "a", "outcome": "failed"}, 2},
		{"some labels", "test_runs_total", map[string]string{"job": "b"}, 3},
		{"unknown value", "test_runs_total", map[string]string{"job": "c"}, 0},
		{"unknown label", "test_runs_total", map[string]string{"app": "a"}, 0},
		{"unknown family", "test_other_total", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			m := metricstest.Find(r, reg, tc.family, tc.labels)
			if tc.want == 0 {
				if m != nil || r.failure == "" {
					t.Fatalf("Find = %v, failure %q; want nil and a failure", m, r.failure)
				}
				return
			}
			if r.failure != "" || m.GetCounter().GetValue() != tc.want {
				t.Fatalf("Find = %v, failure %q; want the series of value %v", m, r.failure, tc.want)
			}
		})
	}
}
