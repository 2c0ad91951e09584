#!/usr/bin/env python3
"""A scripted EtherNet/IP peer, loopback only: a 1756-style chassis, or a misbehaving device.

cpppo 5.2.5 simulates one device: without a route table it answers every Unconnected Send route
path with its own single identity (or refuses paths other than one configured port/link), and it
routes a port/link only to another whole EtherNet/IP host. So the backplane walk is tested against
this chassis, built with plain struct packing after the CIP and EtherNet/IP specifications (Vol 1
and Vol 2); check-peers.sh verifies it with third-party clients (nmap enip-info, pycomm3).

usage: enip_chassis.py --host 127.0.0.31 [--port 44818] --mode chassis
           --chassis-slots 10 --self-slot 1 [--state 3]
           --module SLOT=SPEC ... [--ports SLOT=PORT:TYPE,...] [--node SLOT/PORT/NODE=SPEC ...]
           [--error-slot SLOT=GENERAL_STATUS]
       enip_chassis.py --host 127.0.0.32 --mode silent|truncated|garbage

SPEC = "VENDOR|DEVTYPE|PRODCODE|MAJOR.MINOR|SERIAL|STATUS|PRODUCT NAME" (numbers in decimal or 0x hex).

chassis mode, TCP and UDP:
  List Identity (0x63)          one CIP Identity item: the module in --self-slot, the --host address,
                                state --state
  RegisterSession (0x65)        a new session handle; SendRRData needs it (else status 0x64)
  UnRegisterSession (0x66)      no reply; the connection is closed
  SendRRData (0x6f), UCMM item  a Message Router request:
    Get_Attributes_All (0x01) of Identity (class 1, instance 1), unrouted: the self module
    Unconnected Send (0x52) to the Connection Manager (class 6, instance 1), route path
      [1, slot]                 the module's reply; empty slots and slots >= --chassis-slots:
                                0xD2 general status 0x01, extended 0x0312 (link address not valid)
      [1, slot, port, node]     through a module's port (--ports) to a node (--node); an absent
                                node: 0x01 / 0x0204 (unconnected request timed out); a port the
                                module lacks: 0x01 / 0x0311 (port not available)
    at the target: Get_Attributes_All of Identity -> the identity (attributes 1-7);
                   Get_Attribute_Single (0x0e) of Port (class 0xf4) instance P, attribute 1 (type)
                   or 2 (number) for the module's ports; other instances 0x16, attributes 0x14;
                   --error-slot: every request to that slot gets that general status;
                   anything else: 0x08 (service not supported)
  other commands: encapsulation status 0x01 (invalid command), connection kept.
Every request is logged (one line: command, route, service, path) to stdout.

silent:     TCP: reads everything, never answers. UDP: never answers.
truncated:  List Identity (TCP and UDP): a complete encapsulation frame whose Identity item says
            it is as long as a full item but holds only its first 20 bytes.
garbage:    TCP: on every read, and UDP: on every datagram, the same 64 random-looking bytes.
"""
import argparse
import hashlib
import socket
import socketserver
import struct
import sys
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=44818)
ap.add_argument("--mode", required=True, choices=("chassis", "silent", "truncated", "garbage"))
ap.add_argument("--chassis-slots", type=int, default=10)
ap.add_argument("--self-slot", type=int, default=0)
ap.add_argument("--state", type=int, default=3)
ap.add_argument("--module", action="append", default=[])
ap.add_argument("--ports", action="append", default=[])
ap.add_argument("--node", action="append", default=[])
ap.add_argument("--error-slot", action="append", default=[])
a = ap.parse_args()
assert a.host.startswith("127."), "loopback only"

_h1 = hashlib.sha256(b"otsensor-enip").digest()
GARBAGE = _h1 + hashlib.sha256(_h1).digest()


def num(text):
    return int(text, 0)


def parse_spec(spec):
    vendor, devtype, code, rev, serial, status, name = spec.split("|", 6)
    major, minor = rev.split(".")
    return dict(vendor=num(vendor), devtype=num(devtype), code=num(code), major=int(major),
                minor=int(minor), serial=num(serial), status=num(status), name=name.encode())


MODULES = {}                  # slot -> identity
for m in a.module:
    slot, spec = m.split("=", 1)
    MODULES[int(slot)] = parse_spec(spec)
PORTS = {}                    # slot -> {port number: port type}
for p in a.ports:
    slot, spec = p.split("=", 1)
    PORTS[int(slot)] = {int(k): int(v) for k, v in (x.split(":") for x in spec.split(","))}
NODES = {}                    # (slot, port, node) -> identity
for n in a.node:
    where, spec = n.split("=", 1)
    slot, port, node = (int(x) for x in where.split("/"))
    NODES[(slot, port, node)] = parse_spec(spec)
ERROR_SLOTS = {}              # slot -> general status
for e in a.error_slot:
    slot, status = e.split("=", 1)
    ERROR_SLOTS[int(slot)] = num(status)
if a.mode == "chassis":
    assert a.self_slot in MODULES, "--self-slot must name a --module"


def log(text):
    print(text, flush=True)


# ---- encapsulation

HEADER = struct.Struct("<HHII8sI")       # command, length, session, status, sender context, options


def encap(command, data=b"", session=0, status=0, context=b"\0" * 8):
    return HEADER.pack(command, len(data), session, status, context, 0) + data


def identity_body(ident):
    return struct.pack("<HHHBBHI", ident["vendor"], ident["devtype"], ident["code"], ident["major"],
                       ident["minor"], ident["status"], ident["serial"]) \
        + bytes([len(ident["name"])]) + ident["name"]


def list_identity_item():
    ident = MODULES[a.self_slot]
    sockaddr = struct.pack(">hHI8s", 2, a.port, struct.unpack(">I", socket.inet_aton(a.host))[0], b"\0" * 8)
    return struct.pack("<H", 1) + sockaddr + identity_body(ident) + bytes([a.state])


def list_identity_reply(context):
    if a.mode == "truncated":
        full = struct.pack("<H", 1) + b"\0" * 16 + struct.pack("<HHHBBHI", 1, 14, 55, 20, 11, 0x30, 1) + b"\x05short\x03"
        item = struct.pack("<HHH", 1, 0x0C, len(full)) + full[:20]
        return encap(0x63, item, context=context)
    item = list_identity_item()
    return encap(0x63, struct.pack("<HHH", 1, 0x0C, len(item)) + item, context=context)


# ---- CIP

def mr_reply(service, status=0, ext=(), data=b"", remaining=None):
    out = bytes([service | 0x80, 0, status, len(ext)]) + b"".join(struct.pack("<H", x) for x in ext)
    if remaining is not None:
        out += bytes([remaining])
    return out + data


def parse_path(path):
    """Logical segments -> dict(class=, instance=, attribute=); None if something else."""
    out, i = {}, 0
    names = {0: "class", 1: "instance", 4: "attribute"}
    while i < len(path):
        seg = path[i]
        if seg & 0xE0 != 0x20:
            return None
        kind = names.get((seg >> 2) & 7)
        fmt = seg & 3
        if kind is None:
            return None
        if fmt == 0 and i + 1 < len(path):
            out[kind] = path[i + 1]
            i += 2
        elif fmt == 1 and i + 3 < len(path):
            out[kind] = struct.unpack("<H", path[i + 2:i + 4])[0]
            i += 4
        else:
            return None
    return out


def parse_route(route):
    """Port segments -> [(port, link)], None if malformed or extended."""
    hops, i = [], 0
    while i + 1 < len(route):
        seg = route[i]
        if seg & 0xE0 != 0 or seg & 0x10 or seg & 0x0F == 0x0F:
            return None
        hops.append((seg & 0x0F, route[i + 1]))
        i += 2
    return hops


def target_reply(service, path, ident, ports, error):
    """What a module (identity, ports) answers to one Message Router request."""
    if error is not None:
        return mr_reply(service, error)
    p = parse_path(path)
    if p is None:
        return mr_reply(service, 0x04)                      # path segment error
    if service == 0x01 and p.get("class") == 1 and p.get("instance") == 1 and "attribute" not in p:
        return mr_reply(service, data=identity_body(ident))
    if service == 0x0E and p.get("class") == 0xF4 and "attribute" in p:
        inst = p.get("instance")
        if inst not in ports:
            return mr_reply(service, 0x16)                  # object does not exist
        value = {1: ports[inst], 2: inst}.get(p["attribute"])
        if value is None:
            return mr_reply(service, 0x14)                  # attribute not supported
        return mr_reply(service, data=struct.pack("<H", value))
    return mr_reply(service, 0x08)                          # service not supported


def split_mr(req):
    if len(req) < 2 or len(req) < 2 + 2 * req[1]:
        return None
    return req[0], req[2:2 + 2 * req[1]], req[2 + 2 * req[1]:]


def route_error(ext, hops_words):
    return mr_reply(0x52, 0x01, (ext,), remaining=hops_words)


def handle_mr(req):
    parts = split_mr(req)
    if parts is None:
        return mr_reply(req[0] if req else 0, 0x13), "short request"   # not enough data
    service, path, data = parts
    p = parse_path(path)
    if service != 0x52 or p != {"class": 6, "instance": 1}:
        return target_reply(service, path, MODULES[a.self_slot], PORTS.get(a.self_slot, {}),
                            ERROR_SLOTS.get(a.self_slot)), f"service 0x{service:02x} path {path.hex()}"
    if len(data) < 4:
        return mr_reply(service, 0x13), "short unconnected send"
    size = struct.unpack("<H", data[2:4])[0]
    inner = data[4:4 + size]
    rest = data[4 + size + (size & 1):]
    if len(inner) != size or len(rest) < 2 or len(rest) < 2 + 2 * rest[0]:
        return mr_reply(service, 0x13), "bad unconnected send"
    route = rest[2:2 + 2 * rest[0]]
    hops = parse_route(route)
    inner_parts = split_mr(inner)
    if hops is None or inner_parts is None:
        return mr_reply(service, 0x04), "bad route"
    isvc, ipath, _idata = inner_parts
    what = f"route {hops} service 0x{isvc:02x} path {ipath.hex()}"
    words = rest[0]
    if not hops or hops[0][0] != 1:
        return route_error(0x0311, words), what
    slot = hops[0][1]
    if slot >= a.chassis_slots or (slot not in MODULES and slot not in ERROR_SLOTS):
        return route_error(0x0312, words), what
    if len(hops) == 1:
        return target_reply(isvc, ipath, MODULES.get(slot), PORTS.get(slot, {}), ERROR_SLOTS.get(slot)), what
    if len(hops) != 2:
        return route_error(0x0315, words), what
    port, node = hops[1]
    if port not in PORTS.get(slot, {}) or port == 1:
        return route_error(0x0311, words - 1), what
    ident = NODES.get((slot, port, node))
    if ident is None:
        return route_error(0x0204, words - 1), what
    return target_reply(isvc, ipath, ident, {}, None), what


def send_rr_data(data):
    """SendRRData payload -> reply payload (interface handle, timeout, CPF)."""
    if len(data) < 8:
        return None, "short SendRRData"
    count = struct.unpack("<H", data[6:8])[0]
    i, items = 8, []
    for _ in range(count):
        if i + 4 > len(data):
            return None, "short CPF"
        typ, ln = struct.unpack("<HH", data[i:i + 4])
        items.append((typ, data[i + 4:i + 4 + ln]))
        i += 4 + ln
    if len(items) != 2 or items[0][0] != 0 or items[1][0] != 0xB2:
        return None, "not a UCMM request"
    reply, what = handle_mr(items[1][1])
    cpf = struct.pack("<IHH", 0, 0, 2) + struct.pack("<HH", 0, 0) + struct.pack("<HH", 0xB2, len(reply)) + reply
    return cpf, what


class Session:
    """One TCP connection's state."""

    def __init__(self):
        self.handle = 0

    def answer(self, frame):
        """One request frame -> (reply bytes or None, keep the connection open)."""
        command, length, session, _status, context, _options = HEADER.unpack(frame[:24])
        data = frame[24:24 + length]
        if command == 0x63:
            log("ListIdentity")
            return list_identity_reply(context), True
        if a.mode != "chassis":
            return None, True
        if command == 0x65:
            self.handle = (id(self) & 0x7FFFFFFF) | 1
            log(f"RegisterSession -> {self.handle:#010x}")
            return encap(0x65, data[:4], self.handle, context=context), True
        if command == 0x66:
            log("UnRegisterSession")
            return None, False
        if command == 0x6F:
            if not self.handle or session != self.handle:
                log(f"SendRRData with session {session:#x}: invalid session handle")
                return encap(0x6F, b"", session, 0x64, context), True
            reply, what = send_rr_data(data)
            log(f"SendRRData {what}")
            if reply is None:
                return encap(0x6F, b"", session, 0x03, context), True
            return encap(0x6F, reply, session, context=context), True
        log(f"command {command:#06x}: unsupported")
        return encap(command, b"", session, 0x01, context), True


class TcpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        peer = self.client_address
        log(f"{a.mode}: TCP connection from {peer[0]}:{peer[1]}")
        session, buf = Session(), b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                if a.mode == "silent":
                    continue
                if a.mode == "garbage":
                    sock.sendall(GARBAGE)
                    continue
                buf += data
                while len(buf) >= 24:
                    length = struct.unpack("<H", buf[2:4])[0]
                    if len(buf) < 24 + length:
                        break
                    frame, buf = buf[:24 + length], buf[24 + length:]
                    reply, keep = session.answer(frame)
                    if reply:
                        sock.sendall(reply)
                    if not keep:
                        return
        except ConnectionError:
            pass


class UdpHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        log(f"{a.mode}: UDP datagram from {self.client_address[0]}:{self.client_address[1]}")
        if a.mode == "silent" or len(data) < 24:
            return
        if a.mode == "garbage":
            sock.sendto(GARBAGE, self.client_address)
            return
        if struct.unpack("<H", data[:2])[0] == 0x63:
            context = data[12:20]
            sock.sendto(list_identity_reply(context), self.client_address)


class TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    tcp = TcpServer((a.host, a.port), TcpHandler)
    udp = UdpServer((a.host, a.port), UdpHandler)
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    log(f"enip peer ({a.mode}) on {a.host}:{a.port} tcp+udp; modules in slots {sorted(MODULES)}")
    try:
        tcp.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
