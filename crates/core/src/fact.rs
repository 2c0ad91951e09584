//! Typed facts: what one probe learned about one device.

use crate::device::{Attributes, DeviceType, MacAddr, PlcMode};
use crate::host::{self, Hotfix, Interface, OsInfo, Software};
use crate::merge::AttributeChange;
use crate::network::{Neighbor, PortSighting, TableCounts};
use crate::protocol::Protocol;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One thing a probe learned about a device. Never a free-form key/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "fact", content = "value")]
#[non_exhaustive]
pub enum Fact {
    /// The device answered this protocol.
    Protocol(Protocol),
    /// MAC address.
    Mac(MacAddr),
    /// Name the device gives itself.
    Name(String),
    /// FQDN from reverse DNS and when it was looked up.
    Fqdn {
        /// The name.
        fqdn: String,
        /// When the lookup answered.
        looked_up: Timestamp,
    },
    /// Kind of device.
    DeviceType(DeviceType),
    /// Vendor name.
    Vendor(String),
    /// Model name.
    Model(String),
    /// Product name.
    ProductName(String),
    /// Product or order code.
    ProductCode(String),
    /// Firmware version or revision.
    Firmware(String),
    /// Hardware revision.
    Hardware(String),
    /// Serial number.
    Serial(String),
    /// PLC operating mode.
    PlcMode(PlcMode),
    /// Vendor web address.
    VendorUrl(String),
    /// Name of the application the device runs.
    Application(String),
    /// Version of the application software (as distinct from the firmware).
    SoftwareVersion(String),
    /// Where the device says it is (location, plant identification).
    Location(String),
    /// The device's own description of itself.
    Description(String),
    /// The vendor's number in the protocol's registry (CIP vendor ID, BACnet vendor identifier).
    VendorId(u32),
    /// The instance number of the device's BACnet Device object (its network-wide identity;
    /// nmap's bacnet-info calls it "Object-identifier").
    BacnetInstance(u32),
    /// The protocol's own name for the kind of device, with its number
    /// (CIP device type: "Programmable Logic Controller (14)").
    TypeName(String),
    /// The address the device gives for itself (the socket address of an EtherNet/IP List
    /// Identity reply); differs from the probed address behind NAT.
    ReportedIp(IpAddr),
    /// The device's own status report, as the protocol words it (CIP identity status and state).
    Status(String),
    /// Operating system.
    Os(OsInfo),
    /// Windows domain (or workgroup) the host belongs to.
    Domain(String),
    /// Every network interface: a host's, or a network device's ports (replaces the previous
    /// list; a change of a port's operational status alone is refreshed silently).
    Interfaces(Vec<Interface>),
    /// Every installed update (replaces the previous list).
    Hotfixes(Vec<Hotfix>),
    /// Every installed software package (replaces the previous list).
    Software(Vec<Software>),
    /// The vendor the IEEE registry gives the MAC address's OUI (a weaker vendor: exports show it
    /// only when no protocol named the vendor).
    MacVendor(String),
    /// Every LLDP/CDP neighbour of a network device (replaces the previous list).
    Neighbors(Vec<Neighbor>),
    /// A switch saw the device on a port (and VLAN); an access port (not an uplink) becomes the
    /// device's access port.
    SeenOn(PortSighting),
    /// How many rows each table of a switch held (refreshed silently: not a change).
    SwitchTables(TableCounts),
}

impl Fact {
    /// The attribute the fact sets, as named in exports and history.
    pub fn attribute(&self) -> &'static str {
        match self {
            Fact::Protocol(_) => "protocols",
            Fact::Mac(_) => "mac",
            Fact::Name(_) => "name",
            Fact::Fqdn { .. } => "fqdn",
            Fact::DeviceType(_) => "type",
            Fact::Vendor(_) => "vendor",
            Fact::Model(_) => "model",
            Fact::ProductName(_) => "product_name",
            Fact::ProductCode(_) => "product_code",
            Fact::Firmware(_) => "firmware",
            Fact::Hardware(_) => "hardware",
            Fact::Serial(_) => "serial",
            Fact::PlcMode(_) => "plc_mode",
            Fact::VendorUrl(_) => "vendor_url",
            Fact::Application(_) => "application",
            Fact::SoftwareVersion(_) => "software_version",
            Fact::Location(_) => "location",
            Fact::Description(_) => "description",
            Fact::VendorId(_) => "vendor_id",
            Fact::BacnetInstance(_) => "bacnet_instance",
            Fact::TypeName(_) => "type_name",
            Fact::ReportedIp(_) => "reported_ip",
            Fact::Status(_) => "status",
            Fact::Os(_) => "os",
            Fact::Domain(_) => "domain",
            Fact::Interfaces(_) => "interfaces",
            Fact::Hotfixes(_) => "hotfixes",
            Fact::Software(_) => "software",
            Fact::MacVendor(_) => "mac_vendor",
            Fact::Neighbors(_) => "neighbors",
            Fact::SeenOn(s) if s.uplink => "seen_on",
            Fact::SeenOn(_) => "access_port",
            Fact::SwitchTables(_) => "switch_tables",
        }
    }

    /// Writes the fact into `attrs`; returns the change when it added or altered a value.
    ///
    /// The FQDN's lookup time is refreshed silently: a new lookup time alone is not a change.
    pub fn apply(&self, attrs: &mut Attributes) -> Option<AttributeChange> {
        let name = self.attribute();
        match self {
            Fact::Protocol(p) => attrs.protocols.insert(*p).then(|| AttributeChange {
                attribute: name.to_string(),
                old: None,
                new: p.name().to_string(),
            }),
            Fact::Mac(m) => set(name, &mut attrs.mac, *m, |m| m.to_string()),
            Fact::Name(s) => set_text(name, &mut attrs.name, s),
            Fact::Fqdn { fqdn, looked_up } => {
                attrs.fqdn_looked_up = Some(*looked_up);
                set_text(name, &mut attrs.fqdn, fqdn)
            }
            Fact::DeviceType(t) => set(name, &mut attrs.device_type, *t, |t| t.name().into()),
            Fact::Vendor(s) => set_text(name, &mut attrs.vendor, s),
            Fact::Model(s) => set_text(name, &mut attrs.model, s),
            Fact::ProductName(s) => set_text(name, &mut attrs.product_name, s),
            Fact::ProductCode(s) => set_text(name, &mut attrs.product_code, s),
            Fact::Firmware(s) => set_text(name, &mut attrs.firmware, s),
            Fact::Hardware(s) => set_text(name, &mut attrs.hardware, s),
            Fact::Serial(s) => set_text(name, &mut attrs.serial, s),
            Fact::PlcMode(m) => set(name, &mut attrs.plc_mode, *m, |m| m.name().into()),
            Fact::VendorUrl(s) => set_text(name, &mut attrs.vendor_url, s),
            Fact::Application(s) => set_text(name, &mut attrs.application, s),
            Fact::SoftwareVersion(s) => set_text(name, &mut attrs.software_version, s),
            Fact::Location(s) => set_text(name, &mut attrs.location, s),
            Fact::Description(s) => set_text(name, &mut attrs.description, s),
            Fact::VendorId(n) => set(name, &mut attrs.vendor_id, *n, ToString::to_string),
            Fact::BacnetInstance(n) => {
                set(name, &mut attrs.bacnet_instance, *n, ToString::to_string)
            }
            Fact::TypeName(s) => set_text(name, &mut attrs.type_name, s),
            Fact::ReportedIp(ip) => set(name, &mut attrs.reported_ip, *ip, ToString::to_string),
            Fact::Status(s) => set_text(name, &mut attrs.status, s),
            Fact::Os(os) => set(name, &mut attrs.os, os.clone(), OsInfo::summary),
            Fact::Domain(s) => set_text(name, &mut attrs.domain, s),
            Fact::Interfaces(list) => apply_interfaces(name, attrs, list),
            Fact::Hotfixes(list) => set_list(name, &mut attrs.hotfixes, list, |h| h.id.clone()),
            Fact::Software(list) => set_list(name, &mut attrs.software, list, Software::label),
            Fact::MacVendor(s) => set_text(name, &mut attrs.mac_vendor, s),
            Fact::Neighbors(list) => apply_neighbors(name, attrs, list),
            Fact::SeenOn(sighting) => apply_sighting(name, attrs, sighting),
            Fact::SwitchTables(counts) => {
                attrs.switch_tables = Some(*counts);
                None
            }
        }
    }
}

/// Replaces the interface list (sorted, one of each); the change names what came and went. A
/// change of operational status alone is not a change (ports go up and down all day): it is
/// refreshed silently.
fn apply_interfaces(
    name: &str,
    attrs: &mut Attributes,
    list: &[Interface],
) -> Option<AttributeChange> {
    let mut sorted = list.to_vec();
    sorted.sort();
    sorted.dedup();
    let stable = |l: &[Interface]| -> Vec<Interface> {
        l.iter()
            .map(|i| Interface {
                oper_status: None,
                ..i.clone()
            })
            .collect()
    };
    if stable(&attrs.interfaces) == stable(&sorted) {
        attrs.interfaces = sorted;
        return None;
    }
    let change = AttributeChange {
        attribute: name.to_string(),
        old: (!attrs.interfaces.is_empty()).then(|| format!("{} items", attrs.interfaces.len())),
        new: host::list_change(&attrs.interfaces, &sorted, Interface::label),
    };
    attrs.interfaces = sorted;
    Some(change)
}

/// Replaces the neighbour list; the change names the neighbours that came and went.
fn apply_neighbors(
    name: &str,
    attrs: &mut Attributes,
    list: &[Neighbor],
) -> Option<AttributeChange> {
    let mut sorted = list.to_vec();
    sorted.sort_by(|a, b| {
        (
            a.local_if_index,
            &a.local_port,
            a.protocol,
            &a.chassis_id,
            &a.port,
        )
            .cmp(&(
                b.local_if_index,
                &b.local_port,
                b.protocol,
                &b.chassis_id,
                &b.port,
            ))
    });
    if attrs.neighbors == sorted {
        return None;
    }
    let label = |n: &Neighbor| {
        format!(
            "{} {} on {}",
            n.protocol.name(),
            n.label(),
            n.local_port.as_deref().unwrap_or("?")
        )
    };
    let added: Vec<String> = sorted
        .iter()
        .filter(|n| !attrs.neighbors.contains(n))
        .map(label)
        .collect();
    let removed = attrs
        .neighbors
        .iter()
        .filter(|n| !sorted.contains(n))
        .count();
    let old = (!attrs.neighbors.is_empty()).then(|| format!("{} neighbors", attrs.neighbors.len()));
    let mut new = format!("{} neighbors", sorted.len());
    if !added.is_empty() {
        let shown: Vec<&str> = added.iter().take(5).map(String::as_str).collect();
        new.push_str(&format!("; new: {}", shown.join(", ")));
        if added.len() > 5 {
            new.push_str(&format!(" and {} more", added.len() - 5));
        }
    }
    if removed > 0 {
        new.push_str(&format!("; gone: {removed}"));
    }
    attrs.neighbors = sorted;
    Some(AttributeChange {
        attribute: name.to_string(),
        old,
        new,
    })
}

/// Records where a switch saw the device: one sighting per switch; an access port also
/// becomes the device's access port.
fn apply_sighting(
    name: &str,
    attrs: &mut Attributes,
    sighting: &PortSighting,
) -> Option<AttributeChange> {
    let previous = attrs
        .seen_on
        .iter()
        .position(|s| s.switch == sighting.switch);
    let before = previous.map(|i| attrs.seen_on.remove(i));
    attrs.seen_on.push(sighting.clone());
    attrs.seen_on.sort();
    if !sighting.uplink {
        let old = attrs.access_port.replace(sighting.clone());
        return (old.as_ref() != Some(sighting)).then(|| AttributeChange {
            attribute: name.to_string(),
            old: old.map(|s| s.to_string()),
            new: sighting.to_string(),
        });
    }
    (before.as_ref() != Some(sighting)).then(|| AttributeChange {
        attribute: name.to_string(),
        old: before.map(|s| s.to_string()),
        new: sighting.to_string(),
    })
}

/// Replaces a whole list; the change names what came and went.
fn set_list<T: Ord + Clone>(
    name: &str,
    slot: &mut Vec<T>,
    value: &[T],
    label: impl Fn(&T) -> String,
) -> Option<AttributeChange> {
    let mut sorted = value.to_vec();
    sorted.sort();
    sorted.dedup();
    if *slot == sorted {
        return None;
    }
    let change = AttributeChange {
        attribute: name.to_string(),
        old: (!slot.is_empty()).then(|| format!("{} items", slot.len())),
        new: host::list_change(slot, &sorted, label),
    };
    *slot = sorted;
    Some(change)
}

fn set_text(name: &str, slot: &mut Option<String>, value: &str) -> Option<AttributeChange> {
    set(name, slot, value.to_string(), Clone::clone)
}

fn set<T: PartialEq>(
    name: &str,
    slot: &mut Option<T>,
    value: T,
    show: impl Fn(&T) -> String,
) -> Option<AttributeChange> {
    if slot.as_ref() == Some(&value) {
        return None;
    }
    let change = AttributeChange {
        attribute: name.to_string(),
        old: slot.as_ref().map(&show),
        new: show(&value),
    };
    *slot = Some(value);
    Some(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applying_the_same_fact_twice_changes_nothing_the_second_time() {
        let mut attrs = Attributes::default();
        let fact = Fact::Vendor("Wago".into());
        let first = fact.apply(&mut attrs).unwrap();
        assert_eq!(first.old, None);
        assert_eq!(first.new, "Wago");
        assert_eq!(fact.apply(&mut attrs), None);
        let change = Fact::Vendor("WAGO Kontakttechnik".into())
            .apply(&mut attrs)
            .unwrap();
        assert_eq!(change.old.as_deref(), Some("Wago"));
    }

    #[test]
    fn an_access_port_sighting_sets_the_access_port_and_an_uplink_does_not() {
        let mut attrs = Attributes::default();
        let switch: std::net::IpAddr = "127.0.0.51".parse().unwrap();
        let access = PortSighting {
            switch,
            port: Some("Gi1/0/3".into()),
            if_index: Some(3),
            vlan: Some(5),
            uplink: false,
        };
        let change = Fact::SeenOn(access.clone()).apply(&mut attrs).unwrap();
        assert_eq!(change.attribute, "access_port");
        assert_eq!(change.new, "127.0.0.51 port Gi1/0/3 vlan 5");
        assert_eq!(Fact::SeenOn(access.clone()).apply(&mut attrs), None);
        let other: std::net::IpAddr = "127.0.0.52".parse().unwrap();
        let uplink = PortSighting {
            switch: other,
            port: Some("Te1/1".into()),
            if_index: Some(49),
            vlan: None,
            uplink: true,
        };
        let change = Fact::SeenOn(uplink).apply(&mut attrs).unwrap();
        assert_eq!(change.attribute, "seen_on");
        assert_eq!(attrs.access_port, Some(access));
        assert_eq!(attrs.seen_on.len(), 2);
    }

    #[test]
    fn interface_status_alone_is_not_a_change() {
        use crate::network::OperStatus;
        let mut attrs = Attributes::default();
        let up = Interface {
            index: Some(1),
            name: Some("Gi1/0/1".into()),
            speed_bps: Some(1_000_000_000),
            if_type: Some(6),
            admin_up: Some(true),
            oper_status: Some(OperStatus::Up),
            ..Interface::default()
        };
        assert!(
            Fact::Interfaces(vec![up.clone()])
                .apply(&mut attrs)
                .is_some()
        );
        let down = Interface {
            oper_status: Some(OperStatus::Down),
            ..up.clone()
        };
        assert_eq!(Fact::Interfaces(vec![down]).apply(&mut attrs), None);
        assert_eq!(attrs.interfaces[0].oper_status, Some(OperStatus::Down));
        let renamed = Interface {
            alias: Some("PLC-3".into()),
            ..up
        };
        assert!(Fact::Interfaces(vec![renamed]).apply(&mut attrs).is_some());
    }

    #[test]
    fn identity_numbers_and_the_reported_address_are_attributes() {
        let mut attrs = Attributes::default();
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let change = Fact::ReportedIp(ip).apply(&mut attrs).unwrap();
        assert_eq!(
            (change.attribute.as_str(), change.new.as_str()),
            ("reported_ip", "192.0.2.10")
        );
        assert_eq!(Fact::VendorId(1).apply(&mut attrs).unwrap().new, "1");
        assert_eq!(Fact::VendorId(1).apply(&mut attrs), None);
        Fact::TypeName("Communications Adapter (12)".into()).apply(&mut attrs);
        Fact::Status("status 0x0030".into()).apply(&mut attrs);
        assert_eq!(attrs.reported_ip, Some(ip));
        assert_eq!(attrs.vendor_id, Some(1));
        assert_eq!(
            attrs.type_name.as_deref(),
            Some("Communications Adapter (12)")
        );
        assert_eq!(attrs.status.as_deref(), Some("status 0x0030"));
        // attributes saved before these facts existed still load
        let old: Attributes = serde_json::from_str(r#"{"vendor":"Wago","protocols":[]}"#).unwrap();
        assert_eq!(old.vendor_id, None);
    }

    #[test]
    fn lists_are_replaced_whole_and_their_change_names_the_difference() {
        let mut attrs = Attributes::default();
        let kb = |id: &str| Hotfix {
            id: id.into(),
            description: None,
            installed_on: None,
        };
        let first = Fact::Hotfixes(vec![kb("KB2"), kb("KB1")])
            .apply(&mut attrs)
            .unwrap();
        assert_eq!(first.new, "KB1, KB2");
        assert_eq!(
            Fact::Hotfixes(vec![kb("KB1"), kb("KB2")]).apply(&mut attrs),
            None
        );
        let second = Fact::Hotfixes(vec![kb("KB2"), kb("KB3")])
            .apply(&mut attrs)
            .unwrap();
        assert_eq!(second.new, "+KB3, -KB1");
        assert_eq!(second.old.as_deref(), Some("2 items"));
        assert_eq!(attrs.hotfixes, vec![kb("KB2"), kb("KB3")]);
    }

    #[test]
    fn facts_serialize_tagged() {
        let json = serde_json::to_string(&Fact::Serial("S1".into())).unwrap();
        assert_eq!(json, r#"{"fact":"serial","value":"S1"}"#);
    }
}
