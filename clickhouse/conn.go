package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Connect opens a native-protocol connection pool to the ClickHouse of dsn
// (clickhouse://user:password@host:9000/database?dial_timeout=5s, as
// clickhouse-go parses it) and pings it. The caller closes the pool.
func Connect(ctx context.Context, dsn string) (driver.Conn, error) {
	if !strings.HasPrefix(dsn, "clickhouse://") && !strings.HasPrefix(dsn, "tcp://") {
		return nil, errors.New("clickhouse: DSN must start with clickhouse:// (the native protocol)")
	}
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: parse DSN: %w", err)
	}
	if opts.DialTimeout == 0 || !strings.Contains(dsn, "dial_timeout") {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %s: %w", strings.Join(opts.Addr, ","), err)
	}
	return conn, nil
}

// Database returns the database a DSN names ("default" when it names none).
func Database(dsn string) (string, error) {
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("clickhouse: parse DSN: %w", err)
	}
	if opts.Auth.Database == "" {
		return "default", nil
	}
	return opts.Auth.Database, nil
}
