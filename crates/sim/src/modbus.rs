//! Modbus/TCP server side: Read Device Identification (43/14) and Report Server ID (17).
//!
//! A plain device answers every unit ID alike; a gateway answers for itself on units 0 and 255,
//! for its units on their IDs, and with exception 0x0B (gateway target failed to respond) for
//! every other unit.

use crate::plant::{ModbusDevice, ModbusIdent};

const FC_READ_DEVICE_ID: u8 = 0x2B;
const MEI_READ_DEVICE_ID: u8 = 0x0E;
const FC_REPORT_SERVER_ID: u8 = 0x11;

/// Which identity answers `unit`, if any.
fn ident_for(device: &ModbusDevice, unit: u8) -> Option<&ModbusIdent> {
    if device.units.is_empty() || unit == 0 || unit == 255 {
        return Some(&device.ident);
    }
    device
        .units
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, ident)| ident)
}

fn objects(ident: &ModbusIdent) -> [(u8, &str); 6] {
    [
        (0, ident.vendor.as_str()),
        (1, ident.product_code.as_str()),
        (2, ident.revision.as_str()),
        (3, ident.url.as_str()),
        (4, ident.product_name.as_str()),
        (5, ident.model.as_str()),
    ]
}

fn exception(function: u8, code: u8) -> Vec<u8> {
    vec![function | 0x80, code]
}

/// The reply PDU to one request PDU for `unit`.
pub fn reply(device: &ModbusDevice, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let Some(&function) = pdu.first() else {
        return exception(0, 0x01);
    };
    let Some(ident) = ident_for(device, unit) else {
        return exception(function, 0x0B);
    };
    match (function, pdu.get(1..4)) {
        (FC_READ_DEVICE_ID, Some(&[MEI_READ_DEVICE_ID, code, first])) => {
            let last = match code {
                1 => 2,
                2 | 3 => 5,
                4 => first,
                _ => return exception(function, 0x03),
            };
            let chosen: Vec<(u8, &str)> = objects(ident)
                .into_iter()
                .filter(|(id, _)| *id >= first && *id <= last)
                .collect();
            if chosen.is_empty() {
                return exception(function, 0x02);
            }
            let mut out = vec![FC_READ_DEVICE_ID, MEI_READ_DEVICE_ID, code, 0x82, 0, 0];
            out.push(chosen.len() as u8);
            for (id, text) in chosen {
                out.push(id);
                out.push(text.len() as u8);
                out.extend_from_slice(text.as_bytes());
            }
            out
        }
        (FC_READ_DEVICE_ID, _) => exception(function, 0x03),
        (FC_REPORT_SERVER_ID, _) => {
            let mut data = vec![0x01, 0xFF];
            data.extend_from_slice(ident.product_name.as_bytes());
            let mut out = vec![FC_REPORT_SERVER_ID, data.len() as u8];
            out.extend(data);
            out
        }
        _ => exception(function, 0x01),
    }
}

/// The MBAP frame around a reply PDU.
pub fn frame(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut out = transaction.to_be_bytes().to_vec();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    out.push(unit);
    out.extend_from_slice(pdu);
    out
}
