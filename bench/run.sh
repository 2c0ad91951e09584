#!/usr/bin/env bash
# bench/run.sh -- the whole benchmark suite in one command (issue 9), as root on Debian 12:
#
#   sudo bench/run.sh
#
# 1. cargo build --release -p otsensor (and the SNMP crate's `walk` example, release);
# 2. testbed/setup.sh (idempotent: installs only what is missing);
# 3. starts the testbed peers the benchmarks need that are not running (modbus s7 enip bacnet
#    wmi snmpsim knot) and stops exactly those again at the end;
# 4. runs every benchmark, each against the tool a user would otherwise run, in one run:
#      modbus   bench/modbus-sweep.sh        Modbus sweep of 127.1.0.0/16: otsensor vs nmap modbus-discover
#      snmp     bench/snmp/bench.py          table walks and switch discovery: otsensor vs snmpbulkwalk
#      rdns     bench/rdns/run.sh            PTR lookups of a /16: otsensor vs dnsperf and nmap -sL -R
#      plc      bench/plc/run.sh             PLC identification: otsensor vs nmap's ICS scripts
#      wmi      bench/wmi/run.sh             WMI inventory: otsensor vs impacket
#      scale    otsensor sim --devices 10000 --net 127.20.0.0/16, then PLC, switch and rdns scans of
#               the /16 (wall time and peak memory); skipped while `otsensor sim` does not exist
#               (SIM_NET, SIM_DEVICES, SIM_DNS=ADDR:PORT, SIM_COMMUNITY, SCALE_TIMEOUT=180 per scan,
#               SCALE_SWITCH_PARALLEL=512: the switch scan's slots)
# 5. writes bench/RESULTS.md (bench/summarize.py): the machine, the tool versions, and per benchmark
#    both tools' figures from this run and their ratio. Each benchmark also writes its own
#    bench/RESULTS-<name>.md with the details.
#
# Sized for <= 20 minutes on a 2-core machine. Environment: ONLY="plc wmi" runs a subset;
# SKIP_BUILD=1 reuses target/release (OTSENSOR_BIN=path: that binary); TESTBED_TMP as in testbed/README.md.
# Loopback only: every peer binds a 127.x address, every probe goes to 127.0.0.0/8, nmap runs with -n.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
TB=$ROOT/testbed
export TESTBED_TMP=${TESTBED_TMP:-$ROOT/.testbed}
export PATH="$HOME/.cargo/bin:$PATH"
SUITE=$BENCH/out-suite              # step logs and timings (git-ignored)
ONLY=${ONLY:-"modbus snmp rdns plc wmi scale"}
SIM_NET=${SIM_NET:-127.20.0.0/16}     # the sim's block (brief: the 10,000-device scale run)
SIM_DEVICES=${SIM_DEVICES:-10000}
SCALE_TIMEOUT=${SCALE_TIMEOUT:-180}   # seconds per scan of the scale run
log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (testbed/setup.sh, port 502/102/135, nmap -sU)"
T0=$(date +%s)
rm -rf "$SUITE"; mkdir -p "$SUITE"
: > "$SUITE/steps.tsv"

started_peers=()
SIM_PID=""
cleanup() {
  local rc=$?
  [ -z "$SIM_PID" ] || { kill -TERM "$SIM_PID" 2> /dev/null || true; wait "$SIM_PID" 2> /dev/null || true; }
  if ((${#started_peers[@]})); then
    log "stopping the peers this run started: ${started_peers[*]}"
    "$TB/stop.sh" "${started_peers[@]}" > /dev/null 2>&1 || true
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {  # step NAME CMD... : runs one benchmark, its log in SUITE/NAME.log; a failure is recorded, not fatal
  local name=$1 t0 rc=0; shift
  case " $ONLY " in *" $name "*) ;; *) printf '%s\tskipped\t0\tnot in ONLY\n' "$name" >> "$SUITE/steps.tsv"; return 0 ;; esac
  log "== $name: $*"
  t0=$(date +%s)
  "$@" > "$SUITE/$name.log" 2>&1 || rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$([ $rc = 0 ] && echo ok || echo "failed (exit $rc)")" "$(($(date +%s) - t0))" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$SUITE/steps.tsv"
  if [ $rc = 0 ]; then log "   $name done in $(($(date +%s) - t0)) s"
  else log "   $name FAILED (exit $rc) after $(($(date +%s) - t0)) s; last lines of $SUITE/$name.log:"; tail -5 "$SUITE/$name.log" >&2; fi
}

# ---------------------------------------------------------------- 1. build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p otsensor; the SNMP walk example"
  (cd "$ROOT" && cargo build --release -q -p otsensor && cargo build --release -q -p otsensor-snmp --example walk) \
    > "$SUITE/build.log" 2>&1 || { tail -20 "$SUITE/build.log" >&2; die "release build failed"; }
fi
BIN=$SUITE/otsensor                 # a copy: a rebuild by someone else cannot swap it mid-run
OTSENSOR_BIN_SRC=${OTSENSOR_BIN:-$ROOT/target/release/otsensor}
cp "$OTSENSOR_BIN_SRC" "$BIN"
WALK=$ROOT/target/release/examples/walk
export OTSENSOR_BIN=$BIN
log "built in $(($(date +%s) - T0)) s"

# ---------------------------------------------------------------- 2. testbed, 3. peers
log "testbed/setup.sh"
"$TB/setup.sh" > "$SUITE/setup.log" 2>&1 || { tail -20 "$SUITE/setup.log" >&2; die "testbed/setup.sh failed"; }
# shellcheck disable=SC1091
. "$TB/config.sh"
# shellcheck disable=SC1091
. "$TB/lib.sh"
for p in modbus s7 enip bacnet wmi snmpsim knot; do
  peer_pid "$p" > /dev/null && continue
  log "starting peer $p"
  "$TB/start.sh" "$p" >> "$SUITE/peers.log" 2>&1 || die "testbed/start.sh $p failed (see $SUITE/peers.log)"
  started_peers+=("$p")
done

# ---------------------------------------------------------------- machine
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "rev=$(git -C "$ROOT" rev-parse --short=12 HEAD 2> /dev/null || echo unknown)$(git -C "$ROOT" status --porcelain -- crates Cargo.toml Cargo.lock 2> /dev/null | grep -q . && echo ' (uncommitted changes under crates/)' || true)"
  # SKIP_BUILD=1: say so when a commit under crates/ is newer than the binary (it was built before it)
  last=$(git -C "$ROOT" log -1 --format='%h %ct' -- crates Cargo.toml Cargo.lock 2> /dev/null || true)
  if [ -n "$last" ] && [ "${last#* }" -gt "$(stat -c %Y "${OTSENSOR_BIN_SRC:-$ROOT/target/release/otsensor}")" ]; then
    echo "stale=the binary is older than commit ${last%% *} (SKIP_BUILD=1)"
  fi
  echo "otsensor=$("$BIN" --version)"
  echo "rustc=$(rustc --version 2> /dev/null || echo unknown)"
  echo "nmap=$(nmap --version | head -1)"
  echo "snmpbulkwalk=$(snmpbulkwalk --version 2>&1 | head -1)"
  echo "dnsperf=$(dnsperf -h 2>&1 | grep -m1 -i 'version' || echo '?')"
  echo "knot=$(knotd -V 2>&1 | head -1)"
  echo "impacket=$("$PY" -c 'from impacket import version; print(version.version)' 2> /dev/null || echo '?')"
  echo "python=$("$PY" --version 2>&1)"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "sim_net=$SIM_NET"
  echo "sim_devices=$SIM_DEVICES"
} > "$SUITE/machine.txt"

# ---------------------------------------------------------------- 4. the benchmarks
# modbus first: modbus-sweep.sh empties bench/out/ (the others write under it afterwards)
step modbus env SKIP_BUILD=1 REPEAT=3 DEFAULT_REPEAT=0 NMAP_VARIANTS=0 PARALLEL=256 QUIET_BUDGET=20 \
  "$BENCH/modbus-sweep.sh"
snmp_bench() { WALK_BUILD="release build, run by bench/run.sh" python3 "$BENCH/snmp/bench.py" "$WALK" "$BENCH/RESULTS-snmp.md" 2; }
step snmp snmp_bench
step rdns env ROUNDS=3 "$BENCH/rdns/run.sh"
step plc env ROUNDS=5 SWEEP_ROUNDS=3 "$BENCH/plc/run.sh"
step wmi env ROUNDS=5 HOSTS=50 PAR_ROUNDS=2 "$BENCH/wmi/run.sh"

# ---------------------------------------------------------------- the scale run
scale_run() {
  local out=$BENCH/out/scale ready="" i
  rm -rf "$out"; mkdir -p "$out"
  if ! "$BIN" sim --help > /dev/null 2>&1; then
    echo "skipped: otsensor sim not built" | tee "$out/skipped"
    return 0
  fi
  # 10,000 devices hold about 15,000 sockets: raise the open-file limit for the sim and the scans
  ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
  local t0
  t0=$(date +%s%N)
  "$BIN" sim --devices "$SIM_DEVICES" --net "$SIM_NET" > "$out/sim.out" 2> "$out/sim.err" &
  SIM_PID=$!
  for ((i = 0; i < 1800; i++)); do
    # the ready line: exactly one JSON line on the sim's stdout
    ready=$(grep -h -m1 '"ready"' "$out/sim.out" 2> /dev/null || true)
    [ -n "$ready" ] && break
    kill -0 "$SIM_PID" 2> /dev/null || { echo "otsensor sim exited before it was ready"; tail -5 "$out/sim.err"; return 1; }
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "otsensor sim not ready within 180 s"; return 1; }
  awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.1f\n", (b-a)/1e9}' > "$out/sim-ready-seconds"
  printf '%s\n' "$ready" > "$out/ready.json"
  echo "sim ready after $(cat "$out/sim-ready-seconds") s: ${ready:0:300}"
  : > "$out/runs.tsv"
  scale_scan() {  # scale_scan NAME CMD... : wall, peak RSS, JSON lines
    local name=$1; shift
    local rc=0
    # each scan at most SCALE_TIMEOUT s (--scan-timeout; and an outer guard: Ctrl-C stops a scan within a second)
    /usr/bin/time -v -o "$out/$name.time" timeout --signal=INT "$((SCALE_TIMEOUT + 30))" "$@" > "$out/$name.jsonl" 2> "$out/$name.err" || rc=$?
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/$name.time")" \
      "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/$name.time")" "$(grep -c '^{' "$out/$name.jsonl" || true)" "$rc" \
      >> "$out/runs.tsv"
    echo "$name: exit $rc, $(tail -1 "$out/runs.tsv")"
  }
  # loopback answers within milliseconds: a 1 s stage limit; the scan's own limit keeps the budget
  local pace=(--rate 0 --per-device-rate 0 --timeout 1 --scan-timeout "$SCALE_TIMEOUT")
  for p in modbus s7 enip bacnet; do
    rm -rf "$out/data-$p"
    scale_scan "plc-$p" "$BIN" scan plc --protocol "$p" --format json --data "$out/data-$p" "${pace[@]}" --parallel 512 "$SIM_NET"
  done
  # an empty address answers the switch scan's SNMP probe with ICMP port unreachable: refused at once
  rm -rf "$out/data-switch"
  scale_scan switch "$BIN" scan switch --protocol snmp-v2c --community "${SIM_COMMUNITY:-public}" --format json \
    --data "$out/data-switch" "${pace[@]}" --parallel "${SCALE_SWITCH_PARALLEL:-512}" "$SIM_NET"
  # the simulated DNS server: SIM_DNS=ADDR:PORT, else a "dns ADDR:PORT" / "dns=ADDR:PORT" in the ready line
  local dns=${SIM_DNS:-$(grep -oiE 'dns"?[ =:"]+127(\.[0-9]+){3}(:[0-9]+)?' <<< "$ready" | grep -oE '127(\.[0-9]+){3}(:[0-9]+)?' | head -1 || true)}
  if [ -n "$dns" ]; then
    rm -rf "$out/data-rdns"
    scale_scan rdns "$BIN" rdns --server "$dns" --rate 0 --parallel 100 --format json --data "$out/data-rdns" "$SIM_NET"
  else
    echo "rdns: skipped: the sim's ready line names no DNS server (set SIM_DNS=ADDR:PORT)" | tee "$out/rdns-skipped"
  fi
  echo "sim peak memory: $(awk '/VmHWM/ {print $2, $3}' "/proc/$SIM_PID/status" 2> /dev/null)" | tee "$out/sim-memory"
  kill -TERM "$SIM_PID" 2> /dev/null || true
  wait "$SIM_PID" 2> /dev/null || true
  SIM_PID=""
}
step scale scale_run

# ---------------------------------------------------------------- 5. RESULTS.md
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$SUITE/machine.txt"
echo "suite_seconds=$(($(date +%s) - T0))" >> "$SUITE/machine.txt"
python3 "$BENCH/summarize.py" "$BENCH" "$BENCH/RESULTS.md"
log "wrote $BENCH/RESULTS.md ($(($(date +%s) - T0)) s in all)"
