//! HPE / Aruba / HP ProCurve: Q-BRIDGE MAC tables; sysDescr carries "revision X.YY.ZZ".

use super::{DescrInfo, VendorProfile, after};

/// The HPE/Aruba profile.
pub const PROFILE: VendorProfile = VendorProfile {
    key: "hpe",
    vendor: "HPE",
    enterprises: &[11, 14823, 47196],
    parse_descr,
    per_vlan_bridge: None,
    switch_vendor: true,
};

/// "ProCurve 516733-B21 6120XG Blade Switch, revision Z.14.31, ROM Z.14.09 (...)"
/// "Aruba JL258A 2930F-8G-PoE+-2SFP+ Switch, revision WC.16.10.0009, ROM WC.16.01.0008 (...)"
fn parse_descr(descr: &str) -> DescrInfo {
    let head = descr.split(',').next().unwrap_or_default();
    let mut words = head.split_whitespace();
    let brand = words.next();
    let code = words.next();
    let model: Vec<&str> = words.collect();
    DescrInfo {
        model: (!model.is_empty()).then(|| model.join(" ")),
        firmware: after(descr, "revision ", &[',', ' ']),
        product_code: brand.and(code).map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_code_and_revision() {
        let d = parse_descr(
            "ProCurve 516733-B21 6120XG Blade Switch, revision Z.14.31, ROM Z.14.09 (/ws/x)",
        );
        assert_eq!(d.firmware.as_deref(), Some("Z.14.31"));
        assert_eq!(d.product_code.as_deref(), Some("516733-B21"));
        assert_eq!(d.model.as_deref(), Some("6120XG Blade Switch"));
    }
}
