#!/usr/bin/env bash
# Benchmark `lambda-image invoke` against AWS SAM CLI's `sam local invoke --skip-pull-image`
# on the same image and event, in one run, interleaved, with the floor: `docker run` of the
# image against a minimal Runtime API (bench/invoke/runtime_api.py), one invocation. Not a test.
# Usage: make bench-invoke (builds the release binary first), or:
#
#   BENCH_RUNS=4     runs; each builds a fresh image and times both tools cold on it
#   BENCH_REPEAT=2   repeated invocations of each tool (and floor runs) per run
#   BIN=target/release/lambda-image   SAM_VENV=bench/.venv   SAM_VERSION=1.170.0
#
# The image: the stand-in provided.al2023 base (bench/build/rootfs.py, `docker import`, as
# bench/build.sh does; tagged lambda-image-test/bench-invoke-base:latest) plus the shell
# bootstrap bench/invoke/bootstrap (busybox wget, echoes the event), built with
# `lambda-image build --file`. Nothing is pulled. Everything the script makes is under
# lambda-image-test/bench-invoke* (SAM's emulator image: …/bench-invoke:rapid-<arch>) and
# removed on exit, with the scratch folder (SAM's app dir and layer cache included).
#
# Cases:
#   cold      the first invocation of each tool on a freshly built image (a new layer per run),
#             SAM's derived emulator image removed first; which tool goes first alternates
#   repeated  further invocations on the same image, the three commands interleaved
#   floor     docker run --rm --network host -e AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT IMAGE
#             against runtime_api.py (started untimed), which exits after the response
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-target/release/lambda-image}
RUNS=${BENCH_RUNS:-4}
REPEAT=${BENCH_REPEAT:-2}
SAM_VERSION=${SAM_VERSION:-1.170.0}
SAM_VENV=${SAM_VENV:-bench/.venv}
BASE=lambda-image-test/bench-invoke-base:latest
REPO=lambda-image-test/bench-invoke
EVENT='{"hello": "world", "n": [1, 2, 3]}'

COMMAND="BENCH_RUNS=$RUNS BENCH_REPEAT=$REPEAT bash bench/invoke.sh"
echo "command: $COMMAND   (make bench-invoke runs it after make release)"

[ -x "$BIN" ] || { echo "bench/invoke.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
BIN=$(realpath "$BIN")
"$BIN" invoke --help >/dev/null 2>&1 || { echo "bench/invoke.sh: $BIN has no invoke command; run 'make release'" >&2; exit 2; }
docker info >/dev/null 2>&1 || { echo "bench/invoke.sh: the Docker Engine is not reachable" >&2; exit 2; }
command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ] ||
  { echo "bench/invoke.sh: busybox is missing (apt-get install busybox-static)" >&2; exit 2; }

# The peer: AWS SAM CLI in a venv of its own (bench/.venv ignores itself for git).
SAM=$ROOT/$SAM_VENV/bin/sam
if [ ! -x "$SAM" ] || ! "$SAM" --version 2>/dev/null | grep -qF "$SAM_VERSION"; then
  echo "installing aws-sam-cli $SAM_VERSION into $SAM_VENV" >&2
  python3 -m venv "$SAM_VENV"
  printf '*\n' >"$SAM_VENV/.gitignore"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "aws-sam-cli==$SAM_VERSION" >&2
fi
export SAM_CLI_TELEMETRY=0
case $(uname -m) in x86_64) ARCH=x86_64 ;; aarch64 | arm64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac

S=$(mktemp -d "${TMPDIR:-/tmp}/lambda-image-bench-invoke.XXXXXX")
# SAM checks PyPI for a newer version once a week inside the command: keep its state here.
export __SAM_CLI_APP_DIR=$S/sam-app-dir
mkdir -p "$S/logs" "$S/times" "$S/fn" "$S/layers" "$__SAM_CLI_APP_DIR"
: >"$S/problems"
API_PID=

bench_refs() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E "^$REPO" || true
}
remove_rapid() {
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E "^$REPO:rapid-" | xargs -r docker image rm -f >/dev/null 2>&1 || true
}
cleanup() {
  set +e
  [ -n "$API_PID" ] && kill "$API_PID" 2>/dev/null
  for ref in $(bench_refs); do
    docker ps -aq --filter "ancestor=$ref" | xargs -r docker rm -f >/dev/null 2>&1
  done
  remove_rapid
  mapfile -t refs < <(bench_refs)
  [ "${#refs[@]}" -gt 0 ] && docker image rm -f "${refs[@]}" >/dev/null 2>&1
  docker image prune -f --filter "label=lambda-image-bench=invoke" >/dev/null 2>&1
  rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "$(nproc) cores; Docker Engine $(docker version -f '{{.Server.Version}}') ($(docker info -f '{{.Driver}}')), docker CLI $(docker version -f '{{.Client.Version}}'); $("$SAM" --version); $("$BIN" --version)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# Leftovers of an interrupted run.
remove_rapid
mapfile -t refs < <(bench_refs)
[ "${#refs[@]}" -gt 0 ] && docker image rm -f "${refs[@]}" >/dev/null 2>&1 || true

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
printf '%s\n' "$EVENT" >"$S/event.json"
cat >"$S/fn/Dockerfile" <<EOF
FROM $BASE
COPY bootstrap \${LAMBDA_RUNTIME_DIR}/bootstrap
LABEL lambda-image-bench=invoke
CMD ["function.handler"]
EOF

# make_image TAG: a fresh image (the bootstrap carries the tag, so its layer is new), and
# SAM's template for it.
make_image() {
  local tag=$1 name=${1##*:}
  { cat bench/invoke/bootstrap; printf '# %s\n' "$tag"; } >"$S/fn/bootstrap"
  chmod 755 "$S/fn/bootstrap"
  if ! (cd "$S" && "$BIN" build --no-config --no-progress -q --no-verify --file fn/Dockerfile --context fn -t "$tag") \
    >"$S/logs/build-$name.out" 2>&1; then
    echo "bench/invoke.sh: lambda-image build of $tag failed:" >&2
    sed 's/^/  | /' "$S/logs/build-$name.out" >&2
    exit 1
  fi
  cat >"$S/template-$name.yaml" <<EOF
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  BenchFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: $tag
      Architectures: [$ARCH]
      MemorySize: 512
      Timeout: 30
EOF
}

# ---- Measuring ------------------------------------------------------------------------------
sam_invoke() { # TAG
  (cd "$S" && "$SAM" local invoke -t "template-${1##*:}.yaml" --event event.json --skip-pull-image \
    --layer-cache-basedir "$S/layers" BenchFunction)
}
li_invoke() { # TAG
  "$BIN" invoke "$1" --event "$S/event.json"
}
floor_run() { # TAG
  docker run --rm --network host -e "AWS_LAMBDA_RUNTIME_API=127.0.0.1:$PORT" "$1"
}

# same_json FILE: the last non-empty line of FILE is the event, as JSON.
same_json() {
  python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1], errors="replace").read().splitlines() if l.strip()]
sys.exit(0 if lines and json.loads(lines[-1]) == json.loads(sys.argv[2]) else 1)' "$1" "$EVENT" 2>/dev/null
}

problem() { # CASE TOOL LOG MESSAGE
  { echo "$4 ($1, $2)"; tail -n 15 "$3.out" "$3.err" | sed 's/^/  | /'; } | tee -a "$S/problems" >&2
  echo failed >>"$S/times/$1.$2.failed"
}

# timed CASE TOOL TAG: one invocation (stdout and stderr to logs); its wall seconds appended
# to $S/times/CASE.TOOL when it exited 0 and answered with the event.
timed() {
  local case=$1 tool=$2 tag=$3 log start end rc t
  log="$S/logs/$case.$tool.$(date +%s%N)"
  if [ "$tool" = floor ]; then
    rm -f "$S/api.port" "$S/api.response"
    python3 bench/invoke/runtime_api.py "$S/event.json" "$S/api.port" "$S/api.response" &
    API_PID=$!
    for _ in $(seq 500); do [ -s "$S/api.port" ] && break; sleep 0.01; done
    PORT=$(cat "$S/api.port")
  fi
  start=$(date +%s.%N)
  set +e
  case $tool in
    sam) sam_invoke "$tag" ;;
    lambda-image) li_invoke "$tag" ;;
    floor) floor_run "$tag" ;;
  esac >"$log.out" 2>"$log.err"
  rc=$?
  set -e
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  if [ "$tool" = floor ]; then
    local api_rc=0
    wait "$API_PID" || api_rc=$?
    API_PID=
    [ -f "$S/api.response" ] && cp "$S/api.response" "$log.response"
    if [ "$rc" -eq 0 ] && { [ "$api_rc" -ne 0 ] || ! same_json "$log.response"; }; then
      problem "$case" "$tool" "$log" "WRONG ANSWER: the Runtime API exited $api_rc, response: $(cat "$log.response" 2>/dev/null)"
      return 0
    fi
  elif [ "$rc" -eq 0 ] && ! same_json "$log.out"; then
    problem "$case" "$tool" "$log" "WRONG ANSWER: stdout is not the event"
    return 0
  fi
  if [ "$rc" -ne 0 ]; then
    problem "$case" "$tool" "$log" "FAILED: exit $rc"
    return 0
  fi
  echo "$t" >>"$S/times/$case.$tool"
  printf '  %-9s %-13s %7.2f s\n' "$case" "$tool" "$t"
}

# stats CASE TOOL -> "min median max n" (or "- - - 0")
stats() {
  local f="$S/times/$1.$2"
  [ -s "$f" ] || { echo "- - - 0"; return; }
  sort -g "$f" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f %.2f %d\n", v[1], m, v[NR], NR }'
}
median() { stats "$1" "$2" | cut -d' ' -f2; }

# Untimed warm-up: SAM's weekly PyPI check, the page cache, the binaries, SAM's emulator.
echo "warm-up (untimed)"
make_image "$REPO:warmup"
for tool in sam lambda-image floor; do timed warmup "$tool" "$REPO:warmup" >/dev/null; done
if [ -f "$S/times/warmup.sam.failed" ]; then
  echo "bench/invoke.sh: SAM could not run the stand-in image; what it printed:" >&2
  cat "$S/problems" >&2
fi

tools=(sam lambda-image floor)
for r in $(seq "$RUNS"); do
  echo "run $r/$RUNS"
  tag="$REPO:run$r"
  make_image "$tag"
  remove_rapid
  if [ $((r % 2)) -eq 1 ]; then
    timed cold sam "$tag"; timed cold lambda-image "$tag"
  else
    timed cold lambda-image "$tag"; timed cold sam "$tag"
  fi
  for k in $(seq 0 $((REPEAT * 3 - 1))); do
    timed repeated "${tools[$(((k + r) % 3))]}" "$tag"
  done
  docker image rm -f "$tag" "$REPO:rapid-$ARCH" >/dev/null 2>&1 || true
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Report ---------------------------------------------------------------------------------
echo
printf '%-9s %-62s %5s %24s\n' case command runs "min / median / max s"
row() { # CASE TOOL LABEL
  local s n
  read -r -a s <<<"$(stats "$1" "$2")"
  n=${s[3]}
  [ -f "$S/times/$1.$2.failed" ] && n="$n (+$(wc -l <"$S/times/$1.$2.failed") failed)"
  printf '%-9s %-62s %5s %24s\n' "$1" "$3" "$n" "${s[0]} / ${s[1]} / ${s[2]}"
}
SAM_LABEL='sam local invoke --skip-pull-image'
LI_LABEL='lambda-image invoke IMAGE --event FILE'
FLOOR_LABEL='docker run --rm --network host -e AWS_LAMBDA_RUNTIME_API=… IMAGE'
row cold sam "$SAM_LABEL"
row cold lambda-image "$LI_LABEL"
row repeated sam "$SAM_LABEL"
row repeated lambda-image "$LI_LABEL"
row repeated floor "floor: $FLOOR_LABEL"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "-") print "n/a"; else if (r <= g) print "PASS"; else print "FAIL" }'; }
md=()
goal() { # LABEL CASE PEER_CASE PEER PEER_LABEL GOAL
  local ours theirs r v
  ours=$(median "$2" lambda-image)
  theirs=$(median "$3" "$4")
  r=$(ratio "$ours" "$theirs")
  v=$(verdict "$r" "$6")
  printf '  %-9s lambda-image %5s s / %-40s %5s s = %5s×  goal ≤ %s×  %s\n' "$1" "$ours" "$5" "$theirs" "$r" "$6" "$v"
  md+=("| $1 | \`$5\` | $theirs | $ours | ${r}× | ≤ ${6}× $v |")
}
echo
echo "ratios of medians, lambda-image ÷ peer:"
goal cold cold cold sam "$SAM_LABEL" 0.15
goal repeated repeated repeated sam "$SAM_LABEL" 0.15
goal cold cold repeated floor "floor: docker run --network host" 1.5
goal repeated repeated repeated floor "floor: docker run --network host" 1.5

echo
echo "| case | peer | peer median s | lambda-image median s | ratio | goal |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${md[@]}"
echo
echo "$(nproc) cores, Docker Engine $(docker version -f '{{.Server.Version}}'), $("$SAM" --version), $("$BIN" --version); medians of $RUNS cold and $((RUNS * REPEAT)) repeated runs each, interleaved; \`$COMMAND\`."

if [ -s "$S/problems" ]; then
  echo
  echo "problems during the run:"
  cat "$S/problems"
  exit 1
fi
