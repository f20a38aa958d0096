package clickhousetest

import (
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// TablesHolding returns the tables of conn's database (views excluded)
// with a row in which any column, as text, contains needle (case
// insensitive); app, when not empty, restricts the rows of tables with an
// app_id column to that app. It asks ClickHouse for every column of every table, so
// that no table or column added later escapes it.
func TablesHolding(t testing.TB, conn driver.Conn, needle, app string) []string {
	t.Helper()
	ctx := t.Context()
	rows, err := conn.Query(ctx, `SELECT table, name FROM system.columns WHERE database = currentDatabase()
		AND table IN (SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View')
		ORDER BY table, name`)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	cols := map[string][]string{}
	hasApp := map[string]bool{}
	var order []string
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		if cols[table] == nil {
			order = append(order, table)
		}
		cols[table] = append(cols[table], "ifNull(toString(`"+name+"`), '')")
		hasApp[table] = hasApp[table] || name == "app_id"
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var out []string
	for _, table := range order {
		var n uint64
		q := "SELECT count() FROM `" + table + "` WHERE positionCaseInsensitive(concat(" + strings.Join(cols[table], ", '|', ") + ", ''), ?) > 0"
		args := []any{needle}
		if app != "" && hasApp[table] {
			q += " AND app_id = ?"
			args = append(args, app)
		}
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		if n > 0 {
			out = append(out, table)
		}
	}
	return out
}
