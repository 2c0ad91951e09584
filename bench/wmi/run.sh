#!/usr/bin/env bash
# bench/wmi/run.sh -- issue 6: a full WMI inventory of one host, otsensor against impacket's client
# (testbed/wmi/client_impacket.py: the call sequence of impacket's wmiquery.py example, the same
# six classes otsensor asks for), one run, on the testbed's impacket-based responder:
#   1. one host (WMI_IP, the `wmi` peer): ROUNDS alternating rounds of
#        - otsensor wem scan --ranges R.csv --level privacy (default pacing: 40 packets/s per host)
#        - the same with --rate 0 --per-device-rate 0
#        - client_impacket.py HOST USER --domain D --level privacy
#   2. HOSTS hosts in parallel: this script starts its own HOSTS responders (testbed/wmi/server.py,
#      the same dataset and user) on 127.33.2.1 ... 127.33.2.HOSTS, then one otsensor wem scan of
#      that range with --parallel HOSTS (default pacing) against HOSTS impacket clients at once,
#      PAR_ROUNDS alternating rounds;
# and checks every run's inventory against the dataset. Writes bench/RESULTS-wmi.md and
# bench/out/wmi/summary.json (read by bench/run.sh).
#   OTSENSOR_BIN=path   use this binary (else: cargo build --release -p otsensor)
#   ROUNDS=5 HOSTS=50 PAR_ROUNDS=2
# Loopback only: every responder binds one 127.x address (135 and a dynamic port on it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TB=$ROOT/testbed
export TESTBED_TMP=${TESTBED_TMP:-$ROOT/.testbed}
# shellcheck disable=SC1091
. "$TB/config.sh"
# shellcheck disable=SC1091
. "$TB/lib.sh"
ROUNDS=${ROUNDS:-5}
HOSTS=${HOSTS:-50}
PAR_ROUNDS=${PAR_ROUNDS:-2}
NET=127.33.2
OUT=$ROOT/bench/out/wmi
RESULTS=$ROOT/bench/RESULTS-wmi.md
WORK=$(mktemp -d /tmp/otsensor-bench-wmi.XXXXXX)
log() { printf '[bench-wmi %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
((HOSTS >= 1 && HOSTS <= 250)) || die "HOSTS must be 1..250"

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
[ -x "$PY" ] || die "no testbed venv at $PY (testbed/setup.sh)"
command -v /usr/bin/time > /dev/null || die "GNU time missing"

if ! peer_pid wmi > /dev/null; then
  log "starting testbed peer wmi"
  "$TB/start.sh" wmi >&2 || die "testbed/start.sh wmi failed"
  started_peers+=(wmi)
fi

BIN=${OTSENSOR_BIN:-}
if [ -z "$BIN" ]; then
  log "cargo build --release -p otsensor"
  (cd "$ROOT" && cargo build --release -q -p otsensor) || die "release build failed"
  BIN=$ROOT/target/release/otsensor
fi
cp "$BIN" "$WORK/otsensor"
BIN=$WORK/otsensor
rm -rf "$OUT"; mkdir -p "$OUT"

# ---------------------------------------------------------------- measuring
: > "$OUT/runs.tsv"
timed() {  # timed NAME ROUND CMD... : wall, peak RSS, exit code, load; stdout -> OUT/NAME.ROUND.out
  local name=$1 round=$2; shift 2
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$@" > "$OUT/$name.$round.out" 2> "$OUT/$name.$round.err" || rc=$?
  t1=$(date +%s%N)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')" \
    "$(tail -1 "$WORK/rss")" "$rc" "$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/runs.tsv"
}
ranges() {  # ranges FROM TO -> a ranges file
  printf 'FROM,TO,USER,PASSWORD,DISABLE\n%s,%s,%s\\%s,%s,FALSE\n' "$1" "$2" "$WMI_DOMAIN" "$WMI_USER" "$WMI_PASS" > "$WORK/ranges-$1.csv"
  echo "$WORK/ranges-$1.csv"
}
otsensor_run() {  # otsensor_run NAME ROUND FROM TO [flags...]
  local name=$1 round=$2 from=$3 to=$4 r; shift 4
  r=$(ranges "$from" "$to")
  rm -rf "$WORK/data"
  timed "$name" "$round" "$BIN" wem scan --ranges "$r" --results "$OUT/$name.$round.csv" --level privacy \
    --format json --data "$WORK/data" "$@"
}
impacket_one() {  # impacket_one HOST: one inventory with impacket's client
  WMI_PASS="$WMI_PASS" "$PY" "$TB/wmi/client_impacket.py" "$1" "$WMI_USER" --domain "$WMI_DOMAIN" --level privacy
}
impacket_many() {  # impacket_many N: N clients at once against NET.1 .. NET.N, one JSON line each
  local i pids=()
  for ((i = 1; i <= $1; i++)); do impacket_one "$NET.$i" > "$WORK/imp.$i" & pids+=($!); done
  wait "${pids[@]}"   # only these: the caller may have other children (the responders)
  for ((i = 1; i <= $1; i++)); do cat "$WORK/imp.$i"; done
}
export -f impacket_one impacket_many
export WMI_PASS WMI_USER WMI_DOMAIN PY TB NET WORK
uptime > "$OUT/load-before"

# warm-up, not measured
impacket_one "$WMI_IP" > /dev/null 2>&1 || true
rm -rf "$WORK/data"; "$BIN" wem scan --ranges "$(ranges "$WMI_IP" "$WMI_IP")" --data "$WORK/data" > /dev/null 2>&1 || true

for ((r = 1; r <= ROUNDS; r++)); do
  log "one host, round $r/$ROUNDS"
  if ((r % 2)); then
    otsensor_run one-otsensor "$r" "$WMI_IP" "$WMI_IP"
    otsensor_run one-otsensor-raised "$r" "$WMI_IP" "$WMI_IP" --rate 0 --per-device-rate 0
    timed one-impacket "$r" bash -c "impacket_one $WMI_IP"
  else
    timed one-impacket "$r" bash -c "impacket_one $WMI_IP"
    otsensor_run one-otsensor-raised "$r" "$WMI_IP" "$WMI_IP" --rate 0 --per-device-rate 0
    otsensor_run one-otsensor "$r" "$WMI_IP" "$WMI_IP"
  fi
done

# ---------------------------------------------------------------- round trips (one more run each, captured)
# requests = TCP segments carrying data sent to the responder (135 and its dynamic port);
# connections = TCP SYNs to it. tcpdump on lo, filtered to the one address.
: > "$OUT/packets.tsv"
count_packets() {  # count_packets NAME CMD...
  local name=$1 cap=$WORK/$1.pcap tp i; shift
  tcpdump -i lo -nn -U -s 200 -w "$cap" "host $WMI_IP" 2> "$cap.err" &
  tp=$!
  for ((i = 0; i < 100; i++)); do grep -q listening "$cap.err" 2> /dev/null && break; sleep 0.1; done
  sleep 0.3
  "$@" > /dev/null 2>&1 || true
  sleep 1
  kill -INT "$tp" 2> /dev/null || true
  wait "$tp" 2> /dev/null || true
  printf '%s\t%s\t%s\n' "$name" \
    "$(tcpdump -r "$cap" -nn "tcp and dst host $WMI_IP and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) > 0" 2> /dev/null | wc -l)" \
    "$(tcpdump -r "$cap" -nn "tcp and dst host $WMI_IP and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0" 2> /dev/null | wc -l)" \
    >> "$OUT/packets.tsv"
}
if command -v tcpdump > /dev/null; then
  log "round trips (tcpdump on lo)"
  rm -rf "$WORK/data"
  count_packets otsensor "$BIN" wem scan --ranges "$(ranges "$WMI_IP" "$WMI_IP")" --level privacy --data "$WORK/data"
  count_packets impacket bash -c "impacket_one $WMI_IP"
fi

# ---------------------------------------------------------------- HOSTS responders of our own
if ((HOSTS > 0 && PAR_ROUNDS > 0)); then
  log "starting $HOSTS WMI responders on $NET.1-$NET.$HOSTS"
  for ((i = 1; i <= HOSTS; i++)); do
    ! ss -Hlnt "src $NET.$i:$WMI_PORT" | grep -q . || die "$NET.$i:$WMI_PORT is already in use (a leftover run?)"
  done
  T_START=$(date +%s)
  for ((i = 1; i <= HOSTS; i++)); do
    WMI_PASS="$WMI_PASS" setsid "$PY" "$TB/wmi/server.py" --host "$NET.$i" --port "$WMI_PORT" --dataset "$WMI_DATASET" \
      --user "$WMI_USER" --authn-hint "$WMI_AUTHN_HINT" > "$OUT/responder-$i.log" 2>&1 < /dev/null &
    OWN_PIDS+=($!)
  done
  for ((i = 1; i <= HOSTS; i++)); do
    for ((t = 0; t < 1200; t++)); do ss -Hlnt "src $NET.$i:$WMI_PORT" | grep -q . && break; sleep 0.1; done
    ss -Hlnt "src $NET.$i:$WMI_PORT" | grep -q . || die "responder $NET.$i did not listen within 120 s"
  done
  bad=$(ss -Hlntup | grep -E "pid=($(echo "${OWN_PIDS[@]}" | tr ' ' '|'))," | awk '{print $5}' | grep -vE '^127\.' || true)
  [ -z "$bad" ] || die "SAFETY: a responder listens outside loopback: $bad"
  log "$HOSTS responders up in $(($(date +%s) - T_START)) s"
  bash -c "impacket_many 2" > /dev/null 2>&1 || true   # warm-up
  for ((r = 1; r <= PAR_ROUNDS; r++)); do
    log "$HOSTS hosts in parallel, round $r/$PAR_ROUNDS"
    if ((r % 2)); then
      otsensor_run par-otsensor "$r" "$NET.1" "$NET.$HOSTS" --parallel "$HOSTS"
      timed par-impacket "$r" bash -c "impacket_many $HOSTS"
    else
      timed par-impacket "$r" bash -c "impacket_many $HOSTS"
      otsensor_run par-otsensor "$r" "$NET.1" "$NET.$HOSTS" --parallel "$HOSTS"
    fi
  done
fi
uptime > "$OUT/load-after"

{
  echo "rounds=$ROUNDS"
  echo "hosts=$HOSTS"
  echo "par_rounds=$PAR_ROUNDS"
  echo "net=$NET"
  echo "wmi_ip=$WMI_IP"
  echo "dataset=$WMI_DATASET"
  echo "otsensor_version=$("$BIN" --version)"
  echo "impacket_version=$("$PY" -c 'import impacket; print(impacket.version.version)' 2> /dev/null || "$PY" -m pip show impacket 2> /dev/null | awk '/^Version/ {print $2}')"
  echo "python_version=$("$PY" --version)"
  echo "load_before=$(cat "$OUT/load-before")"
  echo "load_after=$(cat "$OUT/load-after")"
  echo "nproc=$(nproc)"
} > "$OUT/facts.txt"
TB=$TB PY=$PY python3 "$ROOT/bench/wmi/report.py" "$OUT" "$RESULTS"
log "wrote $RESULTS"
