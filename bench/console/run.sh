#!/usr/bin/env bash
# Time to first render of the console's inventory and device map (issue 8, "Benchmark"), in the
# browser: a store with DEVICES (10,000) devices, `otsensor serve` over
# HTTPS on 127.33.10.2, headless Chromium driven by chromedriver (bench/console/render.py),
# ROUNDS (7) rounds of each page, medians. Writes bench/RESULTS-console.md; raw output in
# bench/out-console/.
#
# SOURCE=sim (default): the realistic path: `otsensor sim --devices DEVICES --net SIM_NET`
# (127.33.128.0/17), then the four PLC scans of the block and the switch scan of the sim's
# switches (pacing lifted), which store the devices and the links the map draws; the sim is
# stopped before the browser starts. SOURCE=seed: bench/api/seed.py (PLCs with their racks,
# gateways, BACnet routers, switches with access-port links), in seconds, no scan.
#
#   bench/console/run.sh
#   OTSENSOR=/path/to/otsensor DEVICES=2000 ROUNDS=3 bench/console/run.sh
#
# Loopback only: the service on LISTEN (127.33.10.2:18444), chromedriver on 127.0.0.1:DRIVER_PORT,
# Chromium with every other destination sent to a dead proxy (127.0.0.1:9).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OTSENSOR="${OTSENSOR:-$REPO/target/release/otsensor}"
DEVICES="${DEVICES:-10000}"
LISTEN="${LISTEN:-127.33.10.2:18444}"
DRIVER_PORT="${DRIVER_PORT:-19533}"
ROUNDS="${ROUNDS:-7}"
PAGES="${PAGES:-/devices /devices?per_page=1000 /map}"
SOURCE="${SOURCE:-sim}"
SIM_NET="${SIM_NET:-127.33.128.0/17}"
OUT="${OUT:-$REPO/bench/out-console}"
RESULTS="${RESULTS:-$REPO/bench/RESULTS-console.md}"
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export BENCH_PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

die() { echo "bench/console: $*" >&2; exit 1; }

case "$LISTEN" in 127.*) ;; *) die "LISTEN=$LISTEN: loopback (127.x.y.z) only" ;; esac
[ -x "$OTSENSOR" ] || die "$OTSENSOR: no otsensor binary (cargo build --release -p otsensor, or set OTSENSOR)"
[ -x "$CHROMEDRIVER" ] || die "$CHROMEDRIVER missing (apt-get install chromium-driver)"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing (apt-get install chromium)"

rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$(mktemp -d /tmp/otsensor-bench-console.XXXXXX)"
SERVER_PID=""
DRIVER_PID=""
SIM_PID=""
cleanup() {
    for p in $DRIVER_PID $SERVER_PID $SIM_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$DATA"
}
trap cleanup EXIT

cp "$OTSENSOR" "$OUT/otsensor"
BIN="$OUT/otsensor"
"$BIN" --version >"$OUT/version.txt" 2>&1 || true
/usr/bin/chromium --version >"$OUT/chromium.txt" 2>/dev/null || true

echo "bench/console: store with $DEVICES devices ($DATA)"
OTSENSOR_PASSWORD="$BENCH_PASSWORD" "$BIN" user add bench --role admin --data "$DATA" >"$OUT/user.log" 2>&1 \
    || { cat "$OUT/user.log" >&2; die "otsensor user add failed"; }
case "$SOURCE" in
seed)
    python3 "$REPO/bench/api/seed.py" --db "$DATA/otsensor.db" --devices "$DEVICES" >"$OUT/seed.json"
    ;;
sim)
    case "$SIM_NET" in 127.*) ;; *) die "SIM_NET=$SIM_NET: loopback only" ;; esac
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    "$BIN" sim --devices "$DEVICES" --net "$SIM_NET" >"$OUT/sim.out" 2>"$OUT/sim.err" &
    SIM_PID=$!
    for _ in $(seq 1 900); do
        grep -q '"ready"' "$OUT/sim.out" 2>/dev/null && break
        kill -0 "$SIM_PID" 2>/dev/null || { tail -5 "$OUT/sim.err" >&2; die "otsensor sim exited"; }
        sleep 0.2
    done
    grep -q '"ready"' "$OUT/sim.out" || die "otsensor sim not ready within 180 s"
    SWITCHES="$(python3 -c 'import json,sys; print(",".join(json.loads(open(sys.argv[1]).readline())["snmp"]["addresses"]))' "$OUT/sim.out")"
    COMMUNITY="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["snmp"].get("community","public"))' "$OUT/sim.out")"
    pace=(--rate 0 --per-device-rate 0 --allow "$SIM_NET")
    start=$(date +%s.%N)
    for p in modbus s7 enip bacnet; do
        "$BIN" scan plc --protocol "$p" "${pace[@]}" --parallel 256 --format json --data "$DATA" "$SIM_NET" \
            >"$OUT/scan-$p.jsonl" 2>"$OUT/scan-$p.err" || die "scan plc $p failed: $(tail -2 "$OUT/scan-$p.err")"
        tail -1 "$OUT/scan-$p.err"
    done
    "$BIN" scan switch --protocol snmp-v2c --community "$COMMUNITY" "${pace[@]}" --format json --data "$DATA" "$SWITCHES" \
        >"$OUT/scan-switch.jsonl" 2>"$OUT/scan-switch.err" || die "scan switch failed: $(tail -2 "$OUT/scan-switch.err")"
    tail -1 "$OUT/scan-switch.err"
    scans_s=$(echo "$(date +%s.%N) - $start" | bc)
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=""
    python3 - "$DATA/otsensor.db" "$scans_s" >"$OUT/seed.json" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n, top = c.execute("SELECT COUNT(*), SUM(parent_id IS NULL) FROM devices").fetchone()
links = c.execute("SELECT COUNT(*) FROM links WHERE active = 1").fetchone()[0]
print(json.dumps({"source": "sim", "devices": n, "top_level": top, "sub_devices": n - top,
                  "links": links, "scan_seconds": round(float(sys.argv[2]), 1)}))
PY
    ;;
*) die "SOURCE=$SOURCE: sim or seed" ;;
esac
cat "$OUT/seed.json"

"$BIN" serve --listen "$LISTEN" --data "$DATA" >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
BASE="https://$LISTEN"
for _ in $(seq 1 100); do
    curl -ksf "$BASE/api/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; die "otsensor serve exited"; }
    sleep 0.2
done
curl -ksf "$BASE/api/health" >/dev/null || die "otsensor serve does not answer on $BASE"

"$CHROMEDRIVER" --port="$DRIVER_PORT" --allowed-ips=127.0.0.1 >"$OUT/chromedriver.log" 2>&1 &
DRIVER_PID=$!

page_args=()
for p in $PAGES; do page_args+=(--page "$p"); done
cat /proc/loadavg >"$OUT/loadavg.before"
python3 "$HERE/render.py" --base "$BASE" --user bench --password-env BENCH_PASSWORD \
    --chromedriver-port "$DRIVER_PORT" --rounds "$ROUNDS" "${page_args[@]}" --out "$OUT/render.jsonl"
cat /proc/loadavg >"$OUT/loadavg.after"

python3 "$HERE/report.py" "$OUT" "$RESULTS" --devices "$DEVICES" --rounds "$ROUNDS"
echo "bench/console: wrote $RESULTS"
