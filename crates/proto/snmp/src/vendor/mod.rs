//! Vendor profiles: what differs between switch makers, one small file per vendor.
//!
//! A profile names the vendor, the enterprise numbers its sysObjectID starts with (for `auto`),
//! how its sysDescr spells the model, firmware and order code, and whether its bridge MIB has one
//! instance per VLAN (Cisco's community@vlan indexing). A new vendor is one file here and one
//! line in [`PROFILES`].

mod arista;
mod cisco;
mod generic;
mod hirschmann;
mod hpe;
mod juniper;
mod moxa;
mod siemens;

use std::fmt;
use std::str::FromStr;

/// What a sysDescr says beyond the standard objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescrInfo {
    /// The model.
    pub model: Option<String>,
    /// The firmware or operating-system version.
    pub firmware: Option<String>,
    /// The order code (article number).
    pub product_code: Option<String>,
}

/// How a vendor indexes per-VLAN bridge instances.
#[derive(Debug, Clone, Copy)]
pub struct VlanIndexing {
    /// The community of VLAN `vlan` for a base community (v1/v2c).
    pub community: fn(&str, u16) -> String,
    /// The SNMPv3 context of VLAN `vlan`.
    pub context: fn(u16) -> String,
}

/// A vendor's quirks.
#[derive(Debug, Clone, Copy)]
pub struct VendorProfile {
    /// The name used on the command line (`--vendor`).
    pub key: &'static str,
    /// The vendor's name as the inventory shows it.
    pub vendor: &'static str,
    /// Enterprise numbers (1.3.6.1.4.1.N) of its sysObjectIDs.
    pub enterprises: &'static [u32],
    /// Reads model, firmware and order code out of sysDescr.
    pub parse_descr: fn(&str) -> DescrInfo,
    /// Per-VLAN bridge instances, if the vendor has them.
    pub per_vlan_bridge: Option<VlanIndexing>,
    /// Whether its devices are switches (sets the device type even without a bridge MIB).
    pub switch_vendor: bool,
}

/// Every profile; `generic` last.
pub const PROFILES: [&VendorProfile; 8] = [
    &cisco::PROFILE,
    &hirschmann::PROFILE,
    &siemens::PROFILE,
    &moxa::PROFILE,
    &hpe::PROFILE,
    &juniper::PROFILE,
    &arista::PROFILE,
    &generic::PROFILE,
];

/// The profile for a sysObjectID enterprise number (generic when none claims it).
pub fn for_enterprise(enterprise: Option<u32>) -> &'static VendorProfile {
    enterprise
        .and_then(|e| PROFILES.iter().find(|p| p.enterprises.contains(&e)))
        .copied()
        .unwrap_or(&generic::PROFILE)
}

/// The operator's choice: a named profile, or `auto` (by sysObjectID).
#[derive(Debug, Clone, Copy, Default)]
pub enum VendorChoice {
    /// Pick by the sysObjectID's enterprise number.
    #[default]
    Auto,
    /// This profile.
    Profile(&'static VendorProfile),
}

impl VendorChoice {
    /// The profile to use for an agent whose sysObjectID has `enterprise`.
    pub fn resolve(self, enterprise: Option<u32>) -> &'static VendorProfile {
        match self {
            VendorChoice::Auto => for_enterprise(enterprise),
            VendorChoice::Profile(p) => p,
        }
    }

    /// Every name `--vendor` takes.
    pub fn names() -> Vec<&'static str> {
        std::iter::once("auto")
            .chain(PROFILES.iter().map(|p| p.key))
            .collect()
    }
}

impl fmt::Display for VendorChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VendorChoice::Auto => f.write_str("auto"),
            VendorChoice::Profile(p) => f.write_str(p.key),
        }
    }
}

impl FromStr for VendorChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<VendorChoice, String> {
        let lower = s.to_ascii_lowercase();
        if lower == "auto" {
            return Ok(VendorChoice::Auto);
        }
        let alias = match lower.as_str() {
            "aruba" | "hp" | "procurve" => "hpe",
            "scalance" => "siemens",
            other => other,
        };
        PROFILES
            .iter()
            .find(|p| p.key == alias)
            .map(|p| VendorChoice::Profile(p))
            .ok_or_else(|| format!("{s}: not a vendor profile ({})", Self::names().join(", ")))
    }
}

/// The text after `marker` up to the first of `ends` (or the end), trimmed.
pub(crate) fn after(text: &str, marker: &str, ends: &[char]) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let rest = text.get(start..)?;
    let end = rest.find(|c| ends.contains(&c)).unwrap_or(rest.len());
    let value = rest.get(..end)?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_by_enterprise_number() {
        assert_eq!(for_enterprise(Some(9)).key, "cisco");
        assert_eq!(for_enterprise(Some(11)).key, "hpe");
        assert_eq!(for_enterprise(Some(8072)).key, "generic");
        assert_eq!(for_enterprise(None).key, "generic");
        assert_eq!(
            "aruba".parse::<VendorChoice>().unwrap().resolve(None).key,
            "hpe"
        );
        assert!("acme".parse::<VendorChoice>().is_err());
    }

    #[test]
    fn keys_are_unique_and_enterprises_do_not_overlap() {
        let mut keys: Vec<&str> = PROFILES.iter().map(|p| p.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), PROFILES.len());
        let mut ents: Vec<u32> = PROFILES
            .iter()
            .flat_map(|p| p.enterprises.iter().copied())
            .collect();
        let n = ents.len();
        ents.sort();
        ents.dedup();
        assert_eq!(ents.len(), n);
    }
}
