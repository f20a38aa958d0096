package loadgen

import (
	"encoding/json"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to 5 minutes with three
// significant digits (a value is within 0.1% of what was recorded).
const (
	minMicros   = 1
	maxMicros   = int64(5 * time.Minute / time.Microsecond)
	sigFigures  = 3
	microsecond = int64(time.Microsecond)
)

// recorder is a latency histogram. Not safe for concurrent use: each worker
// has its own, merged at the end.
type recorder struct{ h *hdrhistogram.Histogram }

func newRecorder() *recorder { return &recorder{h: hdrhistogram.New(minMicros, maxMicros, sigFigures)} }

// record adds one latency; values outside the range are clamped to it.
func (r *recorder) record(d time.Duration) {
	us := min(max(int64(d)/microsecond, minMicros), maxMicros)
	_ = r.h.RecordValue(us) // in range: cannot fail
}

func (r *recorder) merge(o *recorder) { r.h.Merge(o.h) }

// Summary is a latency distribution's percentiles.
type Summary struct {
	P50, P90, P99, Max, Mean time.Duration
}

func (r *recorder) summary() Summary {
	if r.h.TotalCount() == 0 {
		return Summary{}
	}
	at := func(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
	return Summary{
		P50: at(r.h.ValueAtQuantile(50)), P90: at(r.h.ValueAtQuantile(90)), P99: at(r.h.ValueAtQuantile(99)),
		Max: at(r.h.Max()), Mean: time.Duration(r.h.Mean() * float64(time.Microsecond)),
	}
}

// Percentiles summarizes latencies the way Run does (for tests and tools
// that measure by other means).
func Percentiles(latencies []time.Duration) Summary {
	r := newRecorder()
	for _, d := range latencies {
		r.record(d)
	}
	return r.summary()
}

// MarshalJSON writes the figures in milliseconds (fractional).
func (s Summary) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(map[string]float64{
		"p50_ms": ms(s.P50), "p90_ms": ms(s.P90), "p99_ms": ms(s.P99), "max_ms": ms(s.Max), "mean_ms": ms(s.Mean),
	})
}
