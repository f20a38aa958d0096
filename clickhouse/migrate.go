package clickhouse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// MigrationsTable records the applied migrations.
const MigrationsTable = "schema_migrations"

// Migration is one versioned schema file.
type Migration struct {
	// Version is the number the file name starts with (0001_… is 1).
	Version int
	// Name is the file name.
	Name string
	// Statements are the file's statements, in order.
	Statements []string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("clickhouse: migration %s: name must start with a positive number and '_'", name)
		}
		text, err := fs.ReadFile(migrationFiles, "migrations/"+name)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: read migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name, Statements: splitStatements(string(text))})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("clickhouse: migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// splitStatements splits a migration file into statements: a statement ends
// with a line whose last character is ';'. Lines starting with "--" are
// comments. (The native protocol runs one statement per query.)
func splitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Execer runs statements and queries; driver.Conn is one.
type Execer interface {
	Exec(ctx context.Context, query string, args ...any) error
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// Migrator is what Migrate needs of a connection; driver.Conn is one.
type Migrator interface {
	Execer
	PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error)
}

// record inserts m's row into MigrationsTable. (An INSERT … VALUES through
// Exec with arguments never completes against ClickHouse 18.16: rows go
// through the native protocol's data blocks.)
func record(ctx context.Context, conn Migrator, m Migration) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+MigrationsTable+" (version, name, applied_at)")
	if err != nil {
		return err
	}
	if err := b.Append(uint32(m.Version), m.Name, time.Now().UTC().Truncate(time.Second)); err != nil {
		_ = b.Abort()
		return err
	}
	return b.Send()
}

// Migrate applies, in version order, every embedded migration that the
// database of conn has not recorded in MigrationsTable, and records each
// after its last statement succeeded. Every statement is idempotent (IF NOT
// EXISTS; an ADD COLUMN only when the column is missing), so a migration
// interrupted half-way, or run by two processes at
// once, is completed by the next Migrate. It then brings the duration
// roll-up up to date with the meetings table (RepairRollups: the backfill
// when the roll-up is new). It returns the versions applied (none when the
// schema is current).
func Migrate(ctx context.Context, conn Migrator, log *slog.Logger) ([]int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	applied, err := migrateTo(ctx, conn, log, 0)
	if err != nil {
		return applied, err
	}
	if err := RepairRollups(ctx, conn, log); err != nil {
		return applied, err
	}
	return applied, nil
}

// migrateTo applies the migrations up to version last (all when 0), without
// the roll-up repair.
func migrateTo(ctx context.Context, conn Migrator, log *slog.Logger, last int) ([]int, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	create := "CREATE TABLE IF NOT EXISTS " + MigrationsTable +
		" (version UInt32, name String, applied_at DateTime('UTC')) ENGINE = ReplacingMergeTree ORDER BY version"
	if err := conn.Exec(ctx, create); err != nil {
		return nil, fmt.Errorf("clickhouse: migrate: create %s: %w", MigrationsTable, err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range all {
		if done[m.Version] || (last > 0 && m.Version > last) {
			continue
		}
		for i, stmt := range m.Statements {
			if table, column, ok := addColumn(stmt); ok {
				has, err := hasColumn(ctx, conn, table, column)
				if err != nil {
					return applied, fmt.Errorf("clickhouse: migration %s, statement %d: %w", m.Name, i+1, err)
				}
				if has {
					continue // added by an interrupted run of this migration
				}
			}
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("clickhouse: migration %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if err := record(ctx, conn, m); err != nil {
			return applied, fmt.Errorf("clickhouse: record migration %s: %w", m.Name, err)
		}
		log.Info("clickhouse migration applied", "migration", m.Name)
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// addColumnRE matches a statement that adds one column; ClickHouse 18.16
// has no ADD COLUMN IF NOT EXISTS, so Migrate runs it only when the column
// is missing.
var addColumnRE = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)\s`)

// addColumn returns the table and column of an ALTER TABLE … ADD COLUMN
// statement.
func addColumn(stmt string) (table, column string, ok bool) {
	m := addColumnRE.FindStringSubmatch(stmt)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

func hasColumn(ctx context.Context, conn Execer, table, column string) (bool, error) {
	rows, err := conn.Query(ctx, `SELECT count() FROM system.columns
		WHERE database = currentDatabase() AND table = ? AND name = ?`, table, column)
	if err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return false, fmt.Errorf("look up column %s.%s: %w", table, column, err)
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("look up column %s.%s: %w", table, column, err)
	}
	return n > 0, nil
}

func appliedVersions(ctx context.Context, conn Execer) (map[int]bool, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM "+MigrationsTable)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: migrate: read %s: %w", MigrationsTable, err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("clickhouse: migrate: read %s: %w", MigrationsTable, err)
		}
		done[int(v)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: migrate: read %s: %w", MigrationsTable, err)
	}
	return done, nil
}
