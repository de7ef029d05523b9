#!/usr/bin/env bash
# TLS end to end through the real daemons, with certificates made here by `openssl`: a CA, a
# server certificate for 127.0.0.1 (SAN IP:127.0.0.1) shared by srs-rss and srs-depot, and a
# client certificate. Both daemons require client certificates (mutual TLS), the depot enrolls
# with the RSS over TLS, the RSS reaches the depot over TLS. A solver on 3 ranks is stopped with
# `srs stop` and resumed on 2 ranks, all channels in TLS; then a client trusting another CA, a
# client without a certificate, and a plain-text client are each refused with a clear error.
#   tls_stop_resume.sh SOLVER SRS_TOOL SRS_RSS_BIN SRS_DEPOT_BIN
set -u
solver=$1 srs_tool=$2 rss_bin=$3 depot_bin=$4
mpiexec=${SRS_MPIEXEC:-mpiexec.mpich}
work=$(mktemp -d /tmp/srs-tls-e2e.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
  echo "tls_stop_resume: $*" >&2
  for f in "$work"/*.err "$work"/solver.out; do [ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }; done
  exit 1
}

# --- certificates -------------------------------------------------------------------------
pki=$work/pki
mkdir -p "$pki"
make_ca() {  # name
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=SRS test $1" \
    -keyout "$pki/$1.key" -out "$pki/$1.pem" 2>/dev/null || fail "openssl: CA $1"
}
make_cert() {  # name ca san
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$pki/$1.key" \
    -out "$pki/$1.csr" 2>/dev/null || fail "openssl: request $1"
  printf 'subjectAltName=%s\n' "$3" >"$pki/$1.ext"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.pem" -CAkey "$pki/$2.key" -CAcreateserial \
    -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.pem" 2>/dev/null || fail "openssl: sign $1"
}
make_ca ca
make_ca otherca
make_cert server ca "IP:127.0.0.1,DNS:localhost"
make_cert client ca "DNS:srs-client"
chmod 600 "$pki"/*.key

# --- no plain text off loopback ----------------------------------------------------------
# Both daemons refuse a non-loopback --listen without TLS before binding anything.
for daemon in "$rss_bin --state $work/refuse-rss" "$depot_bin --dir $work/refuse-depot"; do
  # shellcheck disable=SC2086  # the daemon and its arguments, split on purpose
  if timeout 20 $daemon --listen 0.0.0.0:0 >"$work/refuse.out" 2>&1; then
    fail "$daemon listened on 0.0.0.0 without TLS"
  fi
  grep -q "without TLS.*--insecure" "$work/refuse.out" ||
    fail "unclear refusal: $(cat "$work/refuse.out")"
done

# --- daemons over TLS ---------------------------------------------------------------------
start_daemon() {  # name binary args...
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=("$!")
  for _ in $(seq 300); do
    started=$(awk '/listening on/ {print $NF; exit}' "$work/$name.out")
    [ -n "$started" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  fail "$name did not start"
}
tls_server=(--tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-ca "$pki/ca.pem")
start_daemon rss "$rss_bin" --listen 127.0.0.1:0 --state "$work/rss" "${tls_server[@]}"
rss=$started
start_daemon depot "$depot_bin" --listen 127.0.0.1:0 --dir "$work/depot" --rss "$rss" \
  --enroll-secret-file "$work/rss/admin.token" "${tls_server[@]}"
grep -q "listening" "$work/depot.out" || fail "depot did not start"

export SRS_RSS=$rss SRS_DEPOT=auto SRS_TOKEN_FILE=$work/rss/admin.token
export SRS_APP=tls-$$-$RANDOM SRS_LOG=${SRS_LOG:-error}
export SRS_TLS_CA=$pki/ca.pem SRS_TLS_CERT=$pki/client.pem SRS_TLS_KEY=$pki/client.key
# The depot enrolls with the RSS over TLS (its client certificate is its server one).
for _ in $(seq 200); do grep -q "registered with the RSS" "$work/depot.err" && break; sleep 0.1; done
grep -q "registered with the RSS" "$work/depot.err" || fail "the depot never enrolled over TLS"
# Its plain-TCP data channel stays off (pieces would travel in clear text beside TLS).
grep -q "data channel off" "$work/depot.err" || fail "a TLS depot started its plain data channel"

# --- a job stopped and resumed, every channel in TLS ---------------------------------------
out=$work/solver.out
run_and_stop() {  # np
  : >"$out"
  "$mpiexec" -n "$1" "$solver" 100000 5 >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do grep -q "^iter" "$out" && break; sleep 0.05; done
  grep -q "^iter" "$out" || { kill "$pid"; wait "$pid"; fail "no progress on $1 ranks"; }
  "$srs_tool" stop "$SRS_APP" >"$work/stop.log" 2>&1 || {
    kill "$pid"; wait "$pid"; fail "srs stop over TLS failed: $(cat "$work/stop.log")"; }
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid"; fail "not stopped on $1 ranks"; fi
  wait "$pid" || fail "solver on $1 ranks exited $?"
  stopped=$(sed -n 's/^stopped at iter //p' "$out")
  [ -n "$stopped" ] || fail "no 'stopped at iter' line on $1 ranks"
}
run_and_stop 3
first=$stopped
run_and_stop 2
grep -q "^resumed at iter $first on 2 ranks" "$out" || fail "2-rank run did not resume at $first"
[ "$(find "$work/depot" -name '*.h5' | wc -l)" -gt 0 ] || fail "no piece reached the depot"

# --- clients that must be refused ----------------------------------------------------------
expect_refused() {  # what pattern env...
  local what=$1 pattern=$2; shift 2
  if env "$@" "$srs_tool" status "$SRS_APP" >"$work/refused.out" 2>&1; then
    fail "$what: srs status succeeded"
  fi
  grep -qiE "$pattern" "$work/refused.out" ||
    fail "$what: unclear error: $(cat "$work/refused.out")"
  echo "tls_stop_resume: $what refused: $(grep -v '^E[0-9]' "$work/refused.out" | head -1)"
}
expect_refused "client trusting another CA" "tls_ca" \
  SRS_TLS_CA="$pki/otherca.pem"
expect_refused "client without a certificate" "tls_cert" \
  SRS_TLS_CERT= SRS_TLS_KEY=
expect_refused "plain-text client" "requires TLS, set tls_ca" \
  SRS_TLS_CA= SRS_TLS_CERT= SRS_TLS_KEY=
echo "tls_stop_resume: stopped at $first on 3 ranks, resumed on 2 over mutual TLS"
