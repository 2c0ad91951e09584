//! Decoders of the SZL partial lists otsensor reads, named after Siemens' "System Software for
//! S7-300/400, System and Standard Functions" (chapter "System Status Lists").
//!
//! Each decoder takes what arrived of a list and returns what it can: a missing or cut record
//! leaves its fields `None`, never an error.

use crate::codec::SzlList;
use otsensor_core::PlcMode;

/// Text of a fixed-width SZL field: up to the first NUL, trailing blanks trimmed; `None` if empty.
fn text(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = String::from_utf8_lossy(&bytes[..end]);
    let text = text.trim_matches(|c: char| c == ' ' || c.is_control());
    (!text.is_empty()).then(|| text.to_string())
}

fn word(record: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*record.get(at)?, *record.get(at + 1)?]))
}

/// SZL 0x0011 record indexes.
pub mod module_index {
    /// Identification of the module (its order code).
    pub const MODULE: u16 = 0x0001;
    /// Identification of the basic hardware.
    pub const BASIC_HARDWARE: u16 = 0x0006;
    /// Identification of the basic firmware.
    pub const BASIC_FIRMWARE: u16 = 0x0007;
}

/// What SZL 0x0011 (module identification) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleIdentification {
    /// Order code (MLFB) of the module, record 1.
    pub order_code: Option<String>,
    /// Order code of the basic hardware, record 6 (nmap's "Basic Hardware").
    pub hardware: Option<String>,
    /// Version of the basic firmware, record 7, as `major.minor.patch`.
    pub firmware: Option<String>,
}

impl ModuleIdentification {
    /// Decodes the records that arrived. A record is index (2), MLFB (20), BGTyp (2), Ausbg (2),
    /// Ausbe (2); the firmware version is Ausbg's low byte and Ausbe's two bytes (Ausbg's high
    /// byte is 'V').
    pub fn decode(list: &SzlList) -> ModuleIdentification {
        let mut out = ModuleIdentification::default();
        for record in list.records() {
            let mlfb = record.get(2..22).and_then(text);
            match word(record, 0) {
                Some(module_index::MODULE) => out.order_code = mlfb,
                Some(module_index::BASIC_HARDWARE) => out.hardware = mlfb,
                Some(module_index::BASIC_FIRMWARE) => {
                    out.firmware = record
                        .get(25..28)
                        .map(|v| format!("{}.{}.{}", v[0], v[1], v[2]));
                }
                _ => {}
            }
        }
        out
    }

    /// Whether any field is known.
    pub fn is_empty(&self) -> bool {
        *self == ModuleIdentification::default()
    }
}

/// SZL 0x001C record indexes.
pub mod component_index {
    /// Name of the automation system (AS name).
    pub const PLC_NAME: u16 = 0x0001;
    /// Name of the module.
    pub const MODULE_NAME: u16 = 0x0002;
    /// Plant identification of the module.
    pub const PLANT_ID: u16 = 0x0003;
    /// Copyright entry.
    pub const COPYRIGHT: u16 = 0x0004;
    /// Serial number of the module.
    pub const SERIAL: u16 = 0x0005;
    /// Module type name.
    pub const MODULE_TYPE: u16 = 0x0007;
}

/// What SZL 0x001C (component identification) says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentIdentification {
    /// Name of the automation system, record 1.
    pub plc_name: Option<String>,
    /// Name of the module, record 2.
    pub module_name: Option<String>,
    /// Plant identification, record 3.
    pub plant_id: Option<String>,
    /// Copyright entry, record 4.
    pub copyright: Option<String>,
    /// Serial number of the module, record 5.
    pub serial: Option<String>,
    /// Module type name, record 7.
    pub module_type: Option<String>,
}

impl ComponentIdentification {
    /// Decodes the records that arrived: index (2) and a NUL-padded text of 24 to 32 characters.
    pub fn decode(list: &SzlList) -> ComponentIdentification {
        let mut out = ComponentIdentification::default();
        for record in list.records() {
            // H systems put the CPU number into the high byte of the index
            let Some(index) = word(record, 0).map(|i| i & 0x00FF) else {
                continue;
            };
            let width = match index {
                component_index::PLC_NAME
                | component_index::MODULE_NAME
                | component_index::SERIAL => 24,
                component_index::COPYRIGHT => 26,
                _ => 32,
            };
            let value = record
                .get(2..)
                .map(|t| &t[..t.len().min(width)])
                .and_then(text);
            let slot = match index {
                component_index::PLC_NAME => &mut out.plc_name,
                component_index::MODULE_NAME => &mut out.module_name,
                component_index::PLANT_ID => &mut out.plant_id,
                component_index::COPYRIGHT => &mut out.copyright,
                component_index::SERIAL => &mut out.serial,
                component_index::MODULE_TYPE => &mut out.module_type,
                _ => continue,
            };
            *slot = value;
        }
        out
    }

    /// Whether any field is known.
    pub fn is_empty(&self) -> bool {
        *self == ComponentIdentification::default()
    }
}

/// The operating state from SZL 0x0424 (current mode transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatingState {
    /// The mode reached by the last transition (bits 0-3 of bzu-id).
    pub current: u8,
    /// The mode before it (bits 4-7 of bzu-id).
    pub previous: u8,
}

impl OperatingState {
    /// Decodes the first record: ereig (2), ae (1), bzu-id (1), ...
    pub fn decode(list: &SzlList) -> Option<OperatingState> {
        let bzu_id = *list.records().next()?.get(3)?;
        Some(OperatingState {
            current: bzu_id & 0x0F,
            previous: bzu_id >> 4,
        })
    }

    /// Siemens' name for the current mode.
    pub fn name(self) -> &'static str {
        match self.current {
            0x1 => "STOP (update)",
            0x2 => "STOP (memory reset)",
            0x3 => "STOP (self initialization)",
            0x4 => "STOP (internal)",
            0x5 => "STARTUP (complete restart)",
            0x6 => "STARTUP (restart)",
            0x7 => "STARTUP (hot restart)",
            0x8 => "RUN",
            0xA => "HOLD",
            0xD => "DEFECT",
            _ => "unknown",
        }
    }

    /// The mode as the inventory records it. HOLD (halted at a breakpoint) and DEFECT are
    /// [`PlcMode::Fault`] ("halted or faulted").
    pub fn plc_mode(self) -> PlcMode {
        match self.current {
            0x1..=0x4 => PlcMode::Stop,
            0x5..=0x7 => PlcMode::Startup,
            0x8 => PlcMode::Run,
            0xA | 0xD => PlcMode::Fault,
            _ => PlcMode::Unknown,
        }
    }
}

/// One module status record of SZL 0xxy91 (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleStatus {
    /// adr1: in a central configuration, the rack number.
    pub adr1: u16,
    /// adr2: slot number (high byte) and submodule slot number (low byte).
    pub adr2: u16,
    /// First assigned logical I/O address (base address).
    pub logical_address: u16,
    /// Expected (configured) type.
    pub expected_type: u16,
    /// Actual type.
    pub actual_type: u16,
    /// I/O status (eastat): bit 1 module exists, bit 2 module not available, high byte data ID.
    pub io_status: u16,
    /// Area ID and module width (ber_bgbr).
    pub area_width: u16,
}

impl ModuleStatus {
    /// Bit of `io_status`: module exists.
    pub const EXISTS: u16 = 0x0002;
    /// Bit of `io_status`: module not available.
    pub const NOT_AVAILABLE: u16 = 0x0004;

    /// Decodes every whole record that arrived.
    pub fn decode_all(list: &SzlList) -> Vec<ModuleStatus> {
        list.records().filter_map(ModuleStatus::decode).collect()
    }

    /// Decodes one record.
    pub fn decode(record: &[u8]) -> Option<ModuleStatus> {
        Some(ModuleStatus {
            adr1: word(record, 0)?,
            adr2: word(record, 2)?,
            logical_address: word(record, 4)?,
            expected_type: word(record, 6)?,
            actual_type: word(record, 8)?,
            io_status: word(record, 12)?,
            area_width: word(record, 14)?,
        })
    }

    /// The slot the module is plugged into.
    pub fn slot(&self) -> u8 {
        (self.adr2 >> 8) as u8
    }

    /// The submodule (interface module) slot, 0 for the module itself.
    pub fn submodule_slot(&self) -> u8 {
        (self.adr2 & 0x00FF) as u8
    }

    /// Whether the module is configured but not plugged in (or not reachable).
    pub fn is_missing(&self) -> bool {
        self.io_status & ModuleStatus::NOT_AVAILABLE != 0
            && self.io_status & ModuleStatus::EXISTS == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{SzlList, parse_s7, parse_szl_reply};
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn list_of(reply: &str) -> SzlList {
        let bytes = hex(reply);
        let pdu = parse_s7(&bytes).unwrap();
        let frag = parse_szl_reply(&pdu).unwrap();
        SzlList::parse(frag.payload, frag.truncated).unwrap()
    }

    /// libsnap7's answer to SZL 0x0011: module, basic hardware, basic firmware, boot loader.
    const LIBSNAP7_0011: &str = "320700000003000c007c000112081284010000000000ff09007800110000001c0004000136455337203331352d32454831342d304142302000c000040001000636455337203331352d32454831342d304142302000c0000400010007202020202020202020202020202020202020202000c0560302060081426f6f74204c6f61646572202020202020202020000041200909";

    /// python-snap7's (testbed `s7` peer) answer to SZL 0x001C: eight 34-byte records.
    const PEER_001C: &str = "320700000004000c011c000112081284010000000000ff090118001c000000220008000153494d41544943203330302831290000000000000000000000000000000000000002435055203331352d3220504e2f44500000000000000000000000000000000000000350756d702d53746174696f6e2d3300000000000000000000000000000000000000044f726967696e616c205369656d656e732045717569706d656e7400000000000000055320432d583455343231333032303039000000000000000000000000000000000007435055203331352d3220504e2f445000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000000000090000000000000000000000000000000000000000000000000000000000000000";

    /// libsnap7's answer to SZL 0x0D91 index 0: the CPU in slot 2.
    const LIBSNAP7_0D91: &str = "320700000007000c001c000112081284010000000000ff0900180d91000000100001000002007fff00c000c00000b4020011";

    #[test]
    fn module_identification_gives_order_code_hardware_and_firmware() {
        let ident = ModuleIdentification::decode(&list_of(LIBSNAP7_0011));
        assert_eq!(ident.order_code.as_deref(), Some("6ES7 315-2EH14-0AB0"));
        assert_eq!(ident.hardware.as_deref(), Some("6ES7 315-2EH14-0AB0"));
        assert_eq!(ident.firmware.as_deref(), Some("3.2.6"));
    }

    #[test]
    fn a_truncated_module_identification_gives_what_arrived() {
        let full = list_of(LIBSNAP7_0011);
        // cut in the middle of the firmware record: records 1 and 6 stay whole
        let mut cut = full.clone();
        cut.data.truncate(28 * 2 + 10);
        cut.truncated = true;
        let ident = ModuleIdentification::decode(&cut);
        assert_eq!(ident.order_code.as_deref(), Some("6ES7 315-2EH14-0AB0"));
        assert_eq!(ident.hardware.as_deref(), Some("6ES7 315-2EH14-0AB0"));
        assert_eq!(ident.firmware, None);
        assert!(cut.is_partial());
        // a record length too short for the version bytes: the MLFB still counts
        let mut short = full;
        short.record_len = 22;
        short.data = short.data[..22].to_vec();
        short.record_count = 1;
        assert_eq!(
            ModuleIdentification::decode(&short),
            ModuleIdentification {
                order_code: Some("6ES7 315-2EH14-0AB0".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn component_identification_gives_names_serial_and_type() {
        let c = ComponentIdentification::decode(&list_of(PEER_001C));
        assert_eq!(c.plc_name.as_deref(), Some("SIMATIC 300(1)"));
        assert_eq!(c.module_name.as_deref(), Some("CPU 315-2 PN/DP"));
        assert_eq!(c.plant_id.as_deref(), Some("Pump-Station-3"));
        assert_eq!(c.copyright.as_deref(), Some("Original Siemens Equipment"));
        assert_eq!(c.serial.as_deref(), Some("S C-X4U421302009"));
        assert_eq!(c.module_type.as_deref(), Some("CPU 315-2 PN/DP"));
    }

    #[test]
    fn a_truncated_component_identification_gives_partial_facts() {
        // the answer as a device that stops after 3.5 records would send it
        let mut bytes = hex(PEER_001C);
        bytes.truncate(10 + 12 + 4 + 8 + 34 * 3 + 17);
        let pdu = parse_s7(&bytes).unwrap();
        let frag = parse_szl_reply(&pdu).unwrap();
        let list = SzlList::parse(frag.payload, frag.truncated).unwrap();
        assert!(list.is_partial());
        let c = ComponentIdentification::decode(&list);
        assert_eq!(c.plc_name.as_deref(), Some("SIMATIC 300(1)"));
        assert_eq!(c.plant_id.as_deref(), Some("Pump-Station-3"));
        assert_eq!(c.copyright, None);
        assert_eq!(c.serial, None);
    }

    #[test]
    fn operating_states_map_to_plc_modes() {
        let state = |b: u8| OperatingState {
            current: b & 0x0F,
            previous: b >> 4,
        };
        assert_eq!(state(0x08).plc_mode(), PlcMode::Run);
        assert_eq!(state(0x84).plc_mode(), PlcMode::Stop);
        assert_eq!(state(0x06).plc_mode(), PlcMode::Startup);
        assert_eq!(state(0x0A).plc_mode(), PlcMode::Fault);
        assert_eq!(state(0x00).plc_mode(), PlcMode::Unknown);
        assert_eq!(state(0x84).name(), "STOP (internal)");
        assert_eq!(state(0x84).previous, 8);
    }

    #[test]
    fn rack_module_records_give_slots() {
        let modules = ModuleStatus::decode_all(&list_of(LIBSNAP7_0D91));
        assert_eq!(modules.len(), 1);
        let cpu = modules[0];
        assert_eq!((cpu.adr1, cpu.slot(), cpu.submodule_slot()), (0, 2, 0));
        assert_eq!(cpu.logical_address, 0x7FFF);
        assert!(!cpu.is_missing());
    }

    proptest! {
        #[test]
        fn decoders_never_panic(
            record_len in 0u16..64,
            record_count in 0u16..8,
            data in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let list = SzlList { id: 0, index: 0, record_len, record_count, data, truncated: false };
            let _ = ModuleIdentification::decode(&list);
            let _ = ComponentIdentification::decode(&list);
            let _ = OperatingState::decode(&list).map(|s| (s.name(), s.plc_mode()));
            for m in ModuleStatus::decode_all(&list) {
                let _ = (m.slot(), m.submodule_slot(), m.is_missing());
            }
        }
    }
}
