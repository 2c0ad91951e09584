#!/usr/bin/env bash
# bench/plc/run.sh -- issue 3: PLC identification, otsensor against nmap's ICS scripts, one run.
#
#   1. per device kind, one device: the testbed peers (testbed/config.sh) modbus 127.0.0.10
#      (pymodbus), s7 127.0.0.20 (python-snap7), enip 127.0.0.30 (cpppo), bacnet 127.0.0.40
#      (bacpypes3), each identified by
#        - otsensor scan plc --protocol KIND IP          (default pacing: 40 packets/s per device)
#        - the same with --rate 0 --per-device-rate 0     (pacing lifted)
#        - nmap -n -Pn -sT|-sU -pPORT --script modbus-discover|s7-info|enip-info|bacnet-info IP
#      in ROUNDS alternating rounds (the tool that goes first swaps every round);
#   2. a /24 with one peer of each kind: this script starts its own four peers (the same peer
#      scripts and identities) on 127.33.1.10 (Modbus), .20 (S7), .30 (EtherNet/IP), .40 (BACnet)
#      and sweeps 127.33.1.0/24 with one otsensor pass over all four protocols
#      (`--protocol s7,enip,bacnet,modbus`) and over the issue's three (`s7,enip,bacnet`), at default
#      pacing and with the pacing lifted, on a fresh store and on a kept one, against one nmap run
#      of the four scripts and one of the three scripts together, SWEEP_ROUNDS alternating rounds;
# and checks every run's identity fields against the configured values. Writes
# bench/RESULTS-plc.md and bench/out/plc/summary.json (read by bench/run.sh).
#
# Loopback only: the peers bind 127.0.0.x / 127.33.1.x; nmap runs with -n.
#   OTSENSOR_BIN=path     use this binary (else: cargo build --release -p otsensor)
#   ROUNDS=5 SWEEP_ROUNDS=3
# The testbed peers modbus, s7, enip and bacnet are started (and stopped again) when not running.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TB=$ROOT/testbed
export TESTBED_TMP=${TESTBED_TMP:-$ROOT/.testbed}
# shellcheck disable=SC1091
. "$TB/config.sh"
# shellcheck disable=SC1091
. "$TB/lib.sh"
ROUNDS=${ROUNDS:-5}
SWEEP_ROUNDS=${SWEEP_ROUNDS:-5}
OUT=$ROOT/bench/out/plc
RESULTS=$ROOT/bench/RESULTS-plc.md
NET=127.33.1
SWEEP=$NET.0/24
WORK=$(mktemp -d /tmp/otsensor-bench-plc.XXXXXX)
log() { printf '[bench-plc %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

started_peers=()
OWN_PIDS=()
cleanup() {
  local rc=$? pid
  for pid in "${OWN_PIDS[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  ((${#started_peers[@]} == 0)) || "$TB/stop.sh" "${started_peers[@]}" > /dev/null || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in nmap /usr/bin/time python3; do
  command -v "$tool" > /dev/null || die "$tool missing (testbed/setup.sh installs it)"
done
[ -x "$PY" ] || die "no testbed venv at $PY (testbed/setup.sh)"

# ---------------------------------------------------------------- the testbed peers
for p in modbus s7 enip bacnet; do
  if ! peer_pid "$p" > /dev/null; then
    log "starting testbed peer $p"
    "$TB/start.sh" "$p" >&2 || die "testbed/start.sh $p failed"
    started_peers+=("$p")
  fi
done

# ---------------------------------------------------------------- binary
BIN=${OTSENSOR_BIN:-}
if [ -z "$BIN" ]; then
  log "cargo build --release -p otsensor"
  (cd "$ROOT" && cargo build --release -q -p otsensor) || die "release build failed"
  BIN=$ROOT/target/release/otsensor
fi
cp "$BIN" "$WORK/otsensor"   # a rebuild by someone else cannot swap it mid-run
BIN=$WORK/otsensor

# ---------------------------------------------------------------- our own /24 peers
own_listening() { ss -Hln"$1" "src $2:$3" 2> /dev/null | grep -q .; }
for ep in "t $NET.10 502" "t $NET.20 102" "t $NET.30 44818" "u $NET.40 47808"; do
  # shellcheck disable=SC2086
  ! own_listening $ep || die "$ep is already in use (a leftover run? stop it first)"
done
mkdir -p "$OUT"
rm -f "$OUT"/*.log
launch() {  # launch NAME CMD...
  local name=$1; shift
  setsid "$@" > "$OUT/peer-$name.log" 2>&1 < /dev/null &
  OWN_PIDS+=($!)
}
launch modbus "$PY" "$TB/peers/modbus_server.py" --host "$NET.10" --port 502 \
  --vendor "$MODBUS_VENDOR" --product-code "$MODBUS_PRODCODE" --revision "$MODBUS_REV" \
  --product-name "$MODBUS_PRODNAME" --model "$MODBUS_MODEL" --url "$MODBUS_URL" --app-name "$MODBUS_APPNAME"
launch s7 "$PY" "$TB/peers/s7_server.py" "$NET.20" 102 "$S7_ORDER" "$S7_FW" "$S7_MODULE" \
  "$S7_SERIAL" "$S7_ASNAME" "$S7_PLANT" --mode "$S7_MODE" --rack "$S7_RACK" \
  --cp "$S7_CP_SLOT|$S7_CP_ORDER|$S7_CP_FW|$S7_CP_MODULE|$S7_CP_SERIAL"
launch enip "$PY" -m cpppo.server.enip --no-print -a "$NET.30:44818" -c "$AT/cfg/enip.cfg" 'Speed=INT[10]'
launch bacnet "$PY" "$TB/peers/bacnet_device.py" --address "$NET.40/32:47808" \
  --instance "$BACNET_INSTANCE" --name "$BACNET_NAME" --vendor-id "$BACNET_VENDOR_ID" \
  --vendor-name "$BACNET_VENDOR_NAME" --model "$BACNET_MODEL" --firmware "$BACNET_FIRMWARE" \
  --app-version "$BACNET_APPVER" --location "$BACNET_LOCATION" --description "$BACNET_DESCRIPTION"
for ep in "t $NET.10 502" "t $NET.20 102" "t $NET.30 44818" "u $NET.30 44818" "u $NET.40 47808"; do
  for ((i = 0; i < 300; i++)); do
    # shellcheck disable=SC2086
    own_listening $ep && break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  own_listening $ep || die "own peer $ep did not listen within 30 s (logs: $OUT/peer-*.log)"
done
bad=$(ss -Hlntup | grep -E "pid=($(echo "${OWN_PIDS[@]}" | tr ' ' '|'))," | awk '{print $5}' | grep -vE '^127\.' || true)
[ -z "$bad" ] || die "SAFETY: a peer listens outside loopback: $bad"
log "own peers listen on $NET.10 (Modbus), .20 (S7), .30 (EtherNet/IP), .40 (BACnet)"

# ---------------------------------------------------------------- measuring
: > "$OUT/runs.tsv"
# timed NAME ROUND CMD... : wall (ns clock around the process), peak RSS; stdout -> OUT/NAME.ROUND.out
timed() {
  local name=$1 round=$2; shift 2
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" > "$OUT/$name.$round.out" 2> "$OUT/$name.$round.err" || rc=$?
  t1=$(date +%s%N)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')" \
    "$(tail -1 "$WORK/rss")" "$rc" "$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/runs.tsv"
}
otsensor_run() {  # otsensor_run NAME ROUND KIND TARGET [flags...]
  local name=$1 round=$2 kind=$3 target=$4; shift 4
  rm -rf "$WORK/data"
  timed "$name" "$round" "$BIN" scan plc --protocol "$kind" --format json --data "$WORK/data" "$@" "$target"
}
nmap_args() {  # nmap_args KIND -> scan type, port and script of nmap for that kind
  case $1 in
    modbus) echo "-sT -p$MODBUS_PORT --script modbus-discover" ;;
    s7) echo "-sT -p$S7_PORT --script s7-info" ;;
    enip) echo "-sT -p$ENIP_PORT --script enip-info" ;;
    bacnet) echo "-sU -p$BACNET_PORT --script bacnet-info" ;;
  esac
}
declare -A IP=([modbus]=$MODBUS_IP [s7]=$S7_IP [enip]=$ENIP_IP [bacnet]=$BACNET_IP)
KINDS="modbus s7 enip bacnet"
uptime > "$OUT/load-before"

# warm-up (page cache, Python peers' first request), not measured
for k in $KINDS; do
  # shellcheck disable=SC2046
  nmap -n -Pn $(nmap_args "$k") "${IP[$k]}" > /dev/null 2>&1 || true
  rm -rf "$WORK/data"; "$BIN" scan plc --protocol "$k" --data "$WORK/data" "${IP[$k]}" > /dev/null 2>&1 || true
done

for ((r = 1; r <= ROUNDS; r++)); do
  log "per-device round $r/$ROUNDS"
  for k in $KINDS; do
    # shellcheck disable=SC2046
    if ((r % 2)); then
      otsensor_run "one-$k-otsensor" "$r" "$k" "${IP[$k]}"
      otsensor_run "one-$k-otsensor-raised" "$r" "$k" "${IP[$k]}" --rate 0 --per-device-rate 0
      timed "one-$k-nmap" "$r" nmap -n -Pn $(nmap_args "$k") "${IP[$k]}"
    else
      timed "one-$k-nmap" "$r" nmap -n -Pn $(nmap_args "$k") "${IP[$k]}"
      otsensor_run "one-$k-otsensor-raised" "$r" "$k" "${IP[$k]}" --rate 0 --per-device-rate 0
      otsensor_run "one-$k-otsensor" "$r" "$k" "${IP[$k]}"
    fi
  done
done

# shellcheck disable=SC2054  # the commas are nmap's
NMAP_SWEEP=(nmap -n -Pn -sT -sU -p "T:502,102,44818,U:47808" --script modbus-discover,s7-info,enip-info,bacnet-info "$SWEEP")
# shellcheck disable=SC2054
NMAP_SWEEP3=(nmap -n -Pn -sT -sU -p "T:102,44818,U:47808" --script s7-info,enip-info,bacnet-info "$SWEEP")
LIFTED=(--rate 0 --per-device-rate 0)
sweep_run() {  # sweep_run NAME ROUND PROTOCOLS fresh|kept [flags...]: one otsensor pass over the /24
  local name=$1 round=$2 protocols=$3 store=$4; shift 4
  local data=$WORK/data-kept
  if [ "$store" = fresh ]; then data=$WORK/data-fresh; rm -rf "$data"; fi
  timed "$name" "$round" "$BIN" scan plc --protocol "$protocols" --format json --data "$data" "$@" "$SWEEP"
}
# the kept store holds the plant already, as a sensor's store does after its first scan
"$BIN" scan plc --protocol s7,enip,bacnet,modbus --data "$WORK/data-kept" "${LIFTED[@]}" "$SWEEP" > /dev/null 2>&1 || true
for ((r = 1; r <= SWEEP_ROUNDS; r++)); do
  log "/24 round $r/$SWEEP_ROUNDS"
  ours=(
    "sweep-otsensor $r s7,enip,bacnet,modbus fresh"
    "sweep-otsensor-raised $r s7,enip,bacnet,modbus fresh ${LIFTED[*]}"
    "sweep-otsensor-raised-kept $r s7,enip,bacnet,modbus kept ${LIFTED[*]}"
    "sweep3-otsensor $r s7,enip,bacnet fresh"
    "sweep3-otsensor-raised $r s7,enip,bacnet fresh ${LIFTED[*]}"
  )
  if ((r % 2)); then
    # shellcheck disable=SC2086
    for o in "${ours[@]}"; do sweep_run $o; done
    timed sweep-nmap "$r" "${NMAP_SWEEP[@]}"
    timed sweep3-nmap "$r" "${NMAP_SWEEP3[@]}"
  else
    timed sweep3-nmap "$r" "${NMAP_SWEEP3[@]}"
    timed sweep-nmap "$r" "${NMAP_SWEEP[@]}"
    # shellcheck disable=SC2086
    for ((i = ${#ours[@]} - 1; i >= 0; i--)); do sweep_run ${ours[$i]}; done
  fi
done

# ---------------------------------------------------------------- round trips (one more run each, captured)
# requests = packets to the device's port that carry a payload (TCP) or UDP datagrams to it;
# connections = TCP SYNs to it. tcpdump on lo, filtered to the one address.
: > "$OUT/packets.tsv"
port_of() { case $1 in modbus) echo "$MODBUS_PORT" ;; s7) echo "$S7_PORT" ;; enip) echo "$ENIP_PORT" ;; bacnet) echo "$BACNET_PORT" ;; esac; }
count_packets() {  # count_packets NAME KIND CMD...
  local name=$1 k=$2 ip port cap; shift 2
  ip=${IP[$k]}; port=$(port_of "$k"); cap=$WORK/$name.pcap
  tcpdump -i lo -nn -U -s 200 -w "$cap" "host $ip" 2> "$cap.err" &
  local tp=$! i
  for ((i = 0; i < 100; i++)); do grep -q listening "$cap.err" 2> /dev/null && break; sleep 0.1; done
  sleep 0.3
  "$@" > /dev/null 2>&1 || true
  sleep 1
  kill -INT "$tp" 2> /dev/null || true
  wait "$tp" 2> /dev/null || true
  local req syn
  if [ "$k" = bacnet ]; then
    req=$(tcpdump -r "$cap" -nn "udp and dst host $ip and dst port $port" 2> /dev/null | wc -l)
    syn=0
  else
    req=$(tcpdump -r "$cap" -nn "tcp and dst host $ip and dst port $port and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 0" 2> /dev/null | wc -l)
    syn=$(tcpdump -r "$cap" -nn "tcp and dst host $ip and dst port $port and tcp[tcpflags] & tcp-syn != 0" 2> /dev/null | wc -l)
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$k" "$req" "$syn" >> "$OUT/packets.tsv"
}
if command -v tcpdump > /dev/null; then
  log "round trips (tcpdump on lo)"
  for k in $KINDS; do
    rm -rf "$WORK/data"
    count_packets "one-$k-otsensor" "$k" "$BIN" scan plc --protocol "$k" --format json --data "$WORK/data" "${IP[$k]}"
    # shellcheck disable=SC2046
    count_packets "one-$k-nmap" "$k" nmap -n -Pn $(nmap_args "$k") "${IP[$k]}"
  done
else
  log "tcpdump missing: no round-trip counts"
fi
uptime > "$OUT/load-after"

{
  echo "rounds=$ROUNDS"
  echo "sweep_rounds=$SWEEP_ROUNDS"
  echo "sweep=$SWEEP"
  echo "nmap_sweep=${NMAP_SWEEP[*]}"
  echo "nmap_sweep3=${NMAP_SWEEP3[*]}"
  echo "otsensor_version=$("$BIN" --version)"
  echo "nmap_version=$(nmap --version | head -1)"
  echo "load_before=$(cat "$OUT/load-before")"
  echo "load_after=$(cat "$OUT/load-after")"
  echo "nproc=$(nproc)"
  for k in $KINDS; do echo "ip_$k=${IP[$k]}"; echo "nmap_$k=nmap -n -Pn $(nmap_args "$k") ${IP[$k]}"; done
} > "$OUT/facts.txt"
TB=$TB python3 "$ROOT/bench/plc/report.py" "$OUT" "$RESULTS"
log "wrote $RESULTS"
