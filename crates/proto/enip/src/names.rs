//! Names for numbers: CIP vendor IDs, device types and their kind of device, identity status and
//! state words.
//!
//! The vendor names ship as data (`data/cip_vendors.tsv`, after ODVA's published vendor ID list);
//! the device types follow The CIP Networks Library, Volume 1, chapter 6 (device profiles).

use otsensor_core::{DeviceType, PlcMode};
use std::sync::OnceLock;

/// The vendor list as shipped: `ID<TAB>NAME` lines, `#` comments.
pub const VENDOR_DATA: &str = include_str!("../data/cip_vendors.tsv");

fn vendors() -> &'static [(u16, &'static str)] {
    static TABLE: OnceLock<Vec<(u16, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<(u16, &'static str)> = VENDOR_DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (id, name) = l.split_once('\t')?;
                Some((id.trim().parse().ok()?, name.trim()))
            })
            .collect();
        table.sort_by_key(|(id, _)| *id);
        table
    })
}

/// The vendor's name for a CIP vendor ID, if the shipped list knows it.
pub fn vendor_name(id: u16) -> Option<&'static str> {
    let table = vendors();
    table
        .binary_search_by_key(&id, |(k, _)| *k)
        .ok()
        .and_then(|i| table.get(i))
        .map(|(_, name)| *name)
}

/// The number of vendors in the shipped list.
pub fn vendor_count() -> usize {
    vendors().len()
}

/// The CIP name of a device type (device profile), if it is a published one.
pub fn device_type_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0x00 => "Generic Device (deprecated)",
        0x01 => "Control Station (deprecated)",
        0x02 => "AC Drive",
        0x03 => "Motor Overload",
        0x04 => "Limit Switch",
        0x05 => "Inductive Proximity Switch",
        0x06 => "Photoelectric Sensor",
        0x07 => "General Purpose Discrete I/O",
        0x08 => "Encoder (deprecated)",
        0x09 => "Resolver",
        0x0A => "General Purpose Analog I/O (deprecated)",
        0x0C => "Communications Adapter",
        0x0D => "Barcode Scanner (deprecated)",
        0x0E => "Programmable Logic Controller",
        0x10 => "Position Controller",
        0x11 => "Weigh Scale (deprecated)",
        0x12 => "Message Display (deprecated)",
        0x13 => "DC Drive",
        0x14 => "Servo Drive (deprecated)",
        0x15 => "Contactor",
        0x16 => "Motor Starter",
        0x17 => "Soft Start",
        0x18 => "Human-Machine Interface",
        0x19 => "Pneumatic Valve (deprecated)",
        0x1A => "Mass Flow Controller",
        0x1B => "Pneumatic Valve",
        0x1C => "Vacuum Pressure Gauge",
        0x1D => "Process Control Valve",
        0x1E => "Residual Gas Analyzer",
        0x1F => "DC Power Generator",
        0x20 => "RF Power Generator",
        0x21 => "Turbomolecular Vacuum Pump",
        0x22 => "Encoder",
        0x23 => "Safety Discrete I/O Device",
        0x24 => "Fluid Flow Controller",
        0x25 => "CIP Motion Drive",
        0x26 => "CompoNet Repeater",
        0x27 => "Mass Flow Controller, Enhanced",
        0x28 => "CIP Modbus Device",
        0x29 => "CIP Modbus Translator",
        0x2A => "Safety Analog I/O Device",
        0x2B => "Generic Device (keyable)",
        0x2C => "Managed Ethernet Switch",
        0x32 => "ControlNet Physical Layer Component",
        _ => return None,
    })
}

/// The device type as shown: its name and number, `Programmable Logic Controller (14)`;
/// vendor-specific (100-199) and unknown codes are named so.
pub fn device_type_label(code: u16) -> String {
    match device_type_name(code) {
        Some(name) => format!("{name} ({code})"),
        None if (0x64..=0xC7).contains(&code) => format!("Vendor-specific device type ({code})"),
        None => format!("Unknown device type ({code})"),
    }
}

/// The kind of device a CIP device type is.
pub fn classify(code: u16) -> DeviceType {
    match code {
        0x0E => DeviceType::Plc,
        0x0C | 0x26 | 0x29 | 0x32 => DeviceType::CommunicationAdapter,
        0x07 | 0x0A | 0x23 | 0x2A => DeviceType::IoModule,
        0x18 | 0x12 => DeviceType::Hmi,
        0x02 | 0x10 | 0x13 | 0x14 | 0x16 | 0x17 | 0x25 => DeviceType::Drive,
        0x2C => DeviceType::Switch,
        _ => DeviceType::Other,
    }
}

/// Whether a device type is a communications adapter, whose ports the depth-2 walk follows.
pub fn is_communications_adapter(code: u16) -> bool {
    code == 0x0C
}

/// The meaning of the Extended Device Status (bits 4-7 of the identity status).
pub fn extended_status_name(value: u8) -> &'static str {
    match value {
        0 => "self-testing or unknown",
        1 => "firmware update in progress",
        2 => "at least one faulted I/O connection",
        3 => "no I/O connections established",
        4 => "non-volatile configuration bad",
        5 => "major fault",
        6 => "at least one I/O connection in run mode",
        7 => "at least one I/O connection established, all in idle mode",
        10..=15 => "vendor specific",
        _ => "reserved",
    }
}

/// The identity status word decoded (Volume 1, table 5-2.4):
/// `0x3160 (at least one I/O connection in run mode; minor recoverable fault)`.
pub fn describe_status(status: u16) -> String {
    let mut parts = Vec::new();
    let bit = |n: u16| status & (1 << n) != 0;
    if bit(0) {
        parts.push("owned".to_string());
    }
    if bit(2) {
        parts.push("configured".to_string());
    }
    parts.push(extended_status_name(((status >> 4) & 0x0F) as u8).to_string());
    for (n, name) in [
        (8, "minor recoverable fault"),
        (9, "minor unrecoverable fault"),
        (10, "major recoverable fault"),
        (11, "major unrecoverable fault"),
    ] {
        if bit(n) {
            parts.push(name.to_string());
        }
    }
    format!("{status:#06x} ({})", parts.join("; "))
}

/// The name of an identity state (attribute 8).
pub fn state_name(state: u8) -> &'static str {
    match state {
        0 => "nonexistent",
        1 => "device self testing",
        2 => "standby",
        3 => "operational",
        4 => "major recoverable fault",
        5 => "major unrecoverable fault",
        255 => "default (not given)",
        _ => "reserved",
    }
}

/// The status fact's text: `status 0x0030 (...), state 0x03 (operational)`.
pub fn describe_status_and_state(status: u16, state: Option<u8>) -> String {
    let mut text = format!("status {}", describe_status(status));
    if let Some(state) = state {
        text.push_str(&format!(", state {state:#04x} ({})", state_name(state)));
    }
    text
}

/// The PLC mode a controller's identity status gives: a major fault, or its I/O connections in
/// run or idle mode (Extended Device Status 6 and 7, as Logix controllers report their mode).
/// `None` for other device types and for statuses that say nothing about the mode.
pub fn plc_mode(device_type: u16, status: u16) -> Option<PlcMode> {
    if device_type != 0x0E {
        return None;
    }
    if status & 0x0C00 != 0 {
        return Some(PlcMode::Fault);
    }
    match (status >> 4) & 0x0F {
        5 => Some(PlcMode::Fault),
        6 => Some(PlcMode::Run),
        7 => Some(PlcMode::Stop),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_vendors_are_named() {
        assert_eq!(vendor_name(1), Some("Rockwell Automation/Allen-Bradley"));
        assert_eq!(vendor_name(40), Some("Wago Corporation"));
        assert_eq!(vendor_name(47), Some("Omron Corporation"));
        assert_eq!(vendor_name(243), Some("Schneider Automation Inc."));
        assert_eq!(vendor_name(283), Some("Hilscher GmbH"));
        assert_eq!(vendor_name(1251), Some("Siemens AG"));
        assert_eq!(vendor_name(0), None);
        assert_eq!(vendor_name(65535), None);
    }

    #[test]
    fn the_vendor_data_parses_whole_with_unique_ids() {
        let lines = VENDOR_DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        assert_eq!(vendor_count(), lines, "every data line parses");
        assert!(vendor_count() >= 100);
        let ids: Vec<u16> = vendors().iter().map(|(id, _)| *id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "IDs are unique");
        assert!(vendors().iter().all(|(_, n)| !n.is_empty()));
    }

    #[test]
    fn device_types_are_named_and_classified() {
        assert_eq!(device_type_label(14), "Programmable Logic Controller (14)");
        assert_eq!(device_type_label(12), "Communications Adapter (12)");
        assert_eq!(device_type_label(7), "General Purpose Discrete I/O (7)");
        assert_eq!(device_type_label(24), "Human-Machine Interface (24)");
        assert_eq!(device_type_label(2), "AC Drive (2)");
        assert_eq!(device_type_label(150), "Vendor-specific device type (150)");
        assert_eq!(device_type_label(999), "Unknown device type (999)");
        assert_eq!(classify(0x0E), DeviceType::Plc);
        assert_eq!(classify(0x0C), DeviceType::CommunicationAdapter);
        assert_eq!(classify(0x07), DeviceType::IoModule);
        assert_eq!(classify(0x18), DeviceType::Hmi);
        assert_eq!(classify(0x02), DeviceType::Drive);
        assert_eq!(classify(0x2C), DeviceType::Switch);
        assert_eq!(classify(0x06), DeviceType::Other);
    }

    #[test]
    fn status_words_are_decoded() {
        assert_eq!(
            describe_status(0x0030),
            "0x0030 (no I/O connections established)"
        );
        assert_eq!(
            describe_status(0x3160),
            "0x3160 (at least one I/O connection in run mode; minor recoverable fault)"
        );
        assert_eq!(
            describe_status_and_state(0x0054, Some(3)),
            "status 0x0054 (configured; major fault), state 0x03 (operational)"
        );
        assert_eq!(
            describe_status_and_state(0x0001, None),
            "status 0x0001 (owned; self-testing or unknown)"
        );
        assert_eq!(plc_mode(14, 0x3160), Some(PlcMode::Run));
        assert_eq!(plc_mode(14, 0x0070), Some(PlcMode::Stop));
        assert_eq!(plc_mode(14, 0x0470), Some(PlcMode::Fault));
        assert_eq!(plc_mode(14, 0x0030), None);
        assert_eq!(plc_mode(12, 0x0060), None);
    }
}
