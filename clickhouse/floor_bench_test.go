package clickhouse_test

import (
	"testing"

	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
)

// BenchmarkRoundTrip is the baseline of the report-latency benchmarks (make
// bench reports BenchmarkDurations30Days1M beside it): `SELECT 1` through
// the same driver connection to the same server, the floor under any query.
func BenchmarkRoundTrip(b *testing.B) {
	conn, _ := clickhousetest.Migrated(b)
	b.ReportAllocs()
	for b.Loop() {
		var one uint8
		if err := conn.QueryRow(b.Context(), "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
		if one != 1 {
			b.Fatalf("SELECT 1 = %d", one)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
}
