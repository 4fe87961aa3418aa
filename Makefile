# Every module in the repository: the core and the nested ones (stores,
# benchmarks) that keep heavy dependencies out of the core's go.mod.
MODULES := $(sort $(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path '*/testdata/*')))
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1

.PHONY: test lint bench compare demo quickstart integration bench-stores chaos

## test: run every module's tests with the race detector.
test:
	@status=0; for m in $(MODULES); do \
		echo "== go test -race -count=1 $$m/..."; \
		(cd $$m && go test -race -count=1 ./...) || status=1; \
	done; exit $$status

## lint: gofmt, go vet and staticcheck on every module.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	@status=0; for m in $(MODULES); do \
		(cd $$m && go vet ./... && go run $(STATICCHECK) ./...) || status=1; \
	done; exit $$status

## bench: the in-package benchmarks of the core module.
bench:
	go test -run '^$$' -bench . -benchmem ./...

## compare: side-by-side benchmarks against peer libraries, as benchstat ratios.
compare:
	$(MAKE) -C bench compare BENCHSTAT=$(BENCHSTAT)

## demo: the flagship demo.
demo:
	go run ./examples/payments

quickstart:
	go run ./examples/quickstart

## integration: start Redis and PostgreSQL on loopback, run the tests that need them, stop them.
integration:
	bash .ci/services.sh sh -c 'for m in idempotency/redisstore idempotency/pgstore examples/payments; do (cd $$m && go test -race -count=1 ./...) || exit 1; done'

## bench-stores: the Redis and PostgreSQL store benchmarks, next to redis-benchmark and pgbench.
bench-stores:
	bash .ci/services.sh sh -c 'idempotency/redisstore/bench.sh && idempotency/pgstore/bench.sh'

## chaos: the real-fault suite: keyed orders through Toxiproxy faults, two replicas, Redis then PostgreSQL; fails on a double charge or a lost order.
chaos:
	bash .ci/services.sh sh -c 'cd chaos && go run .'
