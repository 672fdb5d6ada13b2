# kiwi-shop — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run stop test lint unit integration e2e browser bench fuzz drills reconcile dlt rebuild-order-query rebuild-hot-catalog migrate clean-data image-check

install:
	@bash scripts/bootstrap.sh

run: install  ## the whole system on the local stack, until Ctrl-C
	@$(BIN)/kiwishop run

stop:  ## stop a stack started by `make run`
	@$(BIN)/kiwishop stop

lint: install
	$(BIN)/ruff check src tools tests
	$(BIN)/ruff format --check src tools tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	@bash deploy/check.sh

# The tiers on two workers (a file's tests on one of them; most tests wait on servers and timers, not the CPU),
# then the fuzz on one: schemathesis' one-test-per-operation doesn't survive more than one worker.
test: install lint  ## the whole suite: lint, types, import contracts, then every test tier
	$(BIN)/pytest -q -n 2 --dist loadfile --ignore=tests/fuzz
	$(BIN)/pytest -q -p no:xdist tests/fuzz

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

e2e: install
	$(BIN)/pytest -q tests/e2e

browser: install
	$(BIN)/pytest -q tests/browser

bench: install  ## benchmarks on private servers; prints tables
	@$(BIN)/kiwishop bench

FUZZ_EXAMPLES ?= 200

fuzz: install  ## schemathesis over every service's OpenAPI, $(FUZZ_EXAMPLES) cases per operation (make test runs 25)
	KIWI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/fuzz

drills: install  ## fault drills under load on private servers: kill -9 every service, a MariaDB restart, PSP faults, poison records; then reconcile
	@$(BIN)/kiwishop drills

image-check: install  ## build deploy/Dockerfile with podman (as root) and run every service's container until /health/ready answers; slow, not in make test
	@$(BIN)/kiwishop image-check

reconcile: install  ## PSP approvals = SUCCESS lines = wallet ledger = balances, per seller (against the local stack)
	@$(BIN)/kiwishop reconcile

dlt: install  ## every dead-letter topic: parked records, not yet redriven, by consumer group and error
	@$(BIN)/kiwishop dlt list

rebuild-order-query: install  ## recreate order-query's Redis read model by replaying kiwi-shop-payment
	@$(BIN)/kiwishop rebuild-order-query

rebuild-hot-catalog: install  ## recreate hot-catalog's ranking from the like/review totals and paid orders (after a FLUSHALL or a lost record)
	@$(BIN)/kiwishop rebuild-hot-catalog

migrate: install
	@$(BIN)/kiwishop migrate --seed

clean-data:  ## forget the local stack's data (MariaDB rows, logs)
	rm -rf .data .run
