#!/usr/bin/env python3
"""SNMP benchmark: otsensor against net-snmp's snmpbulkwalk on the same agent, in one run.

1. The largest tables of each snmpsim recording, walked as a subtree by both tools
   (snmpbulkwalk with its default max-repetitions 10, as users run it; otsensor with its
   adaptive GETBULK). Wall time, varbinds (must be equal) and PDUs sent.
2. Full discovery of each recording: `walk --discover` (everything otsensor reads from a
   switch) against snmpbulkwalk/snmpget of the same subtrees one after the other.

Runs are interleaved (otsensor, net-snmp, otsensor, ...) and repeated; the median is reported.
Usage: bench.py WALK_BINARY OUTPUT.md [REPEATS]
"""

import json
import os
import statistics
import subprocess
import sys
import time

AGENT = "127.0.0.51"  # snmpsim (testbed/config.sh SNMPSIM_IP)

TABLES = {
    "hpe-procurve": [
        ("ifEntry", "1.3.6.1.2.1.2.2.1"),
        ("ifXEntry", "1.3.6.1.2.1.31.1.1.1"),
        ("dot1dTpFdbEntry", "1.3.6.1.2.1.17.4.3.1"),
        ("dot1qTpFdbEntry", "1.3.6.1.2.1.17.7.1.2.2.1"),
    ],
    "cisco-c3750": [
        ("cdpCacheEntry", "1.3.6.1.4.1.9.9.23.1.2.1.1"),
        ("entPhysicalEntry", "1.3.6.1.2.1.47.1.1.1.1"),
        ("ifEntry", "1.3.6.1.2.1.2.2.1"),
    ],
    "cisco-c3560": [
        ("ifEntry", "1.3.6.1.2.1.2.2.1"),
        ("entPhysicalEntry", "1.3.6.1.2.1.47.1.1.1.1"),
        ("ifXEntry", "1.3.6.1.2.1.31.1.1.1"),
    ],
}

# what otsensor's discovery reads (crates/proto/snmp/src/mib.rs ROOTS), in its order
SYSTEM = ["1.3.6.1.2.1.1.%d.0" % i for i in range(1, 8)]
DISCOVERY_SUBTREES = [
    "1.3.6.1.2.1.47.1.1.1.1",        # entPhysicalEntry
    "1.3.6.1.2.1.2.2.1",             # ifEntry
    "1.3.6.1.2.1.31.1.1.1",          # ifXEntry
    "1.3.6.1.2.1.17.1.4.1.2",        # dot1dBasePortIfIndex
    "1.3.6.1.2.1.17.4.3.1",          # dot1dTpFdbEntry
    "1.3.6.1.2.1.17.7.1.2.2.1",      # dot1qTpFdbEntry
    "1.3.6.1.2.1.17.7.1.4.2.1.3",    # dot1qVlanFdbId
    "1.3.6.1.2.1.4.22.1",            # ipNetToMediaEntry
    "1.3.6.1.2.1.4.35.1",            # ipNetToPhysicalEntry
    "1.0.8802.1.1.2.1.3.7.1",        # lldpLocPortEntry
    "1.0.8802.1.1.2.1.4.1.1",        # lldpRemEntry
    "1.0.8802.1.1.2.1.4.2.1",        # lldpRemManAddrEntry
    "1.3.6.1.4.1.9.9.23.1.2.1.1",    # cdpCacheEntry
]
BRIDGE_ADDRESS = "1.3.6.1.2.1.17.1.1.0"


def netsnmp(cmd):
    """Runs a net-snmp command with -d; returns (seconds, varbinds, PDUs sent)."""
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    secs = time.monotonic() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr[-500:]}")
    varbinds = sum(1 for line in out.stdout.splitlines() if line.startswith(".") and " = " in line)
    pdus = out.stdout.count("\nSending ") + out.stdout.startswith("Sending ") + out.stderr.count("Sending ")
    return secs, varbinds, pdus


def bulkwalk(community, root):
    secs, varbinds, pdus = netsnmp(
        ["snmpbulkwalk", "-v2c", "-c", community, "-On", "-t", "10", "-r", "2", "-d", AGENT, root])
    # snmpbulkwalk prints the varbinds under root only; count them without -d noise
    return secs, varbinds, pdus


def otsensor(walk, community, args):
    start = time.monotonic()
    out = subprocess.run([walk, "-c", community, "-t", "10", "-r", "2", AGENT] + args,
                         capture_output=True, text=True)
    secs = time.monotonic() - start
    if out.returncode != 0:
        raise SystemExit(f"walk {args} failed: {out.stderr[-500:]}")
    return secs, [json.loads(line) for line in out.stdout.splitlines()]


def median(values):
    return statistics.median(values)


def table_rows(walk, repeats):
    rows = []
    for community, tables in TABLES.items():
        for name, root in tables:
            ours, theirs = [], []
            for _ in range(repeats):
                secs, result = otsensor(walk, community, [root])
                ours.append((secs, result[0]["varbinds"], result[0]["pdus"]))
                theirs.append(bulkwalk(community, root))
            o_secs = median([r[0] for r in ours])
            t_secs = median([r[0] for r in theirs])
            rows.append({
                "recording": community, "table": name,
                "o_secs": o_secs, "o_varbinds": ours[0][1], "o_pdus": ours[0][2],
                "t_secs": t_secs, "t_varbinds": theirs[0][1], "t_pdus": theirs[0][2],
            })
            print(f"{community} {name}: otsensor {o_secs:.2f} s {ours[0][1]} vb {ours[0][2]} PDUs; "
                  f"snmpbulkwalk {t_secs:.2f} s {theirs[0][1]} vb {theirs[0][2]} PDUs", flush=True)
    return rows


def netsnmp_discovery(community):
    secs_total, varbinds_total, pdus_total = 0.0, 0, 0
    for cmd in (["snmpget", "-v2c", "-c", community, "-On", "-t", "10", "-r", "2", "-d", AGENT] + SYSTEM,
                ["snmpget", "-v2c", "-c", community, "-On", "-t", "10", "-r", "2", "-d", AGENT, BRIDGE_ADDRESS]):
        s, v, p = netsnmp(cmd)
        secs_total, varbinds_total, pdus_total = secs_total + s, varbinds_total + v, pdus_total + p
    for root in DISCOVERY_SUBTREES:
        s, v, p = bulkwalk(community, root)
        secs_total, varbinds_total, pdus_total = secs_total + s, varbinds_total + v, pdus_total + p
    return secs_total, varbinds_total, pdus_total


def discovery_rows(walk, repeats):
    rows = []
    for community in TABLES:
        ours, theirs = [], []
        for _ in range(repeats):
            secs, result = otsensor(walk, community, ["--vendor", "generic", "--discover"])
            ours.append((secs, result[0]["pdus"]))
            theirs.append(netsnmp_discovery(community))
        o_secs = median([r[0] for r in ours])
        t_secs = median([r[0] for r in theirs])
        rows.append({"recording": community, "o_secs": o_secs, "o_pdus": ours[0][1],
                     "t_secs": t_secs, "t_varbinds": theirs[0][1], "t_pdus": theirs[0][2]})
        print(f"{community} discovery: otsensor {o_secs:.2f} s {ours[0][1]} PDUs; "
              f"net-snmp {t_secs:.2f} s {theirs[0][2]} PDUs", flush=True)
    return rows


def write(path, tables, discoveries, repeats, started):
    lines = [
        "# SNMP benchmark: otsensor against net-snmp `snmpbulkwalk`",
        "",
        f"Run {started} by `bench/snmp/run.sh` (one run: both tools on the same agent, interleaved, "
        f"{repeats} times each; medians). Agent: snmpsim 1.2.2 on {AGENT}:161 serving the testbed's "
        "recordings of real switches (community = recording), SNMPv2c. net-snmp 5.9.3 `snmpbulkwalk` "
        "with its defaults (max-repetitions 10); otsensor's `walk` example (the crate's client and "
        f"walk, {os.environ.get('WALK_BUILD', 'debug build')}) with its adaptive GETBULK (48 varbinds per request at first, up to 64). "
        "PDUs are requests sent (net-snmp: `Sending` lines of `-d`). The machine is shared (2 cores, "
        "about six builds at a time), so times vary by tens of percent between runs; PDU counts do not.",
        "",
        "## Largest tables, one subtree walk each",
        "",
        "| recording | table | varbinds (otsensor / net-snmp) | otsensor s | snmpbulkwalk s | time ratio | otsensor PDUs | snmpbulkwalk PDUs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in tables:
        lines.append(
            f"| {r['recording']} | {r['table']} | {r['o_varbinds']} / {r['t_varbinds']} | "
            f"{r['o_secs']:.2f} | {r['t_secs']:.2f} | {r['o_secs'] / r['t_secs']:.2f} | "
            f"{r['o_pdus']} | {r['t_pdus']} |")
    o_total = sum(r["o_secs"] for r in tables)
    t_total = sum(r["t_secs"] for r in tables)
    lines += [
        f"| **all** | | {sum(r['o_varbinds'] for r in tables)} / {sum(r['t_varbinds'] for r in tables)} | "
        f"**{o_total:.2f}** | **{t_total:.2f}** | **{o_total / t_total:.2f}** | "
        f"{sum(r['o_pdus'] for r in tables)} | {sum(r['t_pdus'] for r in tables)} |",
        "",
        "## Full discovery of each switch",
        "",
        "otsensor: `walk --vendor generic --discover` (system group, dot1dBaseBridgeAddress and the 13 "
        "subtrees it reads; `generic` leaves out the Cisco per-VLAN probe, whose community@vlan snmpsim "
        "does not serve and which would add a timeout net-snmp has no counterpart for). net-snmp: "
        "`snmpget` of the same scalars and `snmpbulkwalk` of the same subtrees, one after the other.",
        "",
        "| recording | otsensor s | net-snmp s | time ratio | otsensor PDUs | net-snmp PDUs |",
        "|---|---|---|---|---|---|",
    ]
    for r in discoveries:
        lines.append(
            f"| {r['recording']} | {r['o_secs']:.2f} | {r['t_secs']:.2f} | {r['o_secs'] / r['t_secs']:.2f} | "
            f"{r['o_pdus']} | {r['t_pdus']} |")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    walk, output = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    tables = table_rows(walk, repeats)
    discoveries = discovery_rows(walk, repeats)
    write(output, tables, discoveries, repeats, started)


if __name__ == "__main__":
    main()
