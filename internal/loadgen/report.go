package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteText writes the result for a person to read.
func (r Result) WriteText(w io.Writer) error {
	target := "as fast as possible"
	if r.TargetRate > 0 {
		target = fmt.Sprintf("target %.0f/s", r.TargetRate)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests in %s: %.1f/s (%s, %d clients)", r.Requests, r.Elapsed.Round(time.Millisecond), r.Throughput, target, r.Clients)
	if r.Interrupted {
		b.WriteString(", interrupted")
	}
	b.WriteByte('\n')
	line := func(name string, s Summary) {
		fmt.Fprintf(&b, "%-9s p50 %s  p90 %s  p99 %s  max %s  mean %s\n", name,
			ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max), ms(s.Mean))
	}
	line("latency", r.Latency)
	line("service", r.Service)
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	b.WriteString("status   ")
	for _, c := range codes {
		fmt.Fprintf(&b, " %d×%d", c, r.Status[c])
	}
	fmt.Fprintf(&b, "  (duplicates %d, quarantined %d)\n", r.Duplicates, r.Quarantined)
	if r.Errors > 0 {
		fmt.Fprintf(&b, "errors    %d, first: %s\n", r.Errors, r.FirstError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
