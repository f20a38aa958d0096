# meetingd — build, test and benchmark.
#
#   make run     run the service on its embedded defaults (no external server)
#   make vet     gofmt, go vet and staticcheck
#   make test    the whole test suite, with -race (CI runs exactly this)
#   make bench   the benchmarks

GO       ?= go
# go1.26.8, the machines' own Go, has standard-library vulnerabilities that
# govulncheck finds reachable; build, test and scan with go1.27.3 (go.mod's go
# line), which the go command fetches from the module proxy (these machines set
# GOTOOLCHAIN=local, under which go1.26.8 would refuse the module rather than
# fetch what go.mod requires).
export GOTOOLCHAIN := go1.27.3
PKGS     ?= ./...
FUZZTIME ?= 5s

.PHONY: all build run test vet fuzz vulncheck bench clean

all: vet test

build:
	$(GO) build -o bin/meetingd ./cmd/meetingd

run:
	MEETINGD_INSECURE_DEV=$${MEETINGD_INSECURE_DEV:-1} $(GO) run ./cmd/meetingd serve

# gofmt, go vet and staticcheck (honnef.co/go/tools, the version pinned by
# go.mod's tool line, fetched from the module proxy like any module).
vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

# The ClickHouse tests run against a private server that scripts/clickhouse.sh
# installs (Debian's clickhouse-server) and starts if needed, unless
# MEETINGD_TEST_CLICKHOUSE already names one.
WITH_CLICKHOUSE = if [ -z "$$MEETINGD_TEST_CLICKHOUSE" ]; then eval "$$(scripts/clickhouse.sh start)"; fi; \
	export MEETINGD_TEST_CLICKHOUSE;

test: vet
	@$(WITH_CLICKHOUSE) set -x; $(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) fuzz

# A short run (FUZZTIME each) of every fuzz target in the tree, found by
# name, over its committed corpus (testdata/fuzz/<target>) and new inputs.
# A target added later runs without editing this file.
fuzz:
	@set -e; n=0; \
	for f in $$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' .); do \
	  for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' $$f); do \
	    echo "fuzz $$t ($$(dirname $$f), $(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) ./$$(dirname $$f)/; \
	    n=$$((n+1)); \
	  done; \
	done; \
	echo "fuzz: $$n targets ran for $(FUZZTIME) each"; [ $$n -gt 0 ]

# govulncheck with this toolchain (scripts/vulncheck.sh: the live database, or
# the golang.org/x/vulndb snapshot from the Go module proxy when it is
# unreachable). Exit 3: a reachable vulnerability.
vulncheck:
	scripts/vulncheck.sh

# The figures of BENCHMARKS.md, rewritten by cmd/benchreport: each benchmark
# beside a baseline of the same run, medians of 3 rounds, within 13 minutes.
# Data sets of 1,000,000 events and meetings are kept in $MEETINGD_BENCH_DIR
# (default $TMPDIR/meetingd-bench) between runs. BENCHFLAGS=-quick checks the
# harness on small data sets.
bench:
	@$(WITH_CLICKHOUSE) set -x; $(GO) run ./cmd/benchreport $(BENCHFLAGS)

clean:
	rm -rf bin
