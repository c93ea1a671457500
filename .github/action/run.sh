#!/usr/bin/env bash
# The Action's run step (action.yml): one lambda-image command, its inputs from the
# environment (never from the script's text):
#   INPUT_COMMAND            build | lint | verify | push
#   INPUT_ARGS               its arguments, split into words as a shell splits them (quotes
#                            and backslashes group words; nothing is expanded)
#   INPUT_WORKING_DIRECTORY  where to run it (default: here)
#   LAMBDA_IMAGE_BIN         the binary (default: lambda-image on PATH)
#   GITHUB_OUTPUT            the step's outputs file; RUNNER_TEMP for the report
# build, lint and verify get `--format github` (annotations) unless a format is given; build
# appends its summary to GITHUB_STEP_SUMMARY itself.
# Outputs: `exit-code`; `report`, build's JSON report (`--report`, added unless given);
# `digests`, a JSON array of the `REPO@sha256:…` pushed, read with jq from build's report or
# push's `--digest-file` (added unless given). Exits with the command's exit code.
set -euo pipefail

# An annotation; % and line breaks escaped as workflow commands need.
annotate() {
  local kind=$1 message=$2
  message=${message//'%'/'%25'}
  message=${message//$'\r'/'%0D'}
  message=${message//$'\n'/'%0A'}
  echo "::$kind title=lambda-image::$message"
}

# A step output; the heredoc form, so no value can add another output.
output() {
  local delimiter
  delimiter="lambda-image-$RANDOM$RANDOM$RANDOM"
  printf '%s<<%s\n%s\n%s\n' "$1" "$delimiter" "$2" "$delimiter" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
}

command=${INPUT_COMMAND:-}
case "$command" in
  build | lint | verify | push) ;;
  *)
    annotate error "input command must be build, lint, verify or push, not '$command'"
    exit 2
    ;;
esac
if [ "$command" = build ] || [ "$command" = push ]; then
  if ! command -v jq >/dev/null 2>&1; then
    annotate error "jq is needed to read the digests (GitHub's runners have it; install it on this runner)"
    exit 2
  fi
fi
bin=${LAMBDA_IMAGE_BIN:-lambda-image}
cd "${INPUT_WORKING_DIRECTORY:-.}"
work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lambda-image.XXXXXX")

# The words of INPUT_ARGS, as xargs splits them (the shell's quoting, no expansion).
args=()
if [ -n "${INPUT_ARGS//[[:space:]]/}" ]; then
  if ! printf '%s' "$INPUT_ARGS" | xargs printf '%s\0' >"$work/args"; then
    annotate error "input args could not be split into words (an unmatched quote?)"
    exit 2
  fi
  while IFS= read -r -d '' word; do
    args+=("$word")
  done <"$work/args"
fi

# What the arguments already say.
report="" digest_file="" format=""
i=0
while [ "$i" -lt "${#args[@]}" ]; do
  word=${args[$i]}
  next=${args[$((i + 1))]:-}
  case "$word" in
    --report) report=$next ;;
    --report=*) report=${word#--report=} ;;
    --digest-file) digest_file=$next ;;
    --digest-file=*) digest_file=${word#--digest-file=} ;;
    -f | --format | --format=* | -f?*) format=given ;;
  esac
  i=$((i + 1))
done

extra=()
case "$command" in
  build)
    if [ -z "$report" ]; then
      report="$work/build-report.json"
      extra+=(--report "$report")
    fi
    ;;
  push)
    if [ -z "$digest_file" ]; then
      digest_file="$work/digests"
      extra+=(--digest-file "$digest_file")
    fi
    ;;
esac
if [ -z "$format" ] && [ "$command" != push ]; then
  extra+=(--format github)
fi

all=("$command" ${args[@]+"${args[@]}"} ${extra[@]+"${extra[@]}"})
echo "+ lambda-image $(printf '%q ' "${all[@]}")"
set +e
"$bin" "${all[@]}"
code=$?
set -e

digests="[]"
if [ "$command" = build ] && [ -s "$report" ]; then
  digests=$(jq -c '[.images[] | .registry_digest | select(. != null)]' "$report")
elif [ "$command" = push ] && [ -s "$digest_file" ]; then
  # Text: one REPO@sha256:… a line; with --format json, objects with `pinned`.
  if [ "$(head -c 1 "$digest_file")" = "[" ]; then
    digests=$(jq -c '[.[] | .pinned | select(. != null)]' "$digest_file")
  else
    digests=$(jq -Rsc 'split("\n") | map(select(length > 0))' "$digest_file")
  fi
fi
if [ "$command" = build ] && [ -s "$report" ]; then
  case "$report" in
    /*) ;;
    *) report="$PWD/$report" ;;
  esac
else
  report=""
fi

output exit-code "$code"
output report "$report"
output digests "$digests"
exit "$code"
