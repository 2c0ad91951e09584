#!/usr/bin/env python3
"""bench/report.py OUT RESULTS: turns what modbus-sweep.sh left in OUT (bench/out) into RESULTS
(bench/RESULTS-modbus.md): the machine, the versions, the four sweeps, the ratios against the
goals of issue 2, the identity check against nmap, and where otsensor's time goes.

Inputs in OUT: facts.txt (key=value), servers.tsv (ip, vendor, product code, revision, product
name, model), runs.tsv (name, round, wall s, max RSS KB, user s, sys s, start ns, end ns),
phases.tsv (name, round, run started_at, run ended_at, probe-log rows, store KB) and raw/ (each
run's stdout: NAME.ROUND.jsonl|txt, GNU time -v output, stderr; otsensor-raised.1.db)."""
import gzip
import json
import os
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone

OUT, RESULTS = sys.argv[1], sys.argv[2]
RAW = os.path.join(OUT, "raw")
GOAL_NMAP_RATIO = 3.0      # nmap / otsensor-raised, at least
GOAL_FLOOR_RATIO = 1.3     # otsensor-raised / C loop, at most
GOAL_RSS_MB = 64.0         # otsensor peak RSS, below

facts = {}
for line in open(os.path.join(OUT, "facts.txt")):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        facts[k] = v
P = int(facts["parallel"])
SWEEP = facts["sweep"]

servers = {}
for line in open(os.path.join(OUT, "servers.tsv")):
    ip, vendor, code, rev, pname, model = line.rstrip("\n").split("\t")
    servers[ip] = {"vendor": vendor, "product_code": code, "revision": rev, "product_name": pname, "model": model}


def ts_ns(text):
    """A jiff timestamp (2026-11-23T01:34:01.779504152Z) as Unix nanoseconds."""
    text = text.rstrip("Z")
    main, _, frac = text.partition(".")
    secs = int(datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 1_000_000_000 + int((frac + "000000000")[:9])


runs = {}
for line in open(os.path.join(OUT, "runs.tsv")):
    name, rnd, wall, rss, user, sys_, t0, t1, *rest = line.rstrip("\n").split("\t")
    runs.setdefault(name, []).append({
        "round": int(rnd), "wall": float(wall), "rss_mb": int(rss) / 1024, "user": float(user),
        "sys": float(sys_), "t0": int(t0), "t1": int(t1), "idle": int(rest[0]) if rest else None})

phases = {}
if os.path.exists(os.path.join(OUT, "phases.tsv")):
    for line in open(os.path.join(OUT, "phases.tsv")):
        name, rnd, started, ended, rows, kb = line.rstrip("\n").split("\t")
        phases[(name, int(rnd))] = {"started": ts_ns(started), "ended": ts_ns(ended), "rows": int(rows),
                                    "kb": int(kb)}


# ------------------------------------------------------------------ what each tool found
def open_raw(fname, mode="rt"):
    """A file of raw/, or its .gz (the script gzips the large ones after the report)."""
    path = os.path.join(RAW, fname)
    if os.path.exists(path):
        return open(path, mode, errors="replace") if "t" in mode else open(path, mode)
    return gzip.open(path + ".gz", mode, errors="replace") if "t" in mode else gzip.open(path + ".gz", mode)


def otsensor_found(name, rnd):
    """ip -> (vendor, product_code, firmware) from otsensor's JSON Lines."""
    found = {}
    for line in open_raw(f"{name}.{rnd}.jsonl"):
        if line.strip():
            d = json.loads(line)
            found[d["ip"]] = (d.get("vendor"), d.get("product_code"), d.get("firmware"))
    return found


def nmap_found(name, rnd):
    """ip -> the "Device identification" text of modbus-discover; and the count of open ports."""
    found, opened, ip = {}, 0, None
    for line in open_raw(f"{name}.{rnd}.txt"):
        m = re.match(r"Nmap scan report for (\S+)", line)
        if m:
            ip = m.group(1)
        elif re.match(rf"{facts['port']}/tcp\s+open\b", line):
            opened += 1
        else:
            m = re.search(r"Device identification: (.*)$", line.rstrip("\n"))
            if m and ip:
                found[ip] = m.group(1).strip()
    return found, opened


def cloop_found(name, rnd):
    lines = open_raw(f"{name}.{rnd}.txt").read().split("\n")
    return {l for l in lines if re.match(r"^127\.\d+\.\d+\.\d+$", l)}


def expected_triple(ip):
    s = servers[ip]
    return (s["vendor"], s["product_code"], s["revision"])


def otsensor_check(name, rnd):
    found = otsensor_found(name, rnd)
    good = sum(1 for ip, t in found.items() if ip in servers and t == expected_triple(ip))
    return found, f"{len(found)} ({good}/{len(servers)} with the configured vendor, product code, revision)"


# ------------------------------------------------------------------ statistics
def stats(name):
    rs = runs.get(name, [])
    if not rs:
        return None
    walls = [r["wall"] for r in rs]
    return {
        "n": len(rs), "median": statistics.median(walls), "min": min(walls), "max": max(walls),
        "cpu": statistics.median([r["user"] + r["sys"] for r in rs]),
        "user": statistics.median([r["user"] for r in rs]), "sys": statistics.median([r["sys"] for r in rs]),
        "rss": max(r["rss_mb"] for r in rs),
        "idle": statistics.median([r["idle"] for r in rs]) if all(r["idle"] is not None for r in rs) else None}


def wall_text(s):
    if s["n"] == 1:
        return f"{s['median']:.2f}"
    return f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f})"


# ------------------------------------------------------------------ identities: otsensor vs nmap
rounds = sorted(r["round"] for r in runs.get("otsensor-raised", []))
match_lines, all_match = [], True
for rnd in rounds:
    ot = otsensor_found("otsensor-raised", rnd)
    nm, _ = nmap_found("nmap", rnd) if any(r["round"] == rnd for r in runs.get("nmap", [])) else ({}, 0)
    same_set = set(ot) == set(nm) == set(servers)
    fields_ok = same_set and all(" ".join(ot[ip]) == nm[ip] and ot[ip] == expected_triple(ip) for ip in servers)
    all_match &= fields_ok
    match_lines.append((rnd, same_set, fields_ok, ot, nm))

last_rnd = rounds[-1] if rounds else None
per_address = []
if last_rnd is not None:
    _, _, _, ot, nm = match_lines[-1]
    for ip in sorted(set(servers) | set(ot) | set(nm), key=lambda a: tuple(int(x) for x in a.split("."))):
        o = ot.get(ip)
        n = nm.get(ip)
        ok = o is not None and n is not None and " ".join(o) == n and ip in servers and o == expected_triple(ip)
        per_address.append((ip, servers.get(ip), o, n, ok))


# ------------------------------------------------------------------ store floor: SQLite alone
def store_floor():
    """Re-inserts the 65,536 probe-log rows of otsensor-raised.1.db with Python's sqlite3 (one
    prepared statement, one transaction, WAL, synchronous=NORMAL, foreign keys on): SQLite's own
    cost for what otsensor stores after the scan, without the async round trip per row."""
    try:
        src = open_raw("otsensor-raised.1.db", "rb")
    except FileNotFoundError:
        return None
    tmp = tempfile.mkdtemp(prefix="otsensor-floor-")
    try:
        db = os.path.join(tmp, "x.db")
        with src, open(db, "wb") as dst:
            shutil.copyfileobj(src, dst)
        c = sqlite3.connect(db, isolation_level=None)
        c.execute("PRAGMA foreign_keys=ON")
        c.execute("PRAGMA synchronous=NORMAL")
        cols = "run_id, address, protocol, outcome, error, started_at, duration_ms"
        rows = c.execute(f"SELECT {cols} FROM probe_log").fetchall()
        c.execute("DELETE FROM probe_log")
        c.execute("VACUUM")
        t = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        c.executemany(f"INSERT INTO probe_log ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        c.execute("COMMIT")
        took = time.perf_counter() - t
        c.close()
        return len(rows), took, sqlite3.sqlite_version
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


floor = store_floor()

# ------------------------------------------------------------------ the report
S = {k: stats(k) for k in runs}
a, b, c, d = (S.get("otsensor-default"), S.get("otsensor-raised"), S.get("nmap"), S.get("c-loop"))
dj = S.get("c-loop-threads")
cmd_a = f"otsensor scan plc --protocol modbus --format json --data <tmpdir> {SWEEP}"
cmd_b = f"otsensor scan plc --protocol modbus --format json --data <tmpdir> --rate 0 --per-device-rate 0 --parallel {P} {SWEEP}"
cmd_c = facts["nmap_cmd"]
cmd_d = f"connect_loop -n {P} -b {SWEEP.split('/')[0]} -p {facts['port']} -v"
cmd_dj = f"connect_loop -n {P} -j {facts['nproc']} -b {SWEEP.split('/')[0]} -p {facts['port']} -v"

found = {}
if a:
    found["a"] = otsensor_check("otsensor-default", 1)[1]
if b:
    found["b"] = otsensor_check("otsensor-raised", last_rnd)[1]
if c:
    nm, opened = nmap_found("nmap", max(r["round"] for r in runs["nmap"]))
    good = sum(1 for ip, t in nm.items() if ip in servers and t == " ".join(expected_triple(ip)))
    found["c"] = f"{len(nm)} with Device identification ({good}/{len(servers)} as configured); {opened} open ports"
for key, name in (("d", "c-loop"), ("dj", "c-loop-threads")):
    if S.get(name):
        got = cloop_found(name, max(r["round"] for r in runs[name]))
        found[key] = f"{len(got)} connected ({'exactly the 5 servers' if got == set(servers) else 'NOT the 5 servers'})"

L = []
w = L.append
w("# Modbus sweep benchmark: otsensor vs nmap vs the TCP connect floor")
w("")
w(f"Written by `bench/modbus-sweep.sh` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
  f"(the whole script took {facts['script_seconds']} s). Sweep: all 65,536 addresses of `{SWEEP}`, "
  f"TCP port {facts['port']}; 5 pymodbus {facts['pymodbus']} servers "
  "(`testbed/peers/modbus_server.py`, one identity each) listen on 5 of them, nothing on the rest "
  "(so 65,531 connects are refused at once: this measures a sweep's per-address cost).")
w("")
w("## Machine and versions")
w("")
w(f"- {facts['nproc']} CPUs ({facts['cpu']}), {facts['mem']} RAM, kernel {facts['kernel']}, {facts['os']}")
w(f"- load before: `{facts['load_before'].strip()}`; after: `{facts['load_after'].strip()}` "
  "(the machine is shared: other builds and tests may run at the same time, hence medians)")
w(f"- otsensor {facts['rev']} (`{facts['otsensor_version']}`, release build, {facts['rustc']})")
w(f"- {facts['nmap_version']}; {facts['gcc']}")
w("")
w("## Results")
w("")
w(f"Wall time is the median of {facts['repeat']} interleaved rounds (min-max in brackets) for b, c and d; "
  "CPU is user+sys (median); peak memory is GNU time's \"Maximum resident set size\" (largest of the rounds). "
  "Every measured command wrote its stdout to a file. Before each one the script waited (at most "
  f"{facts.get('quiet_budget', '?')} s in all; it waited {facts.get('quiet_spent', '?')} s) until the CPUs had been at least "
  f"{facts.get('quiet_idle', '?')} % idle for half a second; column \"idle before\" shows what it saw.")
w("")
w("| run | command | wall s | CPU s | peak RSS MB | devices found | idle before % |")
w("|---|---|---:|---:|---:|---|---:|")


def row(label, cmd, s, f):
    if s:
        idle = "" if s["idle"] is None else f"{s['idle']:.0f}"
        w(f"| {label} | `{cmd}` | {wall_text(s)} | {s['cpu']:.2f} | {s['rss']:.1f} | {f} | {idle} |")


row("a. otsensor, default pacing", cmd_a, a, found.get("a", ""))
row(f"b. otsensor, pacing raised (--parallel {P})", cmd_b, b, found.get("b", ""))
row("c. nmap modbus-discover", cmd_c, c, found.get("c", ""))
row(f"d. C connect loop, 1 thread, {P} in flight", cmd_d, d, found.get("d", ""))
w("")
w("For information:")
w("")
w("| run | command | wall s | CPU s | peak RSS MB | devices found | idle before % |")
w("|---|---|---:|---:|---:|---|---:|")
row(f"C connect loop, {facts['nproc']} threads (one per core)", cmd_dj, dj, found.get("dj", ""))
for name, extra in (("nmap-T4", "-T4"), ("nmap-min-rate", "--min-rate 10000")):
    if S.get(name):
        nm, opened = nmap_found(name, 1)
        row(f"nmap {extra}", f"{cmd_c.rsplit(' ', 1)[0]} {extra} {SWEEP}", S[name], f"{len(nm)} with Device identification")
for p in facts["parallel_candidates"].split():
    name = f"trial-parallel-{p}"
    if S.get(name):
        row(f"trial: otsensor --parallel {p}", f"... --rate 0 --per-device-rate 0 --parallel {p} {SWEEP}", S[name],
            otsensor_check(name, 1)[1])
if S.get("otsensor-one-address"):
    row("otsensor, one address (fixed cost)", "otsensor scan plc --protocol modbus --format json --data <tmpdir> 127.1.0.10",
        S["otsensor-one-address"], "")
w("")
if facts.get("parallel_fixed"):
    text = f"b's `--parallel {P}` was set with PARALLEL={P}; "
else:
    text = f"b's `--parallel {P}` is the fastest of one trial run each of {facts['parallel_candidates']} (rows \"trial\" above); "
text += f"d uses the same {P} connects in flight. nmap is run as a user would, with its defaults (`-T3`)"
if S.get("nmap-T4") or S.get("nmap-min-rate"):
    text += "; -T4 and --min-rate 10000 are timed once above for comparison"
w(text + ".")
w("")
w("## Goals")
w("")
w("| goal | measured | met |")
w("|---|---|---|")


def yes(ok):
    return "yes" if ok else "**no**"


if b and c:
    r = c["median"] / b["median"]
    w(f"| nmap / otsensor-raised wall time >= {GOAL_NMAP_RATIO:g}x | {r:.2f}x ({c['median']:.2f} s / {b['median']:.2f} s) | {yes(r >= GOAL_NMAP_RATIO)} |")
if b and d:
    r = b["median"] / d["median"]
    w(f"| otsensor-raised / C loop wall time <= {GOAL_FLOOR_RATIO:g}x | {r:.2f}x ({b['median']:.2f} s / {d['median']:.2f} s) | {yes(r <= GOAL_FLOOR_RATIO)} |")
if b and dj:
    r = b["median"] / dj["median"]
    w(f"| (information) otsensor-raised / C loop on {facts['nproc']} threads | {r:.2f}x ({b['median']:.2f} s / {dj['median']:.2f} s) | |")
if b and c and d:
    w(f"| (information) nmap / C loop | {c['median'] / d['median']:.2f}x; on {facts['nproc']} threads {c['median'] / dj['median']:.2f}x | |" if dj else
      f"| (information) nmap / C loop | {c['median'] / d['median']:.2f}x | |")
if b and c and d:
    w(f"| (information) the same in CPU time (user+sys, less sensitive to a busy machine): nmap / otsensor-raised, "
      f"otsensor-raised / C loop | {c['cpu'] / b['cpu']:.2f}x, {b['cpu'] / d['cpu']:.2f}x | |")
peak = max(s["rss"] for s in (a, b) if s) if (a or b) else None
if peak is not None:
    w(f"| otsensor peak memory < {GOAL_RSS_MB:g} MB | {peak:.1f} MB (largest of a and b) | {yes(peak < GOAL_RSS_MB)} |")
w(f"| otsensor-raised finds the same devices and identity fields as nmap | "
  f"{sum(1 for m in match_lines if m[2])}/{len(match_lines)} rounds: same 5 addresses, and per address "
  f"nmap's \"Device identification\" = otsensor's `vendor product_code firmware` = the configured identity | {yes(all_match and bool(match_lines))} |")
w("")
if per_address:
    w(f"Per address (round {last_rnd}):")
    w("")
    w("| address | configured vendor / product code / revision | otsensor vendor / product_code / firmware | nmap Device identification | match |")
    w("|---|---|---|---|---|")
    for ip, conf, o, n, ok in per_address:
        conf_t = " / ".join(expected_triple(ip)) if conf else "(not a server)"
        w(f"| {ip} | {conf_t} | {' / '.join(x or '' for x in o) if o else '-'} | {n or '-'} | {yes(ok)} |")
    w("")
w("## Where otsensor's time goes")
w("")
w("From each run's own timestamps (the store's `runs.started_at` / `ended_at`, i.e. the engine's scan) and "
  "the wall clock around the process: start (runtime, store open, migrations, scan row) / scan (connects "
  "and Modbus requests) / after the scan (inventory merge, saving devices and one probe-log row per "
  "address in one transaction, JSON output, exit). Each part is the median over the rounds.")
w("")
w("| run | start s | scan s | after the scan s | probe-log rows | store size MB | per row after the scan |")
w("|---|---:|---:|---:|---:|---:|---:|")
for name in ("otsensor-raised", "otsensor-default") + tuple(f"trial-parallel-{p}" for p in facts["parallel_candidates"].split()):
    parts = []
    for r in runs.get(name, []):
        ph = phases.get((name, r["round"]))
        if ph:
            parts.append(((ph["started"] - r["t0"]) / 1e9, (ph["ended"] - ph["started"]) / 1e9,
                          (r["t1"] - ph["ended"]) / 1e9, ph["rows"], ph["kb"] / 1024))
    if parts:
        med = [statistics.median(x[i] for x in parts) for i in range(5)]
        per_row = med[2] / med[3] * 1e6 if med[3] else 0
        w(f"| {name} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} | {int(med[3])} | {med[4]:.1f} | {per_row:.0f} µs |")
w("")
if floor:
    n, took, ver = floor
    w(f"SQLite alone (Python's sqlite3, SQLite {ver}) inserts the same {n} probe-log rows into a copy of that "
      f"store in {took:.2f} s ({took / n * 1e6:.1f} µs per row: one prepared statement, one transaction, WAL, "
      "synchronous=NORMAL, foreign keys on), so most of the time after the scan is the per-row cost of "
      "`insert_probe_log` (one awaited sqlx query per row, each a round trip to sqlx's SQLite worker thread), "
      "not SQLite.")
    w("")
w("## Reading")
w("")
bp = []
for r in sorted(runs.get("otsensor-raised", []), key=lambda r: r["wall"]):
    ph = phases.get(("otsensor-raised", r["round"]))
    if ph:
        bp.append(((ph["started"] - r["t0"]) / 1e9, (ph["ended"] - ph["started"]) / 1e9, (r["t1"] - ph["ended"]) / 1e9))
if b and bp:
    start_s, scan_s, after_s = bp[(len(bp) - 1) // 2]   # the round with the median wall time
    w(f"- In its median round, otsensor-raised spends {after_s:.2f} s of {start_s + scan_s + after_s:.2f} s "
      f"({after_s / (start_s + scan_s + after_s) * 100:.0f} %) after the scan, saving {SWEEP}'s probe log, "
      f"and {scan_s:.2f} s in the scan itself.")
    if d:
        line = f"- The scan alone is {scan_s / d['median']:.2f}x the single-thread C loop"
        if dj:
            line += f" and {scan_s / dj['median']:.2f}x the {facts['nproc']}-thread one"
        if c:
            line += f"; nmap as a whole takes {c['median'] / scan_s:.2f}x otsensor's scan phase"
        w(line + ".")
    if floor and c:
        proj = start_s + scan_s + floor[1] + 0.05
        w(f"- Were the probe log written at SQLite's own speed ({floor[1]:.2f} s, above), b would take about "
          f"{proj:.2f} s: nmap / otsensor about {c['median'] / proj:.1f}x, otsensor / C loop about {proj / d['median']:.2f}x.")
    if c and d:
        w(f"- nmap itself is only {c['median'] / d['median']:.2f}x slower than the single-thread C loop here (a refused "
          "loopback connect is cheap for the kernel and nmap's per-host cost is small), so \"3x faster than nmap\" "
          "leaves otsensor about "
          f"{c['median'] / GOAL_NMAP_RATIO:.2f} s, i.e. {c['median'] / GOAL_NMAP_RATIO / d['median']:.2f}x the single-thread floor"
          + (f" ({c['median'] / GOAL_NMAP_RATIO / dj['median']:.2f}x the {facts['nproc']}-thread floor)" if dj else "")
          + ": a scanner has to beat a single-threaded epoll loop, i.e. spread the connects over every core "
          "and add little of its own.")
if a:
    ph = phases.get(("otsensor-default", 1))
    if ph:
        w(f"- Default pacing: the scan phase ({(ph['ended'] - ph['started']) / 1e9:.1f} s) is the global limit of "
          "1000 packets/s over 65,536 SYNs (65.5 s) by design; --parallel and the per-device rate do not bind here.")
w("- Profile notes and the suggested fixes: bench/README.md.")
w("")
w("Raw output of this run (stdout, stderr and GNU time of each run; nmap output gzipped): `bench/out/`.")
open(RESULTS, "w").write("\n".join(L) + "\n")
print(f"report: {RESULTS}")
