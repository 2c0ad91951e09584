#!/usr/bin/env python3
"""Writes bench/RESULTS-console.md from bench/out-console/ (bench/console/run.sh's raw output).

    report.py OUT RESULTS.md --devices N --rounds R
"""

import argparse
import json
import os
import platform
import statistics
from datetime import datetime, timezone

GOAL_MS = 1000.0
FIELDS = [("responseStart", "response start"), ("domContentLoaded", "DOMContentLoaded"),
          ("firstContentfulPaint", "first contentful paint"), ("load", "load")]


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def fmt(v):
    return "-" if v is None else "%.0f" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("results")
    ap.add_argument("--devices", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--goal-pages", default="/devices /map",
                    help="the pages the goal is judged on (others are shown for information)")
    a = ap.parse_args()
    out = a.out

    browser = ""
    rows = []
    for line in read(os.path.join(out, "render.jsonl")).splitlines():
        d = json.loads(line)
        if "browser" in d:
            browser = d["browser"]
        else:
            rows.append(d)
    pages = []
    for r in rows:
        if r["page"] not in pages:
            pages.append(r["page"])
    seed = json.loads(read(os.path.join(out, "seed.json"), "{}") or "{}")
    cpu = next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
                if l.startswith("model name")), "")

    L = ["# Console: time to first render with %s devices (issue 8)" % f"{a.devices:,}", ""]
    L.append(f"Written by `bench/console/run.sh` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
             f"Goal: under one second each (inventory and device map), measured in the browser.")
    L.append("")
    L.append("## Setup")
    L.append("")
    if seed.get("source") == "sim":
        L.append(f"- Store: `otsensor sim --devices {a.devices}` on 127.33.128.0/17, then `otsensor scan plc` "
                 f"(modbus, s7, enip, bacnet) of the block and `otsensor scan switch` of the sim's switches, "
                 f"pacing lifted ({seed.get('scan_seconds', '?')} s of scans): {seed.get('devices', 0):,} devices "
                 f"({seed.get('top_level', 0):,} top level, {seed.get('sub_devices', 0):,} sub-devices), "
                 f"{seed.get('links', 0):,} active links; the sim was stopped before the browser started.")
    else:
        L.append(f"- Store: {seed.get('devices', a.devices):,} devices ({seed.get('top_level', 0):,} top level, "
                 f"{seed.get('sub_devices', 0):,} sub-devices, {seed.get('links', 0):,} switch access links), "
                 f"written by `bench/api/seed.py` into the schema `otsensor` created.")
    L.append(f"- Server: `otsensor serve` over HTTPS on 127.33.10.2 ({read(os.path.join(out, 'version.txt'))}).")
    L.append(f"- Browser: {read(os.path.join(out, 'chromium.txt')) or 'Chromium'} (WebDriver browserVersion {browser}), "
             f"headless (`--headless=new`), 1366x900, driven by chromedriver from `bench/console/render.py` "
             f"(Python standard library). A session cookie from `POST /api/session`; each round opens "
             f"about:blank, then the page. Figures are the page's own Navigation Timing and Paint entries, "
             f"in ms from the start of the navigation. Round 1 starts with an empty browser cache; "
             f"the medians are over rounds 2-{a.rounds} (stylesheet and script cached, as for a user).")
    L.append(f"- Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}. "
             f"Load average (1, 5, 15 min) before: {' '.join(read(os.path.join(out, 'loadavg.before')).split()[:3])}, "
             f"after: {' '.join(read(os.path.join(out, 'loadavg.after')).split()[:3])} (shared machine).")
    L.append("")
    L.append("## Results (medians, ms)")
    L.append("")
    L.append("| page | shows | response start | DOMContentLoaded | first contentful paint | load | HTML size | round 1 (cold): FCP / load | goal (FCP and load < 1 s) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    all_ok = bool(pages)
    for p in pages:
        rs = [r for r in rows if r["page"] == p]
        warm = [r for r in rs if r["round"] > 1] or rs
        cold = next((r for r in rs if r["round"] == 1), None)
        med = {}
        for k, _ in FIELDS:
            vals = [r[k] for r in warm if r.get(k) is not None]
            med[k] = statistics.median(vals) if vals else None
        last = rs[-1]
        if last.get("mapNodes"):
            shows = f"{last['mapNodes']:,} nodes, {last['mapEdges']:,} links"
        else:
            shows = f"{last.get('deviceTotal') or ''}, {last.get('tableRows', 0):,} rows"
        ok = (med["firstContentfulPaint"] is not None and med["firstContentfulPaint"] < GOAL_MS
              and med["load"] is not None and med["load"] < GOAL_MS)
        judged = p in a.goal_pages.split()
        if judged:
            all_ok = all_ok and ok
        size = last.get("bodySize") or 0
        L.append(f"| `{p}` | {shows} | {fmt(med['responseStart'])} | {fmt(med['domContentLoaded'])} | "
                 f"{fmt(med['firstContentfulPaint'])} | {fmt(med['load'])} | {size / 1024:.0f} KiB | "
                 f"{fmt(cold and cold.get('firstContentfulPaint'))} / {fmt(cold and cold.get('load'))} | "
                 f"{('met' if ok else 'NOT met') if judged else ('(info) under 1 s' if ok else '(info) over 1 s')} |")
    L.append("")
    L.append(f"**Goal (under one second each, judged on {', '.join('`%s`' % g for g in a.goal_pages.split())}: "
             f"the inventory as it opens, 50 devices a page, and the device map): "
             f"{'met' if all_ok else 'NOT met for every page (see the table)'}.**")
    L.append("")
    L.append("Every round (ms: connect start-end, request start / response start / DOMContentLoaded / FCP / load):")
    L.append("")
    L.append("```")
    for r in rows:
        L.append(f"round {r['round']} {r['page']}: {fmt(r.get('connectStart'))}-{fmt(r.get('connectEnd'))}, "
                 f"{fmt(r.get('requestStart'))} / {fmt(r['responseStart'])} / {fmt(r['domContentLoaded'])} / "
                 f"{fmt(r['firstContentfulPaint'])} / {fmt(r['load'])}")
    L.append("```")
    L.append("")
    L.append("Raw output: `bench/out-console/render.jsonl`.")
    with open(a.results, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
