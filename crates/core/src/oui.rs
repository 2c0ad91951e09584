//! The IEEE MA-L (OUI) registry: which vendor a MAC address's first three octets belong to.
//!
//! Parsed from the registry's text form (`oui.txt`, as IEEE publishes it and Debian's
//! `ieee-data` package installs it at [`DEFAULT_OUI_FILE`]); reading the file is the caller's
//! business, so this stays free of I/O.

use crate::device::MacAddr;
use std::collections::HashMap;

/// Where Debian's `ieee-data` package puts the registry.
pub const DEFAULT_OUI_FILE: &str = "/usr/share/ieee-data/oui.txt";

/// OUI to vendor name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OuiTable {
    vendors: HashMap<[u8; 3], String>,
}

impl OuiTable {
    /// Parses `oui.txt`: lines such as `00-1B-1B   (hex)\t\tSiemens AG`; other lines are skipped.
    pub fn parse(text: &str) -> OuiTable {
        let mut vendors = HashMap::new();
        for line in text.lines() {
            let Some((prefix, rest)) = line.split_once("(hex)") else {
                continue;
            };
            let Some(oui) = parse_prefix(prefix.trim()) else {
                continue;
            };
            let name = rest.trim();
            if !name.is_empty() {
                vendors.insert(oui, name.to_string());
            }
        }
        OuiTable { vendors }
    }

    /// The vendor of `mac`, if its OUI is registered. Locally administered addresses (second
    /// bit of the first octet) have no vendor.
    pub fn vendor(&self, mac: &MacAddr) -> Option<&str> {
        let [a, b, c, ..] = mac.0;
        if a & 0x02 != 0 {
            return None;
        }
        self.vendors.get(&[a, b, c]).map(String::as_str)
    }

    /// Number of registered prefixes.
    pub fn len(&self) -> usize {
        self.vendors.len()
    }

    /// True when nothing is registered (no file found).
    pub fn is_empty(&self) -> bool {
        self.vendors.is_empty()
    }
}

fn parse_prefix(s: &str) -> Option<[u8; 3]> {
    let mut out = [0u8; 3];
    let mut parts = s.split('-');
    for slot in &mut out {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_registry_text_form() {
        let text = "OUI/MA-L\t\t\tOrganization\n\
                    company_id\t\t\tOrganization\n\n\
                    00-1B-1B   (hex)\t\tSiemens AG\n\
                    001B1B     (base 16)\t\tSiemens AG\n\
                    \t\t\t\tWerner-von-Siemens-Str. 1\n\n\
                    E8-39-35   (hex)\t\tHewlett Packard\n";
        let t = OuiTable::parse(text);
        assert_eq!(t.len(), 2);
        let siemens: MacAddr = "00:1b:1b:01:02:03".parse().unwrap();
        assert_eq!(t.vendor(&siemens), Some("Siemens AG"));
        let local: MacAddr = "02:1b:1b:01:02:03".parse().unwrap();
        assert_eq!(t.vendor(&local), None);
    }
}
