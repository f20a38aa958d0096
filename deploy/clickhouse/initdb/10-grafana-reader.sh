# Sourced by the ClickHouse image's entrypoint on the first start (empty data
# volume), after it has created the database $CLICKHOUSE_DB and the user
# $CLICKHOUSE_USER; "${clickhouseclient[@]}" is the entrypoint's client, logged
# in as that user (CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1 lets it create users).
#
# Creates the read-only account that Grafana uses: it can SELECT the meetingd
# database (the BI views among it) and nothing else. readonly = 2 forbids
# writes and DDL but lets the Grafana plugin set per-query settings.
# Not executable on purpose: a sourced script sees the entrypoint's variables.

if [ -z "${GRAFANA_CLICKHOUSE_PASSWORD:-}" ]; then
	echo "10-grafana-reader.sh: GRAFANA_CLICKHOUSE_PASSWORD is not set" >&2
	exit 1
fi
grafana_pw=${GRAFANA_CLICKHOUSE_PASSWORD//\\/\\\\}
grafana_pw=${grafana_pw//\'/\\\'}
"${clickhouseclient[@]}" <<SQL
CREATE USER IF NOT EXISTS grafana IDENTIFIED WITH sha256_password BY '${grafana_pw}' SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB}.* TO grafana;
SQL
unset grafana_pw
