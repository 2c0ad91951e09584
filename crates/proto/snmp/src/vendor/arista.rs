//! Arista (EOS): Q-BRIDGE MAC tables; sysDescr carries the EOS version and the model.

use super::{DescrInfo, VendorProfile, after};

/// The Arista profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "arista",
    vendor: "Arista Networks",
    enterprises: &[30065],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "Arista Networks EOS version 4.20.1F running on an Arista Networks DCS-7050SX-64"
fn parse_descr(descr: &str) -> DescrInfo {
    DescrInfo {
        model: after(descr, "running on an Arista Networks ", &[' ', ',']),
        firmware: after(descr, "EOS version ", &[' ', ',']),
        product_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_eos_and_model() {
        let d = parse_descr(
            "Arista Networks EOS version 4.20.1F running on an Arista Networks DCS-7050SX-64",
        );
        assert_eq!(d.model.as_deref(), Some("DCS-7050SX-64"));
        assert_eq!(d.firmware.as_deref(), Some("4.20.1F"));
    }
}
