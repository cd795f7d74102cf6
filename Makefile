# logbucket — build and test. `make test` is the one command CI runs.
GO ?= go
# An execution count, not a duration: duration budgets hit Go 1.26's fuzz
# coordinator race (golang/go#75804), a spurious "context deadline exceeded".
FUZZTIME ?= 20000x

.PHONY: build test vet fmt-check unit race fuzz-short deps bench-ingest

build:
	$(GO) build -o bin/logbucket ./cmd/logbucket

# The whole suite: installs what the tests need, then checks formatting,
# vets, runs every test (end-to-end ones start the real binary), the race
# detector on the concurrent core, and a short run of every fuzz target.
test: deps fmt-check vet unit race fuzz-short

deps:
	@scripts/install-test-deps.sh
	@scripts/install-client-deps.sh

fmt-check:
	@out=$$(gofmt -l cmd internal test 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -timeout 15m ./...

race:
	$(GO) test -count=1 -race -timeout 15m ./internal/commitlog/ ./internal/server/ ./internal/ingest/syslog/ ./internal/ship/ ./internal/indexer/ ./internal/search/

fuzz-short:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz-short.sh

# Whole-system ingest benchmark; see bench/README.md.
bench-ingest: build
	bench/ingest.sh
