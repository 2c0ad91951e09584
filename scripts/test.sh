#!/usr/bin/env bash
# scripts/test.sh -- the project's test command. On a fresh Debian 12 machine, as root:
#   1. testbed/setup.sh   apt packages, the Python venv with pinned peer versions in <repo>/.testbed, data
#   2. testbed/start.sh   the peers the tests need (TEST_PEERS), each on its own 127.0.0.N address
#   3. cargo fmt --all --check; cargo clippy --workspace --all-targets -- -D warnings; cargo test --workspace
# and on exit, whatever happened, stops the peers it started (peers that were already running are left
# alone). Stops at the first failing phase; exit status 0 only if every phase passed. Prints how long
# each phase took. All output goes to stdout.
#
# For the tests: OTSENSOR_TESTBED (the testbed folder; config.sh there holds every address and identity)
# and OTSENSOR_TEST_PEERS (the peers running, space-separated) are exported.
# Developer knob (ignored when CI=true): SKIP_CARGO=1 runs only the testbed phases.
set -euo pipefail

# Peers the tests need: names or groups of testbed/start.sh (see ALL_PEERS in testbed/config.sh).
# Later issues add theirs here. s7-all = s7 s7native and the scripted S7 peers (s7-silent, ...).
TEST_PEERS="modbus-all s7-all enip-all bacnet bacnet-router wmi-all dns-all snmpsim snmpd"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TESTBED=$ROOT/testbed
exec 2>&1 < /dev/null
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
if [ -d "$HOME/.cargo/bin" ]; then case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH=$HOME/.cargo/bin:$PATH ;; esac; fi

summary=()
started=""
T_START=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# phase NAME CMD... : run CMD, print and record its duration; returns CMD's status
phase() {
  local name=$1 t0 rc=0 dt
  shift
  echo "==> [$name] $*"
  t0=$(date +%s.%N)
  "$@" || rc=$?
  dt=$(elapsed "$t0")
  if [ $rc = 0 ]; then
    echo "==> [$name] ok, ${dt} s"
    summary+=("$(printf '%-8s %7s s  ok' "$name" "$dt")")
  else
    echo "==> [$name] FAILED (exit $rc), ${dt} s"
    summary+=("$(printf '%-8s %7s s  FAILED (exit %s)' "$name" "$dt" "$rc")")
  fi
  return $rc
}

finish() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$started" ]; then
    # shellcheck disable=SC2086  # a list of peer names
    phase stop "$TESTBED/stop.sh" $started || rc=$((rc ? rc : 1))
  fi
  echo "==> phase times"
  printf '    %s\n' "${summary[@]}"
  printf '    %-8s %7s s  %s\n' total "$(elapsed "$T_START")" "$([ "$rc" = 0 ] && echo PASS || echo "FAIL (exit $rc)")"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "scripts/test.sh must run as root (apt, ports 102/161/502, setpriv)"; exit 1; }

phase setup "$TESTBED/setup.sh"

# the peers to start: those of TEST_PEERS not running yet (only these are stopped on exit)
# shellcheck disable=SC1091  # testbed/config.sh
. "$TESTBED/config.sh"
# shellcheck disable=SC1091  # testbed/lib.sh
. "$TESTBED/lib.sh"
# shellcheck disable=SC2086  # a list of peer names
peers=$(expand_peers $TEST_PEERS)
for p in $peers; do peer_pid "$p" > /dev/null || started="$started $p"; done
if [ -n "$started" ]; then
  # shellcheck disable=SC2086
  phase peers "$TESTBED/start.sh" $started
else
  echo "==> [peers] already running: $peers"
fi
export OTSENSOR_TESTBED=$TESTBED OTSENSOR_TEST_PEERS=$peers

if [ "${SKIP_CARGO:-}" = 1 ] && [ "${CI:-}" != true ]; then
  echo "==> SKIP_CARGO=1: cargo fmt / clippy / test skipped"
  summary+=("cargo    skipped (SKIP_CARGO=1)")
  exit 0
fi
command -v cargo > /dev/null || { echo "cargo not found (PATH=$PATH): install the Rust toolchain (rustup)"; exit 1; }
phase fmt cargo fmt --all --check
phase clippy cargo clippy --workspace --all-targets -- -D warnings
phase test cargo test --workspace
