// Package deploy is meetingd's deployment kit, not a library: the Compose
// stack (compose.yaml: KurrentDB, ClickHouse, meetingd, Caddy, Grafana), the
// Caddyfile of the TLS reverse proxy, the ClickHouse init script, the Grafana
// provisioning and the dashboard over the ClickHouse BI views, and README.md,
// which documents running the stack and the scaled-out topology.
//
// Its tests check those files without Docker: compose.yaml parses and names
// pinned images, healthchecks, dependency conditions, loopback-only ports and
// no literal secrets; the provisioning points at files that exist; every
// dashboard query uses only the views and columns of the BI view contract,
// filters by the app_id variable and the dashboard time range, and, when
// MEETINGD_TEST_CLICKHOUSE names a ClickHouse server, runs on it against
// tables of the contract's column types (and against the real views when a
// database holding them exists) with the results checked.
package deploy
