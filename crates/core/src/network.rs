//! What switches tell about the network: interfaces, neighbours, where a device was seen (switch,
//! port, VLAN), the sizes of the tables read, and links between devices for the device map.

use crate::device::{DeviceKey, MacAddr};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Operational status of an interface (IF-MIB ifOperStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperStatus {
    /// up(1).
    Up,
    /// down(2).
    Down,
    /// testing(3).
    Testing,
    /// unknown(4).
    Unknown,
    /// dormant(5).
    Dormant,
    /// notPresent(6).
    NotPresent,
    /// lowerLayerDown(7).
    LowerLayerDown,
}

impl OperStatus {
    /// The status of an ifOperStatus value.
    pub fn from_if_mib(v: i64) -> Option<OperStatus> {
        Some(match v {
            1 => OperStatus::Up,
            2 => OperStatus::Down,
            3 => OperStatus::Testing,
            4 => OperStatus::Unknown,
            5 => OperStatus::Dormant,
            6 => OperStatus::NotPresent,
            7 => OperStatus::LowerLayerDown,
            _ => return None,
        })
    }
}

/// The discovery protocol a neighbour was learned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeighborProtocol {
    /// IEEE 802.1AB LLDP.
    Lldp,
    /// Cisco Discovery Protocol.
    Cdp,
}

impl NeighborProtocol {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            NeighborProtocol::Lldp => "lldp",
            NeighborProtocol::Cdp => "cdp",
        }
    }
}

/// A neighbour a switch learned on one of its ports (LLDP remote table, CDP cache).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbor {
    /// LLDP or CDP.
    pub protocol: NeighborProtocol,
    /// The local port it was seen on (name).
    pub local_port: Option<String>,
    /// The local port's ifIndex, where known.
    pub local_if_index: Option<u32>,
    /// The neighbour's chassis ID (LLDP) or device ID (CDP), as text.
    pub chassis_id: Option<String>,
    /// The neighbour's system name.
    pub name: Option<String>,
    /// The neighbour's port ID.
    pub port: Option<String>,
    /// The neighbour's port description.
    pub port_description: Option<String>,
    /// The neighbour's system description (LLDP) or software version (CDP).
    pub description: Option<String>,
    /// The neighbour's platform (CDP).
    pub platform: Option<String>,
    /// Enabled capabilities: "bridge", "router", "station", "phone", ...
    pub capabilities: Vec<String>,
    /// Management addresses.
    pub addresses: Vec<IpAddr>,
    /// The neighbour's MAC (a MAC chassis ID).
    pub mac: Option<MacAddr>,
}

impl Neighbor {
    /// True when the neighbour forwards frames for others (bridge, switch or router): the port
    /// it is on is an uplink.
    pub fn is_network_device(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| matches!(c.as_str(), "bridge" | "switch" | "router"))
    }

    /// The inventory key of the neighbour: its first IPv4 management address, else its first
    /// address, else its MAC chassis ID.
    pub fn key(&self) -> Option<DeviceKey> {
        self.addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| self.addresses.first())
            .map(|a| DeviceKey::Ip(*a))
            .or_else(|| self.mac.map(DeviceKey::Mac))
    }

    /// The name to show for the neighbour.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| self.chassis_id.clone())
            .unwrap_or_else(|| "?".into())
    }
}

/// Where a switch saw a device: which switch, port and VLAN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortSighting {
    /// The switch's address (its inventory key is `ip:` this).
    pub switch: IpAddr,
    /// The port's name.
    pub port: Option<String>,
    /// The port's ifIndex.
    pub if_index: Option<u32>,
    /// The VLAN, where the switch says.
    pub vlan: Option<u16>,
    /// The port is an uplink: the device is somewhere behind it, not plugged into it.
    pub uplink: bool,
}

impl fmt::Display for PortSighting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.switch)?;
        if let Some(p) = &self.port {
            write!(f, " port {p}")?;
        } else if let Some(i) = self.if_index {
            write!(f, " ifIndex {i}")?;
        }
        if let Some(v) = self.vlan {
            write!(f, " vlan {v}")?;
        }
        if self.uplink {
            f.write_str(" (uplink)")?;
        }
        Ok(())
    }
}

/// How many rows each table of a switch held when it was last read, counted by one column each
/// (what `snmpbulkwalk` of that column returns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCounts {
    /// ifTable rows (ifDescr).
    pub interfaces: u64,
    /// entPhysicalTable rows (any column).
    pub entities: u64,
    /// ipNetToMediaTable rows (ipNetToMediaPhysAddress; IPv4 ARP).
    pub arp: u64,
    /// ipNetToPhysicalTable rows (ipNetToPhysicalPhysAddress; ARP and IPv6 neighbours).
    pub arp_physical: u64,
    /// dot1dTpFdbTable rows (dot1dTpFdbPort), summed over every bridge instance read.
    pub fdb: u64,
    /// dot1qTpFdbTable rows (dot1qTpFdbPort).
    pub qbridge_fdb: u64,
    /// lldpRemTable rows (lldpRemChassisId).
    pub lldp: u64,
    /// cdpCacheTable rows (cdpCacheDeviceId).
    pub cdp: u64,
}

/// What kind of link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// An LLDP neighbour.
    Lldp,
    /// A CDP neighbour.
    Cdp,
    /// A device on a switch's access port (from the MAC table).
    Access,
}

impl LinkKind {
    /// The name used in the store.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Lldp => "lldp",
            LinkKind::Cdp => "cdp",
            LinkKind::Access => "access",
        }
    }

    /// Parses [`LinkKind::name`].
    pub fn from_name(name: &str) -> Option<LinkKind> {
        [LinkKind::Lldp, LinkKind::Cdp, LinkKind::Access]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// A link between a device's port and another device, for the device map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Link {
    /// The device that reported it (the switch).
    pub device: DeviceKey,
    /// Its port's name.
    pub port: Option<String>,
    /// Its port's ifIndex.
    pub if_index: Option<u32>,
    /// The device at the other end, when it has an inventory key.
    pub remote: Option<DeviceKey>,
    /// What the other end calls itself (a neighbour without an address or MAC has only this).
    pub remote_name: Option<String>,
    /// The other end's port.
    pub remote_port: Option<String>,
    /// LLDP, CDP or an access port.
    pub kind: LinkKind,
    /// The VLAN (access links).
    pub vlan: Option<u16>,
}

impl Serialize for DeviceKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neighbor(caps: &[&str], addresses: Vec<IpAddr>, mac: Option<MacAddr>) -> Neighbor {
        Neighbor {
            protocol: NeighborProtocol::Lldp,
            local_port: Some("17".into()),
            local_if_index: Some(17),
            chassis_id: None,
            name: Some("core-1".into()),
            port: None,
            port_description: None,
            description: None,
            platform: None,
            capabilities: caps.iter().map(|c| c.to_string()).collect(),
            addresses,
            mac,
        }
    }

    #[test]
    fn a_neighbour_is_keyed_by_ipv4_then_any_address_then_mac() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let mac: MacAddr = "00:11:22:33:44:55".parse().unwrap();
        assert_eq!(
            neighbor(&[], vec![v6, v4], Some(mac)).key(),
            Some(DeviceKey::Ip(v4))
        );
        assert_eq!(neighbor(&[], vec![v6], None).key(), Some(DeviceKey::Ip(v6)));
        assert_eq!(
            neighbor(&[], vec![], Some(mac)).key(),
            Some(DeviceKey::Mac(mac))
        );
        assert_eq!(neighbor(&[], vec![], None).key(), None);
        assert!(neighbor(&["bridge"], vec![], None).is_network_device());
        assert!(!neighbor(&["station"], vec![], None).is_network_device());
    }

    #[test]
    fn links_serialize_keys_as_text() {
        let link = Link {
            device: DeviceKey::Ip("127.0.0.51".parse().unwrap()),
            port: Some("17".into()),
            if_index: Some(17),
            remote: Some(DeviceKey::Mac("e8:39:35:1a:ca:99".parse().unwrap())),
            remote_name: None,
            remote_port: None,
            kind: LinkKind::Lldp,
            vlan: None,
        };
        let json = serde_json::to_string(&link).unwrap();
        assert!(json.contains(r#""device":"ip:127.0.0.51""#), "{json}");
        assert_eq!(serde_json::from_str::<Link>(&json).unwrap(), link);
    }
}
