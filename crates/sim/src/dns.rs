//! DNS server side: PTR answers for every plant address (`d.c.b.a.in-addr.arpa.` to the
//! device's fully qualified name), NXDOMAIN for any other name in the reverse zone, REFUSED for
//! anything that is not a standard query.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::plant::Plant;

/// The PTR records of a plant.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    names: HashMap<Ipv4Addr, String>,
}

impl Zone {
    /// The records of every device of the plant, and of the DNS server itself (`ns1`).
    pub fn of(plant: &Plant) -> Zone {
        let mut names: HashMap<Ipv4Addr, String> =
            plant.devices.iter().map(|d| (d.ip, d.fqdn())).collect();
        names.insert(plant.dns, format!("ns1.{}", crate::plant::DOMAIN));
        Zone { names }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The answer to one query message; None for garbage (no answer at all).
    pub fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let head = query.get(..12)?;
        if head[2] & 0x80 != 0 {
            return None; // a response, not a query
        }
        let qdcount = u16::from_be_bytes([head[4], head[5]]);
        let opcode = (head[2] >> 3) & 0x0F;
        let (labels, end) = read_name(query, 12)?;
        let qtype = u16::from_be_bytes([*query.get(end)?, *query.get(end + 1)?]);
        let question = query.get(12..end + 4)?;
        let mut out = vec![head[0], head[1], 0x84 | (head[2] & 0x01), 0x00];
        if opcode != 0 || qdcount != 1 {
            out[3] = 5; // REFUSED
            out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
            return Some(out);
        }
        let target = reverse_address(&labels);
        let name = target.and_then(|ip| self.names.get(&ip));
        let answer = match (name, qtype) {
            (Some(name), 12 | 255) => Some(name),
            (Some(_), _) => None, // NODATA
            (None, _) => {
                out[3] = 3; // NXDOMAIN
                None
            }
        };
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&u16::from(answer.is_some()).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(question);
        if let Some(name) = answer {
            out.extend_from_slice(&[0xC0, 0x0C, 0, 12, 0, 1, 0, 0, 0x0E, 0x10]);
            let rdata = encode_name(name);
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend(rdata);
        }
        Some(out)
    }
}

/// Reads an uncompressed name at `at`: its labels (lowercase) and the offset after it.
fn read_name(message: &[u8], mut at: usize) -> Option<(Vec<String>, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*message.get(at)?);
        if len == 0 {
            return Some((labels, at + 1));
        }
        if len > 63 || labels.len() > 127 {
            return None;
        }
        let label = message.get(at + 1..at + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += 1 + len;
    }
}

fn reverse_address(labels: &[String]) -> Option<Ipv4Addr> {
    match labels {
        [d, c, b, a, arpa, tld] if arpa == "in-addr" && tld == "arpa" => {
            let octet = |s: &String| s.parse::<u8>().ok();
            Some(Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?))
        }
        _ => None,
    }
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}
