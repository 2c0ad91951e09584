//! Hirschmann (Belden) Classic and HiOS switches: model in sysDescr, versions in ENTITY-MIB.

use super::{DescrInfo, VendorProfile, after};

/// The Hirschmann profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "hirschmann",
    vendor: "Hirschmann",
    enterprises: &[248],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "Hirschmann Railswitch" / "Hirschmann MACH104-20TX-FR" / HiOS "RSP35-08033O6TT-SK9V9HHSE2S 09.0.04"
fn parse_descr(descr: &str) -> DescrInfo {
    let model = descr
        .strip_prefix("Hirschmann ")
        .map(|rest| rest.split(',').next().unwrap_or(rest).trim().to_string())
        .filter(|m| !m.is_empty());
    DescrInfo {
        model,
        firmware: after(descr, "SW: ", &[',', ' '])
            .or_else(|| after(descr, "Version ", &[',', ' '])),
        product_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model() {
        let d = parse_descr("Hirschmann MACH104-20TX-FR, SW: L3P-06.0.04");
        assert_eq!(d.model.as_deref(), Some("MACH104-20TX-FR"));
        assert_eq!(d.firmware.as_deref(), Some("L3P-06.0.04"));
    }
}
