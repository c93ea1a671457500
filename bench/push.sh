#!/usr/bin/env bash
# Benchmark `lambda-image push` against `docker push` of the same 200 MB image to a local
# registry (Debian's docker-registry on 127.0.0.1), interleaved run by run; then
# `lambda-image push --archive` of a `docker save` of a ~1 GiB image against `docker push` of
# that image. Not a test.
# Usage: make bench-push (builds the release binary first), or:
#
#   BENCH_RUNS=3   BENCH_MB=200   BENCH_ARCHIVE_MB=1024   BENCH_PARTS="engine archive"
#   BIN=target/release/lambda-image
#
# Each push goes to a registry started empty for it, so no layer is already there and the
# engine cannot mount one from another repository. lambda-image is timed twice: with
# --no-verify (the push alone, compared with docker push) and with its gate (verify of the
# image first); the gate's cost is reported apart, per GiB of image.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/lambda-image}
RUNS=${BENCH_RUNS:-3}
MB=${BENCH_MB:-200}
ARCHIVE_MB=${BENCH_ARCHIVE_MB:-1024}
PARTS=${BENCH_PARTS:-engine archive}
COMMAND="BENCH_RUNS=$RUNS BENCH_MB=$MB BENCH_ARCHIVE_MB=$ARCHIVE_MB BENCH_PARTS='$PARTS' bash bench/push.sh"
echo "command: $COMMAND   (make bench-push runs it after make release)"
[ -x "$BIN" ] || { echo "bench/push.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
BIN=$(realpath "$BIN")
command -v docker-registry >/dev/null || { echo "bench/push.sh: install Debian's docker-registry" >&2; exit 2; }
command -v busybox >/dev/null || { echo "bench/push.sh: install Debian's busybox-static" >&2; exit 2; }

S=$(mktemp -d "${TMPDIR:-/tmp}/lambda-image-bench-push.XXXXXX")
IMAGE=lambda-image-test/bench-push:latest
BIG=lambda-image-test/bench-push-archive:latest
REG_PID=
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(127\.0\.0\.1:[0-9]+/bench-|lambda-image-test/bench-push)' |
    xargs -r docker rmi -f >/dev/null 2>&1 || true
  rm -rf "$S"
}
trap cleanup EXIT

# A registry with empty storage on a free port; sets PORT and REG_PID.
start_registry() {
  [ -n "$REG_PID" ] && { kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$S/data"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$S/data" "$PORT" >"$S/registry.yml"
  docker-registry serve "$S/registry.yml" >/dev/null 2>&1 &
  REG_PID=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "bench/push.sh: the registry did not start" >&2; exit 1
}

now() { date +%s.%N; }
declare -A T
record() { T[$1]="${T[$1]:-} $2"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

export DOCKER_CONFIG=$S/dockercfg
mkdir -p "$DOCKER_CONFIG"; echo '{}' >"$DOCKER_CONFIG/config.json"

# The Lambda paths and busybox, in $1 (a folder).
lambda_rootfs() {
  mkdir -p "$1/bin" "$1/tmp" "$1/var/task" "$1/var/runtime" "$1/etc"
  cp "$(command -v busybox)" "$1/bin/busybox"
  ln -sf busybox "$1/bin/sh"
  chmod 1777 "$1/tmp"
  printf '#!/bin/sh\nexec /var/runtime/bootstrap "$@"\n' >"$1/lambda-entrypoint.sh"
  printf '#!/bin/sh\necho ok\n' >"$1/var/runtime/bootstrap"
  chmod 755 "$1/lambda-entrypoint.sh" "$1/var/runtime/bootstrap"
  printf 'NAME="Amazon Linux"\nVERSION_ID="2023"\n' >"$1/etc/os-release"
}

engine_part() {
# The image: busybox, the Lambda paths, and $MB MB of random data in four layers' worth of files.
mkdir -p "$S/rootfs/bin" "$S/rootfs/tmp" "$S/rootfs/var/task" "$S/rootfs/var/runtime" "$S/rootfs/etc"
cp "$(command -v busybox)" "$S/rootfs/bin/busybox"
ln -s busybox "$S/rootfs/bin/sh"
chmod 1777 "$S/rootfs/tmp"
printf '#!/bin/sh\nexec /var/runtime/bootstrap "$@"\n' >"$S/rootfs/lambda-entrypoint.sh"
printf '#!/bin/sh\necho ok\n' >"$S/rootfs/var/runtime/bootstrap"
chmod 755 "$S/rootfs/lambda-entrypoint.sh" "$S/rootfs/var/runtime/bootstrap"
printf 'NAME="Amazon Linux"\nVERSION_ID="2023"\n' >"$S/rootfs/etc/os-release"
for i in 1 2 3 4; do
  head -c "$((MB * 1024 * 1024 / 4))" /dev/urandom >"$S/rootfs/var/task/data$i.bin"
done
chmod -R a+rX "$S/rootfs/var/task"
tar -C "$S/rootfs" -cf "$S/rootfs.tar" .
docker import -c 'ENV LAMBDA_TASK_ROOT=/var/task' -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  -c 'WORKDIR /var/task' -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' -c 'CMD ["app.handler"]' \
  "$S/rootfs.tar" "$IMAGE" >/dev/null
SIZE=$(docker image inspect -f '{{.Size}}' "$IMAGE")
echo "image: $IMAGE, $((SIZE / 1000000)) MB; $(nproc) cores; Docker Engine $(docker version -f '{{.Server.Version}}'); $("$BIN" --version)"

for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS"
  start_registry; dest=127.0.0.1:$PORT/bench-docker:$run
  docker tag "$IMAGE" "$dest"; t0=$(now); docker push -q "$dest" >/dev/null; t1=$(now)
  record docker "$(echo "$t1 - $t0" | bc)"; docker rmi "$dest" >/dev/null
  start_registry; dest=127.0.0.1:$PORT/bench-li:$run
  t0=$(now); "$BIN" push -q --no-verify "$IMAGE" --to "$dest" >/dev/null; t1=$(now)
  record li "$(echo "$t1 - $t0" | bc)"; docker rmi "$dest" >/dev/null
  start_registry; dest=127.0.0.1:$PORT/bench-gate:$run
  # A fresh cache: the gate must not trust an earlier run's verification.
  t0=$(now); LAMBDA_IMAGE_CACHE_DIR=$S/cache-$run "$BIN" push -q "$IMAGE" --to "$dest" >/dev/null; t1=$(now)
  record gate "$(echo "$t1 - $t0" | bc)"; docker rmi "$dest" >/dev/null
  # Verified before (by that push, as by `build`): the same cache, a new empty registry.
  start_registry; dest=127.0.0.1:$PORT/bench-again:$run
  t0=$(now); LAMBDA_IMAGE_CACHE_DIR=$S/cache-$run "$BIN" push -q "$IMAGE" --to "$dest" >/dev/null; t1=$(now)
  record again "$(echo "$t1 - $t0" | bc)"; docker rmi "$dest" >/dev/null
  # The gate alone: the same verify the push runs first.
  t0=$(now); "$BIN" verify -q "$IMAGE" >/dev/null; t1=$(now)
  record verify "$(echo "$t1 - $t0" | bc)"
  echo "  docker push $(echo "${T[docker]}" | awk '{print $NF}') s, lambda-image push --no-verify $(echo "${T[li]}" | awk '{print $NF}') s, with the gate $(echo "${T[gate]}" | awk '{print $NF}') s"
done
d=$(echo "${T[docker]}" | median); l=$(echo "${T[li]}" | median); g=$(echo "${T[gate]}" | median)
v=$(echo "${T[verify]}" | median); a=$(echo "${T[again]}" | median)
ratio=$(echo "scale=2; $l / $d" | bc)
gate_s=$(echo "scale=2; $v / 1" | bc)
per_gib=$(echo "scale=2; $gate_s * 1073741824 / $SIZE" | bc)
echo
echo "| case | median s | ratio | goal |"
echo "|---|---|---|---|"
echo "| \`docker push\` | $d | 1.00× | |"
echo "| \`lambda-image push --no-verify\` | $l | ${ratio}× | ≤ 1.1× $(pass "$ratio <= 1.1") |"
echo "| \`lambda-image push\` (gate included) | $g | | |"
echo "| the gate alone (\`lambda-image verify IMAGE\`) | $v | | $per_gib s/GiB, goal ≤ 1.5 s/GiB $(pass "$per_gib <= 1.5") |"
again_added=$(awk -v a="$a" -v l="$l" 'BEGIN { printf "%+.2f", a - l }')
echo "| \`lambda-image push\` of an image verified before (by \`build\` or a push) | $a | | the gate adds $again_added s against --no-verify |"
echo
echo "$((SIZE / 1000000)) MB image, medians of $RUNS interleaved runs, \`$COMMAND\`."
}

# push --archive: a ~$ARCHIVE_MB MB image (the Lambda paths, then four layers of random
# data), saved with docker save; each push to a registry started empty for it, a fresh cache
# folder for each lambda-image run (nothing remembered from an earlier push).
archive_part() {
  rm -rf "$S/big"; lambda_rootfs "$S/big/rootfs"
  tar -C "$S/big/rootfs" -cf "$S/big/rootfs.tar" .
  docker import -c 'ENV LAMBDA_TASK_ROOT=/var/task' -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    -c 'WORKDIR /var/task' -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' -c 'CMD ["app.handler"]' \
    "$S/big/rootfs.tar" lambda-image-test/bench-push-archive-base:latest >/dev/null
  mkdir -p "$S/big/ctx"
  printf 'FROM lambda-image-test/bench-push-archive-base:latest\n' >"$S/big/ctx/Dockerfile"
  for i in 1 2 3 4; do
    head -c "$((ARCHIVE_MB * 1024 * 1024 / 4))" /dev/urandom >"$S/big/ctx/data$i.bin"
    printf 'COPY data%s.bin /var/task/\n' "$i" >>"$S/big/ctx/Dockerfile"
  done
  chmod 644 "$S/big/ctx/"*.bin
  DOCKER_BUILDKIT=0 docker build -q -t "$BIG" "$S/big/ctx" >/dev/null 2>&1
  rm -f "$S/big/ctx/"*.bin
  docker save -o "$S/big/image.tar" "$BIG"
  local bytes; bytes=$(stat -c %s "$S/big/image.tar")
  local gib; gib=$(echo "scale=4; $bytes / 1073741824" | bc)
  echo "archive: docker save of $BIG, $((bytes / 1000000)) MB ($gib GiB), 5 layers"
  for run in $(seq "$RUNS"); do
    echo "archive run $run/$RUNS"
    start_registry; dest=127.0.0.1:$PORT/bench-docker:$run
    docker tag "$BIG" "$dest"; t0=$(now); docker push -q "$dest" >/dev/null; t1=$(now)
    record adocker "$(echo "$t1 - $t0" | bc)"; docker rmi "$dest" >/dev/null
    start_registry; dest=127.0.0.1:$PORT/bench-upload:$run
    t0=$(now); LAMBDA_IMAGE_CACHE_DIR=$S/acache-u$run "$BIN" push -q --no-verify --archive "$S/big/image.tar" --to "$dest" >/dev/null 2>&1; t1=$(now)
    record aupload "$(echo "$t1 - $t0" | bc)"
    start_registry; dest=127.0.0.1:$PORT/bench-archive:$run
    t0=$(now); LAMBDA_IMAGE_CACHE_DIR=$S/acache-g$run "$BIN" push -q --archive "$S/big/image.tar" --to "$dest" >/dev/null; t1=$(now)
    record agate "$(echo "$t1 - $t0" | bc)"
    t0=$(now); "$BIN" verify -q --archive "$S/big/image.tar" >/dev/null; t1=$(now)
    record averify "$(echo "$t1 - $t0" | bc)"
    echo "  docker push $(echo "${T[adocker]}" | awk '{print $NF}') s, push --archive --no-verify $(echo "${T[aupload]}" | awk '{print $NF}') s, push --archive $(echo "${T[agate]}" | awk '{print $NF}') s, verify --archive $(echo "${T[averify]}" | awk '{print $NF}') s"
  done
  local d u g v
  d=$(echo "${T[adocker]}" | median | xargs printf '%.2f'); u=$(echo "${T[aupload]}" | median | xargs printf '%.2f')
  g=$(echo "${T[agate]}" | median | xargs printf '%.2f'); v=$(echo "${T[averify]}" | median | xargs printf '%.2f')
  local ratio; ratio=$(echo "scale=4; $u / $d" | bc | xargs printf '%.2f')
  local per_gib; per_gib=$(echo "scale=4; $v / $gib" | bc | xargs printf '%.2f')
  local added; added=$(echo "scale=4; ($g - $u) / $gib" | bc | xargs printf '%+.2f')
  echo
  echo "| case ($((bytes / 1000000)) MB archive) | median s | ratio | goal |"
  echo "|---|---|---|---|"
  echo "| \`docker push\` of the image | $d | 1.00× | |"
  echo "| \`lambda-image push --archive --no-verify\` (the upload and read-back) | $u | ${ratio}× | ≤ 1.1× $(pass "$ratio <= 1.1") |"
  echo "| \`lambda-image push --archive\` (gate + upload) | $g | | the gate adds $added s/GiB |"
  echo "| the gate alone (\`lambda-image verify --archive\`) | $v | | $per_gib s/GiB, goal ≤ 1.5 s/GiB $(pass "$per_gib <= 1.5") |"
  echo
  echo "medians of $RUNS interleaved runs, \`$COMMAND\`."
}

pass() { if [ "$(echo "$1" | bc)" = 1 ]; then echo PASS; else echo FAIL; fi; }
case " $PARTS " in *" engine "*) engine_part ;; esac
case " $PARTS " in *" archive "*) archive_part ;; esac
