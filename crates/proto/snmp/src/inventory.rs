//! What a switch's tables mean for the inventory (pure): the switch itself, every address and
//! MAC it has seen (with switch, port and VLAN), its neighbours, and links for the device map.
//!
//! Uplinks: a port is an uplink when an LLDP/CDP neighbour on it is a bridge, switch or router,
//! or when more than [`InventoryOptions::uplink_macs`] distinct MACs were learned on it. A device
//! seen on an uplink is recorded as seen there, but that port is not its access port and no
//! access link is drawn.

use crate::discovery::SwitchData;
use crate::mib::{self, ARP_TYPE_INVALID, FDB_STATUS_INVALID, FDB_STATUS_SELF, FdbRow, IfRow};
use otsensor_core::{
    DeviceKey, DeviceType, Fact, Interface, Link, LinkKind, MacAddr, Neighbor, NeighborProtocol,
    Observation, OperStatus, OuiTable, PortSighting, Protocol, RelatedObservation,
};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Distinct MACs on a port above which it counts as an uplink, by default.
pub const DEFAULT_UPLINK_MACS: usize = 16;
/// ifType ieee8023adLag(161).
const IF_TYPE_LAG: u32 = 161;

/// How the tables are read into the inventory.
#[derive(Debug, Clone, Copy)]
pub struct InventoryOptions {
    /// Distinct MACs on a port above which it is an uplink.
    pub uplink_macs: usize,
}

impl Default for InventoryOptions {
    fn default() -> InventoryOptions {
        InventoryOptions {
            uplink_macs: DEFAULT_UPLINK_MACS,
        }
    }
}

/// Builds the observation of a switch at `address` from what was read.
pub fn observation(
    address: IpAddr,
    data: &SwitchData,
    oui: &OuiTable,
    options: InventoryOptions,
    time: jiff::Timestamp,
) -> Observation {
    let mut obs = Observation::new(address, Protocol::Snmp, time);
    let ports = PortNames::new(&data.interfaces);
    let own_macs = own_macs(data);
    let neighbors = neighbors(data, &ports);
    let uplinks = uplinks(data, &neighbors, options, &own_macs);
    obs.facts.extend(switch_facts(data, &uplinks));
    obs.facts.push(Fact::Neighbors(neighbors.clone()));
    let switch_key = DeviceKey::Ip(address);
    add_neighbors(&mut obs, &switch_key, &neighbors, oui);
    let known: BTreeMap<MacAddr, DeviceKey> = neighbors
        .iter()
        .filter_map(|n| Some((n.mac?, n.key()?)))
        .filter(|(_, k)| matches!(k, DeviceKey::Ip(_)))
        .collect();
    add_stations(
        &mut obs, address, data, &ports, &uplinks, &own_macs, &known, oui,
    );
    obs
}

/// Names of ports by ifIndex.
struct PortNames<'a> {
    by_index: BTreeMap<u32, &'a IfRow>,
}

impl<'a> PortNames<'a> {
    fn new(rows: &'a [IfRow]) -> PortNames<'a> {
        PortNames {
            by_index: rows.iter().map(|r| (r.index, r)).collect(),
        }
    }

    fn name(&self, if_index: u32) -> Option<String> {
        self.by_index
            .get(&if_index)
            .and_then(|r| r.name.clone().or_else(|| r.descr.clone()))
    }

    /// The ifIndex whose name, description or MAC is `id` (for LLDP local port IDs).
    fn find(&self, id: &[u8]) -> Option<u32> {
        let text = String::from_utf8_lossy(id);
        let text = text.trim();
        self.by_index
            .values()
            .find(|r| {
                r.name.as_deref() == Some(text)
                    || r.descr.as_deref() == Some(text)
                    || (id.len() == 6 && r.mac.map(|m| m.0.as_slice() == id).unwrap_or(false))
            })
            .map(|r| r.index)
    }
}

/// The switch's own MACs: its bridge address and its interfaces' addresses.
fn own_macs(data: &SwitchData) -> BTreeSet<MacAddr> {
    data.bridge_address
        .into_iter()
        .chain(data.interfaces.iter().filter_map(|i| i.mac))
        .collect()
}

/// The ifIndex of an LLDP local port number: through lldpLocPortTable's port ID (a name or
/// MAC of an interface), else as a bridge port, else as an ifIndex.
fn lldp_if_index(data: &SwitchData, ports: &PortNames<'_>, port_num: u32) -> Option<u32> {
    if let Some(local) = data.lldp_local.get(&port_num)
        && let Some(i) = ports.find(&local.id)
    {
        return Some(i);
    }
    if let Some(local) = data.lldp_local.get(&port_num)
        && let Some(desc) = &local.desc
        && let Some(i) = ports.find(desc.as_bytes())
    {
        return Some(i);
    }
    data.base_ports
        .get(&port_num)
        .copied()
        .or_else(|| ports.by_index.contains_key(&port_num).then_some(port_num))
}

/// LLDP and CDP neighbours as the core type.
fn neighbors(data: &SwitchData, ports: &PortNames<'_>) -> Vec<Neighbor> {
    let mut out = Vec::new();
    for r in &data.lldp {
        let if_index = lldp_if_index(data, ports, r.local_port);
        let local_port = if_index
            .and_then(|i| ports.name(i))
            .or_else(|| {
                data.lldp_local
                    .get(&r.local_port)
                    .and_then(|l| mib::printable_or_hex(&l.id))
            })
            .or_else(|| Some(format!("LLDP port {}", r.local_port)));
        let chassis_mac = match r.chassis_subtype {
            Some(4) => mib::mac_of(&r.chassis_id),
            _ => None,
        };
        let chassis_id = match (chassis_mac, r.chassis_subtype) {
            (Some(m), _) => Some(m.to_string()),
            (None, Some(5)) => network_address(&r.chassis_id).map(|a| a.to_string()),
            _ => mib::printable_or_hex(&r.chassis_id),
        };
        let port = match r.port_subtype {
            Some(3) => mib::mac_of(&r.port_id).map(|m| m.to_string()),
            _ => mib::printable_or_hex(&r.port_id),
        };
        let mut caps = mib::lldp_capabilities(&r.caps_enabled);
        if caps.is_empty() {
            caps = mib::lldp_capabilities(&r.caps_supported);
        }
        out.push(Neighbor {
            protocol: NeighborProtocol::Lldp,
            local_port,
            local_if_index: if_index,
            chassis_id,
            name: r.sys_name.clone(),
            port,
            port_description: r.port_desc.clone(),
            description: r.sys_desc.clone(),
            platform: None,
            capabilities: caps,
            addresses: r.addresses.clone(),
            mac: chassis_mac.filter(mib::is_station_mac),
        });
    }
    for r in &data.cdp {
        let device_mac = mib::mac_of(&r.device_id).filter(mib::is_station_mac);
        let chassis_id = match device_mac {
            Some(m) => Some(m.to_string()),
            None => mib::printable_or_hex(&r.device_id),
        };
        let name = chassis_id
            .clone()
            .filter(|_| device_mac.is_none())
            .map(|id| strip_serial(&id));
        out.push(Neighbor {
            protocol: NeighborProtocol::Cdp,
            local_port: ports
                .name(r.if_index)
                .or_else(|| Some(format!("ifIndex {}", r.if_index))),
            local_if_index: Some(r.if_index),
            chassis_id,
            name,
            port: r.device_port.clone(),
            port_description: None,
            description: r.version.clone(),
            platform: r.platform.clone(),
            capabilities: mib::cdp_capabilities(r.capabilities),
            addresses: r.address.into_iter().collect(),
            mac: device_mac,
        });
    }
    out
}

/// "NWPU-CA-5548-01(SSI183706KP)": NX-OS appends the serial to the CDP device ID.
fn strip_serial(id: &str) -> String {
    match id.split_once('(') {
        Some((name, rest)) if rest.ends_with(')') && !name.is_empty() => name.to_string(),
        _ => id.to_string(),
    }
}

/// An LLDP network-address chassis ID: IANA address family octet, then the address.
fn network_address(bytes: &[u8]) -> Option<IpAddr> {
    let (family, rest) = bytes.split_first()?;
    mib::inet_address(u32::from(*family), rest)
}

/// The ifIndexes of uplink ports.
fn uplinks(
    data: &SwitchData,
    neighbors: &[Neighbor],
    options: InventoryOptions,
    own: &BTreeSet<MacAddr>,
) -> BTreeSet<u32> {
    let mut out: BTreeSet<u32> = neighbors
        .iter()
        .filter(|n| n.is_network_device())
        .filter_map(|n| n.local_if_index)
        .collect();
    let mut macs_per_port: BTreeMap<u32, BTreeSet<MacAddr>> = BTreeMap::new();
    for e in data.fdb.iter().filter(|e| station_entry(e, own)) {
        if let Some(i) = e.if_index {
            macs_per_port.entry(i).or_default().insert(e.mac);
        }
    }
    out.extend(
        macs_per_port
            .into_iter()
            .filter(|(_, macs)| macs.len() > options.uplink_macs)
            .map(|(i, _)| i),
    );
    out.extend(
        data.interfaces
            .iter()
            .filter(|i| i.if_type == Some(IF_TYPE_LAG))
            .map(|i| i.index),
    );
    out
}

/// A forwarding entry of another station (not the switch itself, not invalid, a real port).
fn station_entry(e: &FdbRow, own: &BTreeSet<MacAddr>) -> bool {
    e.bridge_port != 0
        && !matches!(e.status, Some(FDB_STATUS_SELF) | Some(FDB_STATUS_INVALID))
        && mib::is_station_mac(&e.mac)
        && !own.contains(&e.mac)
}

/// The switch's own facts.
fn switch_facts(data: &SwitchData, uplinks: &BTreeSet<u32>) -> Vec<Fact> {
    let mut facts = Vec::new();
    let sys = &data.system;
    let descr = sys
        .descr
        .as_deref()
        .map(|d| (data.profile.parse_descr)(d))
        .unwrap_or_default();
    let chassis = data
        .entities
        .iter()
        .filter(|e| e.class == Some(mib::ENTITY_CLASS_CHASSIS))
        .min_by_key(|e| e.index);
    let bridges =
        data.bridge_address.is_some() || !data.base_ports.is_empty() || !data.fdb.is_empty();
    if bridges || data.profile.switch_vendor {
        facts.push(Fact::DeviceType(DeviceType::Switch));
    }
    let vendor = (!data.profile.vendor.is_empty())
        .then(|| data.profile.vendor.to_string())
        .or_else(|| chassis.and_then(|c| c.mfg_name.clone()));
    let model = chassis
        .and_then(|c| c.model_name.clone())
        .or(descr.model)
        .or_else(|| chassis.and_then(|c| c.descr.clone()));
    let firmware = chassis
        .and_then(|c| c.software_rev.clone())
        .or(descr.firmware)
        .or_else(|| chassis.and_then(|c| c.firmware_rev.clone()));
    let optional = [
        sys.name.clone().map(Fact::Name),
        sys.descr.clone().map(Fact::Description),
        sys.location.clone().map(Fact::Location),
        vendor.map(Fact::Vendor),
        model.map(Fact::Model),
        descr.product_code.map(Fact::ProductCode),
        firmware.map(Fact::Firmware),
        chassis
            .and_then(|c| c.hardware_rev.clone())
            .map(Fact::Hardware),
        chassis.and_then(|c| c.serial.clone()).map(Fact::Serial),
        data.bridge_address.map(Fact::Mac),
    ];
    facts.extend(optional.into_iter().flatten());
    facts.push(Fact::Interfaces(
        data.interfaces
            .iter()
            .map(|i| Interface {
                index: Some(i.index),
                name: i.name.clone(),
                mac: i.mac,
                addresses: Vec::new(),
                description: i.descr.clone(),
                alias: i.alias.clone(),
                speed_bps: i.speed_bps,
                if_type: i.if_type,
                admin_up: i.admin.map(|a| a == 1),
                oper_status: i.oper.and_then(OperStatus::from_if_mib),
                uplink: uplinks.contains(&i.index),
            })
            .collect(),
    ));
    facts.push(Fact::SwitchTables(data.counts));
    facts
}

/// Neighbours with a key become related devices (named, typed); every neighbour gets a link.
/// A neighbour seen over both LLDP and CDP (or on several ports) is one device whose facts come
/// from its first sighting, so that repeated scans do not flip between two descriptions.
fn add_neighbors(
    obs: &mut Observation,
    switch: &DeviceKey,
    neighbors: &[Neighbor],
    oui: &OuiTable,
) {
    let mut devices: Vec<(DeviceKey, Vec<Fact>)> = Vec::new();
    for n in neighbors {
        let key = n.key();
        if let Some(key) = &key {
            let facts = neighbor_facts(n, oui);
            match devices.iter_mut().find(|(k, _)| k == key) {
                Some((_, known)) => {
                    for fact in facts {
                        if !known.iter().any(|f| f.attribute() == fact.attribute()) {
                            known.push(fact);
                        }
                    }
                }
                None => devices.push((key.clone(), facts)),
            }
        }
        obs.links.push(Link {
            device: switch.clone(),
            port: n.local_port.clone(),
            if_index: n.local_if_index,
            remote: key,
            remote_name: Some(n.label()),
            remote_port: n.port.clone(),
            kind: match n.protocol {
                NeighborProtocol::Lldp => LinkKind::Lldp,
                NeighborProtocol::Cdp => LinkKind::Cdp,
            },
            vlan: None,
        });
    }
    obs.related.extend(
        devices
            .into_iter()
            .map(|(key, facts)| RelatedObservation { key, facts }),
    );
}

/// What a neighbour says about itself.
fn neighbor_facts(n: &Neighbor, oui: &OuiTable) -> Vec<Fact> {
    let mut facts = Vec::new();
    if let Some(name) = n.name.clone().filter(|s| !s.is_empty()) {
        facts.push(Fact::Name(name));
    }
    if let Some(d) = &n.description {
        facts.push(Fact::Description(d.clone()));
    }
    if let Some(p) = &n.platform {
        facts.push(Fact::Model(p.clone()));
    }
    if n.capabilities
        .iter()
        .any(|c| c == "bridge" || c == "switch")
    {
        facts.push(Fact::DeviceType(DeviceType::Switch));
    }
    if let Some(m) = n.mac {
        facts.push(Fact::Mac(m));
        if let Some(v) = oui.vendor(&m) {
            facts.push(Fact::MacVendor(v.to_string()));
        }
    }
    facts
}

/// Where one MAC was seen: its best forwarding entry (an access port over an uplink; a VLAN
/// known over unknown).
fn best_entry<'a>(entries: &[&'a FdbRow], uplinks: &BTreeSet<u32>) -> Option<&'a FdbRow> {
    entries.iter().copied().min_by_key(|e| {
        let uplink = e.if_index.is_none_or(|i| uplinks.contains(&i));
        (uplink, e.vlan.is_none(), e.if_index)
    })
}

/// Every station in the ARP and MAC tables: ARP entries by address (with their MAC), MACs of
/// neighbours known by address under that address, other MACs by MAC; each with where the
/// switch saw it.
#[allow(clippy::too_many_arguments)]
fn add_stations(
    obs: &mut Observation,
    switch: IpAddr,
    data: &SwitchData,
    ports: &PortNames<'_>,
    uplinks: &BTreeSet<u32>,
    own: &BTreeSet<MacAddr>,
    neighbors_by_mac: &BTreeMap<MacAddr, DeviceKey>,
    oui: &OuiTable,
) {
    let mut ips_by_mac: BTreeMap<MacAddr, Vec<IpAddr>> = BTreeMap::new();
    let mut seen_ips = BTreeSet::new();
    for a in &data.arp {
        let usable = a.kind != Some(ARP_TYPE_INVALID)
            && mib::is_station_mac(&a.mac)
            && !own.contains(&a.mac)
            && !is_link_local_v6(&a.ip)
            && a.ip != switch;
        if usable && seen_ips.insert(a.ip) {
            ips_by_mac.entry(a.mac).or_default().push(a.ip);
        }
    }
    let mut entries_by_mac: BTreeMap<MacAddr, Vec<&FdbRow>> = BTreeMap::new();
    for e in data.fdb.iter().filter(|e| station_entry(e, own)) {
        entries_by_mac.entry(e.mac).or_default().push(e);
    }
    let macs: BTreeSet<MacAddr> = ips_by_mac
        .keys()
        .chain(entries_by_mac.keys())
        .copied()
        .collect();
    let switch_key = DeviceKey::Ip(switch);
    for mac in macs {
        let sighting = entries_by_mac
            .get(&mac)
            .and_then(|entries| best_entry(entries, uplinks))
            .map(|e| PortSighting {
                switch,
                port: e
                    .if_index
                    .and_then(|i| ports.name(i))
                    .or_else(|| Some(format!("bridge port {}", e.bridge_port))),
                if_index: e.if_index,
                vlan: e.vlan,
                uplink: e.if_index.is_none_or(|i| uplinks.contains(&i)),
            });
        let keys: Vec<DeviceKey> = match (ips_by_mac.get(&mac), neighbors_by_mac.get(&mac)) {
            (Some(ips), _) => ips.iter().map(|ip| DeviceKey::Ip(*ip)).collect(),
            (None, Some(key)) => vec![key.clone()],
            (None, None) => vec![DeviceKey::Mac(mac)],
        };
        for key in keys {
            let mut facts = vec![Fact::Mac(mac)];
            if let Some(v) = oui.vendor(&mac) {
                facts.push(Fact::MacVendor(v.to_string()));
            }
            if let Some(s) = &sighting {
                facts.push(Fact::SeenOn(s.clone()));
                if !s.uplink {
                    obs.links.push(Link {
                        device: switch_key.clone(),
                        port: s.port.clone(),
                        if_index: s.if_index,
                        remote: Some(key.clone()),
                        remote_name: None,
                        remote_port: None,
                        kind: LinkKind::Access,
                        vlan: s.vlan,
                    });
                }
            }
            obs.related.push(RelatedObservation { key, facts });
        }
    }
}

fn is_link_local_v6(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mib::{ArpRow, FdbSource, LldpRow, SystemInfo};
    use crate::vendor;
    use otsensor_core::TableCounts;

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn fdb(m: &str, port: u32, vlan: Option<u16>) -> FdbRow {
        FdbRow {
            mac: mac(m),
            bridge_port: port,
            if_index: Some(port),
            status: Some(3),
            vlan,
            source: FdbSource::QBridge,
        }
    }

    fn data() -> SwitchData {
        let mut fdb_rows = vec![
            fdb("00:1b:1b:00:00:01", 3, Some(10)),
            fdb("00:1b:1b:00:00:02", 4, Some(10)),
            // the same PLC also on the uplink (in another VLAN's table)
            fdb("00:1b:1b:00:00:01", 24, None),
            fdb("00:1b:1b:00:00:aa", 0, Some(1)),
        ];
        for i in 0..20u8 {
            fdb_rows.push(fdb(&format!("00:0c:29:00:01:{i:02x}"), 24, Some(10)));
        }
        SwitchData {
            profile: vendor::for_enterprise(Some(11)),
            system: SystemInfo {
                name: Some("sw-1".into()),
                descr: Some("ProCurve J9999A 2920, revision WB.16.02.0012, ROM WB.16.03".into()),
                ..SystemInfo::default()
            },
            entities: vec![],
            interfaces: (1..=24)
                .map(|i| IfRow {
                    index: i,
                    name: Some(format!("{i}")),
                    ..IfRow::default()
                })
                .collect(),
            bridge_address: Some(mac("00:11:22:33:44:55")),
            base_ports: (1..=24).map(|i| (i, i)).collect(),
            arp: vec![ArpRow {
                if_index: 100,
                ip: "10.0.0.2".parse().unwrap(),
                mac: mac("00:1b:1b:00:00:02"),
                kind: Some(3),
            }],
            fdb: fdb_rows,
            lldp_local: BTreeMap::new(),
            lldp: vec![LldpRow {
                local_port: 23,
                index: 1,
                chassis_subtype: Some(4),
                chassis_id: vec![0x8c, 0x60, 0x4f, 0x19, 0x16, 0x3a],
                port_subtype: Some(5),
                port_id: b"Eth1/19".to_vec(),
                port_desc: None,
                sys_name: Some("core-1".into()),
                sys_desc: None,
                caps_supported: vec![0x28],
                caps_enabled: vec![0x28],
                addresses: vec![],
            }],
            cdp: vec![],
            counts: TableCounts::default(),
            notes: vec![],
        }
    }

    fn find<'a>(obs: &'a Observation, key: &DeviceKey) -> &'a RelatedObservation {
        obs.related.iter().find(|r| &r.key == key).unwrap()
    }

    #[test]
    fn stations_get_their_access_port_and_uplinks_are_not_access_ports() {
        let obs = observation(
            "127.0.0.51".parse().unwrap(),
            &data(),
            &OuiTable::parse("00-1B-1B   (hex)\t\tSiemens AG\n"),
            InventoryOptions::default(),
            jiff::Timestamp::UNIX_EPOCH,
        );
        // the PLC on port 3: its access port, not the uplink 24 where it also shows
        let plc = find(&obs, &DeviceKey::Mac(mac("00:1b:1b:00:00:01")));
        let sighting = plc.facts.iter().find_map(|f| match f {
            Fact::SeenOn(s) => Some(s.clone()),
            _ => None,
        });
        let s = sighting.unwrap();
        assert_eq!((s.if_index, s.vlan, s.uplink), (Some(3), Some(10), false));
        assert!(plc.facts.contains(&Fact::MacVendor("Siemens AG".into())));
        // the MAC with an ARP entry is keyed by its address
        let by_ip = find(&obs, &DeviceKey::Ip("10.0.0.2".parse().unwrap()));
        assert!(by_ip.facts.contains(&Fact::Mac(mac("00:1b:1b:00:00:02"))));
        assert!(
            !obs.related
                .iter()
                .any(|r| r.key == DeviceKey::Mac(mac("00:1b:1b:00:00:02")))
        );
        // 20 VMs on port 24: an uplink by MAC count, so no access links there
        let vm = find(&obs, &DeviceKey::Mac(mac("00:0c:29:00:01:00")));
        assert!(
            vm.facts
                .iter()
                .any(|f| matches!(f, Fact::SeenOn(s) if s.uplink))
        );
        assert!(
            !obs.links
                .iter()
                .any(|l| l.kind == LinkKind::Access && l.if_index == Some(24))
        );
        // port 0 (the CPU) is not a station
        assert!(
            !obs.related
                .iter()
                .any(|r| r.key == DeviceKey::Mac(mac("00:1b:1b:00:00:aa")))
        );
        // the LLDP bridge neighbour makes port 23 an uplink and is linked by its chassis MAC
        let interfaces = obs.facts.iter().find_map(|f| match f {
            Fact::Interfaces(l) => Some(l.clone()),
            _ => None,
        });
        let interfaces = interfaces.unwrap();
        let port = |n: u32| interfaces.iter().find(|i| i.index == Some(n)).unwrap();
        assert!(port(23).uplink);
        assert!(port(24).uplink);
        assert!(!port(3).uplink);
        let lldp = obs.links.iter().find(|l| l.kind == LinkKind::Lldp).unwrap();
        assert_eq!(lldp.remote, Some(DeviceKey::Mac(mac("8c:60:4f:19:16:3a"))));
        assert_eq!(lldp.remote_port.as_deref(), Some("Eth1/19"));
        // the switch: HPE from its profile, firmware from sysDescr
        assert!(obs.facts.contains(&Fact::Vendor("HPE".into())));
        assert!(obs.facts.contains(&Fact::Firmware("WB.16.02.0012".into())));
        assert!(obs.facts.contains(&Fact::DeviceType(DeviceType::Switch)));
    }
}
