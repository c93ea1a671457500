#!/usr/bin/env bash
# Benchmark the registry as the build's memory across CI runners: 8 specs, built and pushed
# once, then `build --all --push` again on a "fresh runner" (no image in the engine but the
# base, an empty cache folder) with nothing changed, and with one spec changed. Not a test.
# Usage: make bench-registry (builds the release binary first), or:
#
#   BENCH_RUNS=3   BIN=target/release/lambda-image
#
# "before" is what a fresh runner did until the registry remembered builds: every image
# rebuilt and pushed (measured here with --force, which skips the lookup). "after" is the
# same command as CI runs it. Bytes sent = growth of the registry's blob storage.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-target/release/lambda-image}
RUNS=${BENCH_RUNS:-3}
N=8
COMMAND="BENCH_RUNS=$RUNS bash bench/registry.sh"
echo "command: $COMMAND   (make bench-registry runs it after make release)"
[ -x "$BIN" ] || { echo "bench/registry.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
BIN=$(realpath "$BIN")
command -v docker-registry >/dev/null || { echo "bench/registry.sh: install Debian's docker-registry" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "bench/registry.sh: the Docker Engine is not reachable" >&2; exit 2; }

S=$(mktemp -d "${TMPDIR:-/tmp}/lambda-image-bench-registry.XXXXXX")
BASE=lambda-image-test/regbench-base:latest
REG_PID=
cleanup() {
  set +e
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
  docker image ls --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^(127\.0\.0\.1:[0-9]+/lambda-image-test/regbench|lambda-image-test/regbench)' |
    xargs -r docker rmi -f >/dev/null 2>&1
  rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 bench/build/rootfs.py "$S/rootfs.tar"
docker import -c 'ENV LAMBDA_TASK_ROOT=/var/task' -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  -c 'WORKDIR /var/task' -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' "$S/rootfs.tar" "$BASE" >/dev/null

# Eight specs: a dnf install and 20 × 2.5 MiB of data each (a seed of their own).
for i in $(seq 0 $((N - 1))); do
  dir=$S/images/regbench-$i
  mkdir -p "$dir/data"
  cp bench/build/bootstrap bench/build/function.sh "$dir/"
  python3 -c '
import random, sys
r = random.Random(int(sys.argv[2]))
for i in range(20):
    with open(f"{sys.argv[1]}/data/blob-{i:02d}.bin", "wb") as f:
        f.write(r.randbytes(5 * 1024 * 1024 // 2))' "$dir" "$i"
  cat >"$dir/image.yaml" <<EOF
runtime: provided.al2023
base: $BASE
packages: [jq]
bootstrap: {src: bootstrap}
copy:
  - {src: data/}
  - {src: function.sh}
handler: function.handler
tags: [lambda-image-test/regbench-$i:latest]
EOF
done

start_registry() {
  [ -n "$REG_PID" ] && { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$S/data"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$S/data" "$PORT" >"$S/registry.yml"
  docker-registry serve "$S/registry.yml" >/dev/null 2>&1 &
  REG_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "bench/registry.sh: the registry did not start" >&2; exit 1
}
# A fresh runner: nothing built in the engine, an empty cache folder.
fresh() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^(127\.0\.0\.1:[0-9]+/lambda-image-test/regbench-|lambda-image-test/regbench-[0-9])' |
    xargs -r docker rmi -f >/dev/null 2>&1 || true
  rm -rf "$S/cache"; mkdir -p "$S/cache"
}
stored() { if [ -d "$S/data" ]; then du -sb "$S/data" | cut -f1; else echo 0; fi; }
now() { date +%s.%N; }
declare -A T B
record() { T[$1]="${T[$1]:-} $2"; B[$1]="${B[$1]:-} $3"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
build() { # LABEL [extra args]
  local label=$1; shift
  fresh
  local before t0 t1
  before=$(stored)
  t0=$(now)
  (cd "$S" && LAMBDA_IMAGE_CACHE_DIR=$S/cache "$BIN" build --all --push --to "127.0.0.1:$PORT" -q "$@" >"$S/$label.out" 2>&1) ||
    { cat "$S/$label.out" >&2; exit 1; }
  t1=$(now)
  record "$label" "$(echo "$t1 - $t0" | bc)" "$(( $(stored) - before ))"
}

echo "$(nproc) cores; Docker Engine $(docker version -f '{{.Server.Version}}'); $("$BIN" --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  start_registry
  build first                # the first runner: everything built and pushed
  build before --force       # a fresh runner, nothing changed, as it was: rebuild and push all
  build after                # a fresh runner, nothing changed: the registry remembers
  echo "changed $run" >>"$S/images/regbench-3/function.sh"
  build one_changed          # a fresh runner, one spec changed
  built=$(grep -c ' built ' "$S/one_changed.out" || true)
  echo "run $run/$RUNS: first $(echo "${T[first]}" | awk '{print $NF}') s, fresh runner before $(echo "${T[before]}" | awk '{print $NF}') s, after $(echo "${T[after]}" | awk '{print $NF}') s ($(echo "${B[after]}" | awk '{print $NF}') bytes stored), one changed $(echo "${T[one_changed]}" | awk '{print $NF}') s ($built built)"
done
b=$(echo "${T[before]}" | median); a=$(echo "${T[after]}" | median); o=$(echo "${T[one_changed]}" | median)
bb=$(echo "${B[before]}" | median); ab=$(echo "${B[after]}" | median); ob=$(echo "${B[one_changed]}" | median)
ratio=$(echo "scale=3; $a / $b" | bc)
pass() { if [ "$(echo "$1" | bc)" = 1 ]; then echo met; else echo "NOT met"; fi; }
echo
echo "| fresh runner, \`build --all --push\` of $N specs | median s | bytes added to the registry | ratio | goal |"
echo "|---|---|---|---|---|"
echo "| nothing changed, before (every image rebuilt and pushed: \`--force\`) | $b | $bb | 1.00× | |"
echo "| nothing changed, after (the registry remembers) | $a | $ab | ${ratio}× | ≤ 0.1× and 0 bytes: $(pass "$ratio <= 0.1 && $ab == 0") |"
echo "| one of $N changed | $o | $ob | | only it built |"
echo
echo "Medians of $RUNS runs, \`$COMMAND\`."
