#!/bin/bash
# bench/modbus-sweep.sh -- issue 2: the Modbus sweep benchmark, one command.
#
# Sweeps all of 127.1.0.0/16 port 502, where 5 pymodbus servers (testbed/peers/modbus_server.py,
# each with its own identity) listen, with:
#   a. otsensor, default pacing
#   b. otsensor, pacing raised (--rate 0 --per-device-rate 0 --parallel N; N chosen by one trial
#      run each of PARALLEL_CANDIDATES, the fastest is kept)
#   c. nmap -n -Pn -sT -p502 --script modbus-discover (nmap's defaults otherwise)
#   d. bench/connect_loop.c: nonblocking connect + close of every address, N in flight (epoll):
#      the machine's floor for clean TCP connects (also run with one thread per core, for information)
# and writes bench/RESULTS-modbus.md (wall time, peak RSS, devices found, ratios against the goals,
# whether otsensor's identity fields match nmap's). Raw output of the last run: bench/out/.
#
# Runs as root on Debian 12, idempotently; installs what is missing (testbed/setup.sh for the
# pymodbus venv, nmap and GNU time; apt-get for gcc). Loopback only: every server binds one
# 127.1.x.y address; every probe goes to 127.1.0.0/16; nmap runs with -n.
#
# Environment (all optional):
#   REPEAT=5                    measured rounds of b, c, d (interleaved); the table shows the median
#   DEFAULT_REPEAT=1            rounds of a (about 70 s each: 65,536 SYNs at the default 1000 packets/s)
#   PARALLEL_CANDIDATES="64 256 1024"   --parallel values tried once each for b
#   PARALLEL=N                  skip the trial and use N
#   SKIP_BUILD=1                use the existing target/release/otsensor
#   NMAP_VARIANTS=1             also time nmap -T4 and --min-rate 10000 once each (information)
#   PROFILE=1                   also profile one run of b with perf (if installed): out/profile.txt
#   QUIET_IDLE=75 QUIET_BUDGET=60    before each measured command, wait until the CPUs were at least
#                               QUIET_IDLE % idle over half a second (others' builds skew the times),
#                               waiting at most QUIET_BUDGET s over the whole script; the idle share
#                               seen before each run is in the report
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
TB=$REPO/testbed
AT=${TESTBED_TMP:-$REPO/.testbed}     # as testbed/config.sh: the venv lives here
PY=$AT/venv/bin/python
OUT=$BENCH/out                        # raw output of the last run (git-ignored)
RESULTS=$BENCH/RESULTS-modbus.md
SWEEP=127.1.0.0/16
SWEEP_BASE=127.1.0.0
PORT=502
REPEAT=${REPEAT:-5}
PROFILE=${PROFILE:-0}
QUIET_IDLE=${QUIET_IDLE:-75}
QUIET_BUDGET=${QUIET_BUDGET:-60}
DEFAULT_REPEAT=${DEFAULT_REPEAT:-1}
PARALLEL_CANDIDATES=${PARALLEL_CANDIDATES:-"64 256 1024"}
NMAP_VARIANTS=${NMAP_VARIANTS:-1}
export PATH="$HOME/.cargo/bin:$PATH"
unset OTSENSOR_LOG OTSENSOR_CONFIG OTSENSOR_DATA   # logging at its default (warn), no config file

# The servers: address|vendor|product code|revision|product name|model. Each one also gets
# --app-name bench-sweep-<n>, which marks its process as this benchmark's (see stop_leftovers).
SERVERS=(
  "127.1.0.10|Schneider Electric|BMX P34 2020|v2.70|Modicon M340|BMX P34 2020"
  "127.1.3.20|Wago|750-8212|03.10.08|PFC200|750-8212/025-000"
  "127.1.100.5|Phoenix Contact|2700974|1.52|ILC 151 ETH|ILC 151 ETH"
  "127.1.200.77|ABB|1SAP130300R0271|2.8.4|AC500 PM573-ETH|PM573-ETH"
  "127.1.255.1|Moxa|MGate MB3170|v4.3|MGate MB3170 Modbus gateway|MB3170-T"
)
MARK=bench-sweep

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (port 502, apt)"
T_START=$(date +%s)

# ---------------------------------------------------------------- prerequisites
need_setup=0
"$PY" -c 'import pymodbus, sys; sys.exit(pymodbus.__version__ != "3.16.1")' 2> /dev/null || need_setup=1
command -v nmap > /dev/null && [ -x /usr/bin/time ] || need_setup=1
if [ $need_setup = 1 ]; then
  log "testbed/setup.sh (pymodbus venv, nmap, GNU time)"
  "$TB/setup.sh" >&2
fi
apt_missing=()
for p in gcc libc6-dev iproute2 python3; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' || apt_missing+=("$p")
done
if ((${#apt_missing[@]})); then
  log "apt-get install ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${apt_missing[@]}" > /dev/null 2>&1 \
    || { apt-get update > /dev/null && apt-get install -y --no-install-recommends "${apt_missing[@]}" > /dev/null; }
fi
command -v cargo > /dev/null || die "cargo not found (install Rust with rustup)"

rm -rf "$OUT"
mkdir -p "$OUT/raw" "$OUT/run"
WORK=$(mktemp -d /tmp/otsensor-bench.XXXXXX)

# ---------------------------------------------------------------- servers (stopped on exit)
SERVER_PIDS=()
is_our_server() {  # is_our_server PID IP: a modbus_server.py of this benchmark on IP
  local cmd
  cmd=$(tr '\0' ' ' < "/proc/$1/cmdline" 2> /dev/null) || return 1
  [[ $cmd == *modbus_server.py*"--host $2 "*"--app-name $MARK-"* ]]
}
listener_pid() {  # listener_pid IP -> pid of the process listening on IP:PORT (empty if none)
  ss -Hltnp "src = $1 and sport = :$PORT" 2> /dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2> /dev/null || return 0
  for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2> /dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2> /dev/null || true
}
cleanup() {
  local rc=$? pid
  for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
  [ ${#SERVER_PIDS[@]} = 0 ] || log "stopped ${#SERVER_PIDS[@]} servers"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nothing else may listen on the swept port inside the sweep, except leftovers of an earlier run
# of this script (killed before its trap ran), which are stopped by their PID
while read -r addr; do
  ip=${addr%:*}
  pid=$(listener_pid "$ip")
  if [ -n "$pid" ] && is_our_server "$pid" "$ip"; then
    log "stopping a leftover benchmark server on $addr (pid $pid)"; stop_pid "$pid"
  else
    die "$addr is in use by something else (pid ${pid:-?}); the device counts would be wrong"
  fi
done < <(ss -Hltn "sport = :$PORT" | awk '{print $4}' | grep -E '^127\.1\.' || true)

# ---------------------------------------------------------------- build
BIN=$WORK/otsensor                    # a copy: a rebuild by someone else cannot swap it mid-run
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "cargo build --release -p otsensor"
  if ! (cd "$REPO" && cargo build --release -p otsensor) > "$OUT/build.log" 2>&1; then
    log "build failed; retrying once in 20 s (the tree may be mid-edit by someone else)"
    sleep 20
    (cd "$REPO" && cargo build --release -p otsensor) > "$OUT/build.log" 2>&1 \
      || { tail -30 "$OUT/build.log" >&2; die "cargo build --release -p otsensor failed (log: $OUT/build.log)"; }
  fi
fi
[ -x "$TARGET_DIR/release/otsensor" ] || die "no $TARGET_DIR/release/otsensor"
cp "$TARGET_DIR/release/otsensor" "$BIN"
REV=$(git -C "$REPO" rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
DIRTY=$(git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2> /dev/null | wc -l)
[ "$DIRTY" = 0 ] || REV="$REV + $DIRTY uncommitted file(s) under crates/ or Cargo.*"
gcc -O2 -Wall -pthread -o "$WORK/connect_loop" "$BENCH/connect_loop.c"

# ---------------------------------------------------------------- start the servers
: > "$OUT/servers.tsv"
n=0
for s in "${SERVERS[@]}"; do
  IFS='|' read -r ip vendor code rev pname model <<< "$s"
  n=$((n + 1))
  setsid "$PY" "$TB/peers/modbus_server.py" --host "$ip" --port "$PORT" --vendor "$vendor" \
    --product-code "$code" --revision "$rev" --product-name "$pname" --model "$model" \
    --url "http://bench-$n.example.invalid" --app-name "$MARK-$n" \
    > "$OUT/run/server-$ip.log" 2>&1 < /dev/null &
  SERVER_PIDS+=($!)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ip" "$vendor" "$code" "$rev" "$pname" "$model" >> "$OUT/servers.tsv"
done
for s in "${SERVERS[@]}"; do
  ip=${s%%|*}
  for ((i = 0; i < 300; i++)); do
    [ -n "$(ss -Hltn "src = $ip and sport = :$PORT")" ] && break
    sleep 0.1
  done
  pid=$(listener_pid "$ip")
  [ -n "$pid" ] || { tail -5 "$OUT/run/server-$ip.log" >&2; die "server $ip:$PORT did not listen within 30 s"; }
  is_our_server "$pid" "$ip" || die "$ip:$PORT is held by pid $pid, not by our server"
done
bad=$(ss -Hltnp | grep -E "pid=($(IFS='|'; echo "${SERVER_PIDS[*]}"))," | awk '{print $4}' | grep -vE '^127\.' || true)
[ -z "$bad" ] || die "SAFETY: a server listens outside loopback: $bad"
log "5 servers listen: $(printf '%s ' "${SERVERS[@]%%|*}")"

# ---------------------------------------------------------------- measuring
idle_pct() {  # the share of CPU time idle over the next half second, in %
  local a b
  a=($(head -1 /proc/stat)); sleep 0.5; b=($(head -1 /proc/stat))
  local tot=0 i
  for ((i = 1; i < ${#a[@]}; i++)); do tot=$((tot + b[i] - a[i])); done
  echo $(( tot > 0 ? 100 * (b[4] - a[4] + b[5] - a[5]) / tot : 100 ))
}
QUIET_SPENT=0
wait_quiet() {  # prints the idle % seen last
  local idle t0
  idle=$(idle_pct)
  t0=$(date +%s)
  while ((idle < QUIET_IDLE && QUIET_SPENT + $(date +%s) - t0 < QUIET_BUDGET)); do
    sleep 1; idle=$(idle_pct)
  done
  QUIET_SPENT=$((QUIET_SPENT + $(date +%s) - t0))
  echo "$idle"
}
# measure NAME ROUND OUTFILE CMD... : runs CMD under GNU time -v, stdout to OUTFILE; appends a line
# to runs.tsv: name round wall_s max_rss_kb user_s sys_s start_ns end_ns idle_pct_before
measure() {
  local name=$1 round=$2 out=$3; shift 3
  local tag=$name.$round t0 t1 idle
  wait_quiet > "$WORK/idle"; idle=$(cat "$WORK/idle")
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$OUT/raw/$tag.time" "$@" > "$out" 2> "$OUT/raw/$tag.err" \
    || { tail -5 "$OUT/raw/$tag.err" >&2; die "$name failed: $*"; }
  t1=$(date +%s%N)
  local rss user sys
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/raw/$tag.time")
  user=$(awk -F': ' '/User time/ {print $2}' "$OUT/raw/$tag.time")
  sys=$(awk -F': ' '/System time/ {print $2}' "$OUT/raw/$tag.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')" "$rss" "$user" "$sys" "$t0" "$t1" "$idle" >> "$OUT/runs.tsv"
  log "$(printf '%-22s round %s: %6.3f s, %6.1f MB (CPUs %s %% idle before)' "$name" "$round" \
         "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)/1e9}')" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$idle")"
}
run_otsensor() {  # run_otsensor NAME ROUND [pacing flags...]
  local name=$1 round=$2; shift 2
  local data=$WORK/data-$name-$round
  rm -rf "$data"
  measure "$name" "$round" "$OUT/raw/$name.$round.jsonl" \
    "$BIN" scan plc --protocol modbus --format json --data "$data" "$@" "$SWEEP"
  # the run's own times (scan start and end) and the store's size, for the phase breakdown
  python3 - "$data/otsensor.db" "$name" "$round" "$(du -sk "$data" | cut -f1)" >> "$OUT/phases.tsv" <<'PYEOF'
import sqlite3, sys
db, name, rnd, kb = sys.argv[1:]
c = sqlite3.connect(db)
started, ended = c.execute("SELECT started_at, ended_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
rows = c.execute("SELECT count(*) FROM probe_log").fetchone()[0]
print(name, rnd, started, ended, rows, kb, sep="\t")
PYEOF
  if [ "$name" = otsensor-raised ] && [ "$round" = 1 ]; then cp "$data/otsensor.db" "$OUT/raw/otsensor-raised.1.db"; fi
  rm -rf "$data"
}
NMAP=(nmap -n -Pn -sT -p"$PORT" --script modbus-discover)
: > "$OUT/runs.tsv"; : > "$OUT/phases.tsv"
uptime > "$OUT/load-before"

# a warm-up that also checks the setup: exactly our 5 addresses accept a connection
"$WORK/connect_loop" -n 256 -b "$SWEEP_BASE" -p "$PORT" -v > "$OUT/raw/warmup.txt" 2> /dev/null
got=$(grep -c '^127\.' "$OUT/raw/warmup.txt" || true)
[ "$got" = 5 ] || die "warm-up: $got addresses of $SWEEP accept on $PORT, want 5 (see $OUT/raw/warmup.txt)"

# b's --parallel: one trial run per candidate, the fastest wins
if [ -n "${PARALLEL:-}" ]; then
  P=$PARALLEL
else
  best=""
  for p in $PARALLEL_CANDIDATES; do
    run_otsensor "trial-parallel-$p" 1 --rate 0 --per-device-rate 0 --parallel "$p"
    w=$(awk -F'\t' -v n="trial-parallel-$p" '$1 == n {print $3}' "$OUT/runs.tsv")
    if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$w; P=$p; fi
  done
  log "--parallel $P was the fastest trial"
fi
echo "$P" > "$OUT/parallel"
NPROC=$(nproc)

for ((r = 1; r <= REPEAT; r++)); do
  measure c-loop "$r" "$OUT/raw/c-loop.$r.txt" "$WORK/connect_loop" -n "$P" -b "$SWEEP_BASE" -p "$PORT" -v
  measure c-loop-threads "$r" "$OUT/raw/c-loop-threads.$r.txt" \
    "$WORK/connect_loop" -n "$P" -j "$NPROC" -b "$SWEEP_BASE" -p "$PORT" -v
  run_otsensor otsensor-raised "$r" --rate 0 --per-device-rate 0 --parallel "$P"
  measure nmap "$r" "$OUT/raw/nmap.$r.txt" "${NMAP[@]}" "$SWEEP"
done
if [ "$NMAP_VARIANTS" = 1 ]; then
  measure nmap-T4 1 "$OUT/raw/nmap-T4.1.txt" "${NMAP[@]}" -T4 "$SWEEP"
  measure nmap-min-rate 1 "$OUT/raw/nmap-min-rate.1.txt" "${NMAP[@]}" --min-rate 10000 "$SWEEP"
fi
# a single address: otsensor's fixed cost (start, store open and migrations, one probe, exit)
rm -rf "$WORK/data-single"
measure otsensor-one-address 1 "$OUT/raw/otsensor-one-address.1.jsonl" \
  "$BIN" scan plc --protocol modbus --format json --data "$WORK/data-single" 127.1.0.10
for ((r = 1; r <= DEFAULT_REPEAT; r++)); do
  log "otsensor with default pacing (about 70 s: 65,536 SYNs at 1000 packets/s)"
  run_otsensor otsensor-default "$r"
done
uptime > "$OUT/load-after"

if [ "$PROFILE" = 1 ]; then
  if command -v perf > /dev/null && perf --version > /dev/null 2>&1; then
    log "profiling one run of b with perf (cpu-clock, 1000 Hz)"
    rm -rf "$WORK/data-profile"
    perf record -q -e cpu-clock -F 1000 -g -o "$WORK/perf.data" -- "$BIN" scan plc --protocol modbus \
      --format json --data "$WORK/data-profile" --rate 0 --per-device-rate 0 --parallel "$P" "$SWEEP" \
      > /dev/null 2> "$OUT/raw/profile.err" || log "perf record failed (see $OUT/raw/profile.err)"
    {
      echo "# CPU samples (1 ms each) per thread and 100 ms slice: scan = tokio-rt-worker busy, store = sqlx-sqlite-worker busy"
      cat "$OUT/raw/profile.err"
      perf script -i "$WORK/perf.data" -F comm,tid,time 2> /dev/null | awk '{t=$NF; sub(":","",t); if (s == "") s = t;
        b = int((t - s) * 10); k = b " " $1; c[k]++} END {for (k in c) print k, c[k]}' | sort -n -k1,1 -k2,2 |
        awk 'BEGIN {last = -1} {if ($1 != last) {if (line != "") print line; line = sprintf("%5.1f s", $1 / 10); last = $1}
              line = line "  " $2 "=" $3} END {print line}' || true
      echo
      echo "# self time by thread and library"
      perf report -i "$WORK/perf.data" --no-children --sort comm,dso --stdio -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -15 || true
      echo
      echo "# inclusive time by symbol (top 60)"
      perf report -i "$WORK/perf.data" --children --sort sym --stdio -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -60 || true
    } > "$OUT/profile.txt"
    log "profile: $OUT/profile.txt"
  else
    log "PROFILE=1: perf is not installed (apt-get install linux-perf); skipped"
  fi
fi

# ---------------------------------------------------------------- report
{
  echo "nproc=$NPROC"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "os=Debian $(cat /etc/debian_version)"
  echo "rev=$REV"
  echo "otsensor_version=$("$BIN" --version)"
  echo "nmap_version=$(nmap --version | head -1)"
  echo "pymodbus=$("$PY" -c 'import pymodbus; print(pymodbus.__version__)')"
  echo "gcc=$(gcc --version | head -1)"
  echo "rustc=$(rustc --version 2> /dev/null || echo unknown)"
  echo "parallel=$P"
  echo "parallel_candidates=${PARALLEL:+}${PARALLEL:-$PARALLEL_CANDIDATES}"
  echo "parallel_fixed=${PARALLEL:+1}"
  echo "repeat=$REPEAT"
  echo "quiet_idle=$QUIET_IDLE"
  echo "quiet_budget=$QUIET_BUDGET"
  echo "quiet_spent=$QUIET_SPENT"
  echo "load_before=$(cat "$OUT/load-before")"
  echo "load_after=$(cat "$OUT/load-after")"
  echo "nmap_cmd=${NMAP[*]} $SWEEP"
  echo "sweep=$SWEEP"
  echo "port=$PORT"
  echo "script_seconds=$(($(date +%s) - T_START))"
} > "$OUT/facts.txt"
python3 "$BENCH/report.py" "$OUT" "$RESULTS"
gzip -f "$OUT"/raw/nmap*.txt "$OUT"/raw/*.db   # nmap prints every closed host: ~10 MB per run
log "wrote $RESULTS ($(($(date +%s) - T_START)) s in all)"
