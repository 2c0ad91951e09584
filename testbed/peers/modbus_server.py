#!/usr/bin/env python3
"""pymodbus 3.16 Modbus/TCP server with Read Device Identification (FC43/MEI14), loopback only.

usage: modbus_server.py --host 127.0.0.10 [--port 502] [--vendor V] [--product-code C] [--revision R]
                        [--product-name N] [--model M] [--url U] [--app-name A]
                        [--unit ID=VENDOR|PRODCODE|REV|PRODNAME|MODEL[|URL|APPNAME]]...
                        [--self-unit 255] [--unknown-unit exception|silent]

Without --unit: one device; every unit id (0 and 255 included) answers with the same data and identity.

With --unit (a gateway): only the listed unit ids answer, each with its own FC43 identity and its own
holding registers (HR n = ID*100 + n, so HR 1..5 of unit 17 read 1701..1705); the --self-unit id
(default 255, 0 = none) answers as the gateway itself with the identity given by the plain flags.
Any other unit id (0 included) gets, by pymodbus's own NoSuchIdException path: exception 0x0B
(Gateway Target Device Failed to Respond) with --unknown-unit exception (default), no answer at all
with --unknown-unit silent (pymodbus ignore_missing_devices).

pymodbus 3.16 keeps one process-wide identity (ModbusControlBlock) and ignores the unit id for FC43,
FC17 (Report Server ID) and FC8; its datastore maps an unknown unit to unit 0 or fails with exception
0x04. The two small patches below (request handler only, see patch_gateway) add the per-unit identity
and route unknown units to NoSuchIdException; see testbed/README.md."""
import argparse
import asyncio

from pymodbus import ModbusDeviceIdentification
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.pdu.device import ModbusControlBlock
from pymodbus.server import StartAsyncTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

ap = argparse.ArgumentParser()
ap.add_argument("--host", required=True)
ap.add_argument("--port", type=int, default=502)
ap.add_argument("--vendor", default="Schneider Electric")
ap.add_argument("--product-code", default="BMX P34 2020")
ap.add_argument("--revision", default="v2.70")
ap.add_argument("--product-name", default="Modicon M340")
ap.add_argument("--model", default="BMX P34 2020")
ap.add_argument("--url", default="http://www.example.invalid")
ap.add_argument("--app-name", default="pump-station-3")
ap.add_argument("--unit", action="append", default=[], metavar="ID=VENDOR|PRODCODE|REV|PRODNAME|MODEL[|URL|APPNAME]")
ap.add_argument("--self-unit", type=int, default=255)
ap.add_argument("--unknown-unit", choices=("exception", "silent"), default="exception")
a = ap.parse_args()
assert a.host.startswith("127."), "loopback only"

FIELDS = ("VendorName", "ProductCode", "MajorMinorRevision", "ProductName", "ModelName", "VendorUrl",
          "UserApplicationName")


def identity(*values):
    return ModbusDeviceIdentification(info_name={k: v for k, v in zip(FIELDS, values) if v})


def device(hr_base):
    return ModbusDeviceContext(
        di=ModbusSequentialDataBlock(1, [0] * 100), co=ModbusSequentialDataBlock(1, [0] * 100),
        hr=ModbusSequentialDataBlock(1, list(range(hr_base, hr_base + 100))),
        ir=ModbusSequentialDataBlock(1, [7] * 100))


own = identity(a.vendor, a.product_code, a.revision, a.product_name, a.model, a.url, a.app_name)


def patch_gateway(identities):
    """Per-unit FC43/FC17 identity; unknown unit ids raise NoSuchIdException (-> 0x0B or silence)."""
    mcb = ModbusControlBlock()          # pymodbus's process-wide singleton that FC43/FC17 read
    handle_request = ServerRequestHandler.handle_request

    async def no_such_unit(_context, device_id):
        raise NoSuchIdException(f"unit {device_id} is not behind this gateway")

    async def per_unit(self):
        pdu = self.last_pdu
        if pdu is not None:
            if pdu.dev_id in identities:
                mcb._identity = identities[pdu.dev_id]  # read synchronously by the request below
            else:
                pdu.datastore_update = no_such_unit
        await handle_request(self)

    ServerRequestHandler.handle_request = per_unit


if a.unit:
    idents, devices = {}, {}
    for spec in a.unit:
        uid, _, values = spec.partition("=")
        uid = int(uid)
        assert 1 <= uid <= 247 and uid != a.self_unit, f"bad unit id {uid}"
        idents[uid] = identity(*values.split("|"))
        devices[uid] = device(uid * 100)
    if a.self_unit:
        idents[a.self_unit] = own
        devices[a.self_unit] = device(a.self_unit * 100)
    patch_gateway(idents)
    ctx = ModbusServerContext(devices=devices, single=False)
    print("modbus gateway", a.host, a.port, "units", sorted(devices), "unknown units:", a.unknown_unit, flush=True)
else:
    ctx = ModbusServerContext(devices=device(0), single=True)
    print("modbus server", a.host, a.port, flush=True)
asyncio.run(StartAsyncTcpServer(context=ctx, identity=own, address=(a.host, a.port),
                                ignore_missing_devices=a.unknown_unit == "silent"))
