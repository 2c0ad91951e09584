//! What is collected from a Windows host, and how it becomes facts.
//!
//! Six WQL queries, all plain SELECTs (see [`QUERIES`]). Installed software comes from
//! Win32_InstalledWin32Program (Windows 10 1709 / Server 2019 and later), a cheap inventory
//! class; Win32_Product is never queried, because enumerating it makes Windows Installer check
//! and reconfigure every MSI package on the host.

use crate::client::{Stage, WmiClient, WmiError};
use crate::wmio::{Object, Value, parse_datetime};
use otsensor_core::{DeviceType, Fact, Hotfix, Interface, MacAddr, OsInfo, Software};
use std::net::IpAddr;

/// The WMI class of each query, and the query.
pub const QUERIES: [(&str, &str); 6] = [
    (
        "Win32_OperatingSystem",
        "SELECT Caption,Version,BuildNumber,CSDVersion,ServicePackMajorVersion,ServicePackMinorVersion,OSArchitecture,InstallDate,LastBootUpTime,CSName FROM Win32_OperatingSystem",
    ),
    (
        "Win32_ComputerSystem",
        "SELECT Name,Domain,PartOfDomain,Manufacturer,Model FROM Win32_ComputerSystem",
    ),
    (
        "Win32_BIOS",
        "SELECT SerialNumber,Manufacturer,SMBIOSBIOSVersion FROM Win32_BIOS",
    ),
    (
        "Win32_NetworkAdapterConfiguration",
        "SELECT Description,MACAddress,IPAddress,IPEnabled FROM Win32_NetworkAdapterConfiguration WHERE IPEnabled = TRUE",
    ),
    (
        "Win32_QuickFixEngineering",
        "SELECT HotFixID,Description,InstalledOn FROM Win32_QuickFixEngineering",
    ),
    (
        "Win32_InstalledWin32Program",
        "SELECT Name,Version,Vendor FROM Win32_InstalledWin32Program",
    ),
];

/// The operating system part of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ComputerInfo {
    /// The computer's NetBIOS name.
    pub name: Option<String>,
    /// Domain (or workgroup).
    pub domain: Option<String>,
    /// Whether the computer is joined to a domain.
    pub part_of_domain: Option<bool>,
    /// Hardware manufacturer.
    pub manufacturer: Option<String>,
    /// Hardware model.
    pub model: Option<String>,
}

/// Everything collected from one host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostInventory {
    /// Win32_OperatingSystem.
    pub os: Option<OsInfo>,
    /// Win32_ComputerSystem.
    pub computer: ComputerInfo,
    /// Win32_BIOS SerialNumber.
    pub bios_serial: Option<String>,
    /// Enabled adapters of Win32_NetworkAdapterConfiguration.
    pub interfaces: Vec<Interface>,
    /// Win32_QuickFixEngineering.
    pub hotfixes: Vec<Hotfix>,
    /// Win32_InstalledWin32Program, when the host has the class.
    pub software: Option<Vec<Software>>,
    /// Queries that failed without ending the session (class missing, provider failure).
    pub warnings: Vec<String>,
}

impl HostInventory {
    /// The most recent hotfix by installation date (the "last KB").
    pub fn last_hotfix(&self) -> Option<&Hotfix> {
        self.hotfixes
            .iter()
            .filter(|h| h.installed_on.is_some())
            .max_by(|a, b| a.installed_on.cmp(&b.installed_on))
    }
}

/// Runs every query of [`QUERIES`] and reads the answers. A query the host cannot answer
/// (missing class, provider failure) becomes a warning; a broken session ends the collection.
pub async fn collect(client: &mut WmiClient) -> Result<HostInventory, WmiError> {
    let mut inv = HostInventory::default();
    for (class, wql) in QUERIES {
        let rows = match client.query(wql).await {
            Ok(rows) => rows,
            Err(
                e @ WmiError::Failed {
                    stage: Stage::Query,
                    ..
                },
            ) => {
                inv.warnings.push(format!("{class}: {e}"));
                continue;
            }
            Err(e) => return Err(e),
        };
        absorb(&mut inv, class, &rows);
    }
    Ok(inv)
}

/// Reads the rows of one class into the inventory.
pub fn absorb(inv: &mut HostInventory, class: &str, rows: &[Object]) {
    match class {
        "Win32_OperatingSystem" => inv.os = rows.first().and_then(os_info),
        "Win32_ComputerSystem" => {
            if let Some(r) = rows.first() {
                inv.computer = ComputerInfo {
                    name: text(r, "Name"),
                    domain: text(r, "Domain"),
                    part_of_domain: r.get("PartOfDomain").and_then(Value::as_bool),
                    manufacturer: text(r, "Manufacturer"),
                    model: text(r, "Model"),
                };
            }
        }
        "Win32_BIOS" => inv.bios_serial = rows.first().and_then(|r| text(r, "SerialNumber")),
        "Win32_NetworkAdapterConfiguration" => {
            inv.interfaces = rows.iter().filter_map(interface).collect();
        }
        "Win32_QuickFixEngineering" => inv.hotfixes = rows.iter().filter_map(hotfix).collect(),
        "Win32_InstalledWin32Program" => {
            inv.software = Some(rows.iter().filter_map(software).collect());
        }
        _ => {}
    }
}

fn text(o: &Object, name: &str) -> Option<String> {
    o.text(name).map(str::to_string)
}

fn os_info(o: &Object) -> Option<OsInfo> {
    let service_pack = text(o, "CSDVersion").or_else(|| {
        let major = o.get("ServicePackMajorVersion").and_then(Value::as_u64)?;
        (major > 0).then(|| format!("Service Pack {major}"))
    });
    Some(OsInfo {
        name: text(o, "Caption")?,
        version: text(o, "Version"),
        build: text(o, "BuildNumber"),
        service_pack,
        architecture: text(o, "OSArchitecture"),
        installed: o.text("InstallDate").and_then(parse_datetime),
        last_boot: o.text("LastBootUpTime").and_then(parse_datetime),
    })
}

fn interface(o: &Object) -> Option<Interface> {
    if o.get("IPEnabled").and_then(Value::as_bool) == Some(false) {
        return None;
    }
    let mac = o.text("MACAddress").and_then(|m| m.parse::<MacAddr>().ok());
    let addresses: Vec<IpAddr> = o
        .get("IPAddress")
        .map(|v| v.strings().iter().filter_map(|a| a.parse().ok()).collect())
        .unwrap_or_default();
    if mac.is_none() && addresses.is_empty() {
        return None;
    }
    Some(Interface {
        name: text(o, "Description"),
        mac,
        addresses,
        ..Interface::default()
    })
}

fn hotfix(o: &Object) -> Option<Hotfix> {
    let id = text(o, "HotFixID")?;
    // Windows lists "File 1" placeholders for some old updates
    if id.eq_ignore_ascii_case("File 1") {
        return None;
    }
    Some(Hotfix {
        id,
        description: text(o, "Description"),
        installed_on: o.text("InstalledOn").map(installed_on),
    })
}

/// InstalledOn as `YYYY-MM-DD`: Windows writes `M/D/YYYY`, or a FILETIME in hex on old hosts.
pub fn installed_on(raw: &str) -> String {
    let parts: Vec<&str> = raw.split('/').collect();
    if let [m, d, y] = parts[..]
        && let (Ok(m), Ok(d), Ok(y)) = (m.parse::<i8>(), d.parse::<i8>(), y.parse::<i16>())
        && let Ok(date) = jiff::civil::Date::new(y, m, d)
    {
        return date.to_string();
    }
    if raw.len() == 16
        && let Ok(ft) = u64::from_str_radix(raw, 16)
    {
        let unix_100ns = ft.saturating_sub(116_444_736_000_000_000);
        if let Ok(t) = jiff::Timestamp::from_second((unix_100ns / 10_000_000) as i64) {
            return t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
        }
    }
    raw.to_string()
}

fn software(o: &Object) -> Option<Software> {
    Some(Software {
        name: text(o, "Name")?,
        version: text(o, "Version"),
        vendor: text(o, "Vendor"),
    })
}

/// The facts of an inventory; `target` picks the MAC of the interface that carries it.
pub fn facts(inv: &HostInventory, target: IpAddr) -> Vec<Fact> {
    let mut facts = vec![Fact::DeviceType(DeviceType::Workstation)];
    if let Some(os) = &inv.os {
        facts.push(Fact::Os(os.clone()));
    }
    let c = &inv.computer;
    if let Some(n) = &c.name {
        facts.push(Fact::Name(n.clone()));
    }
    if let Some(d) = &c.domain {
        facts.push(Fact::Domain(d.clone()));
    }
    if let Some(v) = &c.manufacturer {
        facts.push(Fact::Vendor(v.clone()));
    }
    if let Some(m) = &c.model {
        facts.push(Fact::Model(m.clone()));
    }
    if let Some(s) = &inv.bios_serial {
        facts.push(Fact::Serial(s.clone()));
    }
    let primary = inv
        .interfaces
        .iter()
        .find(|i| i.addresses.contains(&target) && i.mac.is_some())
        .or_else(|| inv.interfaces.iter().find(|i| i.mac.is_some()));
    if let Some(mac) = primary.and_then(|i| i.mac) {
        facts.push(Fact::Mac(mac));
    }
    facts.push(Fact::Interfaces(inv.interfaces.clone()));
    facts.push(Fact::Hotfixes(inv.hotfixes.clone()));
    if let Some(sw) = &inv.software {
        facts.push(Fact::Software(sw.clone()));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wmio::ObjectKind;

    fn obj(class: &str, props: Vec<(&str, Value)>) -> Object {
        Object {
            kind: ObjectKind::Instance,
            class_name: class.into(),
            server: None,
            namespace: None,
            properties: props
                .into_iter()
                .map(|(n, v)| (n.to_string(), 8, v))
                .collect(),
        }
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn every_query_is_a_plain_select_and_none_touches_win32_product() {
        for (class, wql) in QUERIES {
            assert!(wql.starts_with("SELECT "), "{wql}");
            assert!(wql.contains(&format!("FROM {class}")), "{wql}");
            assert!(!wql.to_lowercase().contains("win32_product"), "{wql}");
        }
    }

    #[test]
    fn old_style_service_packs_and_dates_are_read() {
        let mut inv = HostInventory::default();
        absorb(
            &mut inv,
            "Win32_OperatingSystem",
            &[obj(
                "Win32_OperatingSystem",
                vec![
                    ("Caption", s("Microsoft Windows XP Professional ")),
                    ("CSDVersion", Value::Null),
                    ("ServicePackMajorVersion", Value::UInt(3)),
                    (
                        "InstallDate",
                        Value::DateTime("20090101120000.000000+060".into()),
                    ),
                ],
            )],
        );
        let os = inv.os.unwrap();
        assert_eq!(os.name, "Microsoft Windows XP Professional");
        assert_eq!(os.service_pack.as_deref(), Some("Service Pack 3"));
        assert_eq!(os.installed.unwrap().to_string(), "2009-01-01T11:00:00Z");
        assert_eq!(os.architecture, None);
    }

    #[test]
    fn hotfix_dates_become_iso_and_the_last_kb_is_found() {
        assert_eq!(installed_on("8/11/2021"), "2021-08-11");
        assert_eq!(installed_on("01cc31160d1ff4a5"), "2011-06-22");
        assert_eq!(installed_on("whenever"), "whenever");
        let mut inv = HostInventory::default();
        absorb(
            &mut inv,
            "Win32_QuickFixEngineering",
            &[
                obj(
                    "Q",
                    vec![("HotFixID", s("KB2")), ("InstalledOn", s("9/15/2021"))],
                ),
                obj(
                    "Q",
                    vec![("HotFixID", s("KB1")), ("InstalledOn", s("8/11/2021"))],
                ),
                obj("Q", vec![("HotFixID", s("File 1"))]),
            ],
        );
        assert_eq!(inv.hotfixes.len(), 2);
        assert_eq!(inv.last_hotfix().unwrap().id, "KB2");
    }

    #[test]
    fn only_enabled_adapters_count_and_the_target_picks_the_mac() {
        let mut inv = HostInventory::default();
        absorb(
            &mut inv,
            "Win32_NetworkAdapterConfiguration",
            &[
                obj(
                    "N",
                    vec![
                        ("MACAddress", s("00:50:56:C0:00:08")),
                        ("IPEnabled", Value::Bool(false)),
                    ],
                ),
                obj(
                    "N",
                    vec![
                        ("Description", s("second")),
                        ("MACAddress", s("00:0C:29:00:00:02")),
                        ("IPAddress", Value::Array(vec![s("10.0.0.2")])),
                        ("IPEnabled", Value::Bool(true)),
                    ],
                ),
                obj(
                    "N",
                    vec![
                        ("MACAddress", s("00:0C:29:00:00:01")),
                        ("IPAddress", Value::Array(vec![s("10.0.0.1"), s("fe80::1")])),
                        ("IPEnabled", Value::Bool(true)),
                    ],
                ),
            ],
        );
        assert_eq!(inv.interfaces.len(), 2);
        let facts = facts(&inv, "10.0.0.1".parse().unwrap());
        assert!(facts.contains(&Fact::Mac("00:0c:29:00:00:01".parse().unwrap())));
        assert!(
            !facts.iter().any(|f| matches!(f, Fact::Software(_))),
            "no software class, no fact"
        );
    }
}
