#!/usr/bin/env python3
"""Independent check of the bacnet-router peer with raw BACnet/IP datagrams (standard library only).
usage: bacnet_router_check.py ROUTER_IP PORT
Prints "networks: N N ..." (Who-Is-Router-To-Network), then one line per device a Who-Is routed to
each network finds: "device NET:MAC instance I name NAME" (ReadProperty object-name routed to it)."""
import socket, struct, sys

ip, port = sys.argv[1], int(sys.argv[2])
assert ip.startswith("127."), "loopback only"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(1.0)


def bvlc(npdu):
    return bytes([0x81, 0x0A]) + struct.pack(">H", 4 + len(npdu)) + npdu


def exchange(npdu):
    s.sendto(bvlc(npdu), (ip, port))
    out = []
    try:
        while True:
            out.append(s.recvfrom(2000)[0])
    except socket.timeout:
        return out


def npdu_parts(d):
    """-> (snet, sadr, network message?, rest) of a datagram."""
    ctrl, i = d[5], 6
    snet = sadr = None
    if ctrl & 0x20:
        i += 3 + d[i + 2]
    if ctrl & 0x08:
        snet, slen = struct.unpack(">H", d[i:i + 2])[0], d[i + 2]
        sadr, i = d[i + 3:i + 3 + slen], i + 3 + slen
    if ctrl & 0x20:
        i += 1
    return snet, sadr, bool(ctrl & 0x80), d[i:]


nets = []
for d in exchange(bytes([1, 0x80, 0x00])):
    _, _, msg, rest = npdu_parts(d)
    if msg and rest[0] == 0x01:
        nets = [struct.unpack(">H", rest[k:k + 2])[0] for k in range(1, len(rest), 2)]
print("networks:", " ".join(map(str, nets)))
for net in nets:
    for d in exchange(bytes([1, 0x20]) + struct.pack(">H", net) + bytes([0, 0xFF, 0x10, 0x08])):
        snet, sadr, msg, apdu = npdu_parts(d)
        if msg or apdu[:2] != b"\x10\x00":
            continue
        instance = struct.unpack(">I", apdu[3:7])[0] & 0x3FFFFF
        oid = struct.pack(">I", (8 << 22) | instance)
        rp = bytes([1, 0x24]) + struct.pack(">H", snet) + bytes([len(sadr)]) + sadr + bytes([0xFF]) \
            + bytes([0x00, 0x05, 0x01, 0x0C, 0x0C]) + oid + bytes([0x19, 77])
        name = "?"
        for a in exchange(rp):
            _, _, _, ack = npdu_parts(a)
            k = ack.find(b"\x3e")
            if ack[:1] == b"\x30" and k > 0:
                t = ack[k + 1]
                n, start = (ack[k + 2], k + 3) if t & 7 == 5 else (t & 7, k + 2)
                name = ack[start + 1:start + n].decode("utf-8", "replace")
        print(f"device {snet}:{sadr.hex()} instance {instance} name {name}")
