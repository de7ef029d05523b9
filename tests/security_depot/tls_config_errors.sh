#!/usr/bin/env bash
# Start-up errors of the daemons. Bad TLS settings of srs-rss and srs-depot are usage errors: both exit 2 (as for any other bad
# flag) before binding anything, with a line saying exactly what is wrong — a key that belongs to
# another certificate, a certificate without its key, a file that cannot be read (and why), a
# file that is not PEM — instead of "cannot listen on ..." or a gRPC handshake failure later.
# A daemon that cannot start (its address taken by another daemon, a --dir that is a file)
# exits 1 with the reason and no usage text.
#   tls_config_errors.sh SRS_RSS_BIN SRS_DEPOT_BIN
set -euo pipefail
rss_bin=$1 depot_bin=$2
work=$(mktemp -d /tmp/srs-tls-config.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "tls_config_errors: $*" >&2; exit 1; }
for name in a b; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=SRS test $name" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$work/$name.key" -out "$work/$name.pem" 2>/dev/null || fail "openssl: $name"
done
echo "not a certificate" >"$work/junk.pem"

# expect_usage DAEMON PATTERN ARGS...: DAEMON with ARGS exits 2 and says PATTERN (grep -E).
expect_usage() {
  local daemon=$1 pattern=$2; shift 2
  local bin args rc=0 out
  if [ "$daemon" = rss ]; then
    bin=$rss_bin args=(--listen 127.0.0.1:0 --state "$work/state-rss")
  else
    bin=$depot_bin args=(--listen 127.0.0.1:0 --dir "$work/state-depot")
  fi
  out=$(timeout 20 "$bin" "${args[@]}" "$@" 2>&1) || rc=$?
  [ "$rc" = 2 ] || fail "srs-$daemon $*: exit $rc, want 2: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "srs-$daemon $*: no /$pattern/ in: $out"
  grep -q "cannot listen" <<<"$out" && fail "srs-$daemon $*: still blames the address: $out"
  return 0
}

for daemon in rss depot; do
  expect_usage "$daemon" "TLS key $work/b.key does not match the certificate $work/a.pem" \
    --tls-cert "$work/a.pem" --tls-key "$work/b.key"
  expect_usage "$daemon" "give both cert and key" --tls-cert "$work/a.pem"
  expect_usage "$daemon" "cannot read the TLS CA $work/none.pem: No such file or directory" \
    --tls-cert "$work/a.pem" --tls-key "$work/a.key" --tls-ca "$work/none.pem"
  expect_usage "$daemon" "cannot read the TLS key $work/none.key: No such file or directory" \
    --tls-cert "$work/a.pem" --tls-key "$work/none.key"
  expect_usage "$daemon" "TLS certificate $work/junk.pem is not a PEM file" \
    --tls-cert "$work/junk.pem" --tls-key "$work/a.key"
  expect_usage "$daemon" "TLS certificate $work/a.key holds no certificate" \
    --tls-cert "$work/a.key" --tls-key "$work/a.key"
done

# The matching pair still serves.
for daemon in rss depot; do
  if [ "$daemon" = rss ]; then
    bin=$rss_bin args=(--listen 127.0.0.1:0 --state "$work/ok-rss")
  else
    bin=$depot_bin args=(--listen 127.0.0.1:0 --dir "$work/ok-depot")
  fi
  "$bin" "${args[@]}" --tls-cert "$work/a.pem" --tls-key "$work/a.key" >"$work/$daemon.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/$daemon.out" && break; sleep 0.1; done
  kill -TERM "$pid"
  wait "$pid" || true
  grep -q "listening on" "$work/$daemon.out" || fail "srs-$daemon refused a good pair: $(cat "$work/$daemon.out")"
done
# A depot that cannot start is not a usage error: exit 1, the reason, no usage text.
# expect_start_failure PATTERN ARGS...
expect_start_failure() {
  local pattern=$1 rc=0 out
  shift
  out=$(timeout 20 "$depot_bin" "$@" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "srs-depot $*: exit $rc, want 1: $out"
  grep -qE -- "cannot start: .*$pattern" <<<"$out" || fail "srs-depot $*: no /$pattern/ in: $out"
  grep -q "usage:" <<<"$out" && fail "srs-depot $*: printed its usage for a start failure: $out"
  return 0
}
"$depot_bin" --listen 127.0.0.1:0 --dir "$work/busy-depot" >"$work/busy.out" 2>&1 &
busy=$!
for _ in $(seq 100); do grep -q "listening on" "$work/busy.out" && break; sleep 0.1; done
taken=$(sed -n 's/^srs-depot listening on //p' "$work/busy.out")
[ -n "$taken" ] || { kill "$busy"; fail "the first depot did not start: $(cat "$work/busy.out")"; }
expect_start_failure "cannot listen on $taken" --listen "$taken" --dir "$work/second-depot"
# The RSS too (gRPC's default SO_REUSEPORT let a second daemon share a taken port).
rc=0
out=$(timeout 20 "$rss_bin" --listen "$taken" --state "$work/second-rss" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "srs-rss on the taken $taken: exit $rc, want 1: $out"
grep -q "cannot listen on $taken" <<<"$out" || fail "srs-rss on the taken $taken: $out"
kill -TERM "$busy"
wait "$busy" || true
touch "$work/a-file"
expect_start_failure "a-file" --listen 127.0.0.1:0 --dir "$work/a-file"
echo PASS
