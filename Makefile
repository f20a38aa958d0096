# meetingd — build, test and benchmark.
#
#   make run     run the service on its embedded defaults (no external server)
#   make test    the whole test suite, with -race (CI runs exactly this)
#   make bench   the benchmarks

GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s

.PHONY: all build run test vet fuzz bench clean

all: vet test

build:
	$(GO) build -o bin/meetingd ./cmd/meetingd

run:
	MEETINGD_INSECURE_DEV=$${MEETINGD_INSECURE_DEV:-1} $(GO) run ./cmd/meetingd serve

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	$(MAKE) fuzz

# A short run of every fuzz target over its committed corpus and new inputs.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./domain/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=3 -timeout 30m ./...

clean:
	rm -rf bin
