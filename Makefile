# lambda-image: common tasks. `make test` is the command CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: build release test test-deps fmt lint check bench bench-lint bench-verify bench-build bench-push bench-invoke

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --locked --release

test: test-deps
	$(CARGO) test --locked --all-targets

# The Docker Engine tests build their base images from Debian's busybox-static; the
# render → build → verify test compiles the Java examples' classes with javac; the push
# tests run Debian's docker-registry, with htpasswd (apache2-utils) for the auth case.
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
TEST_DEBS = $(if $(shell command -v busybox),,busybox-static) $(if $(shell command -v javac),,default-jdk-headless) \
  $(if $(shell command -v docker-registry),,docker-registry) $(if $(shell command -v htpasswd),,apache2-utils)

test-deps:
	@if [ -n "$(strip $(TEST_DEBS))" ]; then \
	  echo "installing $(strip $(TEST_DEBS)) for the tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	fi

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

check: lint test

# Benchmarks against the peers (hadolint, dive, container-structure-test, docker buildx build/bake, docker build, SAM CLI).
# Not tests: run by hand.
bench: bench-lint bench-verify bench-build bench-push bench-invoke

bench-lint: release
	bash bench/lint.sh

bench-verify: release
	bash bench/verify.sh

bench-push: release
	bash bench/push.sh

bench-build: release
	bash bench/build.sh

bench-invoke: release
	bash bench/invoke.sh
