# lambda-image: common tasks. `make test` is the command CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: build release test test-deps fmt lint check bench bench-lint bench-verify

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --locked --release

test: test-deps
	$(CARGO) test --locked --all-targets

# The Docker Engine tests build their base image from Debian's busybox-static.
test-deps:
	@command -v busybox >/dev/null 2>&1 || { \
	  echo "installing busybox-static (the Docker Engine tests build their base image from it)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; }

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
