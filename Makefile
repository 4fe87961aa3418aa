# Every module in the repository: the core and the nested ones (stores,
# benchmarks) that keep heavy dependencies out of the core's go.mod.
MODULES := $(sort $(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path '*/testdata/*')))
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1

.PHONY: help test lint tidy release-check bench compare demo quickstart integration bench-stores chaos overload hedging dashboard-png

## help: list the targets with what each does.
help:
	@awk 'sub(/^## /, "") { split($$0, a, ": "); printf "  %-14s %s\n", a[1], substr($$0, length(a[1]) + 3) }' $(MAKEFILE_LIST)

## test: run every module's tests with the race detector.
test:
	@status=0; for m in $(MODULES); do \
		echo "== go test -race -count=1 $$m/..."; \
		(cd $$m && go test -race -count=1 ./...) || status=1; \
	done; exit $$status

## lint: gofmt, go vet and staticcheck on every module, and a tidy check of each module's go.mod and go.sum.
# The tidy check runs `go mod tidy -diff` in each module with GOWORK=off (as
# go mod tidy always does), the core's release version served from a file
# GOPROXY of the working tree, since it is not published yet; the go.sum
# lines of the repository's own modules are not compared. `make tidy` fixes
# what it reports.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	@status=0; for m in $(MODULES); do \
		(cd $$m && go vet ./... && go run $(STATICCHECK) ./...) || status=1; \
	done; exit $$status
	go run ./.ci/releasecheck tidy

## tidy: go mod tidy in every module, the way lint checks it.
tidy:
	go run ./.ci/releasecheck -fix tidy

## release-check: build and vet an outside module that installs every published module as a user would.
# It publishes the working tree's modules into a file GOPROXY at the versions
# the nested go.mod files require (the core) and at v0.1.0 (the nested
# modules, as their tags would name them), then builds with GOWORK=off, so
# neither go.work nor a replace directive can help. A version already tagged
# is published as the tag has it.
release-check:
	go run ./.ci/releasecheck install

## bench: the in-package benchmarks of the core module.
bench:
	go test -run '^$$' -bench . -benchmem ./...

## compare: side-by-side benchmarks against peer libraries, as benchstat ratios.
compare:
	$(MAKE) -C bench compare BENCHSTAT=$(BENCHSTAT)

## demo: the flagship demo.
demo:
	go run ./examples/payments

## quickstart: the smallest example.
quickstart:
	go run ./examples/quickstart

## integration: start Redis and PostgreSQL on loopback (and install Chromium), run the tests that need them, stop them.
integration:
	bash .ci/services.sh sh -c 'for m in idempotency/redisstore idempotency/pgstore ratelimit/redisstore resiliencegrpc/redistest resiliencedebug/browser examples/payments; do (cd $$m && go test -race -count=1 ./...) || exit 1; done'

## bench-stores: the Redis and PostgreSQL store benchmarks and the Redis rate-limit decision, next to redis-benchmark and pgbench.
bench-stores:
	bash .ci/services.sh sh -c 'idempotency/redisstore/bench.sh && idempotency/pgstore/bench.sh && ratelimit/redisstore/bench.sh'

## chaos: the real-fault suite: keyed orders through Toxiproxy faults, two replicas, Redis then PostgreSQL; fails on a double charge or a lost order.
chaos:
	bash .ci/services.sh sh -c 'cd chaos && go run .'

## overload: regenerate docs/overload.md (the simulation, then the loopback HTTP part).
overload:
	go run ./examples/overload && go run ./examples/overload -http

## hedging: regenerate docs/hedging.md (the simulated fan-out and hedged GETs on loopback).
hedging:
	go run ./examples/hedging

## dashboard-png: retake docs/dashboard.png in headless Chromium (installed by .ci/services.sh).
dashboard-png:
	bash .ci/services.sh sh -c 'cd resiliencedebug/browser && go test -count=1 -run TestPage . -args -update'
