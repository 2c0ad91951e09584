#!/usr/bin/env python3
"""Independent checks of the extended S7 peers (python-snap7 3.3 client, raw sockets); one JSON line.

usage: s7_check.py rack HOST CPU_SLOT CP_SLOT OTHER_SLOT   s7: SZL 0x0424 mode code, SZL 0x0D91 slots,
                                                         the CP's order code on its slot, another slot refused
       s7_check.py slot3 HOST                            s7-slot3: the CPU on slot 3 only, SZL 0x001C whole
                                                         although sent in fragments
       s7_check.py bad HOST KIND                         s7-silent/refuse/closeafter/szlerror, raw ISO-on-TCP:
                                                         what a COTP CR (TSAP 0x0102), Setup and an SZL read get
"""
import json
import socket
import struct
import sys

import snap7

mode, host = sys.argv[1], sys.argv[2]


def records(szl):
    """python-snap7 keeps LENTHDR and N_DR at the start of Data."""
    d = bytes(szl.Data)
    length, count = struct.unpack(">HH", d[:4])
    return [d[4 + i * length:4 + (i + 1) * length] for i in range(count)]


def refused(slot):
    try:
        snap7.client.Client().connect(host, 0, slot)
        return False
    except Exception:
        return True


def tpkt(payload):
    return struct.pack(">BBH", 3, 0, len(payload) + 4) + payload


def recv_tpdu(s):
    """The next COTP TPDU, "eof" when the peer closed, "timeout" when it stayed silent."""
    try:
        head = s.recv(4)
        if not head:
            return "eof"
        length = struct.unpack(">H", head[2:4])[0]
        body = b""
        while len(body) < length - 4:
            chunk = s.recv(length - 4 - len(body))
            if not chunk:
                return "eof"
            body += chunk
        return body
    except socket.timeout:
        return "timeout"
    except ConnectionError:
        return "eof"


def bad(kind):
    s = socket.create_connection((host, 102), timeout=1.0)
    cr = bytes([0x11, 0xE0, 0, 0, 0, 1, 0, 0xC0, 1, 0x0A, 0xC1, 2, 1, 0, 0xC2, 2, 1, 2])
    s.sendall(tpkt(cr))
    got = recv_tpdu(s)
    seen = {"cotp": got if isinstance(got, str) else {0xD0: "CC", 0x80: "DR"}.get(got[1] & 0xF0, hex(got[1]))}
    if seen["cotp"] == "CC":
        s.sendall(tpkt(bytes.fromhex("02f08032010000000100080000f0000001000101e0")))
        got = recv_tpdu(s)
        seen["setup"] = got if isinstance(got, str) else "ack" if got[4] == 3 else hex(got[4])
        if seen["setup"] == "ack":
            s.sendall(tpkt(bytes.fromhex("02f080320700000002000800080001120411440100ff090004001c0000")))
            got = recv_tpdu(s)
            seen["szl"] = got if isinstance(got, str) else got[3 + 22:3 + 23].hex() + "/" + got[3 + 20:3 + 22].hex()
    s.close()
    return seen


out = {}
if mode == "rack":
    cpu, cp, other = (int(x) for x in sys.argv[3:6])
    c = snap7.client.Client()
    c.connect(host, 0, cpu)
    out["mode"] = records(c.read_szl(0x0424, 0))[0][3] & 0x0F
    out["slots"] = [r[2] for r in records(c.read_szl(0x0D91, 0))]
    c.disconnect()
    c = snap7.client.Client()
    c.connect(host, 0, cp)
    out["cp_order"] = c.get_order_code().OrderCode.decode().strip()
    c.disconnect()
    out["refused"] = refused(other)
elif mode == "slot3":
    c = snap7.client.Client()
    c.connect(host, 0, 3)
    recs = records(c.read_szl(0x001C, 0))
    out["records"] = len(recs)
    out["serial"] = next(r[2:].split(b"\0")[0].decode() for r in recs if r[:2] == b"\0\5")
    out["order"] = c.get_order_code().OrderCode.decode().strip()
    c.disconnect()
    out["refused"] = refused(2)
else:
    out = bad(sys.argv[3])
print(json.dumps(out))
