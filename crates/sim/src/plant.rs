//! The simulated plant: which devices exist, where, and who they say they are.
//!
//! Generation is deterministic: the same [`PlantConfig`] gives the same plant, byte for byte, so
//! tests can regenerate the plant a running simulator serves and compare a scan with it.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantConfig {
    /// Devices with an address of their own, switches included (at least 6).
    pub devices: usize,
    /// The block the plant's addresses come from (inside 127.0.0.0/8).
    pub net: Ipv4Net,
    /// The seed of the identities.
    pub seed: u64,
}

/// The smallest plant: one device of every kind and two switches.
pub const MIN_DEVICES: usize = 6;

/// The DNS domain every plant host name lives in.
pub const DOMAIN: &str = "plant.example";

impl PlantConfig {
    /// The demo plant: 24 devices in 127.10.0.0/16.
    pub fn demo() -> PlantConfig {
        PlantConfig {
            devices: 24,
            net: "127.10.0.0/16".parse().unwrap_or_default(),
            seed: 1,
        }
    }
}

/// Why a plant cannot be generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlantError {
    /// The block is outside loopback.
    #[error("{0} is outside 127.0.0.0/8: the simulated plant lives on loopback addresses only")]
    NotLoopback(Ipv4Net),
    /// Too few devices asked for.
    #[error(
        "a plant needs at least {MIN_DEVICES} devices (one of every kind and two switches), not {0}"
    )]
    TooFew(usize),
    /// The block is too small.
    #[error(
        "{net} has room for {room} devices, {wanted} were asked for (and one address for the DNS server)"
    )]
    TooSmall {
        /// The block.
        net: Ipv4Net,
        /// Usable addresses.
        room: usize,
        /// Devices asked for.
        wanted: usize,
    },
}

/// The whole plant.
#[derive(Debug, Clone, Serialize)]
pub struct Plant {
    /// The block the addresses come from.
    pub net: Ipv4Net,
    /// The DNS server's address (port 53 unless the simulator is told otherwise).
    pub dns: Ipv4Addr,
    /// Every device with an address; switches first.
    pub devices: Vec<Device>,
}

/// One addressable device.
#[derive(Debug, Clone, Serialize)]
pub struct Device {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its MAC address (vendor OUI).
    pub mac: [u8; 6],
    /// Its host name (first label of its PTR record).
    pub hostname: String,
    /// The switch it is plugged into (index into [`Plant::devices`]), and the port (ifIndex).
    pub attached: Option<(usize, u16)>,
    /// What it is.
    pub kind: Kind,
}

impl Device {
    /// The fully qualified name in the plant's DNS.
    pub fn fqdn(&self) -> String {
        format!("{}.{DOMAIN}", self.hostname)
    }

    /// The MAC as `aa:bb:cc:dd:ee:ff`.
    pub fn mac_text(&self) -> String {
        mac_text(&self.mac)
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What a device is, with the identity it gives.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum Kind {
    /// A Modbus/TCP device (or a gateway with units behind it).
    Modbus(ModbusDevice),
    /// A Siemens S7 station.
    S7(S7Station),
    /// An EtherNet/IP device (or a chassis with modules).
    Enip(EnipDevice),
    /// A BACnet/IP device (or a router with routed devices).
    Bacnet(BacnetDevice),
    /// An SNMP-managed switch.
    Switch(Switch),
}

impl Kind {
    /// A short name of the kind: modbus, s7, enip, bacnet, switch.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Modbus(_) => "modbus",
            Kind::S7(_) => "s7",
            Kind::Enip(_) => "enip",
            Kind::Bacnet(_) => "bacnet",
            Kind::Switch(_) => "switch",
        }
    }
}

/// The Read Device Identification objects of a Modbus device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModbusIdent {
    /// Object 0: VendorName.
    pub vendor: String,
    /// Object 1: ProductCode.
    pub product_code: String,
    /// Object 2: MajorMinorRevision.
    pub revision: String,
    /// Object 3: VendorUrl.
    pub url: String,
    /// Object 4: ProductName.
    pub product_name: String,
    /// Object 5: ModelName.
    pub model: String,
}

/// A Modbus/TCP device; a gateway has units behind it.
#[derive(Debug, Clone, Serialize)]
pub struct ModbusDevice {
    /// What the device itself says (on unit 255 and 0; every unit alike when no gateway).
    pub ident: ModbusIdent,
    /// Units behind a gateway: (unit ID, identity). Empty: not a gateway.
    pub units: Vec<(u8, ModbusIdent)>,
}

/// A Siemens S7 station: a CPU and the modules of its rack.
#[derive(Debug, Clone, Serialize)]
pub struct S7Station {
    /// SZL 0x0011 index 1: order code (MLFB).
    pub order_code: String,
    /// Firmware version (SZL 0x0011 index 7).
    pub firmware: [u8; 3],
    /// SZL 0x001C index 1: AS (PLC) name.
    pub plc_name: String,
    /// SZL 0x001C index 2: module name.
    pub module_name: String,
    /// SZL 0x001C index 3: plant identification.
    pub plant_id: String,
    /// SZL 0x001C index 5: serial number.
    pub serial: String,
    /// SZL 0x001C index 7: module type name.
    pub module_type: String,
    /// The CPU's slot in rack 0 (its TSAP).
    pub cpu_slot: u8,
    /// Whether the CPU is in RUN (else STOP).
    pub running: bool,
    /// Occupied slots of rack 0, the CPU's included, ascending.
    pub slots: Vec<u8>,
}

/// The Identity object of a CIP device or module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnipIdent {
    /// Vendor ID (1: Rockwell Automation/Allen-Bradley).
    pub vendor_id: u16,
    /// Device type (0x0E PLC, 0x0C communications adapter, 0x07 discrete I/O).
    pub device_type: u16,
    /// Product code.
    pub product_code: u16,
    /// Major and minor revision.
    pub revision: (u8, u8),
    /// Status word.
    pub status: u16,
    /// Serial number.
    pub serial: u32,
    /// Product name.
    pub name: String,
    /// State.
    pub state: u8,
}

/// An EtherNet/IP device; a chassis answers for the modules of its backplane.
#[derive(Debug, Clone, Serialize)]
pub struct EnipDevice {
    /// What List Identity says.
    pub ident: EnipIdent,
    /// Backplane modules: (slot, identity). Empty: no backplane.
    pub slots: Vec<(u8, EnipIdent)>,
}

/// The Device object of a BACnet device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BacnetIdent {
    /// Device instance.
    pub instance: u32,
    /// vendor-identifier.
    pub vendor_id: u16,
    /// vendor-name.
    pub vendor_name: String,
    /// object-name.
    pub object_name: String,
    /// model-name.
    pub model: String,
    /// firmware-revision.
    pub firmware: String,
    /// application-software-version.
    pub application: String,
    /// location.
    pub location: String,
    /// description.
    pub description: String,
}

/// A BACnet/IP device; a router has devices on networks behind it.
#[derive(Debug, Clone, Serialize)]
pub struct BacnetDevice {
    /// Its own Device object.
    pub ident: BacnetIdent,
    /// Routed devices: (network, MAC, identity). Empty: not a router.
    pub routed: Vec<(u16, u8, BacnetIdent)>,
}

/// An SNMP v2c switch.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    /// Vendor (ENTITY mfg name).
    pub vendor: String,
    /// Model (ENTITY model name).
    pub model: String,
    /// sysDescr.
    pub descr: String,
    /// sysObjectID.
    pub object_id: Vec<u32>,
    /// Serial number.
    pub serial: String,
    /// Firmware revision.
    pub firmware: String,
    /// sysLocation.
    pub location: String,
    /// Ports (ifIndex 1..=ports).
    pub ports: u16,
    /// The community string it answers.
    pub community: String,
}

/// The community every simulated switch answers.
pub const COMMUNITY: &str = "public";

/// splitmix64: small, seeded, good enough for picking identities.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Usable host addresses of the block, in order: no .0 or .255 last octets, no network address.
fn hosts(net: Ipv4Net) -> impl Iterator<Item = Ipv4Addr> {
    net.hosts().filter(|a| {
        let last = a.octets()[3];
        last != 0 && last != 255
    })
}

impl Plant {
    /// Generates the plant `config` describes.
    pub fn generate(config: &PlantConfig) -> Result<Plant, PlantError> {
        if !Ipv4Net::new(Ipv4Addr::new(127, 0, 0, 0), 8).is_ok_and(|lo| lo.contains(&config.net)) {
            return Err(PlantError::NotLoopback(config.net));
        }
        if config.devices < MIN_DEVICES {
            return Err(PlantError::TooFew(config.devices));
        }
        let addresses: Vec<Ipv4Addr> = hosts(config.net).take(config.devices + 1).collect();
        if addresses.len() < config.devices + 1 {
            return Err(PlantError::TooSmall {
                net: config.net,
                room: addresses.len().saturating_sub(1),
                wanted: config.devices,
            });
        }
        let mut rng = Rng(config.seed);
        let switch_count = (config.devices / 40).max(2);
        let field = config.devices - switch_count;
        let mut devices = Vec::with_capacity(config.devices);
        for s in 0..switch_count {
            devices.push(switch(
                &mut rng,
                s,
                addresses[1 + s],
                field / (switch_count - 1) + 2,
            ));
        }
        for k in 0..field {
            let ip = addresses[1 + switch_count + k];
            let access = 1 + k % (switch_count - 1);
            let port = 2 + (k / (switch_count - 1)) as u16;
            let mut device = field_device(&mut rng, k, ip);
            device.attached = Some((access, port));
            devices.push(device);
        }
        // access switches hang off the core switch (index 0), each on its own core port
        for (s, device) in devices.iter_mut().enumerate().take(switch_count).skip(1) {
            device.attached = Some((0, s as u16));
        }
        Ok(Plant {
            net: config.net,
            dns: addresses[0],
            devices,
        })
    }

    /// The devices of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Device> + 'a {
        self.devices.iter().filter(move |d| d.kind.name() == kind)
    }

    /// The devices plugged into switch `index`, with their ports.
    pub fn attached_to(&self, index: usize) -> impl Iterator<Item = (u16, &Device)> + '_ {
        self.devices.iter().filter_map(move |d| match d.attached {
            Some((s, port)) if s == index => Some((port, d)),
            _ => None,
        })
    }
}

fn mac(oui: [u8; 3], n: usize) -> [u8; 6] {
    let n = n as u32 + 1;
    [
        oui[0],
        oui[1],
        oui[2],
        (n >> 16) as u8,
        (n >> 8) as u8,
        n as u8,
    ]
}

fn serial_digits(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

/// A switch product line: vendor, model, sysObjectID, sysDescr, OUI, firmware.
type SwitchLine = (
    &'static str,
    &'static str,
    &'static [u32],
    &'static str,
    [u8; 3],
    &'static str,
);

/// An S7 product line: order code, firmware, module type, CPU slot, occupied slots.
type S7Line = (&'static str, [u8; 3], &'static str, u8, &'static [u8]);

fn switch(rng: &mut Rng, s: usize, ip: Ipv4Addr, ports: usize) -> Device {
    // (vendor, model, sysObjectID, descr, OUI, firmware)
    let lines: [SwitchLine; 3] = [
        (
            "Hirschmann",
            "RSP35",
            &[1, 3, 6, 1, 4, 1, 248, 14, 10, 36],
            "Hirschmann Railswitch RSP35 HiOS-3S",
            [0xEC, 0xE5, 0x55],
            "HiOS-3S-08.7.00",
        ),
        (
            "Siemens",
            "SCALANCE XC208",
            &[1, 3, 6, 1, 4, 1, 4329, 20, 1, 1, 1, 1, 52],
            "Siemens, SIMATIC NET, SCALANCE XC208, 6GK5 208-0BA00-2AC2, HW: Version 2, FW: Version V4.3",
            [0x20, 0x87, 0x56],
            "V4.3",
        ),
        (
            "Cisco",
            "IE-4000-8GT4G-E",
            &[1, 3, 6, 1, 4, 1, 9, 1, 2070],
            "Cisco IOS Software, IE4000 Software (IE4000-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)",
            [0x00, 0x1E, 0xBD],
            "15.2(7)E4",
        ),
    ];
    let (vendor, model, oid, descr, oui, firmware) = *rng.pick(&lines);
    let role = if s == 0 { "core" } else { "access" };
    Device {
        ip,
        mac: mac(oui, 0x8000 + s),
        hostname: format!("sw-{role}-{s:02}"),
        attached: None,
        kind: Kind::Switch(Switch {
            vendor: vendor.into(),
            model: model.into(),
            descr: descr.into(),
            object_id: oid.to_vec(),
            serial: format!("SW{}", serial_digits(rng, 10)),
            firmware: firmware.into(),
            location: format!("Cabinet {}", s + 1),
            ports: ports.clamp(8, 4096) as u16,
            community: COMMUNITY.into(),
        }),
    }
}

fn field_device(rng: &mut Rng, k: usize, ip: Ipv4Addr) -> Device {
    let ordinal = k / 4;
    match k % 4 {
        0 => modbus(rng, k, ordinal, ip),
        1 => s7(rng, k, ordinal, ip),
        2 => enip(rng, k, ordinal, ip),
        _ => bacnet(rng, k, ordinal, ip),
    }
}

fn modbus_ident(
    vendor: &str,
    code: &str,
    rev: &str,
    url: &str,
    name: &str,
    model: &str,
) -> ModbusIdent {
    ModbusIdent {
        vendor: vendor.into(),
        product_code: code.into(),
        revision: rev.into(),
        url: url.into(),
        product_name: name.into(),
        model: model.into(),
    }
}

fn modbus(rng: &mut Rng, k: usize, ordinal: usize, ip: Ipv4Addr) -> Device {
    let se = "http://www.se.com";
    if ordinal.is_multiple_of(5) {
        // a Modbus/TCP to serial gateway with drives and meters behind it
        let units = (0..1 + rng.below(3))
            .map(|u| {
                let unit = (u as u8) * 3 + 1 + rng.below(2) as u8;
                let ident = if u % 2 == 0 {
                    modbus_ident(
                        "Schneider Electric",
                        "ATV320U15N4B",
                        "V3.3",
                        se,
                        "Altivar Machine ATV320",
                        "ATV320",
                    )
                } else {
                    modbus_ident(
                        "Schneider Electric",
                        "METSEPM5560",
                        "V2.7.4",
                        se,
                        "PowerLogic PM5560",
                        "PM5560",
                    )
                };
                (unit, ident)
            })
            .collect();
        return Device {
            ip,
            mac: mac([0x00, 0x80, 0xF4], k),
            hostname: format!("mb-gw-{ordinal:04}"),
            attached: None,
            kind: Kind::Modbus(ModbusDevice {
                ident: modbus_ident(
                    "Schneider Electric",
                    "TSXETG100",
                    "V6.2.2",
                    se,
                    "ConneXium Ethernet Gateway",
                    "EGX100",
                ),
                units,
            }),
        };
    }
    let lines = [
        (
            modbus_ident(
                "Schneider Electric",
                "BMX P34 2020",
                "V3.20",
                se,
                "Modicon M340",
                "BMX P34 2020",
            ),
            [0x00, 0x80, 0xF4],
        ),
        (
            modbus_ident(
                "Schneider Electric",
                "TM241CEC24T",
                "V5.1.9",
                se,
                "Modicon M241",
                "TM241CEC24T",
            ),
            [0x00, 0x80, 0xF4],
        ),
        (
            modbus_ident(
                "WAGO",
                "750-8212",
                "04.02.13",
                "https://www.wago.com",
                "PFC200 G2 2ETH RS",
                "750-8212",
            ),
            [0x00, 0x30, 0xDE],
        ),
    ];
    let (ident, oui) = rng.pick(&lines).clone();
    Device {
        ip,
        mac: mac(oui, k),
        hostname: format!("mb-plc-{ordinal:04}"),
        attached: None,
        kind: Kind::Modbus(ModbusDevice {
            ident,
            units: Vec::new(),
        }),
    }
}

fn s7(rng: &mut Rng, k: usize, ordinal: usize, ip: Ipv4Addr) -> Device {
    // (order code, firmware, module type, CPU slot, occupied slots)
    let lines: [S7Line; 4] = [
        (
            "6ES7 516-3AN02-0AB0",
            [2, 9, 4],
            "CPU 1516-3 PN/DP",
            1,
            &[1, 2, 3, 4, 5],
        ),
        (
            "6ES7 214-1AG40-0XB0",
            [4, 5, 2],
            "CPU 1214C DC/DC/DC",
            1,
            &[1, 2, 3],
        ),
        (
            "6ES7 512-1DK01-0AB0",
            [2, 9, 7],
            "CPU 1512SP-1 PN",
            1,
            &[1, 2, 3, 4],
        ),
        (
            "6ES7 315-2EH14-0AB0",
            [3, 2, 6],
            "CPU 315-2 PN/DP",
            2,
            &[2, 4, 5, 6],
        ),
    ];
    let (order, firmware, module_type, cpu_slot, slots) = *rng.pick(&lines);
    let hostname = format!("s7-plc-{ordinal:04}");
    Device {
        ip,
        mac: mac([0x28, 0x63, 0x36], k),
        hostname: hostname.clone(),
        attached: None,
        kind: Kind::S7(S7Station {
            order_code: order.into(),
            firmware,
            plc_name: format!("PLC_{ordinal:04}"),
            module_name: module_type.into(),
            plant_id: format!("Line-{}", 1 + ordinal % 7),
            serial: format!("S C-{}", serial_digits(rng, 12)),
            module_type: module_type.into(),
            cpu_slot,
            running: rng.below(5) != 0,
            slots: slots.to_vec(),
        }),
    }
}

fn ab(
    device_type: u16,
    product_code: u16,
    revision: (u8, u8),
    serial: u32,
    name: &str,
) -> EnipIdent {
    EnipIdent {
        vendor_id: 1,
        device_type,
        product_code,
        revision,
        status: 0x0060,
        serial,
        name: name.into(),
        state: 3,
    }
}

fn enip(rng: &mut Rng, k: usize, ordinal: usize, ip: Ipv4Addr) -> Device {
    let serial = |rng: &mut Rng| 0x6000_0000 | (rng.next() as u32 & 0x0FFF_FFFF);
    let (ident, slots, host) = if ordinal.is_multiple_of(2) {
        // a ControlLogix chassis reached through its 1756-EN2T
        let en2t_slot = 1 + rng.below(2) as u8;
        let en2t = ab(0x0C, 166, (11, 2), serial(rng), "1756-EN2T/D");
        let mut slots = vec![
            (
                0,
                ab(0x0E, 168, (33, 11), serial(rng), "1756-L83E/B LOGIX5583E"),
            ),
            (en2t_slot, en2t.clone()),
        ];
        let io = [
            (7u16, 9u16, "1756-IB16/A"),
            (7, 12, "1756-OB16E/A"),
            (10, 45, "1756-IF8/A"),
        ];
        for slot in en2t_slot + 1..en2t_slot + 1 + rng.below(3) as u8 + 1 {
            let (t, code, name) = *rng.pick(&io);
            slots.push((slot, ab(t, code, (3, 1), serial(rng), name)));
        }
        (en2t, slots, format!("clx-{ordinal:04}"))
    } else {
        let lines = [
            (222u16, "5069-L320ER/A LOGIX5320ER"),
            (149, "1769-L33ER/A LOGIX5333ER"),
        ];
        let (code, name) = *rng.pick(&lines);
        let me = ab(0x0E, code, (33, 11), serial(rng), name);
        (me.clone(), vec![(0, me)], format!("cpx-{ordinal:04}"))
    };
    Device {
        ip,
        mac: mac([0x00, 0x00, 0xBC], k),
        hostname: host,
        attached: None,
        kind: Kind::Enip(EnipDevice { ident, slots }),
    }
}

fn bacnet_ident(rng: &mut Rng, instance: u32, line: usize, name: String) -> BacnetIdent {
    // (vendor ID, vendor name, model, firmware, application)
    let lines = [
        (
            7u16,
            "Siemens Building Technologies",
            "PXC100.D",
            "FW=02.00.44.66",
            "Desigo PX 6.0",
        ),
        (
            5,
            "Johnson Controls, Inc.",
            "MS-NAE5510-3",
            "10.1.0.1234",
            "Metasys 10.1",
        ),
        (
            17,
            "Honeywell Inc.",
            "WEB-8000",
            "4.10.1.36",
            "Niagara 4.10",
        ),
        (8, "Delta Controls", "eBCON", "V3.40", "enteliWEB 4.5"),
    ];
    let (vendor_id, vendor, model, fw, app) = lines[line % lines.len()];
    let floor = 1 + rng.below(4);
    BacnetIdent {
        instance,
        vendor_id,
        vendor_name: vendor.into(),
        object_name: name,
        model: model.into(),
        firmware: fw.into(),
        application: app.into(),
        location: format!("Building A, floor {floor}"),
        description: "HVAC controller".into(),
    }
}

fn bacnet(rng: &mut Rng, k: usize, ordinal: usize, ip: Ipv4Addr) -> Device {
    let instance = 100_000 + ordinal as u32 * 100;
    let line = rng.below(4);
    if ordinal.is_multiple_of(4) {
        // a BACnet/IP to MS/TP router with field controllers behind it
        let mut router = bacnet_ident(rng, instance, 0, format!("BR-{ordinal:04}"));
        router.model = "PXG3.L".into();
        router.description = "BACnet router".into();
        let network = 1000 + ordinal as u16 % 60000;
        let routed = (0..2 + rng.below(3))
            .map(|m| {
                let mac = 10 + m as u8;
                let name = format!("RC-{ordinal:04}-{mac:02}");
                let mut ident = bacnet_ident(rng, instance + 1 + m as u32, 0, name);
                ident.model = "DXR2.M18-101A".into();
                ident.description = "Room controller".into();
                (network, mac, ident)
            })
            .collect();
        return Device {
            ip,
            mac: mac([0x00, 0x1A, 0xE8], k),
            hostname: format!("bac-rtr-{ordinal:04}"),
            attached: None,
            kind: Kind::Bacnet(BacnetDevice {
                ident: router,
                routed,
            }),
        };
    }
    let ident = bacnet_ident(rng, instance, line, format!("AHU-{ordinal:04}"));
    Device {
        ip,
        mac: mac([0x00, 0x1A, 0xE8], k),
        hostname: format!("bac-dev-{ordinal:04}"),
        attached: None,
        kind: Kind::Bacnet(BacnetDevice {
            ident,
            routed: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(devices: usize, net: &str) -> PlantConfig {
        PlantConfig {
            devices,
            net: net.parse().unwrap(),
            seed: 7,
        }
    }

    #[test]
    fn the_same_config_gives_the_same_plant() {
        let a = Plant::generate(&config(30, "127.32.0.0/24")).unwrap();
        let b = Plant::generate(&config(30, "127.32.0.0/24")).unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }

    #[test]
    fn a_small_plant_has_every_kind() {
        let plant = Plant::generate(&config(MIN_DEVICES, "127.32.0.0/24")).unwrap();
        for kind in ["modbus", "s7", "enip", "bacnet", "switch"] {
            assert!(plant.of_kind(kind).count() >= 1, "{kind}");
        }
        assert_eq!(plant.devices.len(), MIN_DEVICES);
    }

    #[test]
    fn addresses_are_unique_and_inside_the_block() {
        let plant = Plant::generate(&config(10_000, "127.20.0.0/16")).unwrap();
        let mut ips: Vec<_> = plant.devices.iter().map(|d| d.ip).collect();
        ips.push(plant.dns);
        let n = ips.len();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), n);
        assert!(
            ips.iter()
                .all(|ip| plant.net.contains(ip) && ip.octets()[3] != 0)
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(matches!(
            Plant::generate(&config(3, "127.32.0.0/24")),
            Err(PlantError::TooFew(3))
        ));
        assert!(matches!(
            Plant::generate(&config(30, "10.0.0.0/24")),
            Err(PlantError::NotLoopback(_))
        ));
        assert!(matches!(
            Plant::generate(&config(300, "127.32.0.0/24")),
            Err(PlantError::TooSmall { .. })
        ));
    }
}
