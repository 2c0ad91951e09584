//! Domain names: parsed from messages (compression pointers checked), written uncompressed,
//! compared without regard to ASCII case, shown in presentation form.
//!
//! RFC 1035 section 3.1 (names, labels of at most 63 octets, names of at most 255 octets) and
//! section 4.1.4 (message compression). The reverse names of addresses follow RFC 1035 section
//! 3.5 (in-addr.arpa) and RFC 3596 section 2.5 (ip6.arpa).

use crate::codec::CodecError;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// The longest name on the wire, length octets and the root included (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// The most compression pointers one name may follow. A name has at most 127 labels, and a
/// sensible message needs at most one pointer per name.
pub const MAX_POINTERS: usize = 128;

/// A domain name, kept in uncompressed wire form (length-prefixed labels ending with the root).
///
/// Equality and hashing ignore ASCII case, as DNS does (RFC 4343).
#[derive(Clone)]
pub struct Name {
    wire: Vec<u8>,
}

impl Name {
    /// The root name.
    pub fn root() -> Name {
        Name { wire: vec![0] }
    }

    /// A name from its labels, leftmost first. `None` when a label is empty or longer than 63
    /// octets, or the name is longer than 255 octets.
    pub fn from_labels<I, L>(labels: I) -> Option<Name>
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        let mut wire = Vec::new();
        for label in labels {
            let label = label.as_ref();
            if label.is_empty() || label.len() > MAX_LABEL_LEN {
                return None;
            }
            wire.push(label.len() as u8);
            wire.extend_from_slice(label);
        }
        wire.push(0);
        (wire.len() <= MAX_NAME_LEN).then_some(Name { wire })
    }

    /// Parses a name written as dotted text (`2.1.20.10.in-addr.arpa`, final dot optional, no
    /// escapes). `None` when it is not a valid name.
    pub fn from_dotted(text: &str) -> Option<Name> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Some(Name::root());
        }
        Name::from_labels(text.split('.'))
    }

    /// The reverse-lookup name of an address: `D.C.B.A.in-addr.arpa` for IPv4, 32 nibbles then
    /// `ip6.arpa` for IPv6. An IPv4-mapped IPv6 address is looked up as its IPv4 address.
    pub fn reverse(addr: IpAddr) -> Name {
        let mut wire = Vec::with_capacity(72);
        let mut label = |text: &[u8]| {
            wire.push(text.len() as u8);
            wire.extend_from_slice(text);
        };
        match canonical(addr) {
            IpAddr::V4(v4) => {
                for octet in v4.octets().iter().rev() {
                    let digits = [
                        b'0' + octet / 100,
                        b'0' + octet / 10 % 10,
                        b'0' + octet % 10,
                    ];
                    let skip = if *octet >= 100 {
                        0
                    } else if *octet >= 10 {
                        1
                    } else {
                        2
                    };
                    label(&digits[skip..]);
                }
                label(b"in-addr");
            }
            IpAddr::V6(v6) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for octet in v6.octets().iter().rev() {
                    label(&[HEX[usize::from(octet & 0x0f)]]);
                    label(&[HEX[usize::from(octet >> 4)]]);
                }
                label(b"ip6");
            }
        }
        label(b"arpa");
        wire.push(0);
        Name { wire }
    }

    /// Reads the name at `offset` of `message`, following compression pointers. Returns the
    /// name and the offset just after it where it started (after the first pointer, if any).
    ///
    /// Refuses pointers that do not point strictly backwards (so no loops), more than
    /// [`MAX_POINTERS`] pointers, the reserved label types 01 and 10, names longer than 255
    /// octets and anything past the end of the message.
    pub fn parse(message: &[u8], offset: usize) -> Result<(Name, usize), CodecError> {
        let mut wire = Vec::with_capacity(32);
        let mut at = offset;
        let mut end = None;
        let mut pointers = 0usize;
        loop {
            let len = *message.get(at).ok_or(CodecError::Truncated {
                what: "name",
                offset: at,
            })?;
            match len & 0xC0 {
                0x00 if len == 0 => {
                    wire.push(0);
                    if wire.len() > MAX_NAME_LEN {
                        return Err(CodecError::NameTooLong { offset });
                    }
                    return Ok((Name { wire }, end.unwrap_or(at + 1)));
                }
                0x00 => {
                    let label = message.get(at + 1..at + 1 + usize::from(len)).ok_or(
                        CodecError::Truncated {
                            what: "label",
                            offset: at,
                        },
                    )?;
                    if wire.len() + 1 + label.len() + 1 > MAX_NAME_LEN {
                        return Err(CodecError::NameTooLong { offset });
                    }
                    wire.push(len);
                    wire.extend_from_slice(label);
                    at += 1 + usize::from(len);
                }
                0xC0 => {
                    let low = *message.get(at + 1).ok_or(CodecError::Truncated {
                        what: "compression pointer",
                        offset: at,
                    })?;
                    let target = usize::from(u16::from_be_bytes([len & 0x3F, low]));
                    pointers += 1;
                    if target >= at || pointers > MAX_POINTERS {
                        return Err(CodecError::BadPointer { offset: at, target });
                    }
                    end.get_or_insert(at + 2);
                    at = target;
                }
                _ => {
                    return Err(CodecError::BadLabelType {
                        offset: at,
                        byte: len,
                    });
                }
            }
        }
    }

    /// Appends the uncompressed wire form.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.wire);
    }

    /// The uncompressed wire form.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// The labels, leftmost first (the root's empty label not included).
    pub fn labels(&self) -> Labels<'_> {
        Labels { rest: &self.wire }
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire == [0]
    }
}

/// Iterator over the labels of a [`Name`].
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        if len == 0 {
            self.rest = &[];
            return None;
        }
        let label = tail.get(..usize::from(len))?;
        self.rest = tail.get(usize::from(len)..).unwrap_or(&[]);
        Some(label)
    }
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

impl PartialEq for Name {
    /// Equal when the labels are equal ignoring ASCII case. Length octets are below 64, so
    /// they never fold onto letters: comparing the wire forms byte by byte is exact.
    fn eq(&self, other: &Name) -> bool {
        self.wire.eq_ignore_ascii_case(&other.wire)
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in &self.wire {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for Name {
    /// Presentation form without the final dot (`dev-1.ot.example`; the root is `.`): `.` and
    /// `\` inside a label are escaped with `\`, other octets outside printable ASCII as `\DDD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            // plain labels (the usual case) go out whole
            let plain = label
                .iter()
                .all(|b| matches!(b, 0x21..=0x7E) && *b != b'.' && *b != b'\\');
            if plain {
                f.write_str(std::str::from_utf8(label).map_err(|_| fmt::Error)?)?;
                continue;
            }
            for &b in label {
                match b {
                    b'.' | b'\\' => write!(f, "\\{}", char::from(b))?,
                    0x21..=0x7E => write!(f, "{}", char::from(b))?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reverse_names_of_both_families() {
        let v4 = Name::reverse("10.20.1.2".parse().unwrap());
        assert_eq!(v4.to_string(), "2.1.20.10.in-addr.arpa");
        let v6 = Name::reverse("2001:db8::567:89ab".parse().unwrap());
        assert_eq!(
            v6.to_string(),
            "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
        let mapped = Name::reverse("::ffff:10.20.1.2".parse().unwrap());
        assert_eq!(mapped, v4);
    }

    #[test]
    fn names_compare_without_case() {
        let a = Name::from_dotted("Dev-1.OT.example.").unwrap();
        let b = Name::from_dotted("dev-1.ot.EXAMPLE").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Dev-1.OT.example");
        assert_ne!(a, Name::from_dotted("dev-2.ot.example").unwrap());
    }

    #[test]
    fn compression_pointers_are_followed_backwards_only() {
        // offset 0: "ot.example" ; offset 12: "dev" + pointer to 0
        let mut msg = vec![
            2, b'o', b't', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0,
        ];
        msg.extend_from_slice(&[3, b'd', b'e', b'v', 0xC0, 0]);
        let (name, end) = Name::parse(&msg, 12).unwrap();
        assert_eq!(name.to_string(), "dev.ot.example");
        assert_eq!(end, 18);
        // a pointer to itself
        assert!(matches!(
            Name::parse(&[0xC0, 0], 0),
            Err(CodecError::BadPointer { .. })
        ));
        // a forward pointer (would allow loops)
        assert!(matches!(
            Name::parse(&[0xC0, 2, 0], 0),
            Err(CodecError::BadPointer { .. })
        ));
        // two pointers pointing at each other: the second one is not backwards
        let looping = [0, 0, 0xC0, 4, 0xC0, 2];
        assert!(Name::parse(&looping, 4).is_err());
        assert!(Name::parse(&looping, 2).is_err());
        // reserved label types
        assert!(matches!(
            Name::parse(&[0x40, 0], 0),
            Err(CodecError::BadLabelType { .. })
        ));
        // past the end
        assert!(matches!(
            Name::parse(&[5, b'a'], 0),
            Err(CodecError::Truncated { .. })
        ));
        assert!(matches!(
            Name::parse(&[0xC0], 0),
            Err(CodecError::Truncated { .. })
        ));
    }

    #[test]
    fn overlong_names_are_refused() {
        let mut msg = Vec::new();
        for _ in 0..5 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert!(matches!(
            Name::parse(&msg, 0),
            Err(CodecError::NameTooLong { .. })
        ));
        assert!(Name::from_labels([[b'a'; 64]]).is_none());
        assert!(Name::from_labels(std::iter::repeat_n("abcdefgh", 40)).is_none());
    }

    #[test]
    fn odd_octets_are_escaped() {
        let name = Name::from_labels([&b"a.b"[..], b"c\\d", b"e f", b"64/26"]).unwrap();
        assert_eq!(name.to_string(), r"a\.b.c\\d.e\032f.64/26");
        assert_eq!(Name::root().to_string(), ".");
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_stays_bounded(
            msg in proptest::collection::vec(any::<u8>(), 0..600), offset in 0usize..600,
        ) {
            if let Ok((name, end)) = Name::parse(&msg, offset) {
                prop_assert!(name.wire().len() <= MAX_NAME_LEN);
                prop_assert!(end <= msg.len());
                prop_assert!(end > offset);
            }
        }

        #[test]
        fn emitted_names_parse_back(labels in proptest::collection::vec("[a-zA-Z0-9/-]{1,20}", 0..8)) {
            let name = Name::from_labels(&labels).unwrap();
            let mut out = vec![0xFF];
            name.emit(&mut out);
            let (back, end) = Name::parse(&out, 1).unwrap();
            prop_assert_eq!(&back, &name);
            prop_assert_eq!(end, out.len());
            prop_assert_eq!(back.labels().count(), labels.len());
        }

        #[test]
        fn every_address_has_a_valid_reverse_name(v4 in any::<u32>(), v6 in any::<u128>()) {
            let a = Name::reverse(IpAddr::from(v4.to_be_bytes()));
            prop_assert_eq!(a.labels().count(), 6);
            let b = Name::reverse(IpAddr::from(v6.to_be_bytes()));
            prop_assert!(b.wire().len() <= MAX_NAME_LEN);
            let (back, _) = Name::parse(b.wire(), 0).unwrap();
            prop_assert_eq!(back, b);
        }
    }
}
