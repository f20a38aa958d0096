// Package clickhousetest gives each test a database of its own on the test
// ClickHouse server named by MEETINGD_TEST_CLICKHOUSE
// (clickhouse://127.0.0.1:19000/default as scripts/clickhouse.sh start
// prints it; make test sets it). Tests that need ClickHouse skip only when
// that variable is unset.
package clickhousetest
