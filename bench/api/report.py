#!/usr/bin/env python3
"""Writes bench/RESULTS-api.md from bench/out-api/ (bench/api/run.sh's raw output).

    report.py OUT RESULTS.md --devices N --connections C --threads T --duration D
"""

import argparse
import json
import os
import platform
import subprocess
from datetime import datetime, timezone

GOAL_P95_MS = 50.0

WHAT = {
    "first": "first page, 50 devices, sorted by address (the console's default view)",
    "deep": "any page of all devices, 50 per page, by address (offsets up to the last page)",
    "sorted": "50 per page sorted by ip/vendor/type/name/first_seen/last_seen, asc or desc; half in the first 20 pages, half anywhere",
    "filtered": "one filter (type, vendor, protocol, /24 subnet, text search or top level), sometimes with top_level, any sort, pages 1-5",
    "big": "1,000 devices per page (the largest page), by address, any page",
    "mixed": "all of the above but big: 30 % first, 20 % deep, 20 % sorted, 30 % filtered",
}


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def cmd(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def ms(us):
    return "%.1f" % (us / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("results")
    ap.add_argument("--devices", type=int, required=True)
    ap.add_argument("--connections", required=True)
    ap.add_argument("--threads", required=True)
    ap.add_argument("--duration", required=True)
    a = ap.parse_args()
    out = a.out

    seed = json.loads(read(os.path.join(out, "seed.json"), "{}") or "{}")
    rows = []
    for c in a.connections.split():
        for name in ["first", "deep", "sorted", "filtered", "big", "mixed"]:
            text = read(os.path.join(out, f"wrk-{name}-c{c}.json"))
            if text:
                r = json.loads(text)
                r["connections"] = int(c)
                rows.append(r)

    cpu = ""
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = read("/proc/meminfo").splitlines()[0].split(":", 1)[1].strip() if read("/proc/meminfo") else ""
    L = []
    L.append("# REST API: the devices list under load (issue 7)")
    L.append("")
    L.append(f"Written by `bench/api/run.sh` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
             f"Goal: p95 under {GOAL_P95_MS:.0f} ms per page and no error under load.")
    L.append("")
    L.append("## Setup")
    L.append("")
    L.append(f"- Store: {a.devices:,} devices ({seed.get('top_level', 0):,} top level, "
             f"{seed.get('sub_devices', 0):,} sub-devices: modules in racks, units behind gateways, "
             f"BACnet devices behind routers; {seed.get('links', 0):,} switch access links) over /24s "
             f"127.33.16.0-127.33.{seed.get('last_subnet', '?')}.0, written by `bench/api/seed.py` "
             f"into the schema `otsensor` created (seeding took {read(os.path.join(out, 'seed.time'))}).")
    L.append(f"- Server: `otsensor serve` over HTTPS (self-signed certificate) on 127.33.10.1, SQLite store; "
             f"{read(os.path.join(out, 'version.txt'))}.")
    L.append(f"- Load: wrk (up to {a.threads} threads) with {' and then '.join(a.connections.split())} connections "
             f"(keep-alive; 1: a client alone, the server's time per page; more: concurrent clients, the load), "
             f"{a.duration} per kind of page, each request `GET /api/devices?...` with `Authorization: Bearer <API token>` "
             f"(`bench/api/devices.lua`). Latency is wrk's, on loopback: the server's time per page plus "
             f"TLS and the client.")
    L.append(f"- Machine: {cpu}, {os.cpu_count()} cores, {mem}, {platform.system()} {platform.release()}; "
             f"{cmd(['wrk', '-v']).splitlines()[0] if cmd(['wrk', '-v']) else 'wrk'}.")
    L.append(f"- Load average (1, 5, 15 min) before: {' '.join(read(os.path.join(out, 'loadavg.before')).split()[:3])}, "
             f"after: {' '.join(read(os.path.join(out, 'loadavg.after')).split()[:3])}. The machine is shared "
             f"with other engineers' builds; a busy machine makes every figure slower.")
    ps = read(os.path.join(out, "server.ps")).split()
    if len(ps) == 2:
        L.append(f"- Server at the end: {int(ps[0]) / 1024:.0f} MB resident, {ps[1]} CPU time.")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("| page | clients | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | p95 goal |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    all_ok = bool(rows)
    load = max((r["connections"] for r in rows), default=1)
    for r in rows:
        e = r["errors"]
        errors = sum(e.values())
        lat = r["latency_us"]
        rate = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0
        ok = lat["p95"] / 1000.0 < GOAL_P95_MS and errors == 0
        if r["connections"] == load:
            all_ok = all_ok and ok
        err_text = str(errors) if errors == 0 else f"{errors} ({', '.join(f'{k} {v}' for k, v in e.items() if v)})"
        L.append(f"| {r['scenario']} | {r['connections']} | {r['requests']:,} | {rate:.0f} | {ms(lat['p50'])} | {ms(lat['p95'])} | "
                 f"{ms(lat['p99'])} | {ms(lat['max'])} | {err_text} | {'met' if ok else 'NOT met'} |")
    L.append("")
    L.append("Pages:")
    L.append("")
    for r in rows[: len(rows) // max(1, len(a.connections.split()))]:
        L.append(f"- **{r['scenario']}**: {WHAT.get(r['scenario'], '')}")
    L.append("")
    L.append(f"**Goal (p95 < {GOAL_P95_MS:.0f} ms, no errors): {'met for every page' if all_ok else 'NOT met for every page (see the table)'}** (judged on the rows with {load} concurrent clients).")
    L.append("")
    checks = read(os.path.join(out, "checks.txt"))
    if checks:
        L.append("One request of each kind before the load (path, HTTP status, seconds, total, items):")
        L.append("")
        L.append("```")
        L.append(checks)
        L.append("```")
        L.append("")
    explain = read(os.path.join(out, "explain.md"))
    if explain:
        L.append("## Where a page's time goes (`bench/api/explain.py`, after the load, server stopped)")
        L.append("")
        L.append("The queries `store::listing` makes for a few kinds of page (the total, the page's ids, "
                 "the devices by id), alone in SQLite, on the same store:")
        L.append("")
        L.append(explain)
        L.append("")
    L.append("Raw output: `bench/out-api/` (wrk's own report per page in `wrk-*.txt`).")
    with open(a.results, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
