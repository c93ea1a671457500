# lambda-image: common tasks. `make test` is the command CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: build release test fmt lint check bench bench-lint bench-verify

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --locked --release

test:
	$(CARGO) test --locked --all-targets

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

check: lint test

# Benchmarks against the peers (hadolint, dive, container-structure-test). Not tests: run by hand.
bench: bench-lint bench-verify

bench-lint: release
	bash bench/lint.sh

bench-verify: release
	bash bench/verify.sh
