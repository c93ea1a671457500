#!/usr/bin/env bash
# The Action's install steps (action.yml). Inputs come through the environment, never
# through the script's text.
#
# `install.sh plan` decides where lambda-image comes from and writes the step outputs
# `mode` (release | source), `version`, `fallback` (source | none), `target` (the release
# archive's target triple), `target-dir`, `cache-key`, `cache-prefix`:
#   INPUT_VERSION   empty, `source`, or a released version (`0.2.0` or `v0.2.0`)
#   ACTION_REF      the ref the action runs at (`v0.2.0`, `main`, a commit)
# `install.sh install` then downloads the release archive and checks its SHA-256 (or, with
# mode source, or when a release asked for by the tag has no archive, runs
# `cargo install --locked --path` on the action's checkout), adds the binary's folder to
# GITHUB_PATH and writes the output `bin`:
#   PLAN_MODE, PLAN_VERSION, PLAN_FALLBACK, PLAN_TARGET, PLAN_TARGET_DIR   from `plan`
#   LAMBDA_IMAGE_RELEASES_URL   where releases are (default: the project's GitHub releases;
#                               a mirror serves the same paths)
# Both read GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP and GITHUB_OUTPUT as the
# runner sets them.
set -euo pipefail

action=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
releases=${LAMBDA_IMAGE_RELEASES_URL:-https://github.com/lambda-image/lambda-image/releases/download}

# An annotation; % and line breaks escaped as workflow commands need.
annotate() {
  local kind=$1 message=$2
  message=${message//'%'/'%25'}
  message=${message//$'\r'/'%0D'}
  message=${message//$'\n'/'%0A'}
  echo "::$kind title=lambda-image::$message"
}

output() {
  echo "$1=$2" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

# SHA-256 lines as sha256sum prints them (macOS has shasum).
if command -v sha256sum >/dev/null 2>&1; then
  sha256=(sha256sum)
else
  sha256=(shasum -a 256)
fi

# The release archive's target triple for this runner; fails where there is none.
release_target() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
  esac
}

plan() {
  local checkout requested mode version fallback target=""
  checkout=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$action/Cargo.toml" | head -n 1)
  requested=${INPUT_VERSION:-}
  requested=${requested#v}
  case "$requested" in
    source)
      mode=source version=$checkout fallback=none
      ;;
    "")
      # The tag the action runs at names a release only when the checkout has that version.
      if [ "${ACTION_REF:-}" = "v$checkout" ] && target=$(release_target); then
        mode=release version=$checkout fallback=source
      else
        mode=source version=$checkout fallback=none target=""
      fi
      ;;
    *)
      if ! [[ "$requested" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
        annotate error "input version must be empty, \`source\` or a released version such as 0.2.0"
        exit 2
      fi
      if ! target=$(release_target); then
        annotate error "lambda-image releases have no archive for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; set version to \`source\` to build it"
        exit 2
      fi
      mode=release version=$requested fallback=none
      ;;
  esac
  local rustc sources
  rustc=$(rustc -V 2>/dev/null | "${sha256[@]}" | cut -c1-12 || true)
  sources=$(cd "$action" && find Cargo.toml Cargo.lock src templates -type f | LC_ALL=C sort | xargs "${sha256[@]}" | "${sha256[@]}" | cut -c1-16)
  local prefix="lambda-image-action-${RUNNER_OS:-os}-${RUNNER_ARCH:-arch}-$rustc-"
  output mode "$mode"
  output version "$version"
  output fallback "$fallback"
  output target "$target"
  output target-dir "${HOME}/.cache/lambda-image-action/target"
  output cache-key "$prefix$sources"
  output cache-prefix "$prefix"
}

# Downloads and checks the release archive into $1; fails (with an annotation) on a
# download error or a checksum mismatch.
download() {
  local root=$1 name="lambda-image-$PLAN_VERSION-$PLAN_TARGET" work
  work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lambda-image-download.XXXXXX")
  local url="$releases/v$PLAN_VERSION/$name.tar.gz"
  if ! curl -fsSL --retry 3 -o "$work/$name.tar.gz" "$url" ||
    ! curl -fsSL --retry 3 -o "$work/$name.tar.gz.sha256" "$url.sha256"; then
    annotate warning "could not download $url (or its .sha256)"
    return 1
  fi
  local want got
  want=$(cut -d ' ' -f 1 <"$work/$name.tar.gz.sha256")
  got=$("${sha256[@]}" "$work/$name.tar.gz" | cut -d ' ' -f 1)
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    annotate error "$name.tar.gz has SHA-256 $got, but its .sha256 says ${want:-nothing}: not installed"
    exit 1
  fi
  if ! tar -xzf "$work/$name.tar.gz" -C "$work" || ! [ -f "$work/$name/lambda-image" ]; then
    annotate error "$name.tar.gz does not hold $name/lambda-image"
    exit 1
  fi
  mkdir -p "$root/bin" && mv "$work/$name/lambda-image" "$root/bin/lambda-image" && rm -rf "$work"
}

build() {
  local root=$1
  if ! command -v cargo >/dev/null 2>&1; then
    annotate error "cargo is not installed: add a Rust toolchain before this step, or set version to a release"
    exit 1
  fi
  CARGO_TARGET_DIR=$PLAN_TARGET_DIR cargo install --locked --path "$action" --root "$root"
}

install() {
  local root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lambda-image-bin/$PLAN_MODE-$PLAN_VERSION"
  if [ "$PLAN_MODE" = release ]; then
    if ! download "$root"; then
      if [ "$PLAN_FALLBACK" != source ]; then
        annotate error "lambda-image $PLAN_VERSION could not be downloaded for $PLAN_TARGET"
        exit 1
      fi
      annotate notice "no release archive of lambda-image $PLAN_VERSION for $PLAN_TARGET: building the action's checkout"
      root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lambda-image-bin/source-$PLAN_VERSION"
      build "$root"
    fi
  else
    build "$root"
  fi
  local bin="$root/bin/lambda-image" said
  said=$("$bin" --version)
  echo "$said ($bin)"
  if [ "$PLAN_MODE" = release ] && [ "$said" != "lambda-image $PLAN_VERSION" ]; then
    annotate error "the downloaded binary says '$said', not lambda-image $PLAN_VERSION"
    exit 1
  fi
  echo "$root/bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
  output bin "$bin"
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  *)
    echo "usage: install.sh plan|install" >&2
    exit 2
    ;;
esac
