#!/usr/bin/env bash
# A private ClickHouse server for meetingd's tests and benchmarks.
#
#   scripts/clickhouse.sh start   install Debian's clickhouse-server if missing, start it on 127.0.0.1 with a
#                                 config and data directory of its own, wait until it answers, and print the
#                                 test DSN (MEETINGD_TEST_CLICKHOUSE=…) on stdout. A server of an earlier run on
#                                 the same directory (found by the pidfile, else by the pid in the status file
#                                 ClickHouse locks, else by its command line; only a process running this
#                                 directory's config is taken for ours, never another ClickHouse) is reused
#                                 once it answers, waited for while it starts or stops, and stopped first
#                                 when it holds the directory without answering
#   scripts/clickhouse.sh stop    stop it (the data directory stays until `clean`)
#   scripts/clickhouse.sh dsn     print the DSN
#   scripts/clickhouse.sh clean   stop it and remove its directory
#
# Settings (environment): MEETINGD_CH_DIR (default ${TMPDIR:-/tmp}/meetingd-clickhouse), MEETINGD_CH_PORT (native
# protocol, default 19000) and MEETINGD_CH_HTTP_PORT (default 18123): not the default ports, so it does not clash
# with a ClickHouse of the machine's own.
set -euo pipefail

dir=${MEETINGD_CH_DIR:-${TMPDIR:-/tmp}/meetingd-clickhouse}
port=${MEETINGD_CH_PORT:-19000}
http_port=${MEETINGD_CH_HTTP_PORT:-18123}
pidfile=$dir/clickhouse.pid
dsn="clickhouse://127.0.0.1:$port/default"

log() { echo "clickhouse.sh: $*" >&2; }

install() {
	if command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; then
		return
	fi
	log "installing Debian's clickhouse-server"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >&2
	$sudo apt-get install -y -qq clickhouse-server clickhouse-client >&2
}

server_bin() {
	command -v clickhouse-server 2>/dev/null || echo /usr/sbin/clickhouse-server
}

# answers: whether the server on $port answers a query, within 5 s (a stopped or wedged server accepts the
# connection and never answers).
answers() {
	timeout 5 clickhouse-client --host 127.0.0.1 --port "$port" --query 'SELECT 1' >/dev/null 2>&1
}

# ours PID: whether PID is a live clickhouse-server started with this directory's config.
ours() {
	local pid=$1 args
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	# Read whole first: grep -q leaving a pipe early would fail the pipeline (pipefail).
	args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	grep -qxF -- "--config-file=$dir/config.xml" <<<"$args"
}

# server_pid prints the pid of our server, if one runs: the pidfile's, else the pid that ClickHouse wrote in
# the status file it locks ($dir/data/status), else a process started with this directory's config (the
# pidfile may be gone or stale, and a server still starting has not written its status yet). A pid that is
# not a clickhouse-server of this directory is never taken for ours.
server_pid() {
	local pid
	for pid in "$(cat "$pidfile" 2>/dev/null)" "$(sed -n 's/^PID: *//p' "$dir/data/status" 2>/dev/null)"; do
		if ours "$pid"; then
			echo "$pid"
			return
		fi
	done
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		if ours "$pid"; then
			echo "$pid"
			return
		fi
	done
}

running() {
	[ -n "$(server_pid)" ]
}

# wait_answers PID SECONDS: wait until the server answers (0), exits (1) or the time is up (2).
wait_answers() {
	local pid=$1 until=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$until" ]; do
		answers && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 2
}

write_config() {
	mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
	cat >"$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$port</tcp_port>
    <http_port>$http_port</http_port>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>200</max_concurrent_queries>
    <uncompressed_cache_size>1073741824</uncompressed_cache_size>
    <mark_cache_size>536870912</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
XML
	cat >"$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
XML
}

start() {
	install
	local pid
	pid=$(server_pid)
	if [ -n "$pid" ]; then
		# A server of ours from an earlier run: reuse it once it answers (it may still be starting);
		# one that is stopping is waited for; one that never answers is stopped before starting anew.
		echo "$pid" >"$pidfile"
		local rc=0
		wait_answers "$pid" 60 || rc=$?
		case $rc in
		0)
			echo "MEETINGD_TEST_CLICKHOUSE=$dsn"
			return
			;;
		1) log "the earlier clickhouse-server $pid exited; starting a new one" ;;
		*)
			log "the earlier clickhouse-server $pid holds $dir but does not answer on port $port; stopping it"
			stop
			;;
		esac
	fi
	if answers; then
		if running; then # ours, started meanwhile (by another start)
			server_pid >"$pidfile"
			echo "MEETINGD_TEST_CLICKHOUSE=$dsn"
			return
		fi
		log "port $port answers but is not our server ($pidfile); set MEETINGD_CH_PORT"
		exit 1
	fi
	write_config
	log "starting clickhouse-server on 127.0.0.1:$port (data in $dir)"
	# setsid: the server outlives this script and make's shell; stop ends it by its pid.
	setsid "$(server_bin)" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
	local launched=$!
	echo "$launched" >"$pidfile"
	for _ in $(seq 1 300); do
		if answers; then
			echo "MEETINGD_TEST_CLICKHOUSE=$dsn"
			return
		fi
		if ! kill -0 "$launched" 2>/dev/null; then
			pid=$(server_pid)
			if [ -n "$pid" ] && wait_answers "$pid" 60; then # another start's server holds the directory
				echo "$pid" >"$pidfile"
				echo "MEETINGD_TEST_CLICKHOUSE=$dsn"
				return
			fi
			log "clickhouse-server exited; its log:"
			tail -n 30 "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.2
	done
	log "clickhouse-server did not answer within 60s"
	exit 1
}

stop() {
	local pid
	pid=$(server_pid)
	if [ -z "$pid" ]; then
		rm -f "$pidfile"
		return
	fi
	kill "$pid"
	kill -CONT "$pid" 2>/dev/null || true # a stopped (SIGSTOP) server handles the TERM only once continued
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "clickhouse-server $pid did not stop in 30s; killing it"
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
dsn) echo "$dsn" ;;
clean) stop; rm -rf "$dir" ;;
*)
	echo "usage: $0 start|stop|dsn|clean" >&2
	exit 2
	;;
esac
