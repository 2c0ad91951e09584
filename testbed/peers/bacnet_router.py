#!/usr/bin/env python3
"""bacpypes3 BACnet/IP router with virtual BACnet networks of devices behind it, in one process.

usage: bacnet_router.py --ip 127.0.0.41 --port 47808 --ip-net 1 --instance 2000 --name BR-1 \
         --vendor-id 8 --vendor-name "Delta Controls" --model ... --firmware ... --app-version ... \
         --location ... --description ... \
         --device "NET|MAC|INSTANCE|NAME|VENDOR_ID|VENDOR_NAME|MODEL|FIRMWARE|APP_VERSION|LOCATION|DESCRIPTION" ...

The router is itself a device (on every port). Each --device is an Application of its own, attached
to the virtual network NET (one per distinct NET, bacpypes3's VirtualNetwork) with the one-byte MAC
MAC; the router's port on each virtual network has MAC 1. Who-Is-Router-To-Network to the router's
address answers I-Am-Router-To-Network with the virtual networks; a Who-Is or Read-Property with
DNET=NET, DADR=MAC reaches the device behind it.
"""
import argparse
import asyncio

from bacpypes3.app import Application
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.pdu import IPv4Address
from bacpypes3.primitivedata import ObjectType
from bacpypes3.vlan import VirtualNetwork

ROUTER_VLAN_MAC = 1


class WildcardApp(Application):
    """Answers the wildcard device instance 4194303 for its own device (see bacnet_device.py)."""

    def get_object_id(self, objid):
        if objid is not None and objid[1] == 4194303 and objid[0] == ObjectType.device:
            return self.device_object
        return super().get_object_id(objid)


def device_object(instance, name, vendor_id, vendor_name, model, firmware, app_version, location, description):
    return DeviceObject(
        objectIdentifier=("device", instance),
        objectName=name,
        vendorIdentifier=vendor_id,
        vendorName=vendor_name,
        modelName=model,
        firmwareRevision=firmware,
        applicationSoftwareVersion=app_version,
        location=location,
        description=description,
    )


def virtual_port(instance, net, mac):
    return NetworkPortObject(
        objectIdentifier=("network-port", instance),
        objectName=f"vlan-{net}-port",
        networkType="virtual",
        protocolLevel="bacnet-application",
        networkNumber=net,
        networkNumberQuality="configured",
        macAddress=bytes([mac]),
        networkInterfaceName=f"vlan-{net}",
        statusFlags=[0, 0, 0, 0],
        reliability="no-fault-detected",
        outOfService=False,
        changesPending=False,
        linkSpeed=0.0,
    )


def parse_device(text):
    f = text.split("|")
    if len(f) != 11:
        raise SystemExit(f"--device {text!r}: 11 fields separated by '|' expected")
    net, mac, instance, vendor_id = int(f[0]), int(f[1]), int(f[2]), int(f[4])
    if not (1 <= net <= 65534 and 2 <= mac <= 254):
        raise SystemExit(f"--device {text!r}: NET 1..65534, MAC 2..254 (1 is the router)")
    return net, mac, device_object(instance, f[3], vendor_id, f[5], f[6], f[7], f[8], f[9], f[10])


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ip", required=True)
    p.add_argument("--port", type=int, default=47808)
    p.add_argument("--ip-net", type=int, default=1, help="network number of the IP side")
    p.add_argument("--instance", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--vendor-id", type=int, default=8)
    p.add_argument("--vendor-name", default="Delta Controls")
    p.add_argument("--model", default="")
    p.add_argument("--firmware", default="")
    p.add_argument("--app-version", default="")
    p.add_argument("--location", default="")
    p.add_argument("--description", default="")
    p.add_argument("--device", action="append", default=[],
                   help="NET|MAC|INSTANCE|NAME|VENDOR_ID|VENDOR_NAME|MODEL|FIRMWARE|APP_VERSION|LOCATION|DESCRIPTION")
    args = p.parse_args()
    assert args.ip.startswith("127."), "loopback only"

    devices = [parse_device(d) for d in args.device]
    nets = sorted({net for net, _, _ in devices})
    for net in nets:
        VirtualNetwork(f"vlan-{net}")

    router_objects = [
        device_object(args.instance, args.name, args.vendor_id, args.vendor_name, args.model,
                      args.firmware, args.app_version, args.location, args.description),
        NetworkPortObject(IPv4Address(f"{args.ip}/32:{args.port}"), objectIdentifier=("network-port", 1),
                          objectName="ip-port", networkNumber=args.ip_net, networkNumberQuality="configured"),
    ]
    for i, net in enumerate(nets):
        router_objects.append(virtual_port(2 + i, net, ROUTER_VLAN_MAC))
    apps = [WildcardApp.from_object_list(router_objects)]
    for net, mac, dev in devices:
        apps.append(WildcardApp.from_object_list([dev, virtual_port(1, net, mac)]))
    print("bacnet router up", args.ip, args.port, "networks", nets, "devices", len(devices), flush=True)
    await asyncio.Future()


asyncio.run(main())
