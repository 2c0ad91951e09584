//! Juniper (EX, QFX): Q-BRIDGE FDB IDs are internal VLAN indices (mapped through
//! dot1qVlanFdbId, which the generic decoder does); sysDescr carries model and JUNOS version.

use super::{DescrInfo, VendorProfile, after};

/// The Juniper profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "juniper",
    vendor: "Juniper Networks",
    enterprises: &[2636],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "Juniper Networks, Inc. ex2200-24t-4g Ethernet Switch, kernel JUNOS 12.3R6.6, Build date: ..."
fn parse_descr(descr: &str) -> DescrInfo {
    DescrInfo {
        model: after(descr, "Inc. ", &[' ', ',']),
        firmware: after(descr, "JUNOS ", &[',', ' ', '[']),
        product_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_junos() {
        let d = parse_descr(
            "Juniper Networks, Inc. ex2200-24t-4g Ethernet Switch, kernel JUNOS 12.3R6.6, Build date: 2014-03-13",
        );
        assert_eq!(d.model.as_deref(), Some("ex2200-24t-4g"));
        assert_eq!(d.firmware.as_deref(), Some("12.3R6.6"));
    }
}
