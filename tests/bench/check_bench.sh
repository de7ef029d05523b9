#!/usr/bin/env bash
# Runs a benchmark command at tiny sizes and checks that it succeeds and prints every expected
# figure as a finite number — never what the number is (timings on a shared machine are noise).
#
#   check_bench.sh [--json] --names "fig1 fig2 ..." -- CMD ARGS...
#
# Text mode expects lines `name: value`; --json expects `"name": value` somewhere in the output
# (one JSON object per line). A name ending in `*` matches any suffix of [A-Za-z0-9_] (figures a
# benchmark tags with its rank counts, e.g. check_stop_ratio_np2).
set -u
json=0 names=""
while (($#)); do
  case "$1" in
    --json) json=1; shift ;;
    --names) names=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "check_bench: unknown option $1" >&2; exit 2 ;;
  esac
done
(($#)) && [ -n "$names" ] || { echo "usage: check_bench.sh [--json] --names LIST -- CMD..." >&2; exit 2; }

out=$(mktemp "${TMPDIR:-/tmp}/check_bench.XXXXXX")
trap 'rm -f "$out"' EXIT
start=$SECONDS
"$@" >"$out"
rc=$?
cat "$out"
echo "check_bench: '$*' exited $rc after $((SECONDS - start)) s" >&2
((rc == 0)) || { echo "FAIL: the benchmark failed" >&2; exit 1; }
number='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
missing=0
set -f  # the names' `*` are ours, not globs
for name in $names; do
  key=$name
  [ "${name%\*}" != "$name" ] && key="${name%\*}[A-Za-z0-9_]*"
  if ((json)); then
    pattern="\"$key\": *$number"
  else
    pattern="^$key: $number\$"
  fi
  if ! grep -Eq "$pattern" "$out"; then
    echo "FAIL: no finite figure '$name' in the output" >&2
    missing=$((missing + 1))
  fi
done
((missing == 0)) || exit 1
echo "check_bench: all $(wc -w <<<"$names") figures printed"
