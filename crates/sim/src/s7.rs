//! S7comm server side: COTP connection (the CPU's TSAP only), Setup Communication and the SZL
//! reads 0x0011 (module identification), 0x001C (component identification), 0x0424 (operating
//! state) and 0x0D91 (modules of rack 0). Other SZL IDs get error 0xD401.

use crate::plant::S7Station;

/// What to do with one COTP TPDU.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send this TPKT frame.
    Send(Vec<u8>),
    /// Send this TPKT frame, then close.
    SendAndClose(Vec<u8>),
    /// Close without a word.
    Close,
}

fn tpkt(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![3, 0];
    out.extend_from_slice(&((payload.len() + 4) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn called_tsap(cr: &[u8]) -> Option<u16> {
    let mut rest = cr.get(7..)?;
    while let [kind, len, tail @ ..] = rest {
        let value = tail.get(..usize::from(*len))?;
        if *kind == 0xC2 && value.len() == 2 {
            return Some(u16::from_be_bytes([value[0], value[1]]));
        }
        rest = &tail[usize::from(*len)..];
    }
    None
}

fn data_tpdu(s7: &[u8]) -> Vec<u8> {
    let mut cotp = vec![0x02, 0xF0, 0x80];
    cotp.extend_from_slice(s7);
    tpkt(&cotp)
}

fn s7_header(rosctr: u8, pdu_ref: [u8; 2], params: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x32, rosctr, 0, 0, pdu_ref[0], pdu_ref[1]];
    out.extend_from_slice(&(params.len() as u16).to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    if rosctr == 0x03 {
        out.extend_from_slice(&[0, 0]);
    }
    out.extend_from_slice(params);
    out.extend_from_slice(data);
    out
}

/// The answer to one TPDU (the TPKT payload) from a client.
pub fn answer(station: &S7Station, tpdu: &[u8]) -> Answer {
    match tpdu.get(1).map(|c| c & 0xF0) {
        Some(0xE0) => connection(station, tpdu),
        Some(0xF0) => {
            let li = usize::from(tpdu[0]);
            match tpdu.get(li + 1..) {
                Some(s7) => s7_answer(station, s7).map_or(Answer::Close, Answer::Send),
                None => Answer::Close,
            }
        }
        _ => Answer::Close,
    }
}

fn connection(station: &S7Station, cr: &[u8]) -> Answer {
    let source_ref = cr.get(4..6).unwrap_or(&[0, 1]).to_vec();
    let tsap = called_tsap(cr).unwrap_or(0);
    let slot = (tsap & 0x1F) as u8;
    let rack = ((tsap >> 5) & 0x07) as u8;
    // the CPU's PG TSAP, or TSAP 0x0200 (the OP connection many tools try next)
    let accepted = tsap == 0x0200 || (tsap >> 8 != 0 && rack == 0 && slot == station.cpu_slot);
    if !accepted {
        // disconnect request (reason 0x80, normal): no module answers that TSAP
        let dr = [6, 0x80, source_ref[0], source_ref[1], 0x00, 0x02, 0x00];
        return Answer::SendAndClose(tpkt(&dr));
    }
    let mut cc = vec![0, 0xD0, source_ref[0], source_ref[1], 0x00, 0x02, 0x00];
    cc.extend_from_slice(&[0xC0, 1, 0x0A, 0xC1, 2, 0x01, 0x00, 0xC2, 2]);
    cc.extend_from_slice(&tsap.to_be_bytes());
    cc[0] = (cc.len() - 1) as u8;
    Answer::Send(tpkt(&cc))
}

fn s7_answer(station: &S7Station, s7: &[u8]) -> Option<Vec<u8>> {
    if s7.first() != Some(&0x32) {
        return None;
    }
    let rosctr = *s7.get(1)?;
    let pdu_ref = [*s7.get(4)?, *s7.get(5)?];
    let param_len = usize::from(u16::from_be_bytes([*s7.get(6)?, *s7.get(7)?]));
    let params = s7.get(10..10 + param_len)?;
    let data = s7.get(10 + param_len..).unwrap_or_default();
    match rosctr {
        0x01 if params.first() == Some(&0xF0) => {
            let reply = [0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0];
            Some(data_tpdu(&s7_header(0x03, pdu_ref, &reply, &[])))
        }
        0x07 => {
            let sequence = *params.get(7)?;
            let method = *params.get(4)?;
            let szl = if method == 0x11 && data.len() >= 8 {
                Some(u16::from_be_bytes([data[4], data[5]]))
            } else {
                None
            };
            let (error, body) = match szl.and_then(|id| szl_list(station, id)) {
                Some(list) => {
                    let mut body = vec![0xFF, 0x09];
                    body.extend_from_slice(&(list.len() as u16).to_be_bytes());
                    body.extend(list);
                    (0u16, body)
                }
                None => (0xD401, vec![0x0A, 0x00, 0x00, 0x00]),
            };
            let mut reply = vec![0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, sequence, 0, 0];
            reply.extend_from_slice(&error.to_be_bytes());
            Some(data_tpdu(&s7_header(0x07, pdu_ref, &reply, &body)))
        }
        _ => None,
    }
}

fn padded(text: &str, width: usize, fill: u8) -> Vec<u8> {
    let mut out: Vec<u8> = text.bytes().take(width).collect();
    out.resize(width, fill);
    out
}

fn list(id: u16, record_len: u16, records: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&record_len.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    for r in records {
        out.extend(r);
    }
    out
}

fn szl_list(station: &S7Station, id: u16) -> Option<Vec<u8>> {
    match id {
        0x0011 => {
            let module = |index: u16, text: &str, tail: [u8; 6]| {
                let mut r = index.to_be_bytes().to_vec();
                r.extend(padded(text, 20, b' '));
                r.extend_from_slice(&tail);
                r
            };
            let [a, b, c] = station.firmware;
            Some(list(
                0x0011,
                28,
                vec![
                    module(1, &station.order_code, [0, 0xC0, 0, 5, 0, 5]),
                    module(6, &station.order_code, [0, 0xC0, 0, 5, 0, 5]),
                    module(7, "", [0, 0xC0, b'V', a, b, c]),
                ],
            ))
        }
        0x001C => {
            let texts: [(u16, &str); 6] = [
                (1, &station.plc_name),
                (2, &station.module_name),
                (3, &station.plant_id),
                (4, "Original Siemens Equipment"),
                (5, &station.serial),
                (7, &station.module_type),
            ];
            let records = texts
                .iter()
                .map(|(index, text)| {
                    let mut r = index.to_be_bytes().to_vec();
                    r.extend(padded(text, 32, 0));
                    r
                })
                .collect();
            Some(list(0x001C, 34, records))
        }
        0x0424 => {
            let state = if station.running { 0x08 } else { 0x84 };
            let mut r = vec![0x51, 0x44, 0xFF, state];
            r.resize(20, 0);
            Some(list(0x0424, 20, vec![r]))
        }
        0x0D91 => {
            let records = station
                .slots
                .iter()
                .map(|&slot| {
                    let mut r = 0u16.to_be_bytes().to_vec();
                    r.extend_from_slice(&(u16::from(slot) << 8).to_be_bytes());
                    r.extend_from_slice(&[
                        0x7F, 0xFF, 0x00, 0xC0, 0x00, 0xC0, 0, 0, 0, 0x02, 0, 0x11,
                    ]);
                    r
                })
                .collect();
            Some(list(0x0D91, 16, records))
        }
        _ => None,
    }
}
