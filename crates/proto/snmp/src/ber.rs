//! The subset of ASN.1 BER that SNMP uses (X.690): definite lengths, single-octet tags,
//! INTEGER, OCTET STRING, NULL, OBJECT IDENTIFIER, SEQUENCE and the SNMP application types.
//!
//! Reading is zero-copy over the received datagram and keeps absolute offsets, so that the USM
//! can find its authentication parameters inside the whole message. Nothing here panics on any
//! input: every length is checked against the bytes that are actually there.

use crate::oid::{MAX_SUBIDS, Oid};

/// Universal INTEGER.
pub const INTEGER: u8 = 0x02;
/// Universal OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Universal NULL.
pub const NULL: u8 = 0x05;
/// Universal OBJECT IDENTIFIER.
pub const OBJECT_IDENTIFIER: u8 = 0x06;
/// Universal SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;

/// Why bytes are not valid BER (as SNMP uses it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// The data ended inside an element.
    #[error("truncated at byte {at}: {what} needs {need} more bytes, {have} left")]
    Truncated {
        /// Absolute offset.
        at: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes left.
        have: usize,
    },
    /// A tag other than the one the structure requires.
    #[error("at byte {at}: expected {expected} (tag {tag_expected:#04x}), found tag {found:#04x}")]
    UnexpectedTag {
        /// Absolute offset.
        at: usize,
        /// What was expected, by name.
        expected: &'static str,
        /// The tag expected.
        tag_expected: u8,
        /// The tag found.
        found: u8,
    },
    /// A length form SNMP does not use (indefinite, more than four length octets).
    #[error("at byte {at}: unsupported length form {first:#04x}")]
    BadLength {
        /// Absolute offset.
        at: usize,
        /// The first length octet.
        first: u8,
    },
    /// A multi-octet (high-number) tag.
    #[error("at byte {at}: multi-octet tag {tag:#04x} is not used by SNMP")]
    HighTag {
        /// Absolute offset.
        at: usize,
        /// The tag octet.
        tag: u8,
    },
    /// An integer of zero length or too long for its type.
    #[error("at byte {at}: {what} of {len} bytes is out of range")]
    IntegerRange {
        /// Absolute offset.
        at: usize,
        /// The type.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// An OBJECT IDENTIFIER that does not decode.
    #[error("at byte {at}: bad object identifier: {why}")]
    BadOid {
        /// Absolute offset.
        at: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// Bytes left over where a structure should have ended.
    #[error("at byte {at}: {count} unexpected bytes after {what}")]
    Trailing {
        /// Absolute offset.
        at: usize,
        /// How many.
        count: usize,
        /// After what.
        what: &'static str,
    },
}

/// One element: its tag and its value's bytes, with the value's absolute offset in the message.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The tag octet.
    pub tag: u8,
    /// The value bytes.
    pub value: &'a [u8],
    /// Absolute offset of the first value byte in the buffer the reader started from.
    pub offset: usize,
    /// The whole element: tag, length and value.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// A reader over the value (for constructed types), keeping absolute offsets.
    pub fn reader(&self) -> Reader<'a> {
        Reader {
            data: self.value,
            pos: 0,
            base: self.offset,
        }
    }

    /// The value as a signed integer of at most 64 bits.
    pub fn integer(&self) -> Result<i64, BerError> {
        decode_signed(self.value, self.offset)
    }

    /// The value as a non-negative integer of at most `bits` bits (Counter32, Gauge32, TimeTicks,
    /// Counter64). Agents that wrongly encode a large Counter32 without the leading zero octet
    /// (so that it reads negative) are tolerated: the octets are taken as unsigned.
    pub fn unsigned(&self, bits: u32, what: &'static str) -> Result<u64, BerError> {
        decode_unsigned(self.value, self.offset, bits, what)
    }

    /// The value as an OBJECT IDENTIFIER.
    pub fn oid(&self) -> Result<Oid, BerError> {
        decode_oid(self.value, self.offset)
    }

    /// Fails unless the tag is `tag`.
    pub fn expect(self, tag: u8, expected: &'static str) -> Result<Tlv<'a>, BerError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(BerError::UnexpectedTag {
                at: self.offset,
                expected,
                tag_expected: tag,
                found: self.tag,
            })
        }
    }
}

/// Reads elements one after the other from a byte range.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over a whole message (offsets start at 0).
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            base: 0,
        }
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Reads the next element.
    pub fn read(&mut self) -> Result<Tlv<'a>, BerError> {
        let start = self.offset();
        let first = self.pos;
        let tag = self.take_byte("a tag")?;
        if tag & 0x1F == 0x1F {
            return Err(BerError::HighTag { at: start, tag });
        }
        let len = self.read_length()?;
        let offset = self.offset();
        let value = self.take(len, "a value")?;
        let raw = self.data.get(first..self.pos).unwrap_or_default();
        Ok(Tlv {
            tag,
            value,
            offset,
            raw,
        })
    }

    /// Reads the next element and checks its tag.
    pub fn expect(&mut self, tag: u8, expected: &'static str) -> Result<Tlv<'a>, BerError> {
        self.read()?.expect(tag, expected)
    }

    /// Fails when bytes are left.
    pub fn finish(&self, what: &'static str) -> Result<(), BerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(BerError::Trailing {
                at: self.offset(),
                count: self.remaining(),
                what,
            })
        }
    }

    fn take_byte(&mut self, what: &'static str) -> Result<u8, BerError> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], BerError> {
        let have = self.remaining();
        if len > have {
            return Err(BerError::Truncated {
                at: self.offset(),
                what,
                need: len,
                have,
            });
        }
        let out = self.data.get(self.pos..self.pos + len).unwrap_or_default();
        self.pos += len;
        Ok(out)
    }

    fn read_length(&mut self) -> Result<usize, BerError> {
        let at = self.offset();
        let first = self.take_byte("a length")?;
        if first < 0x80 {
            return Ok(usize::from(first));
        }
        let octets = usize::from(first & 0x7F);
        if octets == 0 || octets > 4 {
            return Err(BerError::BadLength { at, first });
        }
        let bytes = self.take(octets, "a long-form length")?;
        Ok(bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
    }
}

fn decode_signed(bytes: &[u8], at: usize) -> Result<i64, BerError> {
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(BerError::IntegerRange {
            at,
            what: "INTEGER",
            len: bytes.len(),
        });
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if negative { -1 } else { 0 };
    Ok(bytes.iter().fold(init, |acc, b| (acc << 8) | i64::from(*b)))
}

fn decode_unsigned(
    bytes: &[u8],
    at: usize,
    bits: u32,
    what: &'static str,
) -> Result<u64, BerError> {
    // one leading zero octet is allowed on top of bits/8 octets
    let max_len = (bits / 8) as usize;
    let trimmed = match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        other => other,
    };
    if bytes.is_empty() || trimmed.len() > max_len {
        return Err(BerError::IntegerRange {
            at,
            what,
            len: bytes.len(),
        });
    }
    Ok(trimmed
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn decode_oid(bytes: &[u8], at: usize) -> Result<Oid, BerError> {
    if bytes.is_empty() {
        return Err(BerError::BadOid {
            at,
            why: "zero length",
        });
    }
    let mut arcs: Vec<u32> = Vec::with_capacity(bytes.len().min(MAX_SUBIDS) + 1);
    let mut value: u64 = 0;
    let mut in_arc = false;
    for b in bytes {
        if !in_arc && *b == 0x80 {
            return Err(BerError::BadOid {
                at,
                why: "sub-identifier with a leading 0x80 octet",
            });
        }
        value = (value << 7) | u64::from(b & 0x7F);
        if value > u64::from(u32::MAX) + 80 {
            return Err(BerError::BadOid {
                at,
                why: "sub-identifier larger than 32 bits",
            });
        }
        in_arc = b & 0x80 != 0;
        if in_arc {
            continue;
        }
        if arcs.is_empty() {
            let (first, second) = match value {
                0..=39 => (0, value),
                40..=79 => (1, value - 40),
                _ => (2, value - 80),
            };
            let second = u32::try_from(second).map_err(|_| BerError::BadOid {
                at,
                why: "second sub-identifier larger than 32 bits",
            })?;
            arcs.push(first);
            arcs.push(second);
        } else {
            let arc = u32::try_from(value).map_err(|_| BerError::BadOid {
                at,
                why: "sub-identifier larger than 32 bits",
            })?;
            arcs.push(arc);
        }
        if arcs.len() > MAX_SUBIDS {
            return Err(BerError::BadOid {
                at,
                why: "more than 128 sub-identifiers",
            });
        }
        value = 0;
    }
    if in_arc {
        return Err(BerError::BadOid {
            at,
            why: "last sub-identifier is unterminated",
        });
    }
    Ok(Oid::new(arcs))
}

// ---- writing ----

/// Appends a definite length.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// One element: tag, length, value.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    push_length(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// A constructed element made of already-encoded parts.
pub fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// The minimal two's-complement octets of `v`.
fn signed_octets(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (cur, next) = (bytes[start], bytes[start + 1]);
        let redundant = (cur == 0x00 && next & 0x80 == 0) || (cur == 0xFF && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// An INTEGER (or an application type carried as a signed integer).
pub fn integer(tag: u8, v: i64) -> Vec<u8> {
    tlv(tag, &signed_octets(v))
}

/// An unsigned application value (Counter32, Gauge32, TimeTicks, Counter64): minimal octets
/// with a leading zero when the top bit would be set.
pub fn unsigned(tag: u8, v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut value = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        value.push(0);
    }
    value.extend_from_slice(&bytes[skip..]);
    tlv(tag, &value)
}

/// An OCTET STRING (or an application type carried as octets).
pub fn octets(tag: u8, v: &[u8]) -> Vec<u8> {
    tlv(tag, v)
}

/// Why an OID cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{oid}: not encodable: {why}")]
pub struct OidEncodeError {
    /// The OID as text.
    pub oid: String,
    /// Why.
    pub why: &'static str,
}

/// An OBJECT IDENTIFIER. The first arc must be 0, 1 or 2, the second below 40 unless the first
/// is 2, and there must be at least two arcs.
pub fn oid(oid: &Oid) -> Result<Vec<u8>, OidEncodeError> {
    let arcs = oid.as_slice();
    let bad = |why| OidEncodeError {
        oid: oid.to_string(),
        why,
    };
    let (first, second, rest) = match arcs {
        [a, b, rest @ ..] => (*a, *b, rest),
        _ => return Err(bad("fewer than two sub-identifiers")),
    };
    if first > 2 || (first < 2 && second >= 40) {
        return Err(bad(
            "first arc above 2, or second arc above 39 under arc 0 or 1",
        ));
    }
    if arcs.len() > MAX_SUBIDS {
        return Err(bad("more than 128 sub-identifiers"));
    }
    let mut value = Vec::with_capacity(arcs.len() * 2);
    push_base128(&mut value, u64::from(first) * 40 + u64::from(second));
    for arc in rest {
        push_base128(&mut value, u64::from(*arc));
    }
    Ok(tlv(OBJECT_IDENTIFIER, &value))
}

fn push_base128(out: &mut Vec<u8>, v: u64) {
    let mut groups = [0u8; 10];
    let mut n = 0;
    let mut rest = v;
    loop {
        groups[n] = (rest & 0x7F) as u8;
        n += 1;
        rest >>= 7;
        if rest == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let more = if i > 0 { 0x80 } else { 0 };
        out.push(groups[i] | more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_use_minimal_twos_complement() {
        assert_eq!(integer(INTEGER, 0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(INTEGER, 127), [0x02, 0x01, 0x7F]);
        assert_eq!(integer(INTEGER, 128), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(INTEGER, -1), [0x02, 0x01, 0xFF]);
        assert_eq!(integer(INTEGER, -129), [0x02, 0x02, 0xFF, 0x7F]);
        assert_eq!(
            unsigned(0x41, 0xFFFF_FFFF),
            [0x41, 0x05, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        );
    }

    #[test]
    fn oids_encode_as_x690_says() {
        let sys_name: Oid = "1.3.6.1.2.1.1.5.0".parse().unwrap();
        assert_eq!(
            oid(&sys_name).unwrap(),
            [0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00]
        );
        let big: Oid = "1.3.6.1.4.1.4294967295".parse().unwrap();
        let bytes = oid(&big).unwrap();
        let tlv = Reader::new(&bytes).read().unwrap();
        assert_eq!(tlv.oid().unwrap(), big);
        assert!(oid(&"3.1".parse().unwrap()).is_err());
        assert!(oid(&"1".parse().unwrap()).is_err());
    }

    #[test]
    fn lengths_are_checked_before_use() {
        // claims 200 bytes, has 2
        let data = [0x04, 0x81, 0xC8, 0x01, 0x02];
        assert!(matches!(
            Reader::new(&data).read(),
            Err(BerError::Truncated { .. })
        ));
        // indefinite length
        assert!(matches!(
            Reader::new(&[0x30, 0x80, 0x00, 0x00]).read(),
            Err(BerError::BadLength { .. })
        ));
        // five length octets
        assert!(matches!(
            Reader::new(&[0x04, 0x85, 0, 0, 0, 0, 1]).read(),
            Err(BerError::BadLength { .. })
        ));
    }

    #[test]
    fn a_counter32_without_its_leading_zero_reads_unsigned() {
        let tlv = Reader::new(&[0x41, 0x04, 0xFF, 0xFF, 0xFF, 0xFE])
            .read()
            .unwrap();
        assert_eq!(tlv.unsigned(32, "Counter32").unwrap(), 0xFFFF_FFFE);
        let too_long = Reader::new(&[0x41, 0x05, 0x01, 0xFF, 0xFF, 0xFF, 0xFE])
            .read()
            .unwrap();
        assert!(too_long.unsigned(32, "Counter32").is_err());
    }

    proptest! {
        #[test]
        fn signed_integers_round_trip(v in any::<i64>()) {
            let bytes = integer(INTEGER, v);
            let tlv = Reader::new(&bytes).read().unwrap();
            prop_assert_eq!(tlv.integer().unwrap(), v);
        }

        #[test]
        fn unsigned_integers_round_trip(v in any::<u64>()) {
            let bytes = unsigned(0x46, v);
            let tlv = Reader::new(&bytes).read().unwrap();
            prop_assert_eq!(tlv.unsigned(64, "Counter64").unwrap(), v);
        }

        #[test]
        fn oids_round_trip(first in 0u32..3, second in 0u32..40, rest in proptest::collection::vec(any::<u32>(), 0..40)) {
            let mut arcs = vec![first, second];
            arcs.extend(rest);
            let o = Oid::new(arcs);
            let bytes = oid(&o).unwrap();
            let tlv = Reader::new(&bytes).read().unwrap();
            prop_assert_eq!(tlv.oid().unwrap(), o);
        }

        #[test]
        fn long_octet_strings_round_trip(v in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let bytes = octets(OCTET_STRING, &v);
            let tlv = Reader::new(&bytes).read().unwrap();
            prop_assert_eq!(tlv.value, &v[..]);
        }

        #[test]
        fn reading_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut r = Reader::new(&data);
            while let Ok(t) = r.read() {
                let _ = t.integer();
                let _ = t.unsigned(32, "x");
                let _ = t.oid();
                let mut inner = t.reader();
                while inner.read().is_ok() {}
            }
        }
    }
}
