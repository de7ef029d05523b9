# shellcheck shell=bash
# Shared helpers of the tools_* end-to-end tests (sourced). Needs SRS_TOOL (the srs binary).
set -u
: "${SRS_TOOL:?SRS_TOOL must point to the srs binary}"
SRS=$SRS_TOOL

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_status CODE PATTERN CMD...: CMD must exit with CODE and print PATTERN (grep -E) on
# stdout or stderr. Shows what it got when it does not.
expect_status() {
  local want=$1 pattern=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then fail "'$*' exited $rc, want $want; output: $out"; fi
  if ! grep -qE -- "$pattern" <<<"$out"; then fail "'$*' output lacks /$pattern/: $out"; fi
  # shellcheck disable=SC2034 # read by the sourcing tests
  last_output=$out
}

# A fresh directory removed at exit, with no SRS configuration inherited.
fresh_dir() {
  test_dir=$(mktemp -d "${TMPDIR:-/tmp}/srs-tools-test.XXXXXX")
  cd "$test_dir" || exit 1
  unset SRS_RSS SRS_CONFIG SRS_TOKEN_FILE SRS_DEPOT SRS_HOST SRS_RESUME
}

# True while something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The ports the private daemons of ./.srs use.
private_ports() { awk '{print $2}' .srs/ports; }

# Waits (up to $2 s, default 30) until `srs status JOB` shows it running.
wait_running() {
  local job=$1 limit=${2:-30}
  for _ in $(seq $((limit * 10))); do
    "$SRS" status "$job" 2>/dev/null | grep -q running && return 0
    sleep 0.1
  done
  fail "$job never showed as running"
}
