# lambda-image: common tasks. `make test` is the command CI runs (through .ci/run).
CARGO ?= cargo

.PHONY: build release test test-deps package fmt lint check bench bench-lint bench-verify bench-build bench-push bench-registry bench-invoke

build:
	$(CARGO) build --locked

release:
	$(CARGO) build --locked --release

test: test-deps
	$(CARGO) test --locked --all-targets

# The Docker Engine tests build their base images from Debian's busybox-static; the
# render → build → verify test compiles the Java examples' classes with javac; the push
# tests run Debian's docker-registry, with htpasswd (apache2-utils) for the auth case; the
# Action's scripts read reports with jq and are checked with shellcheck; arm64 images' RUN
# steps run under QEMU (qemu-user-static, registered with binfmt_misc below).
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)
TEST_DEBS = $(if $(shell command -v busybox),,busybox-static) $(if $(shell command -v javac),,default-jdk-headless) \
  $(if $(shell command -v docker-registry),,docker-registry) $(if $(shell command -v htpasswd),,apache2-utils) \
  $(if $(shell command -v jq),,jq) $(if $(shell command -v shellcheck),,shellcheck) \
  $(if $(shell command -v qemu-aarch64-static),,qemu-user-static)
QEMU_AARCH64 = /proc/sys/fs/binfmt_misc/qemu-aarch64

# actionlint, zizmor and pre-commit (PyPI, versions in .ci/test-tools.txt) in a virtualenv,
# made again only when that list changes.
TEST_TOOLS = target/test-tools

test-deps: $(TEST_TOOLS)/.installed
	@if [ -n "$(strip $(TEST_DEBS))" ]; then \
	  echo "installing $(strip $(TEST_DEBS)) for the tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBS) >/dev/null; \
	fi
	@if [ "$$(uname -m)" = x86_64 ] && [ "$$(head -n 1 $(QEMU_AARCH64) 2>/dev/null)" != enabled ]; then \
	  echo "registering qemu-aarch64 with binfmt_misc (the tests build arm64 images with RUN steps)"; \
	  $(SUDO) sh -c 'mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; \
	    if [ -e $(QEMU_AARCH64) ]; then echo 1 > $(QEMU_AARCH64); \
	    else /lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf; fi'; \
	fi
	@bash .ci/fetch-test-debs

$(TEST_TOOLS)/.installed: .ci/test-tools.txt
	@echo "installing $$(grep -v '^#' $< | tr '\n' ' ')into $(TEST_TOOLS) for the tests"
	@rm -rf $(TEST_TOOLS) && python3 -m venv $(TEST_TOOLS)
	@$(TEST_TOOLS)/bin/pip install -q -r $<
	@touch $@

# What crates.io would get: `cargo package` builds the package from its own files (a clean
# checkout: it refuses uncommitted changes), and must not warn.
package:
	@mkdir -p target; $(CARGO) package --locked >target/package.log 2>&1; status=$$?; \
	  cat target/package.log; [ "$$status" -eq 0 ] || exit "$$status"; \
	  if grep -q '^warning' target/package.log; then echo "cargo package warned" >&2; exit 1; fi

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

check: lint test

# Benchmarks against the peers (hadolint, dive, container-structure-test, docker buildx build/bake, docker build, SAM CLI).
# Not tests: run by hand.
bench: bench-lint bench-verify bench-build bench-push bench-registry bench-invoke

bench-lint: release
	bash bench/lint.sh

bench-verify: release
	bash bench/verify.sh

bench-push: release
	bash bench/push.sh

bench-build: release
	bash bench/build.sh

bench-registry: release
	bash bench/registry.sh

bench-invoke: release
	bash bench/invoke.sh
