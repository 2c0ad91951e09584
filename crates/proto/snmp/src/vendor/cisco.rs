//! Cisco (IOS, IOS-XE, NX-OS): one bridge instance per VLAN, read through community@vlan
//! (SNMPv1/v2c) or the context `vlan-N` (SNMPv3); the VLANs come from CISCO-VTP-MIB.

use super::{DescrInfo, VendorProfile, VlanIndexing, after};

/// The Cisco profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "cisco",
    vendor: "Cisco",
    enterprises: &[9],
    parse_descr,
    per_vlan_bridge: Some(VlanIndexing {
        community: |community, vlan| format!("{community}@{vlan}"),
        context: |vlan| format!("vlan-{vlan}"),
    }),
    switch_vendor: true,
};

/// "Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5, RELEASE ..."
/// "Cisco NX-OS(tm) n5000, Software (n5000-uk9), Version 6.0(2)N2(3), ..."
fn parse_descr(descr: &str) -> DescrInfo {
    DescrInfo {
        model: after(descr, "IOS Software, ", &[',']).map(|s| s.replace(" Software", "")),
        firmware: after(descr, "Version ", &[',', ' ', '\r', '\n']),
        product_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ios_version() {
        let d = parse_descr(
            "Cisco IOS Software, C3750 Software (C3750-IPBASE-M), Version 12.2(50)SE5, RELEASE SOFTWARE (fc1)",
        );
        assert_eq!(d.firmware.as_deref(), Some("12.2(50)SE5"));
        assert_eq!(d.model.as_deref(), Some("C3750 (C3750-IPBASE-M)"));
        let vlan = PROFILE.per_vlan_bridge.unwrap();
        assert_eq!((vlan.community)("public", 20), "public@20");
        assert_eq!((vlan.context)(20), "vlan-20");
    }
}
