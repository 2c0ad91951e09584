#!/usr/bin/env python3
"""A misbehaving Modbus/TCP peer for the client's bad-case tests, loopback only.

usage: bad_modbus.py --host 127.0.0.13 [--port 502] --mode MODE [--hold SECS]

MODE (what every accepted connection gets):
  silent     reads everything, never answers; closes only when the client does
  midframe   on the first request: the first 4 bytes of a valid MBAP header (transaction id echoed,
             protocol 0), then closes
  exception  every complete request: a correct exception response, function|0x80 and code 0x01
             (Illegal Function), transaction and unit id echoed; the connection stays open
  biglen     on the first request: an MBAP header with length 65535 (transaction and unit id echoed)
             plus 3 bytes (function code, 0x02, 0x00), then holds the connection --hold seconds
             (default 3) and closes
  garbage    on every read: the same 64 random-looking bytes (SHA-256 chain of b"otsensor", whose
             bytes 2-3 are not 0x0000, so it is no valid MBAP header); the connection stays open
"""
import argparse
import asyncio
import hashlib
import struct

ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=502)
ap.add_argument("--mode", required=True, choices=("silent", "midframe", "exception", "biglen", "garbage"))
ap.add_argument("--hold", type=float, default=3.0)
a = ap.parse_args()
assert a.host.startswith("127."), "loopback only"

_h1 = hashlib.sha256(b"otsensor").digest()
GARBAGE = _h1 + hashlib.sha256(_h1).digest()
assert len(GARBAGE) == 64 and GARBAGE[2:4] != b"\0\0"


async def read_request(reader, buf):
    """Next complete MBAP frame (header + PDU) from buf/reader, or None at EOF or on a bad header."""
    while True:
        if len(buf) >= 6:
            length = struct.unpack(">H", buf[4:6])[0]
            if not 2 <= length <= 254:
                return None
            if len(buf) >= 6 + length:
                frame = bytes(buf[:6 + length])
                del buf[:6 + length]
                return frame
        data = await reader.read(4096)
        if not data:
            return None
        buf += data


async def serve(reader, writer):
    peer = writer.get_extra_info("peername")
    print(f"{a.mode}: connection from {peer[0]}:{peer[1]}", flush=True)
    buf = bytearray()
    try:
        if a.mode == "silent":
            while await reader.read(4096):
                pass
        elif a.mode == "garbage":
            while await reader.read(4096):
                writer.write(GARBAGE)
                await writer.drain()
        elif a.mode == "exception":
            while (req := await read_request(reader, buf)) is not None:
                tid, _pid, _len, unit, fc = struct.unpack(">HHHBB", req[:8])
                writer.write(struct.pack(">HHHBBB", tid, 0, 3, unit, (fc | 0x80) & 0xFF, 0x01))
                await writer.drain()
        elif (req := await read_request(reader, buf)) is not None:
            tid, _pid, _len, unit, fc = struct.unpack(">HHHBB", req[:8])
            if a.mode == "midframe":
                writer.write(struct.pack(">HH", tid, 0))
            else:  # biglen
                writer.write(struct.pack(">HHHBBBB", tid, 0, 65535, unit, fc, 0x02, 0x00))
                await writer.drain()
                await asyncio.sleep(a.hold)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def main():
    server = await asyncio.start_server(serve, a.host, a.port, reuse_address=True)
    print(f"bad modbus peer ({a.mode}) on {a.host}:{a.port}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
