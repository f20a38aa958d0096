package clickhouse_test

import (
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/reports/reportstest"
)

// TestReportsContract runs the report contract suite, unchanged, on the
// ClickHouse sink and reports against the real server.
func TestReportsContract(t *testing.T) {
	t.Parallel()
	reportstest.Run(t, func(t *testing.T) reportstest.Target {
		conn, _ := clickhousetest.Migrated(t)
		// A short age: the suite writes from one goroutine, so every Write
		// waits for its batch's timer.
		sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushAge: time.Millisecond}, conn, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep := clickhouse.NewReports(conn)
		t.Cleanup(func() { _ = rep.Close() }) // (its backfills end before the connection)
		return reportstest.Target{Sink: sink, Reports: rep}
	})
}
