#!/usr/bin/env bash
# Benchmark `lambda-image build` against its peers on the same Dockerfiles and contexts, in one
# run, interleaved run by run. Not a test. Usage: make bench-build (builds the release binary
# first), or:
#
#   BENCH_RUNS=3            runs of each single-image case (cold, cached, no-op) and of --cache-from
#   BENCH_RUNS_MULTI=2      runs of each 8-image case, of each -j in the -j sweep and of the probe
#   BENCH_JOBS="1 2 4 8"    the -j values tried for 8 images, cold, on BuildKit ("" skips the sweep)
#   BENCH_RESTART_ENGINE=   a command that starts the Docker Engine again if it dies (see below)
#   BIN=target/release/lambda-image   SAM_VENV=bench/.venv   SAM_VERSION=1.170.0
#   BUILDX_CONFIG=bench/.buildx       (a DOCKER_CONFIG of the bench's own, holding docker-buildx)
#
# Peers, on the same engine:
#   BuildKit   `docker buildx build` and `docker buildx bake` (buildx 0.13.1, docker driver: the
#              engine's own BuildKit) against lambda-image's default builder (BuildKit)
#   classic    `DOCKER_BUILDKIT=0 docker build` and AWS SAM CLI's `sam build` against
#              `lambda-image build --builder classic`
# buildx is Debian trixie's docker-buildx, fetched with apt-get download into a temporary folder
# (the system's apt setup and engine untouched) and put into $BUILDX_CONFIG/cli-plugins.
#
# The base is a stand-in provided.al2023 image imported with `docker import`
# (bench/build/rootfs.py: busybox + the microdnf stand-in, as in the tests), tagged
# lambda-image-test/bench-base:latest. Nothing is pulled. Every image the script makes is under
# lambda-image-test/bench-* (SAM's own tags: lambdaimagebench*; the pushed one:
# 127.0.0.1:<port>/lambda-image-bench/cache) and removed on exit. The build-cache prunes are the
# engine's: they also drop other users' BuildKit layer cache on a shared engine.
#
# Cases (see bench-peers.md for the traps this avoids):
#   cold    every image the bench built removed (and every image descending from the base,
#           dangling ones included), then the engine's build cache pruned (`docker builder prune
#           -af`, types regular and source.local: BuildKit's layer cache and the contexts buildx
#           synced; cache mounts are kept, the bench has none), then a throwaway build (see
#           absorb below: this engine's first export after a `docker save` is slower)
#   cached  the same build again right after, layer cache warm; lambda-image with --force
#   no-op   nothing changed: lambda-image's second run reports "unchanged"; for the peers the
#           no-op case is their cached rebuild
#   --cache-from   lambda-image on BuildKit with --cache-to inline, pushed to a loopback
#           docker-registry (Debian's), then cold (image removed, build cache pruned) and built
#           with --cache-from REF; against the cold build of the same run; on single/ and on
#           heavy/ (the same with a RUN step of about 5 s)
#   + save  buildx build (bake) followed by `docker save` of what it built: the export that
#           lambda-image's verify reads, i.e. the peer on equal work for the verify-on cases
#   small   the 8-image cases again on the same specs without their data files (how the gap to
#           bake depends on the contexts' bytes); the no-op likewise for the single image
#   probe   8 specs whose first steps are the same (FROM, RUN dnf install) on a probe base whose
#           dnf prints and stores a random id once per RUN: how many times the shared RUN ran
#           in a cold `build --all -j 8` on BuildKit and on the classic builder
#
# Docker 20.10's builtin BuildKit can crash the daemon when a build-cache prune races a build
# that resolves a base image: the script prunes only between its own builds. It checks the
# engine after every prune and build; if it is gone, it runs $BENCH_RESTART_ENGINE when set
# (the command that started the engine on this machine) and records it, else it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-target/release/lambda-image}
RUNS=${BENCH_RUNS:-3}
RUNS_MULTI=${BENCH_RUNS_MULTI:-2}
JOBS_LIST=${BENCH_JOBS-"1 2 4 8"}
SAM_VERSION=${SAM_VERSION:-1.170.0}
SAM_VENV=${SAM_VENV:-bench/.venv}
BUILDX_CONFIG=${BUILDX_CONFIG:-bench/.buildx}
BUILDX_VERSION=0.13.1
N_IMAGES=8
BASE=lambda-image-test/bench-base:latest
PROBE_BASE=lambda-image-test/bench-probe-base:latest
SINGLE_TAG=lambda-image-test/bench-single
INSTALLED="Installing: jq (stand-in)" # what the RUN step prints when it runs

COMMAND="BENCH_RUNS=$RUNS BENCH_RUNS_MULTI=$RUNS_MULTI BENCH_JOBS=\"$JOBS_LIST\" bash bench/build.sh"
echo "command: $COMMAND   (make bench-build runs it after make release)"

[ -x "$BIN" ] || { echo "bench/build.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
BIN=$(realpath "$BIN")
docker info >/dev/null 2>&1 || { echo "bench/build.sh: the Docker Engine is not reachable" >&2; exit 2; }
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] ||
  { echo "bench/build.sh: busybox is missing (apt-get install busybox-static)" >&2; exit 2; }
command -v docker-registry >/dev/null 2>&1 ||
  { echo "bench/build.sh: docker-registry is missing (apt-get install docker-registry; make test-deps installs it)" >&2; exit 2; }

# The classic peer: AWS SAM CLI in a venv of its own (bench/.venv ignores itself for git).
SAM=$ROOT/$SAM_VENV/bin/sam
if [ ! -x "$SAM" ] || ! "$SAM" --version 2>/dev/null | grep -qF "$SAM_VERSION"; then
  echo "installing aws-sam-cli $SAM_VERSION into $SAM_VENV" >&2
  python3 -m venv "$SAM_VENV"
  printf '*\n' >"$SAM_VENV/.gitignore"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION" >&2
fi
export SAM_CLI_TELEMETRY=0

# The BuildKit peer: docker-buildx from Debian trixie, from the system's own Debian mirror (the
# first URIs: of its apt sources), without changing the system's apt setup or engine.
BX=$ROOT/$BUILDX_CONFIG
if ! DOCKER_CONFIG=$BX docker buildx version 2>/dev/null | grep -qF "$BUILDX_VERSION"; then
  echo "fetching docker-buildx $BUILDX_VERSION (Debian trixie) into $BUILDX_CONFIG/cli-plugins" >&2
  T=$(mktemp -d)
  mkdir -p "$T/lists/partial" "$T/cache/archives/partial"
  M=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$M" ] || M=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list)
  echo "deb $M trixie main" >"$T/sources.list"
  A=(-o "Dir::Etc::SourceList=$T/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$T/lists" -o "Dir::Cache=$T/cache")
  apt-get "${A[@]}" update -qq 2>/dev/null && (cd "$T" && apt-get "${A[@]}" download -qq docker-buildx 2>/dev/null) ||
    { echo "bench/build.sh: could not fetch docker-buildx from $M (trixie)" >&2; rm -rf "$T"; exit 2; }
  dpkg-deb -x "$T"/docker-buildx_*.deb "$T/x"
  mkdir -p "$BX/cli-plugins"
  printf '*\n' >"$BX/.gitignore"
  install -m 755 "$T/x/usr/libexec/docker/cli-plugins/docker-buildx" "$BX/cli-plugins/"
  rm -rf "$T"
  DOCKER_CONFIG=$BX docker buildx version | grep -qF "$BUILDX_VERSION" ||
    { echo "bench/build.sh: docker-buildx $BUILDX_VERSION does not answer" >&2; exit 2; }
fi

S=$(mktemp -d "${TMPDIR:-/tmp}/lambda-image-bench-build.XXXXXX")
# SAM checks PyPI for a newer version once a week inside the command: keep its state here.
export __SAM_CLI_APP_DIR=$S/sam-app-dir
# lambda-image's record of what it built (for "unchanged"): the bench's own.
export LAMBDA_IMAGE_CACHE_DIR=$S/li-cache
mkdir -p "$S/logs" "$S/times" "$__SAM_CLI_APP_DIR" "$LAMBDA_IMAGE_CACHE_DIR"
: >"$S/problems"
: >"$S/ids"
: >"$S/notes"

# ---- The engine ----------------------------------------------------------------------------
# engine_ok WHEN: the engine answers, else it is restarted with $BENCH_RESTART_ENGINE (recorded)
# or the script stops.
engine_ok() {
  local i
  docker info >/dev/null 2>&1 && return 0
  sleep 3
  docker info >/dev/null 2>&1 && return 0
  echo "ENGINE DOWN ($1, $(date +%T)): docker info fails" | tee -a "$S/problems" >&2
  if pgrep -x dockerd >/dev/null; then
    for i in $(seq 60); do docker info >/dev/null 2>&1 && { echo "  it answers again after ${i} s" | tee -a "$S/problems" >&2; return 0; }; sleep 1; done
  fi
  if [ -z "${BENCH_RESTART_ENGINE:-}" ]; then
    echo "bench/build.sh: the Docker Engine died; start it again as it was started (set BENCH_RESTART_ENGINE to have the script do it)" >&2
    exit 3
  fi
  pgrep -x dockerd >/dev/null && { echo "bench/build.sh: dockerd runs but does not answer; not starting a second one" >&2; exit 3; }
  echo "  restarting it: $BENCH_RESTART_ENGINE" | tee -a "$S/problems" >&2
  bash -c "$BENCH_RESTART_ENGINE"
  for i in $(seq 120); do docker info >/dev/null 2>&1 && { echo "  the engine answers again after ${i} s" | tee -a "$S/problems" >&2; return 0; }; sleep 1; done
  echo "bench/build.sh: the engine did not come back" >&2
  exit 3
}

# ---- Cleaning up -----------------------------------------------------------------------------
# Ids of the images descending from BASE (not the base), children before parents.
descendants() { # BASE
  local base_id
  base_id=$(docker image inspect -f '{{.Id}}' "$1" 2>/dev/null) || return 0
  { docker image ls -a -q --no-trunc | sort -u | xargs -r docker image inspect -f '{{.Id}} {{.Parent}}' 2>/dev/null || true; } |
    python3 -c '
import sys
base = sys.argv[1]
children = {}
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 2:
        children.setdefault(parts[1], []).append(parts[0])
out = []
def walk(i):
    for c in children.get(i, []):
        walk(c)
        out.append(c)
walk(base)
print("\n".join(out))' "$base_id"
}

remove_descendants() { # BASE
  local ids
  for _ in 1 2 3; do
    mapfile -t ids < <(descendants "$1" | sed '/^$/d')
    [ "${#ids[@]}" -eq 0 ] && return 0
    docker image rm -f "${ids[@]}" >/dev/null 2>&1 || true
  done
  mapfile -t ids < <(descendants "$1" | sed '/^$/d')
  [ "${#ids[@]}" -eq 0 ] || { echo "bench/build.sh: could not remove ${#ids[@]} images built on $1" >&2; return 1; }
}

REF_PATTERN='^(lambda-image-test/bench-|lambdaimagebench|127\.0\.0\.1:[0-9]+/lambda-image-bench/)'
# bench_refs [all]: the bench's tags (the two bases only with `all`)
bench_refs() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E "$REF_PATTERN" |
    { if [ "${1:-}" = all ]; then cat; else grep -vxF -e "$BASE" -e "$PROBE_BASE"; fi; } || true
}
# The ids the bench's tags name now (BuildKit images have no parent: a tag moved by a rebuild
# leaves an image only this list finds).
record_ids() {
  docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -E " $REF_PATTERN" |
    grep -vE " ($(printf '%s' "$BASE" | sed 's/[.]/\\./g')|$(printf '%s' "$PROBE_BASE" | sed 's/[.]/\\./g'))$" |
    cut -d' ' -f1 >>"$S/ids" || true
}
remove_images() {
  local refs ids
  record_ids
  mapfile -t refs < <(bench_refs)
  [ "${#refs[@]}" -gt 0 ] && { docker image rm -f "${refs[@]}" >/dev/null 2>&1 || true; }
  mapfile -t ids < <(sort -u "$S/ids")
  [ "${#ids[@]}" -gt 0 ] && { docker image rm -f "${ids[@]}" >/dev/null 2>&1 || true; }
  : >"$S/ids"
  remove_descendants "$BASE"
  remove_descendants "$PROBE_BASE"
}
prune_cache() {
  local t
  engine_ok "before a build-cache prune"
  for t in regular source.local; do
    docker builder prune -af --filter "type=$t" >/dev/null 2>"$S/prune.err" ||
      { echo "bench/build.sh: docker builder prune (type=$t) failed: $(cat "$S/prune.err")" | tee -a "$S/problems" >&2; }
  done
  engine_ok "after a build-cache prune"
}
# On this engine (20.10, fuse-overlayfs) the first image export after any `docker save` of a
# built image takes about 0.7 s longer, whichever build it is and however long after (measured:
# buildx's cold build 0.92 s, 1.6 s right after a save of the image it had just built and then
# removed). Verify reads images with that export, so without this the case after any verify run
# paid for it. cold() ends with a throwaway build that takes that cost (its image removed and
# the cache pruned again), so every cold case starts from the same engine state.
# The cached cases get the same throwaway build first (timed() runs it), their build cache kept.
absorb() {
  date +%s%N >"$S/absorb/stamp"
  buildx build -q -f absorb/Dockerfile -t lambda-image-test/bench-absorb:latest absorb >/dev/null 2>"$S/absorb.err" ||
    { echo "bench/build.sh: the throwaway build failed: $(tail -n 3 "$S/absorb.err")" | tee -a "$S/problems" >&2; }
  docker image rm -f lambda-image-test/bench-absorb:latest >/dev/null 2>&1 || true
  engine_ok "after the throwaway build"
}
cold() { remove_images; prune_cache; absorb; prune_cache; sync; }

REGISTRY_PID=
cleanup() {
  set +e
  [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
  if docker info >/dev/null 2>&1; then
    remove_images
    mapfile -t refs < <(bench_refs all)
    [ "${#refs[@]}" -gt 0 ] && docker image rm -f "${refs[@]}" >/dev/null 2>&1
  fi
  rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$(nproc) cores; Docker Engine $(docker version -f '{{.Server.Version}}') ($(docker info -f '{{.Driver}}')), docker CLI $(docker version -f '{{.Client.Version}}'); $(DOCKER_CONFIG=$BX docker buildx version | cut -d' ' -f1,2); $("$SAM" --version); $("$BIN" --version)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# Leftovers of an interrupted run.
mapfile -t refs < <(bench_refs all)
[ "${#refs[@]}" -gt 0 ] && { remove_descendants "$BASE"; remove_descendants "$PROBE_BASE"; docker image rm -f "${refs[@]}" >/dev/null 2>&1 || true; }

# ---- Fixtures -------------------------------------------------------------------------------
python3 bench/build/rootfs.py "$S/rootfs.tar"
import_base() { # TAR REF
  docker import \
    -c 'ENV LANG=en_US.UTF-8' \
    -c 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
    -c 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    -c 'ENV LAMBDA_TASK_ROOT=/var/task' \
    -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    -c 'WORKDIR /var/task' \
    -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    "$1" "$2" >/dev/null
}
import_base "$S/rootfs.tar" "$BASE"
# The probe base: the same, but its dnf prints a random id the first time it runs in a RUN
# step and leaves it in the step's layer (/var/lib/bench-probe/run-id).
python3 - "$S/rootfs.tar" "$S/rootfs-probe.tar" <<'EOF'
import io, sys, tarfile
WRAPPER = b"""#!/bin/sh
if [ ! -f /var/lib/bench-probe/run-id ]; then
  mkdir -p /var/lib/bench-probe
  cat /proc/sys/kernel/random/uuid > /var/lib/bench-probe/run-id
  echo "bench probe: this RUN ran as $(cat /var/lib/bench-probe/run-id)"
fi
exec /usr/bin/microdnf.real "$@"
"""
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w", format=tarfile.GNU_FORMAT) as dst:
    for m in src.getmembers():
        data = src.extractfile(m) if m.isfile() else None
        if m.name == "usr/bin/microdnf":
            real = tarfile.TarInfo("usr/bin/microdnf.real")
            real.mode, real.size, real.type = m.mode, m.size, m.type
            dst.addfile(real, data)
            m.size = len(WRAPPER)
            data = io.BytesIO(WRAPPER)
        dst.addfile(m, data)
EOF
import_base "$S/rootfs-probe.tar" "$PROBE_BASE"

# A context: the shell bootstrap, function.sh, N files of 2.5 MiB of random data (seeded,
# a different seed per context so no two contexts share a layer), and image.yaml.
make_context() { # DIR SEED TAG [BASE] [FILES]
  local dir=$1 seed=$2 tag=$3 base=${4:-$BASE} files=${5:-20} data=
  mkdir -p "$dir"
  cp bench/build/bootstrap bench/build/function.sh "$dir/"
  if [ "$files" -gt 0 ]; then
    mkdir -p "$dir/data"
    data='  - {src: data/}'
    python3 -c '
import random, sys
r = random.Random(int(sys.argv[2]))
for i in range(int(sys.argv[3])):
    with open(f"{sys.argv[1]}/data/blob-{i:02d}.bin", "wb") as f:
        f.write(r.randbytes(5 * 1024 * 1024 // 2))' "$dir" "$seed" "$files"
  fi
  cat >"$dir/image.yaml" <<EOF
runtime: provided.al2023
base: $base
packages: [jq]
bootstrap: {src: bootstrap}
copy:
$data
  - {src: function.sh}
handler: function.handler
tags: [$tag]
EOF
  sed -i '/^$/d' "$dir/image.yaml"
}

# single/: one image, built by every tool from the Dockerfile lambda-image renders.
make_context "$S/single" 1000 "$SINGLE_TAG:li"
(cd "$S" && "$BIN" --no-progress render single >single/Dockerfile)
# images/bench-<i>: eight specs for `lambda-image build --all`; the peers get each one's
# rendered Dockerfile, in its own context, with its own tag (SAM merges identical functions).
sam_template() { # OUT CONTEXT...
  local out=$1 i=0 ctx; shift
  {
    printf 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nResources:\n'
    for ctx in "$@"; do
      printf '  LambdaImageBench%s:\n    Type: AWS::Serverless::Function\n' "$i"
      printf '    Properties:\n      PackageType: Image\n      Architectures: [x86_64]\n'
      printf '    Metadata:\n      Dockerfile: Dockerfile\n      DockerContext: ./%s\n      DockerTag: latest\n' "$ctx"
      i=$((i + 1))
    done
  } >"$out"
}
contexts=()
for i in $(seq 0 $((N_IMAGES - 1))); do
  make_context "$S/images/bench-$i" "$i" "lambda-image-test/bench-$i:latest"
  (cd "$S" && "$BIN" --no-progress render "images/bench-$i" >"images/bench-$i/Dockerfile")
  contexts+=("images/bench-$i")
done
sam_template "$S/template-single.yaml" single
sam_template "$S/template-8.yaml" "${contexts[@]}"
sed -i 's/LambdaImageBench0:/LambdaImageBenchSingle:/' "$S/template-single.yaml"
# The bake file: the same 8 Dockerfiles and contexts, one target each, all in the default group.
bake_file() { # OUT N FOLDER NAME: targets NAME-<i>, contexts FOLDER/NAME-<i>, tags lambda-image-test/bench-<i>:bake (NAME bench) or lambda-image-test/bench-NAME-<i>:bake
  python3 - "$@" <<'EOF'
import json, sys
out, n, folder, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tag = "lambda-image-test/bench-{i}:bake" if name == "bench" else "lambda-image-test/bench-" + name + "-{i}:bake"
targets = {f"{name}-{i}": {"context": f"{folder}/{name}-{i}", "dockerfile": "Dockerfile", "tags": [tag.format(i=i)]}
           for i in range(n)}
json.dump({"group": {"default": {"targets": sorted(targets)}}, "target": targets}, open(out, "w"), indent=1)
EOF
}
bake_file "$S/bake.json" "$N_IMAGES" images bench
bake_file "$S/bake-small.json" "$N_IMAGES" small/images small
# small/images/small-<i>: the same 8 specs without their data files (the Dockerfiles differ
# only by the COPY data/ line): how the 8-image cases depend on the bytes of the contexts.
for i in $(seq 0 $((N_IMAGES - 1))); do
  make_context "$S/small/images/small-$i" "$i" "lambda-image-test/bench-small-$i:latest" "$BASE" 0
  (cd "$S/small" && "$BIN" --no-progress render "images/small-$i" >"images/small-$i/Dockerfile")
done
# absorb/: the throwaway build of cold() (one file on the base).
mkdir -p "$S/absorb"
printf 'FROM %s\nCOPY stamp /stamp\n' "$BASE" >"$S/absorb/Dockerfile"
# heavy/: the single image with one more RUN step that computes for about 5 s (a stand-in for
# the dependency installs and compiles real images run: pip, npm, cargo), for --cache-from.
cp -r "$S/single" "$S/heavy"
sed -i 's|^COPY bootstrap |RUN busybox dd if=/dev/zero bs=1M count=1000 2>/dev/null \| busybox sha256sum >/var/work.sha256\n\n&|' "$S/heavy/Dockerfile"
grep -q 'busybox sha256sum' "$S/heavy/Dockerfile" || { echo "bench/build.sh: could not make heavy/Dockerfile" >&2; exit 2; }
# single-small/: the single image without its data, for the no-op's cost beyond the context.
make_context "$S/single-small" 1000 "$SINGLE_TAG:small" "$BASE" 0
(cd "$S" && "$BIN" --no-progress render single-small >single-small/Dockerfile)
# probe/images/probe-<i>: 8 small specs on the probe base (no data files: only the shared
# first steps matter), all starting FROM the probe base with the same RUN dnf install.
for i in $(seq 0 $((N_IMAGES - 1))); do
  make_context "$S/probe/images/probe-$i" "$i" "lambda-image-test/bench-probe-$i:latest" "$PROBE_BASE" 0
done
echo "Dockerfile (single/, and images/bench-<i> with their own title label):"
sed 's/^/    /' "$S/single/Dockerfile"

# The loopback registry for --cache-from (Debian's docker-registry, as the tests run it).
REG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$S/registry"
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$S/registry/data" "$REG_PORT" >"$S/registry/config.yml"
docker-registry serve "$S/registry/config.yml" >"$S/registry/log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)' "$REG_PORT" 2>/dev/null && break
  sleep 0.2
done
REMOTE=127.0.0.1:$REG_PORT/lambda-image-bench/cache:latest

# ---- Measuring ------------------------------------------------------------------------------
in_s() { (cd "$S" && "$@"); }
docker_build() { in_s env DOCKER_BUILDKIT=0 docker build "$@"; }
buildx() { in_s env DOCKER_CONFIG="$BX" docker buildx "$@"; }
sam_build() { in_s "$SAM" build --skip-pull-image "$@"; }
# lambda-image: the JSON report on stdout, every line of build output on stderr (the cached
# cases are checked for steps that ran).
li_build() { in_s "$BIN" build --no-config --no-progress --format json "$@"; }
# 8 concurrent classic CLI builds, as a CI script would start them.
docker_multi() {
  local i pids=() rc=0
  for i in $(seq 0 $((N_IMAGES - 1))); do
    docker_build -f "images/bench-$i/Dockerfile" -t "lambda-image-test/bench-$i:docker" "images/bench-$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return $rc
}

DOCKER_SINGLE=(docker_build -f single/Dockerfile -t "$SINGLE_TAG:docker" single)
BUILDX_SINGLE=(buildx build --progress plain -f single/Dockerfile -t "$SINGLE_TAG:buildx" single)
SAM_SINGLE=(sam_build -t template-single.yaml -b .aws-sam/build-single)
LI_SINGLE=(li_build --file single/Dockerfile --context single -t "$SINGLE_TAG:li")
LI_CLASSIC_SINGLE=(li_build --builder classic --file single/Dockerfile --context single -t "$SINGLE_TAG:li-classic")
SAM_MULTI=(sam_build -t template-8.yaml -b .aws-sam/build-8 --parallel)
BAKE_MULTI=(buildx bake --progress plain -f bake.json)
BAKE_SMALL=(buildx bake --progress plain -f bake-small.json)
li_small() { in_s bash -c 'cd small && "$@"' - "$BIN" build --no-config --no-progress --format json --all "$@"; }
LI_MULTI=(li_build --all)
LI_CLASSIC_MULTI=(li_build --all --builder classic)

# timed CASE TOOL EXPECT CMD...: runs CMD once (stdout and stderr to logs), appends the wall
# seconds to $S/times/CASE.TOOL. EXPECT is STATUS:COUNT@BUILDER for lambda-image's JSON report
# (or -). A failure or an unexpected status is printed with the command and recorded in
# problems; a cached or no-op case whose RUN step ran (someone pruned the cache?) is recorded
# in problems too, and a cold case whose RUN step did not run.
timed() {
  local case=$1 tool=$2 expect=$3; shift 3
  local log="$S/logs/$case.$tool.$(date +%s%N)" start end rc t got
  case $case in *-cached) absorb ;; esac
  start=$(date +%s.%N)
  set +e
  "$@" >"$log.out" 2>"$log.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  engine_ok "after $case $tool"
  record_ids
  t=$(echo "$end - $start" | bc -l)
  echo "$log" >"$S/last-log"
  if [ "$rc" -ne 0 ]; then
    { echo "FAILED ($case, $tool): exit $rc: $(printf '%q ' "$@")"
      echo "  (cd $S; BIN=$BIN)"; tail -n 15 "$log.out" "$log.err" | sed 's/^/  | /'; } | tee -a "$S/problems" >&2
    echo "failed" >>"$S/times/$case.$tool.failed"
    return 0
  fi
  if [ "$expect" != - ]; then
    got=$(python3 -c '
import collections, json, sys
r = json.load(open(sys.argv[1]))
c = collections.Counter(i.get("status") for i in r.get("images", []))
print(",".join(f"{k}:{v}" for k, v in sorted(c.items())) + "@" + str(r.get("builder")))' "$log.out" 2>&1) || got="unreadable JSON: $got"
    if [ "$got" != "$expect" ]; then
      { echo "UNEXPECTED ($case, $tool): statuses $got, expected $expect: $(printf '%q ' "$@")"
        tail -n 15 "$log.out" "$log.err" | sed 's/^/  | /'; } | tee -a "$S/problems" >&2
    fi
  fi
  case $case in
    *-cached | *-noop | cache-from*)
      if grep -qF "$INSTALLED" "$log.out" "$log.err"; then
        echo "CACHE MISS ($case, $tool): the RUN step ran in a case that should find it in the cache" | tee -a "$S/problems" >&2
      fi ;;
    *-cold | cache-cold*)
      if ! grep -qF "$INSTALLED" "$log.out" "$log.err"; then
        echo "NOT COLD ($case, $tool): the RUN step did not run" | tee -a "$S/problems" >&2
      fi ;;
  esac
  echo "$t" >>"$S/times/$case.$tool"
  # lambda-image's own split (its report): the longest build, the longest verify, the sum of verifies
  if [ "$expect" != - ]; then
    python3 -c '
import json, sys
im = json.load(open(sys.argv[1])).get("images", [])
b = [i.get("build_seconds") or 0 for i in im]
v = [i.get("verify_seconds") or 0 for i in im]
print(f"{max(b, default=0):.2f} {max(v, default=0):.2f} {sum(v):.2f}")' "$log.out" >>"$S/times/$case.$tool.split" 2>/dev/null || true
  fi
  printf '  %-14s %-26s %7.2f s\n' "$case" "$tool" "$t"
}

# stats CASE TOOL -> "min median n" (or "- - 0")
stats() {
  local f="$S/times/$1.$2"
  [ -s "$f" ] || { echo "- - 0"; return; }
  sort -g "$f" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %d\n", v[1], m, NR }'
}
median() { stats "$1" "$2" | cut -d' ' -f2; }

# Untimed warm-up: SAM's weekly PyPI check, the page cache, the binaries, buildx's state.
echo "warm-up (untimed)"
timed warmup docker - "${DOCKER_SINGLE[@]}" >/dev/null
timed warmup sam - "${SAM_SINGLE[@]}" >/dev/null
timed warmup buildx - "${BUILDX_SINGLE[@]}" >/dev/null
timed warmup lambda-image - "${LI_SINGLE[@]}" --no-verify >/dev/null
timed warmup lambda-image-classic - "${LI_CLASSIC_SINGLE[@]}" --no-verify >/dev/null

# One image: each run, each tool cold then cached (then no-op); tool order rotated per run.
# The build plus the export any check of the layers reads (buildx checks nothing): what
# lambda-image's verify-on cases are to be compared with on equal work.
buildx_then_save() { buildx build --progress plain -f single/Dockerfile -t "$SINGLE_TAG:buildx-save" single && docker save "$SINGLE_TAG:buildx-save" >/dev/null; }
bake_then_save() {
  local i pids=() rc=0
  "${BAKE_MULTI[@]}" || return 1
  for i in $(seq 0 $((N_IMAGES - 1))); do docker save "lambda-image-test/bench-$i:bake" >/dev/null & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return $rc
}
blocks=(buildx li li-noverify docker sam li-classic buildx-save)
nb=${#blocks[@]}
for r in $(seq "$RUNS"); do
  echo "1 image, run $r/$RUNS"
  for k in $(seq 0 $((nb - 1))); do
    cold
    case ${blocks[$(((k + r - 1) % nb))]} in
      buildx)
        timed single-cold buildx - "${BUILDX_SINGLE[@]}"
        timed single-cached buildx - "${BUILDX_SINGLE[@]}" ;;
      buildx-save)
        timed single-cold buildx-save - buildx_then_save ;;
      li)
        timed single-cold lambda-image built:1@buildkit "${LI_SINGLE[@]}"
        timed single-cached lambda-image built:1@buildkit "${LI_SINGLE[@]}" --force
        timed single-noop lambda-image unchanged:1@None "${LI_SINGLE[@]}"
        # floors: the engine's export of the image (what verify reads) and reading the context
        timed single-floor docker-save - in_s sh -c "docker save '$SINGLE_TAG:li' >/dev/null"
        # the no-op of the same image without its 50 MB of data: what the no-op costs beyond
        # reading and hashing the context
        li_build --file single-small/Dockerfile --context single-small -t "$SINGLE_TAG:small" >/dev/null 2>&1 || true
        timed single-noop lambda-image-small unchanged:1@None li_build --file single-small/Dockerfile --context single-small -t "$SINGLE_TAG:small" ;;
      li-noverify)
        timed single-cold lambda-image-nv built:1@buildkit "${LI_SINGLE[@]}" --no-verify
        timed single-cached lambda-image-nv built:1@buildkit "${LI_SINGLE[@]}" --no-verify --force
        timed single-noop lambda-image-nv unchanged:1@None "${LI_SINGLE[@]}" --no-verify ;;
      docker)
        timed single-cold docker - "${DOCKER_SINGLE[@]}"
        timed single-cached docker - "${DOCKER_SINGLE[@]}" ;;
      sam)
        timed single-cold sam - "${SAM_SINGLE[@]}"
        timed single-cached sam - "${SAM_SINGLE[@]}" ;;
      li-classic)
        timed single-cold lambda-image-classic built:1@classic "${LI_CLASSIC_SINGLE[@]}" --no-verify
        timed single-cached lambda-image-classic built:1@classic "${LI_CLASSIC_SINGLE[@]}" --no-verify --force
        timed single-noop lambda-image-classic unchanged:1@None "${LI_CLASSIC_SINGLE[@]}" --no-verify ;;
    esac
  done
done

# Eight images, cold then cached, each tool once per run, the order rotated per run.
mblocks=(bake li li-noverify sam docker li-classic bake-small li-small bake-save)
nm=${#mblocks[@]}
for r in $(seq "$RUNS_MULTI"); do
  echo "8 images, run $r/$RUNS_MULTI"
  for k in $(seq 0 $((nm - 1))); do
    cold
    case ${mblocks[$(((k + r - 1) % nm))]} in
      bake)
        timed multi-cold bake - "${BAKE_MULTI[@]}"
        timed multi-cached bake - "${BAKE_MULTI[@]}" ;;
      bake-save)
        timed multi-cold bake-save - bake_then_save ;;
      li)
        timed multi-cold lambda-image "built:$N_IMAGES@buildkit" "${LI_MULTI[@]}"
        timed multi-cached lambda-image "built:$N_IMAGES@buildkit" "${LI_MULTI[@]}" --force ;;
      li-noverify)
        timed multi-cold lambda-image-nv "built:$N_IMAGES@buildkit" "${LI_MULTI[@]}" --no-verify
        timed multi-cached lambda-image-nv "built:$N_IMAGES@buildkit" "${LI_MULTI[@]}" --no-verify --force ;;
      sam)
        timed multi-cold sam - "${SAM_MULTI[@]}"
        timed multi-cached sam - "${SAM_MULTI[@]}" ;;
      docker)
        timed multi-cold docker - in_s docker_multi
        timed multi-cached docker - in_s docker_multi ;;
      bake-small)
        timed multi-small-cold bake - "${BAKE_SMALL[@]}"
        timed multi-small-cached bake - "${BAKE_SMALL[@]}" ;;
      li-small)
        timed multi-small-cold lambda-image-nv "built:$N_IMAGES@buildkit" li_small --no-verify
        timed multi-small-cached lambda-image-nv "built:$N_IMAGES@buildkit" li_small --no-verify --force ;;
      li-classic)
        timed multi-cold lambda-image-classic "built:$N_IMAGES@classic" "${LI_CLASSIC_MULTI[@]}" --no-verify
        timed multi-cached lambda-image-classic "built:$N_IMAGES@classic" "${LI_CLASSIC_MULTI[@]}" --no-verify --force ;;
    esac
  done
done

# --cache-from: cold with --cache-to inline, push, then a "fresh engine" (the image removed,
# the build cache pruned; the base stays, as a runner's base would be pulled or cached) builds
# with --cache-from; buildx the same way from the same pushed image. Twice: on single/ (its cold
# build is mostly moving its data) and on heavy/ (the same with a RUN step of about 5 s).
cache_from() { # SUFFIX CONTEXT REMOTE
  local sfx=$1 ctx=$2 remote=$3 tool log
  cold
  timed "cache-cold$sfx" lambda-image-nv built:1@buildkit li_build --file "$ctx/Dockerfile" --context "$ctx" -t "$remote" --cache-to inline --no-verify
  docker push "$remote" >"$S/logs/push$sfx.$r" 2>&1 || { echo "FAILED: docker push $remote" | tee -a "$S/problems" >&2; return 0; }
  for tool in lambda-image-nv buildx docker-pull; do
    cold
    if [ $tool = docker-pull ]; then
      timed "cache-floor$sfx" docker-pull - docker pull -q "$remote"
      continue
    elif [ $tool = buildx ]; then
      timed "cache-from$sfx" buildx - buildx build --progress plain --cache-from "$remote" -f "$ctx/Dockerfile" -t "$SINGLE_TAG:buildx-from-cache" "$ctx"
    else
      timed "cache-from$sfx" lambda-image-nv built:1@buildkit li_build --file "$ctx/Dockerfile" --context "$ctx" -t "$SINGLE_TAG:from-cache" --cache-from "$remote" --no-verify
    fi
    log=$(cat "$S/last-log")
    echo "    $ctx, $tool: $(grep -cE 'CACHED' "$log.err" || true) CACHED lines" >>"$S/notes"
  done
}
for r in $(seq "$RUNS"); do
  echo "--cache-from, run $r/$RUNS"
  cache_from "" single "$REMOTE"
  cache_from -heavy heavy "${REMOTE%/cache:latest}/cache-heavy:latest"
done

# -j sweep: 8 images cold on BuildKit, each -j once per run, the order rotated per run.
read -r -a jobs <<<"$JOBS_LIST"
if [ "${#jobs[@]}" -gt 0 ]; then
  for r in $(seq "$RUNS_MULTI"); do
    echo "-j sweep (8 images, cold, BuildKit), run $r/$RUNS_MULTI"
    for k in $(seq 0 $((${#jobs[@]} - 1))); do
      j=${jobs[$(((k + r - 1) % ${#jobs[@]}))]}
      cold
      timed multi-cold "lambda-image-nv-j$j" "built:$N_IMAGES@buildkit" "${LI_MULTI[@]}" --no-verify -j "$j"
    done
  done
fi

# The probe: does the shared RUN run once when 8 builds that begin with it start together?
probe() { # TOOL BUILDER
  local log ids layers lines
  cold
  timed probe-cold "$1" "built:$N_IMAGES@$2" in_s bash -c 'cd probe && "$@"' - "$BIN" build --no-config --no-progress \
    --format json --all --no-verify -j "$N_IMAGES" --builder "$2"
  log=$(cat "$S/last-log")
  lines=$(grep -c 'bench probe: this RUN ran as' "$log.err" || true)
  cached=$(grep -cE 'CACHED \[[0-9]+/[0-9]+\] RUN dnf|Using cache' "$log.err" || true)
  ids=$(grep -o 'bench probe: this RUN ran as [0-9a-f-]*' "$log.err" | sort -u | wc -l)
  layers=$(for i in $(seq 0 $((N_IMAGES - 1))); do
    docker image inspect -f '{{index .RootFS.Layers 1}}' "lambda-image-test/bench-probe-$i:latest" 2>/dev/null || echo missing
  done | sort -u | wc -l)
  echo "$ids $layers $lines $cached" >>"$S/times/probe.$1.counts"
  printf '    %s: %s distinct run ids in the output (%s probe lines), %s distinct RUN layers over %s images, %s cache-hit lines\n' \
    "$1" "$ids" "$lines" "$layers" "$N_IMAGES" "$cached"
}
for r in $(seq "$RUNS_MULTI"); do
  echo "probe (8 images sharing FROM + RUN dnf install, cold, -j $N_IMAGES), run $r/$RUNS_MULTI"
  if [ $((r % 2)) -eq 1 ]; then probe lambda-image buildkit; probe lambda-image-classic classic
  else probe lambda-image-classic classic; probe lambda-image buildkit; fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "-") print "n/a"; else if (r <= g) print "met"; else print "NOT MET" }'; }

# table TITLE PEER_CASE PEER_TOOL GOAL ROW...; ROW = "CASE|TOOL|LABEL|GOAL?" (GOAL? y: this
# row is held to the goal). Ratios: each row's median ÷ the peer's median.
table() {
  local title=$1 pcase=$2 ptool=$3 goal=$4 row c t label g s theirs r v failed; shift 4
  theirs=$(median "$pcase" "$ptool")
  echo
  echo "#### $title"
  echo
  echo "| tool | runs | min s | median s | ÷ peer | goal |"
  echo "|---|---|---|---|---|---|"
  for row in "$@"; do
    IFS='|' read -r c t label g <<<"$row"
    read -r -a s <<<"$(stats "$c" "$t")"
    failed=
    [ -f "$S/times/$c.$t.failed" ] && failed=" (+$(wc -l <"$S/times/$c.$t.failed") failed)"
    r=$(ratio "${s[1]}" "$theirs")
    if [ "$g" = y ]; then v="≤ ${goal}×: $(verdict "$r" "$goal")"; else v=""; fi
    [ "$c|$t" = "$pcase|$ptool" ] && v="peer"
    echo "| $label | ${s[2]}$failed | ${s[0]} | ${s[1]} | ${r}× | $v |"
  done
}

echo
echo "Results (wall seconds; ratios of medians; peer = the first row):"
table "1 image, cold (images removed, build cache pruned)" single-cold buildx 1.05 \
  'single-cold|buildx|`docker buildx build`|' \
  'single-cold|lambda-image|lambda-image build (BuildKit, verify on)|y' \
  'single-cold|lambda-image-nv|lambda-image build --no-verify (BuildKit)|y' \
  'single-cold|buildx-save|`docker buildx build`, then `docker save` of its image (the export verify reads)|' \
  'single-cold|lambda-image-classic|lambda-image build --builder classic --no-verify|' \
  'single-cold|docker|`DOCKER_BUILDKIT=0 docker build`|' \
  'single-cold|sam|`sam build`|'
table "1 image, cached (lambda-image with --force)" single-cached buildx 1.1 \
  'single-cached|buildx|`docker buildx build`|' \
  'single-cached|lambda-image|lambda-image build --force (BuildKit, verify on)|y' \
  'single-cached|lambda-image-nv|lambda-image build --force --no-verify (BuildKit)|y' \
  'single-cached|lambda-image-classic|lambda-image build --force --builder classic --no-verify|' \
  'single-cached|docker|`DOCKER_BUILDKIT=0 docker build`|' \
  'single-cached|sam|`sam build`|'
table "1 image, no-op (lambda-image: unchanged; peers: their cached rebuild)" single-cached buildx 0.1 \
  'single-cached|buildx|`docker buildx build` (cached)|' \
  'single-noop|lambda-image|lambda-image build (verify on)|y' \
  'single-noop|lambda-image-nv|lambda-image build --no-verify|y' \
  'single-noop|lambda-image-classic|lambda-image build --builder classic --no-verify|' \
  'single-noop|lambda-image-small|lambda-image build (verify on), the same image without its 50 MB of data files|' \
  'single-cached|docker|`DOCKER_BUILDKIT=0 docker build` (cached)|' \
  'single-cached|sam|`sam build` (cached)|'
table "8 images, cold" multi-cold bake 0.8 \
  'multi-cold|bake|`docker buildx bake` (8 targets)|' \
  'multi-cold|lambda-image|lambda-image build --all (BuildKit, verify on)|y' \
  'multi-cold|lambda-image-nv|lambda-image build --all --no-verify (BuildKit)|y' \
  'multi-cold|bake-save|`docker buildx bake`, then `docker save` of the 8 images (at once)|' \
  'multi-cold|lambda-image-classic|lambda-image build --all --builder classic --no-verify|' \
  'multi-cold|docker|8 concurrent `DOCKER_BUILDKIT=0 docker build`|' \
  'multi-cold|sam|`sam build --parallel`|'
table "8 images, cached (lambda-image with --force)" multi-cached bake 0.8 \
  'multi-cached|bake|`docker buildx bake` (8 targets)|' \
  'multi-cached|lambda-image|lambda-image build --all --force (BuildKit, verify on)|y' \
  'multi-cached|lambda-image-nv|lambda-image build --all --force --no-verify (BuildKit)|y' \
  'multi-cached|lambda-image-classic|lambda-image build --all --force --builder classic --no-verify|' \
  'multi-cached|docker|8 concurrent `DOCKER_BUILDKIT=0 docker build`|' \
  'multi-cached|sam|`sam build --parallel`|'
table "8 images without their data files (the same Dockerfiles minus COPY data/), cold: the gap against bake and the bytes of the contexts" multi-small-cold bake 0.8 \
  'multi-small-cold|bake|`docker buildx bake` (8 targets)|' \
  'multi-small-cold|lambda-image-nv|lambda-image build --all --no-verify (BuildKit)|y'
table "8 images without their data files, cached" multi-small-cached bake 0.8 \
  'multi-small-cached|bake|`docker buildx bake` (8 targets)|' \
  'multi-small-cached|lambda-image-nv|lambda-image build --all --force --no-verify (BuildKit)|y'
table "A fresh engine with --cache-from (peer: lambda-image's cold build with --cache-to inline, same run)" cache-cold lambda-image-nv 0.2 \
  'cache-cold|lambda-image-nv|lambda-image build --no-verify --cache-to inline, cold|' \
  'cache-from|lambda-image-nv|lambda-image build --no-verify --cache-from REF, image removed, cache pruned|y' \
  'cache-from|buildx|`docker buildx build --cache-from REF`, the same|' \
  'cache-floor|docker-pull|floor: `docker pull REF` (the layers any cache import must fetch)|'
table "The same with a RUN step of about 5 s (heavy/: a stand-in for pip, npm or a compiler)" cache-cold-heavy lambda-image-nv 0.2 \
  'cache-cold-heavy|lambda-image-nv|lambda-image build --no-verify --cache-to inline, cold|' \
  'cache-from-heavy|lambda-image-nv|lambda-image build --no-verify --cache-from REF, image removed, cache pruned|y' \
  'cache-from-heavy|buildx|`docker buildx build --cache-from REF`, the same|' \
  'cache-floor-heavy|docker-pull|floor: `docker pull REF`|'
echo
echo "#### Where lambda-image's time goes with verify on (its report: longest build_seconds, longest and summed verify_seconds; medians)"
echo
echo "| case | runs | wall s | build s (longest) | verify s (longest) | verify s (sum) |"
echo "|---|---|---|---|---|---|"
for c in single-cold single-cached multi-cold multi-cached; do
  f="$S/times/$c.lambda-image.split"
  [ -s "$f" ] || continue
  read -r -a s <<<"$(stats "$c" lambda-image)"
  med() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  echo "| $c | ${s[2]} | ${s[1]} | $(cut -d' ' -f1 "$f" | med) | $(cut -d' ' -f2 "$f" | med) | $(cut -d' ' -f3 "$f" | med) |"
done
read -r -a s <<<"$(stats single-floor docker-save)"
echo
echo "floor of verify's export: \`docker save\` of the single image: median ${s[1]} s (${s[2]} runs)"
if [ "${#jobs[@]}" -gt 0 ]; then
  echo
  echo "#### -j, 8 images, cold, BuildKit, --no-verify"
  echo
  echo "| -j | runs | min s | median s |"
  echo "|---|---|---|---|"
  for j in "${jobs[@]}"; do
    read -r -a s <<<"$(stats multi-cold "lambda-image-nv-j$j")"
    echo "| $j | ${s[2]} | ${s[0]} | ${s[1]} |"
  done
fi
echo
echo "#### Shared first steps: 8 images whose Dockerfiles begin with the same FROM + RUN dnf install, cold, -j $N_IMAGES"
echo
echo "| builder | runs | median s | times the shared RUN ran, per run (distinct run ids printed; distinct RUN layers; lines with the id; cache-hit lines) |"
echo "|---|---|---|---|"
for t in lambda-image lambda-image-classic; do
  read -r -a s <<<"$(stats probe-cold "$t")"
  counts=$(awk '{ printf "%s%s (%s; %s; %s; %s)", (NR > 1 ? ", " : ""), $1, $1, $2, $3, $4 }' "$S/times/probe.$t.counts" 2>/dev/null || echo -)
  label="BuildKit (share.rs off)"; [ $t = lambda-image-classic ] && label="classic (share.rs on)"
  echo "| $label | ${s[2]} | ${s[1]} | $counts |"
done
if [ -s "$S/notes" ]; then
  echo
  echo "--cache-from builds, CACHED lines in their output (each run and context: lambda-image, then buildx):"
  cat "$S/notes"
fi
echo
echo "$(nproc) cores, Docker Engine $(docker version -f '{{.Server.Version}}') (builtin BuildKit), docker CLI $(docker version -f '{{.Client.Version}}'), $(DOCKER_CONFIG=$BX docker buildx version | cut -d' ' -f1,2) (docker driver), $("$SAM" --version), $("$BIN" --version); medians of $RUNS runs (1 image, --cache-from) and $RUNS_MULTI runs (8 images), interleaved; \`$COMMAND\`."

if [ -s "$S/problems" ]; then
  echo
  echo "problems during the run:"
  cat "$S/problems"
  exit 1
fi
