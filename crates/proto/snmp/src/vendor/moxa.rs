//! Moxa EDS/ICS industrial switches: sysDescr is the model; firmware "V5.2" when present.

use super::{DescrInfo, VendorProfile, after};

/// The Moxa profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "moxa",
    vendor: "Moxa",
    enterprises: &[8691],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "EDS-408A" / "Moxa EDS-G508E" / "EDS-510E-3GTXSFP V5.2 build 19031116"
fn parse_descr(descr: &str) -> DescrInfo {
    let body = descr.strip_prefix("Moxa ").unwrap_or(descr).trim();
    let model = body.split_whitespace().next().map(str::to_string);
    DescrInfo {
        model,
        firmware: after(body, " V", &[' ', ',']).map(|v| format!("V{v}")),
        product_code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_version() {
        let d = parse_descr("EDS-510E-3GTXSFP V5.2 build 19031116");
        assert_eq!(d.model.as_deref(), Some("EDS-510E-3GTXSFP"));
        assert_eq!(d.firmware.as_deref(), Some("V5.2"));
    }
}
