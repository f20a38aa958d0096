package deploy_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/clickhouse/clickhousetest"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/go-cmp/cmp"
)

// The dashboard's time range in the ClickHouse tests, and the app selected.
var (
	rangeFrom = time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC)
	rangeTo   = time.Date(2023, 10, 31, 23, 59, 59, 0, time.UTC)
)

const selectedApp = "app-1"

// prices are the price variables' values in the ClickHouse tests (the
// dashboard's defaults are checked by TestPriceVariables).
var prices = map[string]string{"audio_price_usd": "0.001", "video_price_usd": "0.003"}

// expandMacros does what Grafana and the ClickHouse plugin do to a query
// before it runs: the variable becomes a quoted literal and the time macros
// become conditions on the range (as the plugin's pkg/macros writes them).
func expandMacros(sql string) string {
	sql = strings.ReplaceAll(sql, "${app_id:singlequote}", "'"+selectedApp+"'")
	for name, price := range prices {
		sql = strings.ReplaceAll(sql, "${"+name+":singlequote}", "'"+price+"'")
	}
	return reTimeMacro.ReplaceAllStringFunc(sql, func(m string) string {
		sub := reTimeMacro.FindStringSubmatch(m)
		col := sub[2]
		if sub[1] == "dateFilter" {
			return fmt.Sprintf("%s >= toDate('%s') AND %s <= toDate('%s')",
				col, rangeFrom.Format(time.DateOnly), col, rangeTo.Format(time.DateOnly))
		}
		return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", col, rangeFrom.Unix(), col, rangeTo.Unix())
	})
}

// fixture rows of the BI views, in the contract's column order. app-1 is the
// selected app; app-2 and the September meeting must be filtered out.
var fixture = map[string][]string{
	"meetings_v": {
		// app_id, session_id, kind, status, outcome, started_at, ended_at, duration_seconds, participant_count,
		// peak_concurrent, total_attendance_seconds, recording_count, last_event_at, audio_seconds,
		// video_seconds, billable_audio_minutes, billable_video_minutes
		`'app-1','m1','meeting','ended','','2023-10-10 10:00:00','2023-10-10 11:00:00',3600,3,3,7200,1,'2023-10-10 11:00:00',0,7200,0,120`,
		`'app-1','m2','meeting','abandoned','','2023-10-10 14:00:00','2023-10-10 14:30:00',1800,2,2,1800,0,'2023-10-10 14:30:00',0,1800,0,30`,
		`'app-1','m3','meeting','live','','2023-10-11 09:00:00',NULL,600,1,1,600,0,'2023-10-11 09:10:00',0,600,0,10`,
		`'app-1','c1','call','ended','answered','2023-10-11 12:00:00','2023-10-11 12:02:00',120,2,2,234,0,'2023-10-11 12:02:00',0,234,0,4`,
		`'app-1','c2','call','ended','unanswered','2023-10-11 13:00:00','2023-10-11 13:00:00',0,0,0,0,0,'2023-10-11 13:00:30',0,0,0,0`,
		`'app-1','mo','meeting','ended','','2023-09-15 10:00:00','2023-09-15 11:00:00',3600,99,99,3600,1,'2023-09-15 11:00:00',0,3600,0,60`,
		`'app-2','m9','meeting','ended','','2023-10-10 08:00:00','2023-10-10 09:00:00',3600,50,50,3600,1,'2023-10-10 09:00:00',0,3600,0,60`,
	},
	"attendance_v": {
		// app_id, session_id, meeting_started_at, participant, name, first_joined_at, last_left_at,
		// attended_seconds, attendance_ratio, join_count, audio_seconds, video_seconds
		`'app-1','m1','2023-10-10 10:00:00','alice','Alice','2023-10-10 10:00:00','2023-10-10 11:00:00',3600,1,2,0,3600`,
		`'app-1','m1','2023-10-10 10:00:00','bob','Bob','2023-10-10 10:30:00','2023-10-10 11:00:00',1800,0.5,1,0,1800`,
		`'app-1','m1','2023-10-10 10:00:00','carol','Carol','2023-10-10 10:00:00','2023-10-10 10:30:00',1800,0.5,1,0,1800`,
		`'app-1','m2','2023-10-10 14:00:00','alice','Alice','2023-10-10 14:00:00','2023-10-10 14:18:00',1080,0.6,1,0,1080`,
		`'app-1','m2','2023-10-10 14:00:00','dave','Dave','2023-10-10 14:00:00','2023-10-10 14:12:00',720,0.4,1,0,720`,
		`'app-1','m3','2023-10-11 09:00:00','alice','Alice','2023-10-11 09:00:00',NULL,600,1,1,0,600`,
		`'app-1','c1','2023-10-11 12:00:00','alice','Alice B.','2023-10-11 12:00:00','2023-10-11 12:02:00',120,1,1,0,120`,
		`'app-1','c1','2023-10-11 12:00:00','erin','Erin','2023-10-11 12:00:06','2023-10-11 12:02:00',114,0.95,1,0,114`,
		`'app-1','mo','2023-09-15 10:00:00','old','Old','2023-09-15 10:00:00','2023-09-15 11:00:00',3600,1,1,0,3600`,
		`'app-2','m9','2023-10-10 08:00:00','zed','Zed','2023-10-10 08:00:00','2023-10-10 08:03:00',180,0.05,1,0,180`,
	},
	"intervals_v": {
		`'app-1','m1','alice','2023-10-10 10:00:00','2023-10-10 10:20:00'`,
	},
	"daily_durations_v": {
		// app_id, day, meetings, total_duration_seconds, avg_duration_seconds
		`'app-1','2023-10-10',2,5400,2700`,
		`'app-1','2023-10-11',2,120,60`,
		`'app-1','2023-09-15',1,3600,3600`,
		`'app-2','2023-10-10',7,25200,3600`,
	},
	"usage_v": {
		// app_id, day, meetings, participants, attendance_seconds, audio_seconds, video_seconds,
		// billable_audio_minutes, billable_video_minutes
		`'app-1','2023-10-10',2,4,12600,3000,9600,52,162`,
		`'app-1','2023-10-11',2,2,234,200,34,4,1`,
		`'app-1','2023-09-15',1,1,3600,0,3600,0,60`,
		`'app-1','2023-11-02',1,1,600,0,600,0,10`,
		`'app-2','2023-10-10',1,1,180,180,0,3,0`,
	},
	"recordings_v": {
		// app_id, session_id, kind, url, started_at, duration_seconds
		`'app-1','m1','recording','https://rec.example/m1.mp4','2023-10-10 10:05:00',1234.5`,
		`'app-1','mo','recording','https://rec.example/mo.mp4','2023-09-15 10:05:00',60`,
		`'app-2','m9','recording','https://rec.example/m9.mp4','2023-10-10 08:05:00',10`,
	},
}

// expected are the rows each panel query returns on the fixture, columns
// joined by tabs.
var expected = map[string][]string{
	"Meetings/A":           {"5"},
	"Total meeting time/A": {"5520"},
	"Average duration/A":   {"1380"},
	"Peak concurrency/A":   {"3"},
	"Participants/A":       {"5"},
	"Recording count/A":    {"1"},
	"Meetings per day/A":   {"2023-10-10 00:00:00\t2", "2023-10-11 00:00:00\t2"},
	"Meetings per day/B":   {"2023-10-10 00:00:00\t2", "2023-10-11 00:00:00\t3"},
	"Meeting time per day/A": {
		"2023-10-10 00:00:00\t5400\t2700",
		"2023-10-11 00:00:00\t120\t60",
	},
	"Attendance distribution/A": {"40-50%\t1", "50-60%\t2", "60-70%\t1", "90-100%\t3"},
	"Peak concurrency per day/A": {
		"2023-10-10 00:00:00\t3\t2.5",
		"2023-10-11 00:00:00\t2\t1",
	},
	"Top participants by attended time/A": {
		"alice\tAlice B.\t4\t5400\t0.9\t5",
		"bob\tBob\t1\t1800\t0.5\t1",
		"carol\tCarol\t1\t1800\t0.5\t1",
		"dave\tDave\t1\t720\t0.4\t1",
		"erin\tErin\t1\t114\t0.95\t1",
	},
	"Meetings by peak concurrency/A": {
		"m1\tmeeting\tended\t2023-10-10 10:00:00\t2023-10-10 11:00:00\t3600\t3\t3\t7200\t1",
		"c1\tcall\tended\t2023-10-11 12:00:00\t2023-10-11 12:02:00\t120\t2\t2\t234\t0",
		"m2\tmeeting\tabandoned\t2023-10-10 14:00:00\t2023-10-10 14:30:00\t1800\t2\t2\t1800\t0",
		"m3\tmeeting\tlive\t2023-10-11 09:00:00\tNULL\t600\t1\t1\t600\t0",
		"c2\tcall\tended\t2023-10-11 13:00:00\t2023-10-11 13:00:00\t0\t0\t0\t0\t0",
	},
	"Recordings/A":                {"2023-10-10 10:05:00\tm1\trecording\t1234.5\thttps://rec.example/m1.mp4"},
	"Call outcomes/A":             {"answered\t1", "unanswered\t1"},
	"Minutes by medium per day/A": {"2023-10-10 00:00:00\t52\t162", "2023-10-11 00:00:00\t4\t1"},
	// 56 audio minutes × 0.001 and 163 video minutes × 0.003 USD.
	"Estimated cost per month/A": {"2023-10-01\t56\t163\t0.056\t0.489"},
}

// clickhouseConn connects to MEETINGD_TEST_CLICKHOUSE, in database db when
// it is not empty; it skips the test when the variable is unset.
func clickhouseConn(t *testing.T, db string) driver.Conn {
	t.Helper()
	dsn := os.Getenv("MEETINGD_TEST_CLICKHOUSE")
	if dsn == "" {
		t.Skip("MEETINGD_TEST_CLICKHOUSE is not set (e.g. clickhouse://127.0.0.1:19000/default from scripts/clickhouse.sh start)")
	}
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("MEETINGD_TEST_CLICKHOUSE: %v", err)
	}
	if db != "" {
		opts.Auth.Database = db
	}
	conn, err := ch.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Ping(t.Context()); err != nil {
		t.Fatalf("ClickHouse at %s: %v", dsn, err)
	}
	return conn
}

// TestDashboardQueriesOnClickHouse runs every panel query on a real
// ClickHouse server, against tables that have the contract's names and column
// types and hold the fixture, and compares the results with expected.
func TestDashboardQueriesOnClickHouse(t *testing.T) {
	admin := clickhouseConn(t, "")
	ctx := t.Context()
	db := fmt.Sprintf("deploy_test_%d", time.Now().UnixNano())
	if err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
	})
	conn := clickhouseConn(t, db)
	for view, cols := range contract {
		var defs, names []string
		for _, c := range cols {
			defs = append(defs, c.name+" "+c.typ)
			names = append(names, c.name)
		}
		if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (%s) ENGINE = Memory", view, strings.Join(defs, ", "))); err != nil {
			t.Fatalf("create %s: %v", view, err)
		}
		// INSERT … SELECT runs on the server alone (an INSERT … VALUES over
		// the native protocol waits for data blocks); ClickHouse converts the
		// literals to the column types.
		for _, row := range fixture[view] {
			if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s", view, strings.Join(names, ", "), row)); err != nil {
				t.Fatalf("insert into %s: %v", view, err)
			}
		}
	}

	seen := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		name := q.name()
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := expected[name]
			if !ok {
				t.Fatalf("no expected rows for %s: add them", name)
			}
			got, cols, err := queryRows(ctx, conn, expandMacros(q.target.RawSQL))
			if err != nil {
				t.Fatalf("%v\n%s", err, expandMacros(q.target.RawSQL))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if q.target.QueryType == "timeseries" && (len(cols) == 0 || cols[0].Name() != "time" || !strings.HasPrefix(cols[0].DatabaseTypeName(), "DateTime")) {
				t.Errorf("a time series query returns time DateTime first, got %v", columnNames(cols))
			}
		})
	}
	for name := range expected {
		if !seen[name] {
			t.Errorf("expected rows for %s, which is not a dashboard query", name)
		}
	}
}

// TestDashboardQueriesOnViews runs every panel query against the real BI
// views, in a database of its own migrated by the clickhouse package, so that
// a view whose columns or types drift from the contract fails here too (the
// rows themselves are checked against contract-typed tables above).
func TestDashboardQueriesOnViews(t *testing.T) {
	conn, _ := clickhousetest.Migrated(t)
	for _, q := range dashboardQueries(t) {
		t.Run(q.name(), func(t *testing.T) {
			if _, _, err := queryRows(t.Context(), conn, expandMacros(q.target.RawSQL)); err != nil {
				t.Errorf("%v\n%s", err, expandMacros(q.target.RawSQL))
			}
		})
	}
}

// queryRows runs sql and returns its rows, columns joined by tabs.
func queryRows(ctx context.Context, conn driver.Conn, sql string) ([]string, []driver.ColumnType, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols := rows.ColumnTypes()
	var out []string
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, c := range cols {
			dest[i] = reflect.New(c.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		fields := make([]string, len(dest))
		for i, d := range dest {
			fields[i] = formatValue(reflect.ValueOf(d).Elem())
		}
		out = append(out, strings.Join(fields, "\t"))
	}
	return out, cols, rows.Err()
}

var reTrailingZeros = regexp.MustCompile(`\.0+$`)

func formatValue(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case float64:
		return reTrailingZeros.ReplaceAllString(strconv.FormatFloat(x, 'f', -1, 64), "")
	default:
		return fmt.Sprint(x)
	}
}

func columnNames(cols []driver.ColumnType) []string {
	var names []string
	for _, c := range cols {
		names = append(names, c.Name()+" "+c.DatabaseTypeName())
	}
	return names
}
