#!/usr/bin/env bash
# bench/rdns/run.sh -- reverse DNS of a whole /16 (65,536 PTR queries) against knot on loopback,
# the rate limit lifted, in one run:
#   1. dnsperf       the same server and the same PTR query set (the server's own ceiling)
#   2. otsensor rdns --rate 0 --parallel 100 (as many outstanding queries as dnsperf's -q 100)
#   3. nmap -sL -R --dns-servers (knot's port-53 listener: nmap takes no DNS port)
# and writes bench/RESULTS-rdns.md: wall time, queries/s, names found (checked name by name for
# otsensor), peak memory, ratios. Loopback only: nmap -sL sends nothing to the listed addresses,
# only PTR queries to the DNS server. Takes well under 5 minutes once otsensor is built.
#
#   bench/rdns/run.sh              builds target/release/otsensor if needed (cargo build --release)
#   OTSENSOR_BIN=... bench/rdns/run.sh
# knot is started (and stopped again at the end) when it is not running; TESTBED_TMP as in
# testbed/README.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TB=$ROOT/testbed
export TESTBED_TMP=${TESTBED_TMP:-$ROOT/.testbed}
# shellcheck disable=SC1091
. "$TB/config.sh"
# shellcheck disable=SC1091
. "$TB/lib.sh"
OUT=$ROOT/bench/RESULTS-rdns.md
WORK=$(mktemp -d /tmp/otsensor-bench-rdns.XXXXXX)
QUERIES=$AT/dns/ptr-all.txt
NET="$DNS_REV_NET.0.0/16"
started_knot=""

cleanup() {
  [ -n "$started_knot" ] && "$TB/stop.sh" knot > /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in dnsperf nmap /usr/bin/time python3; do
  command -v "$tool" > /dev/null || { echo "bench: $tool missing (testbed/setup.sh installs it)" >&2; exit 1; }
done
if ! peer_pid knot > /dev/null; then
  "$TB/start.sh" knot
  started_knot=1
fi
[ -f "$QUERIES" ] || { echo "bench: $QUERIES missing (testbed/peers/prepare.sh)" >&2; exit 1; }

BIN=${OTSENSOR_BIN:-$ROOT/target/release/otsensor}
if [ -z "${OTSENSOR_BIN:-}" ]; then
  echo "bench: cargo build --release -p otsensor"
  (cd "$ROOT" && cargo build --release -q -p otsensor)
fi

# timed NAME CMD... : runs CMD with GNU time; wall seconds and peak RSS (KB) into $WORK/NAME.time
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$@"
}

# dnsperf and otsensor take turns, ROUNDS times (the machine is shared: the medians count)
ROUNDS=${ROUNDS:-3}
for ((i = 1; i <= ROUNDS; i++)); do
  echo "bench: round $i/$ROUNDS: dnsperf against $KNOT_IP:$KNOT_PORT"
  timed "dnsperf.$i" dnsperf -s "$KNOT_IP" -p "$KNOT_PORT" -d "$QUERIES" -n 1 -c 1 -T 1 -q 100 -t 5 \
    > "$WORK/dnsperf.$i.out" 2>&1
  echo "bench: round $i/$ROUNDS: otsensor rdns against $KNOT_IP:$KNOT_PORT"
  timed "otsensor.$i" "$BIN" rdns --server "$KNOT_IP:$KNOT_PORT" --rate 0 --parallel 100 --format json \
    --data "$WORK/data.$i" "$NET" > "$WORK/otsensor.$i.jsonl" 2> "$WORK/otsensor.$i.err"
done

echo "bench: nmap -sL -R --dns-servers $KNOT53_IP"
timed nmap nmap -sL -R --dns-servers "$KNOT53_IP" -oG "$WORK/nmap.gnmap" "$NET" > /dev/null 2> "$WORK/nmap.err"

python3 - "$WORK" "$OUT" "$DNS_REV_NET" "$DNS_DOMAIN" "$KNOT_IP:$KNOT_PORT" "$KNOT53_IP" "$ROUNDS" <<'PY'
import json, os, re, statistics, subprocess, sys, time
work, out, net, domain, server, server53, rounds = sys.argv[1:]
rounds = int(rounds)
o1, o2 = net.split(".")
def timing(name):
    wall, rss = open(os.path.join(work, name + ".time")).read().split()[-2:]
    return float(wall), int(rss) / 1024

def dnsperf(i):
    d = open(os.path.join(work, f"dnsperf.{i}.out")).read()
    wall, rss = timing(f"dnsperf.{i}")
    return {
        "qps": float(re.search(r"Queries per second:\s+([\d.]+)", d).group(1)),
        "run": float(re.search(r"Run time \(s\):\s+([\d.]+)", d).group(1)),
        "found": int(re.search(r"NOERROR (\d+)", d).group(1)) if "NOERROR" in d else 0,
        "wall": wall, "rss": rss,
    }

def otsensor(i):
    found = exact = 0
    for line in open(os.path.join(work, f"otsensor.{i}.jsonl")):
        r = json.loads(line)
        if r["status"] == "found":
            found += 1
            a, b, x, y = r["ip"].split(".")
            exact += r["fqdn"] == f"dev-{o1}-{o2}-{x}-{y}.{domain}"
    err = open(os.path.join(work, f"otsensor.{i}.err")).read()
    m = re.search(r"looked up (\d+) addresses in ([\d.]+) s \((\d+)/s\)", err)
    wall, rss = timing(f"otsensor.{i}")
    return {"qps": float(m.group(3)), "run": float(m.group(2)), "found": found, "exact": exact,
            "wall": wall, "rss": rss}

D = [dnsperf(i) for i in range(1, rounds + 1)]
O = [otsensor(i) for i in range(1, rounds + 1)]
med = lambda rows, k: statistics.median(r[k] for r in rows)
d_qps, o_qps = med(D, "qps"), med(O, "qps")
o_wall = med(O, "wall")
o_rss = max(r["rss"] for r in O)
n_found = sum(1 for line in open(os.path.join(work, "nmap.gnmap")) if re.match(r"Host: \S+ \(\S+\)", line))
n_wall, n_rss = timing("nmap")
n_qps = 65536 / n_wall

def ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
    except Exception as e:
        return f"? ({e})"
load = open("/proc/loadavg").read().split()[:3]
ratio = lambda a, b: f"{a / b:.2f}" if b else "n/a"
rows = "\n".join(
    f"| {i + 1} | {d['run']:.2f} s, {d['qps']:,.0f}/s, {d['found']:,} NOERROR, {d['rss']:.1f} MB "
    f"| {o['run']:.2f} s ({o['wall']:.2f} s whole), {o['qps']:,.0f}/s, {o['exact']:,} exact names, {o['rss']:.1f} MB "
    f"| {ratio(o['qps'], d['qps'])} |"
    for i, (d, o) in enumerate(zip(D, O)))
with open(out, "w") as f:
    f.write(f"""# Reverse DNS benchmark: a /16 against knot on loopback

Generated by `bench/rdns/run.sh` on {time.strftime('%Y-%m-%d %H:%M %Z')}: {os.cpu_count()} CPUs shared with
other work (load average {' '.join(load)} at the end), {ver(['knotd', '-V'])}, one UDP worker.
65,536 PTR questions for {net}.0.0/16 (every address has exactly one name,
`dev-{o1}-{o2}-A-B.{domain}.`), the rate limit lifted. dnsperf and otsensor took turns
{rounds} times (medians below; every round further down), then nmap ran once.

| tool | wall time (s) | queries/s | names found | peak memory (MB) |
|---|---:|---:|---:|---:|
| dnsperf -q 100 ({server}) | {med(D, 'wall'):.2f} (run {med(D, 'run'):.2f}) | {d_qps:,.0f} | {min(r['found'] for r in D):,} (NOERROR) | {max(r['rss'] for r in D):.1f} |
| otsensor rdns --rate 0 --parallel 100 ({server}) | {o_wall:.2f} (lookups {med(O, 'run'):.2f}) | {o_qps:,.0f} (whole command {65536 / o_wall:,.0f}) | {min(r['found'] for r in O):,} ({min(r['exact'] for r in O):,} exact) | {o_rss:.1f} |
| nmap -sL -R --dns-servers {server53} | {n_wall:.2f} | {n_qps:,.0f} | {n_found:,} | {n_rss:.1f} |

Ratios (otsensor's lookup rate; goals: at least 0.80 of dnsperf, at least 10 times nmap,
every name, under 64 MB):

- otsensor / dnsperf queries/s: **{ratio(o_qps, d_qps)}** (whole command, store and output included: {ratio(65536 / o_wall, d_qps)})
- otsensor / nmap queries/s: **{ratio(o_qps, n_qps)}** (whole command: {ratio(65536 / o_wall, n_qps)})
- otsensor peak memory: **{o_rss:.1f} MB** (dnsperf {max(r['rss'] for r in D):.1f} MB, nmap {n_rss:.1f} MB)
- names found: otsensor {min(r['found'] for r in O):,} of 65,536 in every round ({min(r['exact'] for r in O):,} exactly the zone's name), dnsperf {min(r['found'] for r in D):,} NOERROR answers, nmap {n_found:,}

| round | dnsperf | otsensor | ratio |
|---|---|---|---:|
{rows}

otsensor's wall time includes opening the store, saving the run with its 65,536-entry probe log,
and writing 65,536 JSON Lines (about 45 MB); its lookup rate is the resolver's own (first query
to last answer), as dnsperf's is over its run time. nmap's rate is over its wall time (it only
resolves). On this shared machine the rates of one tool vary by a factor of two between runs,
hence the rounds.

Commands:

```
dnsperf -s {server.split(':')[0]} -p {server.split(':')[1]} -d ptr-all.txt -n 1 -c 1 -T 1 -q 100 -t 5
otsensor rdns --server {server} --rate 0 --parallel 100 --format json {net}.0.0/16
nmap -sL -R --dns-servers {server53} -oG - {net}.0.0/16
```
""")
print(open(out).read())
PY
