package clickhouse_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
	"github.com/meetingd/meetingd/clickhouse/clickhousetest"
	"github.com/meetingd/meetingd/reports"
)

// tsv encodes rows as ClickHouse's TabSeparated input.
func tsv(b *testing.B, rows [][]any) []byte {
	var buf bytes.Buffer
	esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\t", `\t`, "\n", `\n`)
	ts := func(t time.Time) string { return t.UTC().Format(time.DateTime) }
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				buf.WriteByte('\t')
			}
			switch v := v.(type) {
			case string:
				buf.WriteString(esc.Replace(v))
			case uint8, uint32, uint64, int64:
				fmt.Fprint(&buf, v)
			case float64:
				buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			case time.Time:
				buf.WriteString(ts(v))
			case *time.Time:
				if v == nil {
					buf.WriteString(`\N`)
				} else {
					buf.WriteString(ts(*v))
				}
			case *uint8:
				if v == nil {
					buf.WriteString(`\N`)
				} else {
					fmt.Fprint(&buf, *v)
				}
			case []string:
				buf.WriteByte('[')
				for j, s := range v {
					if j > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString("'" + quote.Replace(s) + "'")
				}
				buf.WriteByte(']')
			case []time.Time:
				buf.WriteByte('[')
				for j, t := range v {
					if j > 0 {
						buf.WriteByte(',')
					}
					buf.WriteString("'" + ts(t) + "'")
				}
				buf.WriteByte(']')
			default:
				b.Fatalf("tsv: no encoding for %T", v)
			}
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkSinkFlush: rows/s that the sink flushes into empty tables, and
// the same rows inserted as TSV by clickhouse-client (one process per
// INSERT, as a shell script would), in the same run; ratio = sink rows/s ÷
// clickhouse-client rows/s (target ≥ 0.5).
func BenchmarkSinkFlush(b *testing.B) {
	conn, dsn := clickhousetest.Migrated(b)
	client, err := exec.LookPath("clickhouse-client")
	if err != nil {
		b.Skip("clickhouse-client is not installed (scripts/clickhouse.sh start installs it)")
	}
	db, err := clickhouse.Database(dsn)
	if err != nil {
		b.Fatal(err)
	}
	host, port := hostPort(b, dsn)
	evs, _ := corpus(11, 20000)
	batch := batchOf(1, evs)
	inserts, err := clickhouse.InsertsOf(batch)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	files := make([][]byte, len(inserts))
	for i, in := range inserts {
		rows += len(in.Rows)
		files[i] = tsv(b, in.Rows)
	}
	timed := &rollupTimer{Conn: conn}
	sink, err := clickhouse.NewSink(clickhouse.SinkConfig{FlushSessions: len(batch.Sessions)}, timed, nil)
	if err != nil {
		b.Fatal(err)
	}
	truncate := func() {
		if err := sink.Reset(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	var sinkTime, clientTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		truncate()
		b.StartTimer()
		start := time.Now()
		if err := sink.Write(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		sinkTime += time.Since(start)

		b.StopTimer()
		truncate()
		start = time.Now()
		for i, in := range inserts {
			if len(in.Rows) == 0 {
				continue
			}
			cmd := exec.Command(client, "--host", host, "--port", port, "--database", db, "--query",
				"INSERT INTO "+in.Table+" ("+strings.Join(in.Columns, ", ")+") FORMAT TabSeparated")
			cmd.Stdin = bytes.NewReader(files[i])
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("clickhouse-client INSERT INTO %s: %v\n%s", in.Table, err, out)
			}
		}
		clientTime += time.Since(start)
		b.StartTimer()
	}
	n := float64(b.N * rows)
	sinkRate, clientRate := n/sinkTime.Seconds(), n/clientTime.Seconds()
	b.ReportMetric(float64(rows), "rows/flush")
	b.ReportMetric(sinkRate, "sink-rows/s")
	b.ReportMetric(clientRate, "client-rows/s")
	b.ReportMetric(sinkRate/clientRate, "ratio")
	b.ReportMetric(timed.took.Seconds()/float64(b.N), "rollup-s/flush")
}

// rollupTimer times the statements that recompute the duration roll-up.
type rollupTimer struct {
	driver.Conn
	took time.Duration
}

func (c *rollupTimer) Exec(ctx context.Context, q string, args ...any) error {
	start := time.Now()
	err := c.Conn.Exec(ctx, q, args...)
	if strings.HasPrefix(q, "INSERT INTO report_rollups ") {
		c.took += time.Since(start)
	}
	return err
}

func hostPort(b *testing.B, dsn string) (string, string) {
	rest := strings.TrimPrefix(strings.TrimPrefix(dsn, "clickhouse://"), "tcp://")
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host, port, ok := strings.Cut(rest, ":")
	if !ok {
		b.Fatalf("DSN %q has no port", dsn)
	}
	return host, port
}

// BenchmarkDurations30Days1M: latency of the 30-day duration report (daily
// buckets) over 1,000,000 meetings of one app in those 30 days (plus 100,000
// of another app), generated directly by the server; the roll-up that the
// report reads is backfilled from them (backfill-s, outside the timing).
func BenchmarkDurations30Days1M(b *testing.B) {
	conn, _ := clickhousetest.Migrated(b)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gen := func(app string, n int) {
		q := fmt.Sprintf(`INSERT INTO meetings (app_id, session_id, version, deleted, kind, status, outcome,
			started_at, ended_at, duration_seconds, participant_count, peak_concurrent, total_attendance_seconds,
			recording_count, transcription_count, last_event_at, participants, meeting, attendance)
			SELECT '%[1]s', concat('s-', toString(number)), 1, 0, 'meeting',
				if(number %% 10 = 0, 'live', if(number %% 10 = 1, 'abandoned', 'ended')), '',
				toDateTime(%[2]d + intDiv(number * 2592000, %[3]d), 'UTC'),
				toDateTime(%[2]d + intDiv(number * 2592000, %[3]d) + 600 + number %% 3000, 'UTC'),
				600 + number %% 3000, 3, 2, 1500 + number %% 2000, 0, 0,
				toDateTime(%[2]d + intDiv(number * 2592000, %[3]d) + 600, 'UTC'),
				[concat('p-', toString(number %% 5000)), concat('p-', toString((number * 7) %% 5000)), concat('p-', toString((number * 13) %% 5000))],
				'{}', '{}'
			FROM system.numbers LIMIT %[3]d`, app, from.Unix(), n)
		if err := conn.Exec(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
	gen("bench", 1_000_000)
	gen("other", 100_000)
	// The rows went into meetings directly, as an older meetingd (without
	// the duration roll-up) would have left them: Migrate backfills the
	// roll-up, as `meetingd migrate` and serve do on such a database.
	start := time.Now()
	if _, err := clickhouse.Migrate(b.Context(), conn, nil); err != nil {
		b.Fatal(err)
	}
	backfill := time.Since(start)
	store := clickhouse.NewReports(conn)
	q := reports.DurationQuery{AppID: "bench", From: from, To: from.AddDate(0, 0, 30), Bucket: reports.Day}
	var meetings int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		buckets, err := store.Durations(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		meetings = 0
		for _, bk := range buckets {
			meetings += bk.Meetings
		}
	}
	b.StopTimer()
	if meetings != 900_000 {
		b.Fatalf("the report counts %d ended and abandoned meetings, want 900000", meetings)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
	b.ReportMetric(backfill.Seconds(), "backfill-s")
}
