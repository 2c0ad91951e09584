//! Devices of the inventory: identity (key, parent, position) and typed attributes.

use crate::host::{Hotfix, Interface, OsInfo, Software};
use crate::network::{Neighbor, PortSighting, TableCounts};
use crate::protocol::Protocol;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A 48-bit IEEE MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!("{s}: a MAC address has six hex octets"));
        }
        let mut out = [0u8; 6];
        for (slot, part) in out.iter_mut().zip(parts) {
            if part.len() != 2 {
                return Err(format!("{s}: each MAC octet is two hex digits"));
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| format!("{s}: not hex"))?;
        }
        Ok(MacAddr(out))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a sub-device sits inside its parent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// A module in slot N of a rack or chassis.
    Slot(u16),
    /// A Modbus unit ID behind a gateway.
    UnitId(u8),
    /// A device on a routed network behind a router (BACnet network number and MAC).
    Routed {
        /// Network number.
        network: u16,
        /// MAC on that network, in hex.
        mac: String,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Slot(n) => write!(f, "slot:{n}"),
            Position::UnitId(n) => write!(f, "unit:{n}"),
            Position::Routed { network, mac } => write!(f, "net:{network}/{mac}"),
        }
    }
}

/// The stable identity of a device in the inventory.
///
/// A top-level device is known by its address; a sub-device by its parent and its position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceKey {
    /// A device known by its IP address.
    Ip(IpAddr),
    /// A device known only by its MAC address (seen in a switch's tables).
    Mac(MacAddr),
    /// A sub-device: a module, a unit behind a gateway, a routed device.
    Sub {
        /// The key of the parent device.
        parent: Box<DeviceKey>,
        /// Where it sits in the parent.
        position: Position,
    },
}

impl DeviceKey {
    /// The key of a sub-device of `self` at `position`.
    pub fn child(&self, position: Position) -> DeviceKey {
        DeviceKey::Sub {
            parent: Box::new(self.clone()),
            position,
        }
    }

    /// The parent's key for a sub-device.
    pub fn parent(&self) -> Option<&DeviceKey> {
        match self {
            DeviceKey::Sub { parent, .. } => Some(parent),
            _ => None,
        }
    }

    /// The position for a sub-device.
    pub fn position(&self) -> Option<&Position> {
        match self {
            DeviceKey::Sub { position, .. } => Some(position),
            _ => None,
        }
    }

    /// The address of the device or, for a sub-device, of its top-level ancestor.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            DeviceKey::Ip(ip) => Some(*ip),
            DeviceKey::Mac(_) => None,
            DeviceKey::Sub { parent, .. } => parent.ip(),
        }
    }
}

impl fmt::Display for DeviceKey {
    /// `ip:ADDR`, `mac:MAC`, or the parent's key followed by `/` and the position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKey::Ip(ip) => write!(f, "ip:{ip}"),
            DeviceKey::Mac(mac) => write!(f, "mac:{mac}"),
            DeviceKey::Sub { parent, position } => write!(f, "{parent}/{position}"),
        }
    }
}

impl FromStr for Position {
    type Err = String;

    /// Parses what [`Position`]'s `Display` writes: `slot:N`, `unit:N`, `net:N/MAC`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s}: not a position (slot:N, unit:N or net:N/MAC)");
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        match kind {
            "slot" => rest.parse().map(Position::Slot).map_err(|_| bad()),
            "unit" => rest.parse().map(Position::UnitId).map_err(|_| bad()),
            "net" => {
                let (network, mac) = rest.split_once('/').ok_or_else(bad)?;
                Ok(Position::Routed {
                    network: network.parse().map_err(|_| bad())?,
                    mac: mac.to_string(),
                })
            }
            _ => Err(bad()),
        }
    }
}

impl FromStr for DeviceKey {
    type Err = String;

    /// Parses what [`DeviceKey`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('/');
        let root = parts.next().unwrap_or_default();
        let mut key = if let Some(ip) = root.strip_prefix("ip:") {
            DeviceKey::Ip(ip.parse().map_err(|_| format!("{s}: bad address in key"))?)
        } else if let Some(mac) = root.strip_prefix("mac:") {
            DeviceKey::Mac(mac.parse()?)
        } else {
            return Err(format!("{s}: a device key starts with ip: or mac:"));
        };
        let rest: Vec<&str> = parts.collect();
        let mut i = 0;
        while i < rest.len() {
            // a routed position carries its own '/': net:N/MAC
            let part = if rest[i].starts_with("net:") && i + 1 < rest.len() {
                i += 1;
                format!("{}/{}", rest[i - 1], rest[i])
            } else {
                rest[i].to_string()
            };
            key = key.child(part.parse()?);
            i += 1;
        }
        Ok(key)
    }
}

/// What kind of device it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    /// A programmable logic controller.
    Plc,
    /// An I/O module in a rack.
    IoModule,
    /// A communication adapter or gateway.
    CommunicationAdapter,
    /// An operator panel.
    Hmi,
    /// A building automation controller.
    BuildingController,
    /// A drive.
    Drive,
    /// A network switch.
    Switch,
    /// A Windows workstation or server.
    Workstation,
    /// A device whose kind is not known.
    Other,
}

impl DeviceType {
    /// The name used in exports.
    pub fn name(self) -> &'static str {
        match self {
            DeviceType::Plc => "plc",
            DeviceType::IoModule => "io_module",
            DeviceType::CommunicationAdapter => "communication_adapter",
            DeviceType::Hmi => "hmi",
            DeviceType::BuildingController => "building_controller",
            DeviceType::Drive => "drive",
            DeviceType::Switch => "switch",
            DeviceType::Workstation => "workstation",
            DeviceType::Other => "other",
        }
    }
}

/// The operating mode a PLC reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlcMode {
    /// Running its program.
    Run,
    /// Stopped.
    Stop,
    /// Starting up.
    Startup,
    /// Halted or faulted.
    Fault,
    /// Reported, but not one of the above.
    Unknown,
}

impl PlcMode {
    /// The name used in exports.
    pub fn name(self) -> &'static str {
        match self {
            PlcMode::Run => "run",
            PlcMode::Stop => "stop",
            PlcMode::Startup => "startup",
            PlcMode::Fault => "fault",
            PlcMode::Unknown => "unknown",
        }
    }
}

/// The typed attributes of a device, each set by facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// MAC address.
    pub mac: Option<MacAddr>,
    /// Device name (as the device calls itself).
    pub name: Option<String>,
    /// Fully qualified domain name from reverse DNS.
    pub fqdn: Option<String>,
    /// When the FQDN was last looked up.
    pub fqdn_looked_up: Option<Timestamp>,
    /// Kind of device.
    #[serde(rename = "type")]
    pub device_type: Option<DeviceType>,
    /// Vendor name.
    pub vendor: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Product name, where the device reports one apart from the model.
    pub product_name: Option<String>,
    /// Product or order code.
    pub product_code: Option<String>,
    /// Firmware or revision.
    pub firmware: Option<String>,
    /// Hardware revision.
    pub hardware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// PLC operating mode.
    pub plc_mode: Option<PlcMode>,
    /// Vendor web address the device reports.
    pub vendor_url: Option<String>,
    /// Name of the application the device runs.
    pub application: Option<String>,
    /// Version of the application software.
    pub software_version: Option<String>,
    /// Where the device says it is.
    pub location: Option<String>,
    /// The device's own description of itself.
    pub description: Option<String>,
    /// The vendor's number in the protocol's registry.
    pub vendor_id: Option<u32>,
    /// The instance number of the BACnet Device object.
    pub bacnet_instance: Option<u32>,
    /// The protocol's own name for the kind of device.
    pub type_name: Option<String>,
    /// The address the device gives for itself.
    pub reported_ip: Option<IpAddr>,
    /// The device's own status report.
    pub status: Option<String>,
    /// Operating system.
    pub os: Option<OsInfo>,
    /// Windows domain or workgroup.
    pub domain: Option<String>,
    /// Network interfaces: those a host reports, or a network device's ports by ifIndex.
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    /// Installed updates.
    #[serde(default)]
    pub hotfixes: Vec<Hotfix>,
    /// Installed software.
    #[serde(default)]
    pub software: Vec<Software>,
    /// Protocols the device answered.
    pub protocols: BTreeSet<Protocol>,
    /// The vendor of the MAC address's OUI (IEEE registry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_vendor: Option<String>,
    /// A network device's LLDP/CDP neighbours.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbors: Vec<Neighbor>,
    /// Where switches saw the device, one sighting per switch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_on: Vec<PortSighting>,
    /// The switch port the device is plugged into (the last access-port sighting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_port: Option<PortSighting>,
    /// A switch's table sizes when it was last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_tables: Option<TableCounts>,
}

impl Attributes {
    /// The vendor to show: the one a protocol named, else the MAC's OUI vendor.
    pub fn best_vendor(&self) -> Option<&str> {
        self.vendor.as_deref().or(self.mac_vendor.as_deref())
    }
}

/// A device of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Stable identity.
    pub key: DeviceKey,
    /// Typed attributes.
    pub attributes: Attributes,
    /// When a scan first saw it.
    pub first_seen: Timestamp,
    /// When a scan last saw it.
    pub last_seen: Timestamp,
}

impl Device {
    /// A device seen for the first time at `at`, with no attributes yet.
    pub fn new(key: DeviceKey, at: Timestamp) -> Device {
        Device {
            key,
            attributes: Attributes::default(),
            first_seen: at,
            last_seen: at,
        }
    }

    /// The device's IP address, or its top-level ancestor's.
    pub fn ip(&self) -> Option<IpAddr> {
        self.key.ip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trips() {
        let mac: MacAddr = "00-1B-1b-aa-00-ff".parse().unwrap();
        assert_eq!(mac.to_string(), "00:1b:1b:aa:00:ff");
        assert!("00:1b:1b".parse::<MacAddr>().is_err());
        assert!("00:1b:1b:aa:00:zz".parse::<MacAddr>().is_err());
    }

    #[test]
    fn sub_device_keys_name_their_parent() {
        let gw = DeviceKey::Ip("127.0.0.12".parse().unwrap());
        let unit = gw.child(Position::UnitId(17));
        assert_eq!(unit.to_string(), "ip:127.0.0.12/unit:17");
        assert_eq!(unit.parent(), Some(&gw));
        assert_eq!(unit.ip(), gw.ip());
        let routed = unit.child(Position::Routed {
            network: 5,
            mac: "0a0b".into(),
        });
        for key in [gw, unit, routed] {
            assert_eq!(key.to_string().parse::<DeviceKey>().unwrap(), key);
        }
    }
}
