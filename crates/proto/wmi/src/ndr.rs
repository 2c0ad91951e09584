//! NDR 2.0 (C706 chapter 14, little-endian, 32-bit pointers) for the structures this crate uses.
//!
//! [`Writer`] and [`Reader`] align relative to the start of the stub (the octet stream of one
//! call), as NDR requires. The reader never panics and never trusts a length from the wire for an
//! allocation: every count is checked against the bytes that remain.

use std::fmt;

/// Why NDR data could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdrError {
    /// The data ends before the structure does.
    #[error("NDR data ends at offset {at}: {need} more bytes needed for {what}")]
    Truncated {
        /// Offset where the read started.
        at: usize,
        /// Bytes needed.
        need: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A count or length is not possible here.
    #[error("NDR {what} at offset {at} is invalid: {detail}")]
    Invalid {
        /// Offset of the bad value.
        at: usize,
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// A GUID (UUID) in its wire form: Data1, Data2, Data3 little-endian, then Data4 as is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The GUID written `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`, given as that hex number.
    pub const fn from_u128(v: u128) -> Uuid {
        let d1 = ((v >> 96) as u32).to_le_bytes();
        let d2 = ((v >> 80) as u16).to_le_bytes();
        let d3 = ((v >> 64) as u16).to_le_bytes();
        let d4 = (v as u64).to_be_bytes();
        Uuid([
            d1[0], d1[1], d1[2], d1[3], d2[0], d2[1], d3[0], d3[1], d4[0], d4[1], d4[2], d4[3],
            d4[4], d4[5], d4[6], d4[7],
        ])
    }

    /// A random (version 4) GUID, for causality IDs.
    pub fn random() -> Uuid {
        let mut b = [0u8; 16];
        crate::random_bytes(&mut b);
        b[7] = (b[7] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9],
            b[10],
            b[11],
            b[12],
            b[13],
            b[14],
            b[15]
        )
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes NDR data; alignment is relative to the first byte written.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    next_referent: u32,
}

impl Writer {
    /// An empty stub.
    pub fn new() -> Writer {
        Writer {
            buf: Vec::new(),
            next_referent: 0x0002_0000,
        }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Pads with zeros to a multiple of `n`.
    pub fn align(&mut self, n: usize) {
        while !self.buf.len().is_multiple_of(n) {
            self.buf.push(0);
        }
    }

    /// One octet.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// An aligned unsigned short.
    pub fn u16(&mut self, v: u16) {
        self.align(2);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// An aligned unsigned long.
    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// An aligned hyper.
    pub fn u64(&mut self, v: u64) {
        self.align(8);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A GUID (4-byte aligned).
    pub fn uuid(&mut self, v: &Uuid) {
        self.align(4);
        self.buf.extend_from_slice(&v.0);
    }

    /// Raw bytes, no alignment.
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A non-null unique or full pointer: writes a fresh referent ID.
    pub fn pointer(&mut self) {
        let id = self.next_referent;
        self.next_referent += 4;
        self.u32(id);
    }

    /// A null pointer.
    pub fn null(&mut self) {
        self.u32(0);
    }

    /// The referent of a `[string] wchar_t*`: a conformant varying string with its NUL.
    pub fn wide_string(&mut self, s: &str) {
        let units: Vec<u16> = s.encode_utf16().chain(std::iter::once(0)).collect();
        let n = units.len() as u32;
        self.u32(n);
        self.u32(0);
        self.u32(n);
        for u in units {
            self.u16(u);
        }
    }
}

/// Reads NDR data; alignment is relative to the start of the slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// The current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Skips padding to a multiple of `n` (padding past the end is an error only when read).
    pub fn align(&mut self, n: usize) {
        let rem = self.pos % n;
        if rem != 0 {
            self.pos += n - rem;
        }
    }

    /// Takes `n` raw bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], NdrError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        match end {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(NdrError::Truncated {
                at: self.pos,
                need: n.saturating_sub(self.remaining()),
                what,
            }),
        }
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], NdrError> {
        let s = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// One octet.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, NdrError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// An aligned unsigned short.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, NdrError> {
        self.align(2);
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    /// An aligned unsigned long.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, NdrError> {
        self.align(4);
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// An aligned hyper.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, NdrError> {
        self.align(8);
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A GUID.
    pub fn uuid(&mut self, what: &'static str) -> Result<Uuid, NdrError> {
        self.align(4);
        Ok(Uuid(self.array(what)?))
    }

    /// A pointer's referent ID (0 = null).
    pub fn pointer(&mut self, what: &'static str) -> Result<u32, NdrError> {
        self.u32(what)
    }

    /// A count that announces `item_size`-byte items: checked against the bytes left.
    pub fn count(&mut self, item_size: usize, what: &'static str) -> Result<usize, NdrError> {
        let at = self.pos;
        let n = self.u32(what)? as usize;
        if n.saturating_mul(item_size.max(1)) > self.remaining() {
            return Err(NdrError::Invalid {
                at,
                what,
                detail: format!("count {n} is more than the {} bytes left", self.remaining()),
            });
        }
        Ok(n)
    }

    /// The referent of a `[string] wchar_t*` (conformant varying string), without its NUL.
    pub fn wide_string(&mut self, what: &'static str) -> Result<String, NdrError> {
        let at = self.pos;
        let max = self.u32(what)? as usize;
        let offset = self.u32(what)? as usize;
        let actual = self.count(2, what)?;
        if offset != 0 || actual > max {
            return Err(NdrError::Invalid {
                at,
                what,
                detail: format!("string offset {offset}, length {actual} of {max}"),
            });
        }
        let raw = self.take(actual * 2, what)?;
        Ok(utf16_lossy_until_nul(raw))
    }
}

/// Decodes UTF-16LE up to the first NUL (or the end), replacing invalid units.
pub fn utf16_lossy_until_nul(raw: &[u8]) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// UTF-16LE bytes of `s`, no terminator.
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uuid_text_and_wire_forms_agree() {
        let u = Uuid::from_u128(0x000001A0_0000_0000_C000_000000000046);
        assert_eq!(u.to_string(), "000001a0-0000-0000-c000-000000000046");
        assert_eq!(
            u.0,
            [0xa0, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46]
        );
    }

    #[test]
    fn writer_aligns_relative_to_its_start() {
        let mut w = Writer::new();
        w.u8(1);
        w.u32(2);
        w.u16(3);
        w.u64(4);
        assert_eq!(w.len(), 4 + 4 + 2 + 6 + 8);
    }

    #[test]
    fn wide_strings_round_trip() {
        let mut w = Writer::new();
        w.wide_string("root\\cimv2");
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.wide_string("s").unwrap(), "root\\cimv2");
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn a_count_larger_than_the_data_is_refused() {
        let data = [0xff, 0xff, 0xff, 0x7f, 0, 0];
        let mut r = Reader::new(&data);
        assert!(matches!(r.count(1, "n"), Err(NdrError::Invalid { .. })));
    }

    proptest! {
        #[test]
        fn reading_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&data);
            let _ = r.wide_string("s");
            let mut r = Reader::new(&data);
            let _ = r.u64("x");
            let _ = r.count(4, "n");
            let _ = r.uuid("u");
        }
    }
}
