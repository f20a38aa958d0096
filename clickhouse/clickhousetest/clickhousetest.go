package clickhousetest

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/meetingd/meetingd/clickhouse"
)

// EnvVar names the test server's DSN.
const EnvVar = "MEETINGD_TEST_CLICKHOUSE"

// ServerDSN returns the test server's DSN, skipping t when EnvVar is unset.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		t.Skipf("%s is not set: run scripts/clickhouse.sh start (make test does)", EnvVar)
	}
	return dsn
}

// WithDatabase returns dsn naming database db instead.
func WithDatabase(t testing.TB, dsn, db string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	u.Path = "/" + db
	return u.String()
}

// DSN creates a new, empty database on the test server and returns its DSN;
// the database is dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	server := ServerDSN(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := "meetingd_test_" + hex.EncodeToString(b[:])
	admin, err := clickhouse.Connect(t.Context(), server)
	if err != nil {
		t.Fatalf("connect to the test ClickHouse: %v", err)
	}
	if err := admin.Exec(t.Context(), "CREATE DATABASE "+db); err != nil {
		_ = admin.Close()
		t.Fatalf("create database %s: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := contextWithTimeout(30 * time.Second)
		defer cancel()
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop database %s: %v", db, err)
		}
		_ = admin.Close()
	})
	return WithDatabase(t, server, db)
}

// Migrated returns a connection to a new, migrated database (closed when the
// test ends) and the database's DSN.
func Migrated(t testing.TB) (driver.Conn, string) {
	t.Helper()
	dsn := DSN(t)
	conn, err := clickhouse.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := clickhouse.Migrate(t.Context(), conn, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return conn, dsn
}
