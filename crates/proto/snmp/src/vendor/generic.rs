//! Any agent: standard MIBs only; a "Version X" in sysDescr is taken as the firmware.

use super::{DescrInfo, VendorProfile, after};

/// The generic profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "generic",
    vendor: "",
    enterprises: &[],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: false,
};

fn parse_descr(descr: &str) -> DescrInfo {
    DescrInfo {
        model: None,
        firmware: after(descr, "Version ", &[',', ' ']),
        product_code: None,
    }
}
