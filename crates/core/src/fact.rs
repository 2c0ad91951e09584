//! Typed facts: what one probe learned about one device.

use crate::device::{Attributes, DeviceType, MacAddr, PlcMode};
use crate::host::{self, Hotfix, Interface, OsInfo, Software};
use crate::merge::AttributeChange;
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
    /// Every network interface the host reports (replaces the previous list).
    Interfaces(Vec<Interface>),
    /// Every installed update (replaces the previous list).
    Hotfixes(Vec<Hotfix>),
    /// Every installed software package (replaces the previous list).
    Software(Vec<Software>),
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
            Fact::Interfaces(list) => set_list(name, &mut attrs.interfaces, list, Interface::label),
            Fact::Hotfixes(list) => set_list(name, &mut attrs.hotfixes, list, |h| h.id.clone()),
            Fact::Software(list) => set_list(name, &mut attrs.software, list, Software::label),
        }
    }
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
