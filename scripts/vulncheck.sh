#!/usr/bin/env bash
# govulncheck over every package of meetingd, with the Go toolchain that builds it.
#
#   scripts/vulncheck.sh          scan; exit 0 when clean, 3 when a reachable vulnerability is found,
#                                 1 when no vulnerability database could be had
#
# Vulnerability database: the live one (vuln.go.dev) when it answers. Where it cannot be reached (this
# project's machines reach only package registries), the snapshot that Go publishes as the module
# golang.org/x/vulndb is fetched through the Go module proxy like any module and indexed with its own
# cmd/indexdb into a v1 database (cached in $(go env GOCACHE)/meetingd-vulndb/<version>). The snapshot's
# date is printed with the result: it knows nothing published after it. Bump VULNDB_VERSION to refresh it.
#
# Settings (environment): VULNCHECK_VERSION (golang.org/x/vuln), VULNDB_VERSION (golang.org/x/vulndb),
# VULNCHECK_DB (a database URL to use instead, e.g. file:///path or https://vuln.go.dev).
set -euo pipefail
cd "$(dirname "$0")/.."

vuln_version=${VULNCHECK_VERSION:-v1.9.0}
vulndb_version=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
# Installed, not `go run`: go run turns the tool's exit code 3 (vulnerabilities found) into 1.
bindir=$(go env GOCACHE)/meetingd-vulncheck/$vuln_version-$(go env GOVERSION)
[ -x "$bindir/govulncheck" ] || GOBIN=$bindir go install "golang.org/x/vuln/cmd/govulncheck@$vuln_version"
govulncheck() { "$bindir/govulncheck" "$@"; }
log() { echo "vulncheck: $*" >&2; }

db=${VULNCHECK_DB:-}
if [ -z "$db" ]; then
	if command -v curl >/dev/null && curl -fsS --max-time 10 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
		db=https://vuln.go.dev
		log "database: the live Go vulnerability database ($db)"
	else
		cache=$(go env GOCACHE)/meetingd-vulndb/$vulndb_version
		if [ ! -s "$cache/index/db.json" ]; then
			log "vuln.go.dev is unreachable: indexing the golang.org/x/vulndb@$vulndb_version snapshot from the Go module proxy"
			src=$(go mod download -json "golang.org/x/vulndb@$vulndb_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
			if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
				log "FAILED: no vulnerability database: vuln.go.dev is unreachable and golang.org/x/vulndb@$vulndb_version could not be fetched"
				exit 1
			fi
			rm -rf "$cache.tmp"
			go run "golang.org/x/vulndb/cmd/indexdb@$vulndb_version" -vulns "$src/data/osv" -out "$cache.tmp"
			rm -rf "$cache"
			mv "$cache.tmp" "$cache"
		fi
		db=file://$cache
		newest=$(ls "$cache/ID" | sed -n 's/\.json$//p' | sort -V | tail -1)
		log "database: OFFLINE SNAPSHOT golang.org/x/vulndb@$vulndb_version (newest entry $newest); vuln.go.dev was unreachable, entries published since are not checked"
	fi
fi

log "scanning with $(go env GOVERSION) and golang.org/x/vuln@$vuln_version"
set +e
govulncheck -db "$db" ./...
rc=$?
set -e
case $rc in
0) log "clean: no reachable vulnerability" ;;
3) log "NOT CLEAN: reachable vulnerabilities above (standard library ones are fixed by a newer Go toolchain)" ;;
*) log "FAILED: govulncheck exited $rc" ;;
esac
exit $rc
