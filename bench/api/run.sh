#!/usr/bin/env bash
# The devices list of the REST API under load (issue 7, "Benchmark"): a store with DEVICES
# (100,000) devices, `otsensor serve` over HTTPS on 127.33.10.1, an API token, then wrk per kind
# of page (bench/api/devices.lua), DURATION each, with each of CONNECTIONS ("1 8": one client
# alone, the server's time per page; then 8 concurrent clients, the load).
# Writes bench/RESULTS-api.md (bench/api/report.py); raw output in bench/out-api/.
#
#   sudo bench/api/run.sh                      # as root (installs wrk with apt-get if missing)
#   OTSENSOR=/path/to/otsensor DEVICES=10000 DURATION=5s bench/api/run.sh
#
# Loopback only: the service listens on LISTEN (127.33.10.1:18443); the seeded devices'
# addresses (127.33.16.0-127.33.255.250) are data only, nothing is sent to them.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OTSENSOR="${OTSENSOR:-$REPO/target/release/otsensor}"
DEVICES="${DEVICES:-100000}"
LISTEN="${LISTEN:-127.33.10.1:18443}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-1 8}"
THREADS="${THREADS:-2}"
SCENARIOS="${SCENARIOS:-first deep sorted filtered big mixed}"
OUT="${OUT:-$REPO/bench/out-api}"
RESULTS="${RESULTS:-$REPO/bench/RESULTS-api.md}"
PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

die() { echo "bench/api: $*" >&2; exit 1; }

case "$LISTEN" in 127.*) ;; *) die "LISTEN=$LISTEN: loopback (127.x.y.z) only" ;; esac
[ -x "$OTSENSOR" ] || die "$OTSENSOR: no otsensor binary (cargo build --release -p otsensor, or set OTSENSOR)"
if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || die "wrk is missing: run as root (apt-get install wrk) or install it"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || die "apt-get install wrk failed"
fi
command -v curl >/dev/null || die "curl is missing"

rm -rf "$OUT"
mkdir -p "$OUT"
DATA="$(mktemp -d /tmp/otsensor-bench-api.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT

# a copy, so that a rebuild by someone else cannot change the binary mid-run
cp "$OTSENSOR" "$OUT/otsensor"
BIN="$OUT/otsensor"
"$BIN" --version >"$OUT/version.txt" 2>&1 || true

echo "bench/api: creating the store and a user ($DATA)"
OTSENSOR_PASSWORD="$PASSWORD" "$BIN" user add bench --role admin --data "$DATA" >"$OUT/user.log" 2>&1 \
    || { cat "$OUT/user.log" >&2; die "otsensor user add failed"; }
[ -f "$DATA/otsensor.db" ] || die "no $DATA/otsensor.db after otsensor user add"

echo "bench/api: seeding $DEVICES devices"
/usr/bin/time -f '%e s, %M kB' -o "$OUT/seed.time" \
    python3 "$HERE/seed.py" --db "$DATA/otsensor.db" --devices "$DEVICES" >"$OUT/seed.json"
cat "$OUT/seed.json"

echo "bench/api: otsensor serve on $LISTEN"
"$BIN" serve --listen "$LISTEN" --data "$DATA" >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
BASE="https://$LISTEN"
for _ in $(seq 1 100); do
    curl -ksf "$BASE/api/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; die "otsensor serve exited"; }
    sleep 0.2
done
curl -ksf "$BASE/api/health" >/dev/null || die "otsensor serve does not answer on $BASE"

# a session, then an API token with it (tokens are made through the API)
JAR="$DATA/cookies"
curl -ksf -c "$JAR" -H 'Content-Type: application/json' \
    -d "{\"name\":\"bench\",\"password\":\"$PASSWORD\"}" "$BASE/api/session" >"$DATA/session.json" \
    || die "login failed"
CSRF="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$DATA/session.json")"
curl -ksf -b "$JAR" -H 'Content-Type: application/json' -H "X-CSRF-Token: $CSRF" \
    -d '{"name":"bench-api","expires_in_days":1}' "$BASE/api/tokens" >"$DATA/token.json" \
    || die "creating an API token failed"
TOKEN="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token_secret"])' "$DATA/token.json")"

# one request of each kind first: status, total and items, so that wrong answers do not pass as fast ones
check() {
    local path="$1"
    curl -ks -o "$DATA/check.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" "$BASE$path"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" total=%s items=%d" % (d.get("total"), len(d.get("items", []))))' "$DATA/check.json" 2>/dev/null || echo " (not a page)"
}
{
    for p in "/api/devices?page=1&per_page=50&sort=ip" \
             "/api/devices?page=$(( (DEVICES + 49) / 50 ))&per_page=50&sort=ip" \
             "/api/devices?page=1&per_page=50&sort=vendor&order=desc" \
             "/api/devices?type=plc&sort=name&page=2" \
             "/api/devices?protocol=s7&top_level=true&sort=last_seen&order=desc" \
             "/api/devices?subnet=127.33.20.0/24" \
             "/api/devices?q=CPU%201516&sort=ip" \
             "/api/devices?page=1&per_page=1000&sort=ip"; do
        echo "$p $(check "$p")"
    done
} | tee "$OUT/checks.txt"
grep -q '^/api/devices?page=1&per_page=50&sort=ip 200 ' "$OUT/checks.txt" || die "the first page did not answer 200"

TOP="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["top_level"])' "$OUT/seed.json")"
NET_LAST="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_subnet"])' "$OUT/seed.json")"
cat /proc/loadavg >"$OUT/loadavg.before"
for c in $CONNECTIONS; do
    for s in $SCENARIOS; do
        t=$THREADS; [ "$c" -lt "$t" ] && t=$c
        echo "bench/api: wrk $s: $c connections, $t threads, $DURATION"
        TOKEN="$TOKEN" SCENARIO="$s" TOTAL="$DEVICES" TOP="$TOP" SUBNETS="16-$NET_LAST" \
            RESULT="$OUT/wrk-$s-c$c.json" \
            wrk -t"$t" -c"$c" -d"$DURATION" --timeout 10s --latency \
            -s "$HERE/devices.lua" "$BASE" >"$OUT/wrk-$s-c$c.txt" 2>&1 \
            || die "wrk $s failed: $(tail -3 "$OUT/wrk-$s-c$c.txt")"
        tail -1 "$OUT/wrk-$s-c$c.txt"
        cat /proc/loadavg >>"$OUT/loadavg.during"
    done
done
cat /proc/loadavg >"$OUT/loadavg.after"
ps -o rss=,cputime= -p "$SERVER_PID" >"$OUT/server.ps" 2>/dev/null || true
kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
echo "bench/api: where a page's time goes in SQLite (explain.py)"
python3 "$HERE/explain.py" "$DATA/otsensor.db" >"$OUT/explain.md" 2>&1 || echo "explain.py failed (see $OUT/explain.md)"

python3 "$HERE/report.py" "$OUT" "$RESULTS" \
    --devices "$DEVICES" --connections "$CONNECTIONS" --threads "$THREADS" --duration "$DURATION"
echo "bench/api: wrote $RESULTS"
