//! Siemens SCALANCE: sysDescr lists model, order number (MLFB), hardware and firmware version.

use super::{DescrInfo, VendorProfile, after};

/// The Siemens SCALANCE profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "siemens",
    vendor: "Siemens",
    enterprises: &[4329, 4196],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "Siemens, SIMATIC NET, SCALANCE X204-2, 6GK5 204-2BB10-2AA3, HW: Version 1, FW: Version V04.02.02, VPH6101093"
fn parse_descr(descr: &str) -> DescrInfo {
    let parts: Vec<&str> = descr.split(',').map(str::trim).collect();
    let model = parts
        .iter()
        .find(|p| p.starts_with("SCALANCE") || p.starts_with("RUGGEDCOM"))
        .map(|s| s.to_string());
    let product_code = parts
        .iter()
        .find(|p| p.starts_with("6GK") || p.starts_with("6AG"))
        .map(|s| s.to_string());
    DescrInfo {
        model,
        firmware: after(descr, "FW: Version ", &[',', ' '])
            .or_else(|| after(descr, "FW: ", &[','])),
        product_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_order_number_and_firmware() {
        let d = parse_descr(
            "Siemens, SIMATIC NET, SCALANCE X204-2, 6GK5 204-2BB10-2AA3, HW: Version 1, FW: Version V04.02.02, VPH6101093",
        );
        assert_eq!(d.model.as_deref(), Some("SCALANCE X204-2"));
        assert_eq!(d.product_code.as_deref(), Some("6GK5 204-2BB10-2AA3"));
        assert_eq!(d.firmware.as_deref(), Some("V04.02.02"));
    }
}
