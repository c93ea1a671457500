#!/usr/bin/env bash
# Benchmark `lambda-image build` against the classic `docker build` and AWS SAM CLI's `sam build`
# on the same Dockerfiles and contexts, in one run, interleaved run by run. Not a test.
# Usage: make bench-build (builds the release binary first), or:
#
#   BENCH_RUNS=3          runs of each single-image case (cold, cached, no-op)
#   BENCH_RUNS_MULTI=2    runs of each 8-image case and of each -j in the -j sweep
#   BENCH_JOBS="1 2 4 8"  the -j values tried for 8 images, cold
#   BIN=target/release/lambda-image   SAM_VENV=bench/.venv   SAM_VERSION=1.170.0
#
# The base is a stand-in provided.al2023 image imported with `docker import`
# (bench/build/rootfs.py: busybox + the microdnf stand-in, as in the tests), tagged
# lambda-image-test/bench-base:latest. Nothing is pulled. Every image the script makes is
# under lambda-image-test/bench-* (SAM's own tags: lambdaimagebench*) and removed on exit.
#
# Cases (see bench-peers.md for the traps this avoids):
#   cold    every image descending from the base removed first (dangling ones included)
#   cached  the same build again right after, layer cache warm; lambda-image with --force
#   no-op   nothing changed: lambda-image's second run reports "unchanged"; for docker and
#           SAM the no-op case is their cached rebuild
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-target/release/lambda-image}
RUNS=${BENCH_RUNS:-3}
RUNS_MULTI=${BENCH_RUNS_MULTI:-2}
JOBS_LIST=${BENCH_JOBS:-"1 2 4 8"}
SAM_VERSION=${SAM_VERSION:-1.170.0}
SAM_VENV=${SAM_VENV:-bench/.venv}
N_IMAGES=8
BASE=lambda-image-test/bench-base:latest
SINGLE_TAG=lambda-image-test/bench-single

COMMAND="BENCH_RUNS=$RUNS BENCH_RUNS_MULTI=$RUNS_MULTI BENCH_JOBS=\"$JOBS_LIST\" bash bench/build.sh"
echo "command: $COMMAND   (make bench-build runs it after make release)"

[ -x "$BIN" ] || { echo "bench/build.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
BIN=$(realpath "$BIN")
docker info >/dev/null 2>&1 || { echo "bench/build.sh: the Docker Engine is not reachable" >&2; exit 2; }
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] ||
  { echo "bench/build.sh: busybox is missing (apt-get install busybox-static)" >&2; exit 2; }

# The peer: AWS SAM CLI in a venv of its own (bench/.venv ignores itself for git).
SAM=$ROOT/$SAM_VENV/bin/sam
if [ ! -x "$SAM" ] || ! "$SAM" --version 2>/dev/null | grep -qF "$SAM_VERSION"; then
  echo "installing aws-sam-cli $SAM_VERSION into $SAM_VENV" >&2
  python3 -m venv "$SAM_VENV"
  printf '*\n' >"$SAM_VENV/.gitignore"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION" >&2
fi
export SAM_CLI_TELEMETRY=0

S=$(mktemp -d "${TMPDIR:-/tmp}/lambda-image-bench-build.XXXXXX")
# SAM checks PyPI for a newer version once a week inside the command: keep its state here.
export __SAM_CLI_APP_DIR=$S/sam-app-dir
mkdir -p "$S/logs" "$S/times" "$__SAM_CLI_APP_DIR"
: >"$S/problems"

# Ids of the images descending from $BASE (not the base), children before parents.
descendants() {
  local base_id
  base_id=$(docker image inspect -f '{{.Id}}' "$BASE" 2>/dev/null) || return 0
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

remove_descendants() {
  local ids
  for _ in 1 2 3; do
    mapfile -t ids < <(descendants | sed '/^$/d')
    [ "${#ids[@]}" -eq 0 ] && { sync; return 0; }
    docker image rm -f "${ids[@]}" >/dev/null 2>&1 || true
  done
  mapfile -t ids < <(descendants | sed '/^$/d')
  [ "${#ids[@]}" -eq 0 ] || { echo "bench/build.sh: could not remove ${#ids[@]} images built on $BASE" >&2; return 1; }
  sync
}

bench_refs() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^(lambda-image-test/bench-|lambdaimagebench)' || true
}

cleanup() {
  set +e
  remove_descendants
  mapfile -t refs < <(bench_refs)
  [ "${#refs[@]}" -gt 0 ] && docker image rm -f "${refs[@]}" >/dev/null 2>&1
  rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$(nproc) cores; Docker Engine $(docker version -f '{{.Server.Version}}') ($(docker info -f '{{.Driver}}')), docker CLI $(docker version -f '{{.Client.Version}}'); $("$SAM" --version); $("$BIN" --version)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# Leftovers of an interrupted run.
remove_descendants
mapfile -t refs < <(bench_refs)
[ "${#refs[@]}" -gt 0 ] && docker image rm -f "${refs[@]}" >/dev/null

# ---- Fixtures -------------------------------------------------------------------------------
python3 bench/build/rootfs.py "$S/rootfs.tar"
docker import \
  -c 'ENV LANG=en_US.UTF-8' \
  -c 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
  -c 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
  -c 'ENV LAMBDA_TASK_ROOT=/var/task' \
  -c 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  -c 'WORKDIR /var/task' \
  -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
  "$S/rootfs.tar" "$BASE" >/dev/null

# A context: the shell bootstrap, function.sh, 20 files of 2.5 MiB of random data (seeded,
# a different seed per context so no two contexts share a layer), and image.yaml.
make_context() { # DIR SEED TAG
  local dir=$1 seed=$2 tag=$3
  mkdir -p "$dir/data"
  cp bench/build/bootstrap bench/build/function.sh "$dir/"
  python3 -c '
import random, sys
r = random.Random(int(sys.argv[2]))
for i in range(20):
    with open(f"{sys.argv[1]}/data/blob-{i:02d}.bin", "wb") as f:
        f.write(r.randbytes(5 * 1024 * 1024 // 2))' "$dir" "$seed"
  cat >"$dir/image.yaml" <<EOF
runtime: provided.al2023
base: $BASE
packages: [jq]
bootstrap: {src: bootstrap}
copy:
  - {src: data/}
  - {src: function.sh}
handler: function.handler
tags: [$tag]
EOF
}

# single/: one image, built by all three tools from the Dockerfile lambda-image renders.
make_context "$S/single" 1000 "$SINGLE_TAG:li"
(cd "$S" && "$BIN" --no-progress render single >single/Dockerfile)
# images/bench-<i>: eight specs for `lambda-image build --all`; SAM gets each one's rendered
# Dockerfile, in its own context, with its own tag (SAM merges identical functions).
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
echo "Dockerfile (single/, and images/bench-<i> with their own title label):"
sed 's/^/    /' "$S/single/Dockerfile"

# ---- Measuring ------------------------------------------------------------------------------
in_s() { (cd "$S" && "$@"); }
docker_build() { in_s env DOCKER_BUILDKIT=0 docker build "$@"; }
sam_build() { in_s "$SAM" build --skip-pull-image "$@"; }
li_build() { in_s "$BIN" build --no-config --no-progress -q --format json "$@"; }

DOCKER_SINGLE=(docker_build -f single/Dockerfile -t "$SINGLE_TAG:docker" single)
SAM_SINGLE=(sam_build -t template-single.yaml -b .aws-sam/build-single)
LI_SINGLE=(li_build --file single/Dockerfile --context single -t "$SINGLE_TAG:li")
SAM_MULTI=(sam_build -t template-8.yaml -b .aws-sam/build-8 --parallel)
LI_MULTI=(li_build --all --no-verify)

# timed CASE TOOL EXPECT CMD...: runs CMD once (stdout and stderr to logs), appends the wall
# seconds to $S/times/CASE.TOOL. EXPECT is STATUS:COUNT for lambda-image's JSON report (or -).
# A failure or an unexpected status is printed with the command and recorded in problems.
timed() {
  local case=$1 tool=$2 expect=$3; shift 3
  local log="$S/logs/$case.$tool.$(date +%s%N)" start end rc t got
  start=$(date +%s.%N)
  set +e
  "$@" >"$log.out" 2>"$log.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
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
print(",".join(f"{k}:{v}" for k, v in sorted(c.items())))' "$log.out" 2>&1) || got="unreadable JSON: $got"
    if [ "$got" != "$expect" ]; then
      { echo "UNEXPECTED ($case, $tool): statuses $got, expected $expect: $(printf '%q ' "$@")"
        tail -n 15 "$log.out" "$log.err" | sed 's/^/  | /'; } | tee -a "$S/problems" >&2
    fi
  fi
  echo "$t" >>"$S/times/$case.$tool"
  printf '  %-14s %-26s %7.2f s\n' "$case" "$tool" "$t"
}

# stats CASE TOOL -> "min median n" (or "- - 0")
stats() {
  local f="$S/times/$1.$2"
  [ -s "$f" ] || { echo "- - 0"; return; }
  sort -g "$f" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %d\n", v[1], m, NR }'
}
median() { stats "$1" "$2" | cut -d' ' -f2; }

# Untimed warm-up: SAM's weekly PyPI check, the page cache, the binaries.
echo "warm-up (untimed)"
timed warmup docker - "${DOCKER_SINGLE[@]}" >/dev/null
timed warmup sam - "${SAM_SINGLE[@]}" >/dev/null
timed warmup lambda-image - "${LI_SINGLE[@]}" --no-verify >/dev/null
remove_descendants

# One image: each run, each tool cold then cached (then no-op); tool order rotated per run.
blocks=(docker sam li li-verify)
for r in $(seq "$RUNS"); do
  echo "1 image, run $r/$RUNS"
  for k in 0 1 2 3; do
    case ${blocks[$(((k + r - 1) % 4))]} in
      docker)
        remove_descendants
        timed single-cold docker - "${DOCKER_SINGLE[@]}"
        timed single-cached docker - "${DOCKER_SINGLE[@]}" ;;
      sam)
        remove_descendants
        timed single-cold sam - "${SAM_SINGLE[@]}"
        timed single-cached sam - "${SAM_SINGLE[@]}" ;;
      li)
        remove_descendants
        timed single-cold lambda-image built:1 "${LI_SINGLE[@]}" --no-verify
        timed single-cached lambda-image built:1 "${LI_SINGLE[@]}" --no-verify --force
        timed single-noop lambda-image unchanged:1 "${LI_SINGLE[@]}" --no-verify ;;
      li-verify)
        remove_descendants
        timed single-cold lambda-image+verify built:1 "${LI_SINGLE[@]}" ;;
    esac
  done
done

# Eight images: sam build --parallel vs lambda-image build --all (default -j), cold then cached.
for r in $(seq "$RUNS_MULTI"); do
  echo "8 images, run $r/$RUNS_MULTI"
  for k in 0 1; do
    if [ $(((k + r) % 2)) -eq 1 ]; then
      remove_descendants
      timed multi-cold sam - "${SAM_MULTI[@]}"
      timed multi-cached sam - "${SAM_MULTI[@]}"
    else
      remove_descendants
      timed multi-cold lambda-image "built:$N_IMAGES" "${LI_MULTI[@]}"
      timed multi-cached lambda-image "built:$N_IMAGES" "${LI_MULTI[@]}" --force
    fi
  done
done

# -j sweep: 8 images cold, each -j once per run, the order rotated per run.
read -r -a jobs <<<"$JOBS_LIST"
for r in $(seq "$RUNS_MULTI"); do
  echo "-j sweep (8 images, cold), run $r/$RUNS_MULTI"
  for k in $(seq 0 $((${#jobs[@]} - 1))); do
    j=${jobs[$(((k + r - 1) % ${#jobs[@]}))]}
    remove_descendants
    timed multi-cold "lambda-image-j$j" "built:$N_IMAGES" "${LI_MULTI[@]}" -j "$j"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Report ---------------------------------------------------------------------------------
echo
printf '%-16s %-46s %5s %8s %9s\n' case tool runs "min s" "median s"
row() { # CASE TOOL LABEL
  local s
  read -r -a s <<<"$(stats "$1" "$2")"
  [ -f "$S/times/$1.$2.failed" ] && s[2]="${s[2]} (+$(wc -l <"$S/times/$1.$2.failed") failed)"
  printf '%-16s %-46s %5s %8s %9s\n' "$1" "$3" "${s[2]}" "${s[0]}" "${s[1]}"
}
row single-cold docker 'DOCKER_BUILDKIT=0 docker build'
row single-cold sam 'sam build'
row single-cold lambda-image 'lambda-image build --no-verify'
row single-cold lambda-image+verify 'lambda-image build (with verify)'
row single-cached docker 'DOCKER_BUILDKIT=0 docker build'
row single-cached sam 'sam build'
row single-cached lambda-image 'lambda-image build --no-verify --force'
row single-noop lambda-image 'lambda-image build --no-verify'
row multi-cold sam 'sam build --parallel'
row multi-cold lambda-image 'lambda-image build --all --no-verify'
row multi-cached sam 'sam build --parallel'
row multi-cached lambda-image 'lambda-image build --all --no-verify --force'
for j in "${jobs[@]}"; do row multi-cold "lambda-image-j$j" "lambda-image build --all --no-verify -j $j"; done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "-") print "n/a"; else if (r <= g) print "PASS"; else print "FAIL" }'; }

md=()
goal() { # LABEL CASE PEER_CASE PEER PEER_LABEL GOAL(or -)
  local label=$1 case=$2 pcase=$3 peer=$4 plabel=$5 g=$6 ours theirs r v gtext
  ours=$(median "$case" lambda-image)
  theirs=$(median "$pcase" "$peer")
  r=$(ratio "$ours" "$theirs")
  if [ "$g" = - ]; then
    gtext="—"
    printf '  %-18s lambda-image %6s s / %-40s %6s s = %5s×\n' "$label" "$ours" "$plabel" "$theirs" "$r"
  else
    v=$(verdict "$r" "$g")
    gtext="≤ ${g}× $v"
    printf '  %-18s lambda-image %6s s / %-40s %6s s = %5s×  goal ≤ %s×  %s\n' "$label" "$ours" "$plabel" "$theirs" "$r" "$g" "$v"
  fi
  md+=("| $label | \`$plabel\` | $theirs | $ours | ${r}× | $gtext |")
}
echo
echo "ratios of medians, lambda-image ÷ peer:"
goal "1 image, cold" single-cold single-cold docker "DOCKER_BUILDKIT=0 docker build" 1.05
goal "1 image, cold" single-cold single-cold sam "sam build" -
goal "1 image, cached" single-cached single-cached docker "DOCKER_BUILDKIT=0 docker build" 1.2
goal "1 image, cached" single-cached single-cached sam "sam build" -
goal "1 image, no-op" single-noop single-cached docker "DOCKER_BUILDKIT=0 docker build (cached)" 0.25
goal "1 image, no-op" single-noop single-cached sam "sam build (cached)" -
goal "8 images, cold" multi-cold multi-cold sam "sam build --parallel" 0.8
goal "8 images, cached" multi-cached multi-cached sam "sam build --parallel" 0.6

with=$(median single-cold lambda-image+verify)
without=$(median single-cold lambda-image)
echo
awk -v a="$with" -v b="$without" 'BEGIN { if (a == "-" || b == "-") print "verify: n/a"; else printf "verify adds %+.2f s to a cold single-image build (median %.2f s with verify, %.2f s with --no-verify)\n", a - b, a, b }'
printf -- '-j (8 images, cold, median s):'
for j in "${jobs[@]}"; do printf '  -j %s: %s' "$j" "$(median multi-cold "lambda-image-j$j")"; done
echo

echo
echo "| case | peer | peer median s | lambda-image median s | ratio | goal |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${md[@]}"
echo
echo "$(nproc) cores, Docker Engine $(docker version -f '{{.Server.Version}}'), $("$SAM" --version), $("$BIN" --version); medians of $RUNS runs (1 image) and $RUNS_MULTI runs (8 images), interleaved; \`$COMMAND\`."

if [ -s "$S/problems" ]; then
  echo
  echo "problems during the run:"
  cat "$S/problems"
  exit 1
fi
