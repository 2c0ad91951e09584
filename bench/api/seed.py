#!/usr/bin/env python3
"""Fills an otsensor store (its schema already created by otsensor) with N inventory devices.

The rows are written as the store writes them (crates/store/src/devices.rs `upsert_device`, the
attribute JSON exactly as core::device::Attributes serialises it: the devices list copies that text
into its answers as it is, see crates/store/src/attributes_format.rs), so the service reads them
like scanned devices: PLCs of several vendors with the modules in their racks (slot:N), Modbus gateways with
units behind them (unit:N), BACnet routers with devices behind them (net:N/MAC), switches with
their access-port links (the device map's edges), HMIs and Windows workstations. Top-level
devices are spread over /24s of 127.33.0.0/16 from 127.33.16.0 on (250 hosts per /24); no packet
is ever sent to them. Deterministic (fixed seed); one transaction; ~2 s per 100,000 devices.

    seed.py --db DATA/otsensor.db --devices 100000
"""

import argparse
import json
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone

ATTR_KEYS = [
    "mac", "name", "fqdn", "fqdn_looked_up", "type", "vendor", "model", "product_name",
    "product_code", "firmware", "hardware", "serial", "plc_mode", "vendor_url", "application",
    "software_version", "location", "description", "vendor_id", "bacnet_instance", "type_name",
    "reported_ip", "status", "os", "domain",
]

S7_CPUS = [
    ("CPU 315-2 PN/DP", "6ES7 315-2EH14-0AB0", ["3.2.6", "3.2.17"]),
    ("CPU 1516-3 PN/DP", "6ES7 516-3AN01-0AB0", ["2.8.3", "2.9.4"]),
    ("CPU 1214C DC/DC/DC", "6ES7 214-1AG40-0XB0", ["4.4.0", "4.5.2"]),
    ("CPU 412-2 PN", "6ES7 412-2EK06-0AB0", ["6.0.3"]),
]
S7_MODULES = [
    ("SM 321 DI16xDC24V", "6ES7 321-1BH02-0AA0"),
    ("SM 322 DO16xDC24V", "6ES7 322-1BH01-0AA0"),
    ("SM 331 AI8x12Bit", "6ES7 331-7KF02-0AB0"),
    ("CP 343-1 Lean", "6GK7 343-1CX10-0XE0"),
]
AB_CPUS = [
    ("1769-L33ER/A CompactLogix 5370", "155", ["32.11", "33.12"]),
    ("1756-L83E/B ControlLogix 5580", "166", ["33.11", "34.11"]),
]
AB_MODULES = [
    ("1756-EN2T/D", "166", "communication_adapter"),
    ("1756-IB16/A", "7", "io_module"),
    ("1756-OB16E/A", "8", "io_module"),
]
MODBUS = [
    ("Schneider Electric", "BMX P34 2020", "Modicon M340", ["v2.70", "v3.10"]),
    ("Schneider Electric", "TM241CE40R", "Modicon M241", ["5.0.4.12"]),
    ("Phoenix Contact", "ILC 151 ETH", "Inline Controller", ["4.42"]),
    ("WAGO", "750-8202", "PFC200", ["03.10.08"]),
]
GATEWAYS = [("Moxa", "MGate MB3180", ["2.2"]), ("ProSoft Technology", "PLX31-EIP-MBS", ["1.4.7"])]
BACNET = [
    ("Johnson Controls, Inc.", "MS-FEC2611-0", "10.1.0.5000", 5),
    ("Honeywell Inc.", "Spyder PUB6438S", "3.2.1", 17),
    ("Siemens Building Technologies", "PXC36-E.D", "6.10.130", 7),
]
SWITCHES = [
    ("Hirschmann", "RSP35", "09.0.04"),
    ("Cisco Systems", "IE-4000-8GT4G-E", "15.2(7)E4"),
    ("Moxa", "EDS-518E", "5.6"),
]
HOST_OS = [
    ("Microsoft Windows 10 Enterprise LTSC", "10.0.17763", "17763"),
    ("Microsoft Windows Server 2019 Standard", "10.0.17763", "17763"),
    ("Microsoft Windows 7 Professional", "6.1.7601", "7601"),
]
AREAS = ["pump-station", "boiler-house", "line", "substation", "tank-farm", "packaging", "hvac"]


def attrs(**kv):
    """The attribute JSON with every key in serde's order (absent: null)."""
    out = {k: kv.get(k) for k in ATTR_KEYS}
    out["interfaces"] = []
    out["hotfixes"] = []
    out["software"] = []
    out["protocols"] = sorted(kv.get("protocols", []))
    return out


def ip_sort(ip):
    a, b, c, d = (int(x) for x in ip.split("."))
    return "4:%08x" % ((a << 24) | (b << 16) | (c << 8) | d)


def mac_of(n):
    return "00:1b:1b:%02x:%02x:%02x" % ((n >> 16) & 255, (n >> 8) & 255, n & 255)


class Seeder:
    def __init__(self, total, rng, now):
        self.total = total
        self.rng = rng
        self.now = now
        self.rows = []  # (key, parent_index, position, ip, mac, vendor, type, name, attrs, first, last, ip_sort)
        self.links = []  # (switch row index, remote row index, port)

    def full(self):
        return len(self.rows) >= self.total

    def times(self):
        first = self.now - timedelta(days=self.rng.randint(1, 400), seconds=self.rng.randint(0, 86399))
        last = self.now - timedelta(seconds=self.rng.randint(0, 7 * 86400))
        return first, max(first, last)

    def add(self, key, parent, position, ip, a, first, last):
        idx = len(self.rows)
        self.rows.append((key, parent, position, ip, a.get("mac"), a.get("vendor"), a.get("type"),
                          a.get("name"), json.dumps(a, separators=(",", ":")), first, last,
                          ip_sort(ip)))
        return idx

    def sub(self, parent, parent_key, ip, position, a, first, last):
        if self.full():
            return None
        return self.add(f"{parent_key}/{position}", parent, position, ip, a, first, last)

    def device(self, ip, n, subnet_no):
        """One top-level device at `ip` (the n-th), with its sub-devices."""
        rng = self.rng
        first, last = self.times()
        key = f"ip:{ip}"
        area = f"{AREAS[subnet_no % len(AREAS)]}-{subnet_no}"
        roll = rng.random()
        if roll < 0.28:  # Siemens S7 with a rack
            model, code, fws = rng.choice(S7_CPUS)
            a = attrs(type="plc", vendor="Siemens", model=model, product_code=code,
                      firmware=rng.choice(fws), hardware=code, serial=f"S C-{n:010X}",
                      plc_mode=rng.choice(["run", "run", "run", "stop"]), name=f"SIMATIC {n}",
                      location=area, mac=mac_of(n), protocols=["s7"])
            me = self.add(key, None, None, ip, a, first, last)
            for slot in range(2, 2 + (rng.randint(1, 6) if rng.random() < 0.6 else 0)):
                mname, mcode = rng.choice(S7_MODULES)
                self.sub(me, key, ip, f"slot:{slot}",
                         attrs(type="io_module", vendor="Siemens", model=mname, product_code=mcode,
                               firmware="V2.0.0", serial=f"S C-{n:08X}{slot:02d}",
                               protocols=["s7"]), first, last)
        elif roll < 0.42:  # Rockwell with a backplane
            model, code, fws = rng.choice(AB_CPUS)
            a = attrs(type="plc", vendor="Rockwell Automation/Allen-Bradley", model=model,
                      product_name=model, product_code=code, firmware=rng.choice(fws),
                      serial=f"0x{n:08x}", plc_mode="run", vendor_id=1, reported_ip=ip,
                      type_name="Programmable Logic Controller (14)", mac=mac_of(n),
                      status="status 0x3060 (at least one I/O connection in run mode), state 0x03 (operational)",
                      protocols=["enip"])
            me = self.add(key, None, None, ip, a, first, last)
            for slot in range(1, 1 + (rng.randint(1, 5) if rng.random() < 0.6 else 0)):
                mname, mcode, mtype = rng.choice(AB_MODULES)
                self.sub(me, key, ip, f"slot:{slot}",
                         attrs(type=mtype, vendor="Rockwell Automation/Allen-Bradley", model=mname,
                               product_name=mname, product_code=mcode, firmware="11.2",
                               serial=f"0x{n:06x}{slot:02x}", vendor_id=1, protocols=["enip"]),
                         first, last)
        elif roll < 0.56:  # Modbus devices
            vendor, model, pname, fws = rng.choice(MODBUS)
            a = attrs(vendor=vendor, model=model, product_name=pname, product_code=model,
                      firmware=rng.choice(fws), application=area, mac=mac_of(n),
                      protocols=["modbus"])
            self.add(key, None, None, ip, a, first, last)
        elif roll < 0.62:  # Modbus gateways with units behind them
            vendor, model, fws = rng.choice(GATEWAYS)
            a = attrs(type="communication_adapter", vendor=vendor, model=model,
                      product_code=model, firmware=rng.choice(fws), mac=mac_of(n),
                      protocols=["modbus"])
            me = self.add(key, None, None, ip, a, first, last)
            for unit in range(1, 1 + rng.randint(1, 6)):
                self.sub(me, key, ip, f"unit:{unit}",
                         attrs(type="drive", vendor="ABB", model="ACS580", product_code="ACS580-01",
                               firmware="2.15.0.1", protocols=["modbus"]), first, last)
        elif roll < 0.72:  # BACnet controllers, some routers
            vendor, model, fw, vid = rng.choice(BACNET)
            inst = 1000 + n
            a = attrs(type="building_controller", vendor=vendor, model=model, firmware=fw,
                      name=f"AHU-{n}", location=f"Mech Room {area}", vendor_id=vid,
                      bacnet_instance=inst, description=f"AHU-{n} field controller",
                      software_version="FEC 10.1", protocols=["bacnet"])
            me = self.add(key, None, None, ip, a, first, last)
            if rng.random() < 0.3:
                for k in range(1, 1 + rng.randint(1, 6)):
                    self.sub(me, key, ip, f"net:{2000 + subnet_no}/{k:02x}",
                             attrs(type="building_controller", vendor=vendor, model="VAV-BOX",
                                   name=f"VAV-{n}-{k}", bacnet_instance=inst * 100 + k,
                                   vendor_id=vid, firmware=fw, protocols=["bacnet"]),
                             first, last)
        elif roll < 0.80:  # switches
            vendor, model, fw = rng.choice(SWITCHES)
            a = attrs(type="switch", vendor=vendor, model=model, firmware=fw,
                      name=f"sw-{area}-{n}", location=area, mac=mac_of(n),
                      description=f"{vendor} {model} {fw}", protocols=["snmp"])
            self.add(key, None, None, ip, a, first, last)
        elif roll < 0.90:  # Windows workstations and servers
            os_name, ver, build = rng.choice(HOST_OS)
            a = attrs(type="workstation", vendor="Microsoft Corporation", name=f"EWS-{n:05d}",
                      fqdn=f"ews-{n:05d}.plant.example", mac=mac_of(n), domain="PLANT",
                      os={"name": os_name, "version": ver, "build": build, "service_pack": None,
                          "architecture": "64-bit", "installed": None, "last_boot": None},
                      protocols=["wmi"])
            self.add(key, None, None, ip, a, first, last)
        elif roll < 0.95:  # HMIs
            a = attrs(type="hmi", vendor="Siemens", model="TP1200 Comfort",
                      product_code="6AV2 124-0MC01-0AX0", firmware="17.0.0.0", name=f"HMI-{n}",
                      protocols=["s7"])
            self.add(key, None, None, ip, a, first, last)
        else:  # seen, not identified
            self.add(key, None, None, ip, attrs(mac=mac_of(n), protocols=[]), first, last)


def generate(total, seed):
    rng = random.Random(seed)
    now = datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)
    s = Seeder(total, rng, now)
    n = 0
    for third in range(16, 256):
        subnet_first = len(s.rows)
        for host in range(1, 251):
            if s.full():
                break
            n += 1
            s.device(f"127.33.{third}.{host}", n, third)
        # the first switch of the /24 links to the other top-level devices on its access ports
        switch = next((i for i in range(subnet_first, len(s.rows))
                       if s.rows[i][6] == "switch" and s.rows[i][1] is None), None)
        if switch is not None:
            port = 0
            for i in range(subnet_first, len(s.rows)):
                if i != switch and s.rows[i][1] is None and port < 48:
                    port += 1
                    s.links.append((switch, i, f"Gi1/0/{port}"))
        if s.full():
            break
    if not s.full():
        sys.exit(f"seed.py: {total} devices do not fit in 127.33.16.0-127.33.255.250")
    return s


def fmt_time(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % (t.microsecond * 1000)


def write(db, s):
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")
    (existing,) = con.execute("SELECT COUNT(*) FROM devices").fetchone()
    if existing:
        sys.exit(f"seed.py: {db} already holds {existing} devices; seed an empty store")
    now = fmt_time(datetime.now(timezone.utc))
    with con:
        cur = con.execute(
            "INSERT INTO scans (name, kind, protocol, targets, spec, created_at) "
            "VALUES ('bench seed', 'switch', 'snmp', '127.33.16.0/20', '{}', ?)", (now,))
        scan_id = cur.lastrowid
        cur = con.execute(
            "INSERT INTO runs (scan_id, status, started_at, ended_at, targets_total, probed, "
            "identified, new_devices) VALUES (?, 'completed', ?, ?, 0, 0, 0, ?)",
            (scan_id, now, now, len(s.rows)))
        run_id = cur.lastrowid
        (base,) = con.execute("SELECT COALESCE(MAX(id), 0) FROM devices").fetchone()
        # migration 0007's column (the protocol array as json_extract writes it), when present
        columns = {r[1] for r in con.execute("PRAGMA table_info(devices)")}
        protocols = ", protocols" if "protocols" in columns else ""
        con.executemany(
            "INSERT INTO devices (id, key, parent_id, position, ip, mac, vendor, type, name, "
            f"attributes, first_seen, last_seen, ip_sort{protocols}) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?{',?' if protocols else ''})",
            ((base + 1 + i, r[0], None if r[1] is None else base + 1 + r[1], r[2], r[3], r[4],
              r[5], r[6], r[7], r[8], fmt_time(r[9]), fmt_time(r[10]), r[11])
             + ((json.dumps(json.loads(r[8])["protocols"], separators=(",", ":")),)
                if protocols else ())
             for i, r in enumerate(s.rows)))
        has_links = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'links'").fetchone()
        if has_links:
            con.executemany(
                "INSERT INTO links (device_id, port, if_index, remote_key, remote_device_id, "
                "remote_name, remote_port, kind, vlan, active, first_seen, last_seen, run_id) "
                "VALUES (?, ?, ?, ?, ?, '', '', 'access', 1, 1, ?, ?, ?)",
                ((base + 1 + sw, port, int(port.rsplit("/", 1)[1]), s.rows[other][0],
                  base + 1 + other, now, now, run_id) for sw, other, port in s.links))
    con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="the store (DATA/otsensor.db), schema created")
    ap.add_argument("--devices", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    s = generate(args.devices, args.seed)
    write(args.db, s)
    top = sum(1 for r in s.rows if r[1] is None)
    print(json.dumps({"devices": len(s.rows), "top_level": top, "sub_devices": len(s.rows) - top,
                      "links": len(s.links),
                      "last_subnet": int(s.rows[-1][3].split(".")[2])}))


if __name__ == "__main__":
    main()
