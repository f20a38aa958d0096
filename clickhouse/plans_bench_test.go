package clickhouse_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/internal/plangen"
	"github.com/meetingd/meetingd/projections"
	"github.com/meetingd/meetingd/reports"
)

// BenchmarkSeries40x200 measures the gradebook of a series of 40 classes
// with rosters of 200 (and guests), stored through the sink beside 200
// classes of other series of the app (make bench: ms/report, p99-ms; the
// baseline is BenchmarkRoundTrip's SELECT 1).
func BenchmarkSeries40x200(b *testing.B) {
	conn, _ := clickhousetest.Migrated(b)
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	bt := projections.Batch{Version: 1}
	for i := range 40 {
		bt.Sessions = append(bt.Sessions, plangen.Class(r, "bench", "series-a", i, 200, 5))
	}
	for _, other := range []string{"series-b", "series-c", "series-d", "series-e", "series-f"} {
		for i := range 40 {
			bt.Sessions = append(bt.Sessions, plangen.Class(r, "bench", other, i, 200, 5))
		}
	}
	if err := sink.Write(b.Context(), bt); err != nil {
		b.Fatal(err)
	}
	store := clickhouse.NewReports(conn)
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		rep, err := store.Series(b.Context(), reports.SeriesQuery{AppID: "bench", SeriesID: "series-a"})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Sessions) != 40 || len(rep.Participants) < 200 {
			b.Fatalf("%d sessions, %d participants", len(rep.Sessions), len(rep.Participants))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/report")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}
