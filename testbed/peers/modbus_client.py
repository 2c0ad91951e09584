#!/usr/bin/env python3
"""pymodbus client: FC43 extended device identification + a holding-register read on one unit id.
usage: modbus_client.py HOST [PORT] [UNIT]  -> prints one JSON line
  {"unit": U, "ident": {"0": vendor, ...}, "hr1_5": [...]}   or, on a Modbus exception,
  {"unit": U, "exception": {"fc43": code, "fc3": code}}"""
import asyncio, json, sys
from pymodbus.client import AsyncModbusTcpClient


async def main(host, port, unit):
    c = AsyncModbusTcpClient(host, port=port, timeout=2, retries=0)
    await c.connect()
    out = {"unit": unit}
    r = await c.read_device_information(read_code=3, object_id=0, device_id=unit)  # extended
    rr = await c.read_holding_registers(1, count=5, device_id=unit)
    c.close()
    if r.isError() or rr.isError():
        out["exception"] = {"fc43": getattr(r, "exception_code", None), "fc3": getattr(rr, "exception_code", None)}
    else:
        out["ident"] = {k: v.decode() if isinstance(v, bytes) else v for k, v in r.information.items()}
        out["hr1_5"] = rr.registers
    print(json.dumps(out))


asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 502, int(sys.argv[3]) if len(sys.argv) > 3 else 1))
