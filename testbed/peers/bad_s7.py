#!/usr/bin/env python3
"""A scripted S7comm (ISO-on-TCP) peer for the client's bad and edge cases, loopback only.

usage: bad_s7.py --host 127.0.0.22 [--port 102] --mode MODE [identity options for slot3]

MODE (what every accepted connection gets):
  silent      reads everything, never answers; closes only when the client does
  refuse      every COTP connection request: a disconnect request (DR, reason 0x03 address unknown),
              then close
  closeafter  COTP connection confirm (CC), then closes as soon as the S7 Setup Communication arrives
  szlerror    CC, Setup Communication accepted (PDU 240), every SZL read answered with an error
              (return code 0x0a object does not exist, parameter error 0xd401)
  slot3       an S7-400-like CPU that accepts only TSAP rack 0 / slot 3 (any connection type) and
              refuses every other TSAP with a DR; Setup Communication with PDU 240; SZL 0x0011 and
              0x0424 in one answer each, SZL 0x001C in two fragments (the second one sent on the
              follow-up request, as a CPU with a 240-byte PDU does); other SZLs: error 0x0a/0xd401
"""
import argparse
import asyncio
import struct

ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=102)
ap.add_argument("--mode", required=True, choices=("silent", "refuse", "closeafter", "szlerror", "slot3"))
ap.add_argument("--order", default="6ES7 416-3ES07-0AB0")
ap.add_argument("--fw", default="7.0.3")
ap.add_argument("--module", default="CPU 416-3 PN/DP")
ap.add_argument("--serial", default="S Q-D7V608422014")
ap.add_argument("--asname", default="SIMATIC 400(1)")
ap.add_argument("--plant", default="Boiler-House-2")
ap.add_argument("--state", default="RUN", choices=("RUN", "STOP"))
a = ap.parse_args()
assert a.host.startswith("127."), "loopback only"

COTP_CR, COTP_CC, COTP_DR, COTP_DT = 0xE0, 0xD0, 0x80, 0xF0


def tpkt(payload):
    return struct.pack(">BBH", 3, 0, len(payload) + 4) + payload


def dt(pdu):
    return tpkt(bytes([2, COTP_DT, 0x80]) + pdu)


async def read_tpdu(reader):
    """Next COTP TPDU, or None at EOF or on a frame that is not TPKT."""
    try:
        head = await reader.readexactly(4)
        if head[0] != 3:
            return None
        length = struct.unpack(">H", head[2:4])[0]
        return await reader.readexactly(length - 4) if length > 4 else None
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


def called_tsap(cr):
    """The called TSAP of a CR TPDU (parameter 0xC2), or None."""
    li, at = cr[0], 7
    while at + 2 <= li + 1:
        code, plen = cr[at], cr[at + 1]
        if code == 0xC2 and plen == 2 and at + 4 <= len(cr):
            return cr[at + 2:at + 4]
        at += 2 + plen
    return None


def cc(cr):
    src = cr[4:6]
    params = bytes([0xC0, 1, 0x0A])
    return tpkt(bytes([6 + len(params), COTP_CC]) + src + b"\x00\x01\x00" + params)


def dr(cr):
    return tpkt(bytes([6, COTP_DR]) + cr[4:6] + b"\x00\x01\x03")


def setup_ack(pdu_ref):
    params = struct.pack(">BBHHH", 0xF0, 0, 1, 1, 240)
    return struct.pack(">BBHHHHBB", 0x32, 3, 0, pdu_ref, len(params), 0, 0, 0) + params


def userdata(pdu_ref, seq, more, error, data):
    params = bytes([0, 1, 0x12, 8, 0x12, 0x84, 1, seq, seq if more else 0, 1 if more else 0]) + struct.pack(">H", error)
    return struct.pack(">BBHHHH", 0x32, 7, 0, pdu_ref, len(params), len(data)) + params + data


def szl_error(pdu_ref):
    return userdata(pdu_ref, 0, False, 0xD401, bytes([0x0A, 0, 0, 0]))


def szl_ok(pdu_ref, payload, seq=0, more=False):
    return userdata(pdu_ref, seq, more, 0, bytes([0xFF, 0x09]) + struct.pack(">H", len(payload)) + payload)


def rec0011(idx, mlfb, ausbg, ausbe):
    return struct.pack(">H", idx) + mlfb.ljust(20, b" ")[:20] + struct.pack(">HHH", 0xC0, ausbg, ausbe)


def rec001c(idx, text):
    return struct.pack(">H", idx) + text.encode().ljust(32, b"\x00")[:32]


MAJOR, MINOR, PATCH = (int(x) for x in a.fw.split("."))
SZL_0011 = struct.pack(">HHHH", 0x0011, 0, 28, 3) + rec0011(1, a.order.encode(), 1, 0) \
    + rec0011(6, a.order.encode(), 1, 0) + rec0011(7, b"", 0x5600 | MAJOR, (MINOR << 8) | PATCH)
SZL_001C_RECORDS = [rec001c(1, a.asname), rec001c(2, a.module), rec001c(3, a.plant),
                    rec001c(4, "Original Siemens Equipment"), rec001c(5, a.serial), rec001c(7, a.module)]
SZL_001C = struct.pack(">HHHH", 0x001C, 0, 34, len(SZL_001C_RECORDS)) + b"".join(SZL_001C_RECORDS)
SZL_0424 = struct.pack(">HHHH", 0x0424, 0, 20, 1) + struct.pack(">HBB", 0x4304, 0xFF, 0x08 if a.state == "RUN" else 0x84) + bytes(16)
SPLIT = 8 + 34 * 3  # header and three records in the first fragment, as a 240-byte PDU allows


async def serve_s7(reader, writer):
    """After the CC: answer Setup Communication and SZL reads as the mode says."""
    pending = None  # the rest of a fragmented SZL answer
    while (tpdu := await read_tpdu(reader)) is not None:
        pdu = tpdu[3:]
        if len(pdu) < 10 or pdu[0] != 0x32:
            return
        rosctr, pdu_ref = pdu[1], struct.unpack(">H", pdu[4:6])[0]
        if a.mode == "closeafter":
            return
        if rosctr == 1 and pdu[10:11] == b"\xF0":
            writer.write(dt(setup_ack(pdu_ref)))
        elif rosctr == 7:
            params = pdu[10:10 + struct.unpack(">H", pdu[6:8])[0]]
            data = pdu[10 + len(params):]
            if a.mode == "szlerror":
                writer.write(dt(szl_error(pdu_ref)))
            elif params[4:5] == b"\x12" and pending is not None:  # follow-up request
                writer.write(dt(szl_ok(pdu_ref, pending)))
                pending = None
            else:
                szl_id = struct.unpack(">H", data[4:6])[0] if len(data) >= 8 else None
                if szl_id == 0x0011:
                    writer.write(dt(szl_ok(pdu_ref, SZL_0011)))
                elif szl_id == 0x001C:
                    pending = SZL_001C[SPLIT:]
                    writer.write(dt(szl_ok(pdu_ref, SZL_001C[:SPLIT], seq=0x2A, more=True)))
                elif szl_id == 0x0424:
                    writer.write(dt(szl_ok(pdu_ref, SZL_0424)))
                else:
                    writer.write(dt(szl_error(pdu_ref)))
        await writer.drain()


async def serve(reader, writer):
    peer = writer.get_extra_info("peername")
    print(f"{a.mode}: connection from {peer[0]}:{peer[1]}", flush=True)
    try:
        if a.mode == "silent":
            while await reader.read(4096):
                pass
            return
        cr = await read_tpdu(reader)
        if cr is None or len(cr) < 7 or cr[1] & 0xF0 != COTP_CR:
            return
        tsap = called_tsap(cr)
        accept = a.mode != "refuse" and (a.mode != "slot3" or (tsap is not None and tsap[1] == 0x03))
        if not accept:
            writer.write(dr(cr))
            await writer.drain()
            return
        writer.write(cc(cr))
        await writer.drain()
        await serve_s7(reader, writer)
    except ConnectionError:
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def main():
    server = await asyncio.start_server(serve, a.host, a.port, reuse_address=True)
    print(f"bad S7 peer ({a.mode}) on {a.host}:{a.port}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
