//! What a host's operating system says about itself: OS, network interfaces, hotfixes, software.
//!
//! Set-valued attributes (interfaces, hotfixes, software) are reported whole: a new report
//! replaces the previous list, so an uninstalled hotfix disappears from the inventory.

use crate::device::MacAddr;
use crate::network::OperStatus;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The operating system of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// Product name ("Microsoft Windows Server 2019 Standard").
    pub name: String,
    /// Version ("10.0.17763").
    pub version: Option<String>,
    /// Build number ("17763").
    pub build: Option<String>,
    /// Service pack ("Service Pack 1"), when one is installed.
    pub service_pack: Option<String>,
    /// Architecture ("64-bit").
    pub architecture: Option<String>,
    /// When the OS was installed.
    pub installed: Option<Timestamp>,
    /// When the host last booted.
    pub last_boot: Option<Timestamp>,
}

impl OsInfo {
    /// One line for history and tables: name, version, service pack, architecture.
    pub fn summary(&self) -> String {
        let mut s = self.name.clone();
        for part in [&self.version, &self.service_pack, &self.architecture]
            .into_iter()
            .flatten()
        {
            s.push_str(", ");
            s.push_str(part);
        }
        s
    }
}

/// A network interface: one a host reports (name, MAC, addresses), or a network device's port
/// (IF-MIB: index, name, description, alias, MAC, speed, type, states, and whether it is an
/// uplink). Fields a source does not know stay empty and are left out of JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Interface {
    /// Its index on the device (IF-MIB ifIndex), for network devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Its name (ifName) or description.
    pub name: Option<String>,
    /// Its MAC address.
    pub mac: Option<MacAddr>,
    /// Its IP addresses.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
    /// Its description (ifDescr), for network devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The operator's label (ifAlias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Speed in bit/s (ifHighSpeed, else ifSpeed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_bps: Option<u64>,
    /// ifType (IANAifType number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_type: Option<u32>,
    /// ifAdminStatus is up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_up: Option<bool>,
    /// ifOperStatus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oper_status: Option<OperStatus>,
    /// A switch port that leads to other switches (an uplink), not to end devices.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uplink: bool,
}

impl Interface {
    /// For history: a port's name (or ifIndex); a host interface's MAC and addresses.
    pub fn label(&self) -> String {
        if let Some(index) = self.index {
            return self
                .name
                .clone()
                .or_else(|| self.description.clone())
                .unwrap_or_else(|| format!("ifIndex {index}"));
        }
        let mut parts = Vec::new();
        if let Some(m) = self.mac {
            parts.push(m.to_string());
        }
        parts.extend(self.addresses.iter().map(ToString::to_string));
        if parts.is_empty() {
            parts.push(self.name.clone().unwrap_or_default());
        }
        parts.join(" ")
    }
}

/// An installed update.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hotfix {
    /// Its ID ("KB5005112").
    pub id: String,
    /// Its kind ("Security Update").
    pub description: Option<String>,
    /// When it was installed (`YYYY-MM-DD` when the host's date parses, else as the host wrote it).
    pub installed_on: Option<String>,
}

/// An installed software package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Software {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: Option<String>,
    /// Its publisher.
    pub vendor: Option<String>,
}

impl Software {
    /// `name version`, for history.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Describes how a list changed: `+added, -removed` (the whole list when there was none before).
pub fn list_change<T: Ord + Clone>(old: &[T], new: &[T], label: impl Fn(&T) -> String) -> String {
    let before: BTreeSet<&T> = old.iter().collect();
    let after: BTreeSet<&T> = new.iter().collect();
    if old.is_empty() {
        return new.iter().map(&label).collect::<Vec<_>>().join(", ");
    }
    let mut parts: Vec<String> = after
        .difference(&before)
        .map(|t| format!("+{}", label(t)))
        .collect();
    parts.extend(before.difference(&after).map(|t| format!("-{}", label(t))));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_changes_name_what_came_and_went() {
        let a = vec!["KB1".to_string(), "KB2".to_string()];
        let b = vec!["KB2".to_string(), "KB3".to_string()];
        assert_eq!(list_change(&[], &a, Clone::clone), "KB1, KB2");
        assert_eq!(list_change(&a, &b, Clone::clone), "+KB3, -KB1");
    }

    #[test]
    fn os_summary_joins_what_is_known() {
        let os = OsInfo {
            name: "Microsoft Windows 7 Professional".into(),
            version: Some("6.1.7601".into()),
            build: Some("7601".into()),
            service_pack: Some("Service Pack 1".into()),
            architecture: Some("64-bit".into()),
            installed: None,
            last_boot: None,
        };
        assert_eq!(
            os.summary(),
            "Microsoft Windows 7 Professional, 6.1.7601, Service Pack 1, 64-bit"
        );
    }
}
