//! BACnet tagged encoding (ASHRAE 135 clause 20.2): tags, primitive values, object identifiers.
//!
//! A [`Reader`] walks tagged data without copying; every length from the wire is checked against
//! the bytes present before it is used, and nesting is bounded, so no input makes it panic.

use super::CodecError;
use std::fmt;

/// Deepest nesting of constructed values (opening/closing tags) the reader follows.
pub const MAX_NESTING: usize = 16;

/// Application tag numbers (clause 20.2.1.4).
pub mod app {
    /// Null.
    pub const NULL: u8 = 0;
    /// Boolean (the value is in the tag's length field).
    pub const BOOLEAN: u8 = 1;
    /// Unsigned integer.
    pub const UNSIGNED: u8 = 2;
    /// Signed integer.
    pub const SIGNED: u8 = 3;
    /// IEEE-754 single precision.
    pub const REAL: u8 = 4;
    /// IEEE-754 double precision.
    pub const DOUBLE: u8 = 5;
    /// Octet string.
    pub const OCTET_STRING: u8 = 6;
    /// Character string (first octet: the character set).
    pub const CHARACTER_STRING: u8 = 7;
    /// Bit string (first octet: unused bits in the last octet).
    pub const BIT_STRING: u8 = 8;
    /// Enumerated.
    pub const ENUMERATED: u8 = 9;
    /// Date.
    pub const DATE: u8 = 10;
    /// Time.
    pub const TIME: u8 = 11;
    /// BACnetObjectIdentifier.
    pub const OBJECT_IDENTIFIER: u8 = 12;
}

/// What follows a tag's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// Content of this many octets (0 for an application Boolean, whose value is in [`Tag::lvt`]).
    Content(usize),
    /// An opening tag (context class, LVT 6).
    Opening,
    /// A closing tag (context class, LVT 7).
    Closing,
}

/// One decoded tag header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The tag number (application type, or context number).
    pub number: u8,
    /// Context-specific class (true) or application class (false).
    pub context: bool,
    /// The raw length/value/type field (the value of an application Boolean).
    pub lvt: u8,
    /// What follows.
    pub kind: TagKind,
}

impl Tag {
    /// A short description for error messages, e.g. "context tag 1 (opening)".
    pub fn describe(&self) -> String {
        let class = if self.context {
            "context"
        } else {
            "application"
        };
        let kind = match self.kind {
            TagKind::Content(n) => format!("{n} octets"),
            TagKind::Opening => "opening".into(),
            TagKind::Closing => "closing".into(),
        };
        format!("{class} tag {} ({kind})", self.number)
    }
}

/// A BACnetObjectIdentifier: a 10-bit object type and a 22-bit instance number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// The object type (8 = device).
    pub object_type: u16,
    /// The instance number (0 to 4194303).
    pub instance: u32,
}

impl ObjectId {
    /// Object type of the Device object.
    pub const DEVICE_TYPE: u16 = 8;
    /// Largest instance number; as a Device instance it is the wildcard "this device".
    pub const MAX_INSTANCE: u32 = 0x3F_FFFF;
    /// The wildcard Device object (instance 4194303), which a device takes as its own.
    pub const WILDCARD_DEVICE: ObjectId = ObjectId {
        object_type: Self::DEVICE_TYPE,
        instance: Self::MAX_INSTANCE,
    };

    /// The Device object with this instance (truncated to 22 bits).
    pub fn device(instance: u32) -> ObjectId {
        ObjectId {
            object_type: Self::DEVICE_TYPE,
            instance: instance & Self::MAX_INSTANCE,
        }
    }

    /// Decodes the four-octet form.
    pub fn from_u32(raw: u32) -> ObjectId {
        ObjectId {
            object_type: (raw >> 22) as u16,
            instance: raw & Self::MAX_INSTANCE,
        }
    }

    /// The four-octet form (type truncated to 10 bits, instance to 22).
    pub fn to_u32(self) -> u32 {
        (u32::from(self.object_type & 0x3FF) << 22) | (self.instance & Self::MAX_INSTANCE)
    }

    /// Whether it is a Device object.
    pub fn is_device(self) -> bool {
        self.object_type == Self::DEVICE_TYPE
    }
}

impl fmt::Display for ObjectId {
    /// `device,1001`, `analog-value,1`, or `object-type-N,I` for types without a name here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.object_type {
            0 => "analog-input",
            1 => "analog-output",
            2 => "analog-value",
            3 => "binary-input",
            4 => "binary-output",
            5 => "binary-value",
            8 => "device",
            13 => "multi-state-input",
            14 => "multi-state-output",
            19 => "multi-state-value",
            56 => "network-port",
            n => return write!(f, "object-type-{n},{}", self.instance),
        };
        write!(f, "{name},{}", self.instance)
    }
}

/// A decoded property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null.
    Null,
    /// Boolean.
    Boolean(bool),
    /// Unsigned integer (up to 8 octets).
    Unsigned(u64),
    /// Signed integer (up to 8 octets).
    Signed(i64),
    /// Single precision real.
    Real(f32),
    /// Double precision real.
    Double(f64),
    /// Octet string.
    OctetString(Vec<u8>),
    /// Character string, decoded to Unicode (see [`decode_character_string`]).
    CharacterString(String),
    /// Bit string: unused bits in the last octet, and the octets.
    BitString {
        /// Unused bits in the last octet (0 to 7).
        unused_bits: u8,
        /// The bits, first bit in the high bit of the first octet.
        bytes: Vec<u8>,
    },
    /// Enumerated.
    Enumerated(u64),
    /// Date: year-1900, month, day, weekday (255 = any).
    Date([u8; 4]),
    /// Time: hour, minute, second, hundredths (255 = any).
    Time([u8; 4]),
    /// Object identifier.
    ObjectId(ObjectId),
    /// Application tags 13 to 15 (reserved by the standard), kept as raw octets.
    Reserved {
        /// The tag number.
        number: u8,
        /// The content.
        data: Vec<u8>,
    },
    /// A context-tagged primitive inside a constructed value, kept as raw octets.
    Context {
        /// The context tag number.
        number: u8,
        /// The content.
        data: Vec<u8>,
    },
    /// A constructed value between an opening and a closing context tag.
    Constructed {
        /// The context tag number.
        number: u8,
        /// What was inside.
        values: Vec<Value>,
    },
}

impl Value {
    /// The text of a character string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::CharacterString(s) => Some(s),
            _ => None,
        }
    }

    /// The number of an unsigned or enumerated value.
    pub fn as_unsigned(&self) -> Option<u64> {
        match self {
            Value::Unsigned(n) | Value::Enumerated(n) => Some(*n),
            _ => None,
        }
    }

    /// Appends the value's tagged encoding (application tags; context tags for the last three).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.push(app::NULL << 4),
            Value::Boolean(b) => out.push((app::BOOLEAN << 4) | u8::from(*b)),
            Value::Unsigned(n) => encode_app(out, app::UNSIGNED, &unsigned_octets(*n)),
            Value::Signed(n) => encode_app(out, app::SIGNED, &signed_octets(*n)),
            Value::Real(r) => encode_app(out, app::REAL, &r.to_be_bytes()),
            Value::Double(d) => encode_app(out, app::DOUBLE, &d.to_be_bytes()),
            Value::OctetString(b) => encode_app(out, app::OCTET_STRING, b),
            Value::CharacterString(s) => {
                let mut content = Vec::with_capacity(s.len() + 1);
                content.push(charset::UTF8);
                content.extend_from_slice(s.as_bytes());
                encode_app(out, app::CHARACTER_STRING, &content);
            }
            Value::BitString { unused_bits, bytes } => {
                let mut content = Vec::with_capacity(bytes.len() + 1);
                content.push(*unused_bits);
                content.extend_from_slice(bytes);
                encode_app(out, app::BIT_STRING, &content);
            }
            Value::Enumerated(n) => encode_app(out, app::ENUMERATED, &unsigned_octets(*n)),
            Value::Date(d) => encode_app(out, app::DATE, d),
            Value::Time(t) => encode_app(out, app::TIME, t),
            Value::ObjectId(o) => {
                encode_app(out, app::OBJECT_IDENTIFIER, &o.to_u32().to_be_bytes())
            }
            Value::Reserved { number, data } => encode_app(out, *number, data),
            Value::Context { number, data } => {
                encode_header(out, *number, true, data.len());
                out.extend_from_slice(data);
            }
            Value::Constructed { number, values } => {
                encode_opening(out, *number);
                for v in values {
                    v.encode(out);
                }
                encode_closing(out, *number);
            }
        }
    }
}

/// Character sets of a CharacterString (clause 20.2.9).
pub mod charset {
    /// ISO 10646 UTF-8 (formerly ANSI X3.4).
    pub const UTF8: u8 = 0;
    /// IBM/Microsoft DBCS (two code page octets follow).
    pub const DBCS: u8 = 1;
    /// JIS X 0208.
    pub const JIS_X_0208: u8 = 2;
    /// ISO 10646 UCS-4, big-endian.
    pub const UCS4: u8 = 3;
    /// ISO 10646 UCS-2, big-endian.
    pub const UCS2: u8 = 4;
    /// ISO 8859-1.
    pub const ISO_8859_1: u8 = 5;
}

/// Decodes a CharacterString's content (charset octet first) to Unicode; invalid sequences become
/// U+FFFD, and trailing NULs some devices pad with are dropped. DBCS and JIS X 0208 are read as
/// UTF-8 (their ASCII range is the same).
pub fn decode_character_string(content: &[u8]) -> String {
    let Some((&set, text)) = content.split_first() else {
        return String::new();
    };
    let decoded: String = match set {
        charset::UCS2 => {
            let units = text
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        charset::UCS4 => text
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        charset::ISO_8859_1 => text.iter().map(|&b| char::from(b)).collect(),
        charset::DBCS => String::from_utf8_lossy(text.get(2..).unwrap_or_default()).into_owned(),
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    decoded.trim_end_matches('\0').to_string()
}

/// Reads tagged data from a slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self.rest().first().ok_or(CodecError::Truncated {
            what,
            need: 1,
            have: 0,
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        let rest = self.rest();
        let out = rest.get(..n).ok_or(CodecError::Truncated {
            what,
            need: n,
            have: rest.len(),
        })?;
        self.pos += n;
        Ok(out)
    }

    /// Reads the next tag header.
    pub fn read_tag(&mut self, what: &'static str) -> Result<Tag, CodecError> {
        let first = self.byte(what)?;
        let context = first & 0x08 != 0;
        let lvt = first & 0x07;
        let mut number = first >> 4;
        if number == 0x0F {
            number = self.byte(what)?;
            if number == 0xFF {
                return Err(CodecError::Malformed {
                    what,
                    detail: "extended tag number 255 is reserved".into(),
                });
            }
        }
        let kind = match (context, lvt) {
            (true, 6) => TagKind::Opening,
            (true, 7) => TagKind::Closing,
            (false, 6 | 7) => {
                return Err(CodecError::Malformed {
                    what,
                    detail: format!("application tag {number} with LVT {lvt}"),
                });
            }
            (false, _) if number == app::BOOLEAN => TagKind::Content(0),
            (_, 5) => TagKind::Content(self.extended_length(what)?),
            (_, n) => TagKind::Content(usize::from(n)),
        };
        Ok(Tag {
            number,
            context,
            lvt,
            kind,
        })
    }

    fn extended_length(&mut self, what: &'static str) -> Result<usize, CodecError> {
        let len = match self.byte(what)? {
            254 => {
                let b = self.bytes(2, what)?;
                usize::from(u16::from_be_bytes([b[0], b[1]]))
            }
            255 => {
                let b = self.bytes(4, what)?;
                usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(usize::MAX)
            }
            n => usize::from(n),
        };
        // checked here so a huge announced length never reaches an allocation
        let have = self.rest().len();
        if len > have {
            return Err(CodecError::Truncated {
                what,
                need: len,
                have,
            });
        }
        Ok(len)
    }

    /// The next tag header, without consuming it (`None` at the end).
    pub fn peek_tag(&self) -> Option<Tag> {
        if self.is_empty() {
            return None;
        }
        self.clone().read_tag("tag").ok()
    }

    /// Whether the next tag is the opening tag `number`.
    pub fn at_opening(&self, number: u8) -> bool {
        matches!(self.peek_tag(), Some(t) if t.context && t.number == number && t.kind == TagKind::Opening)
    }

    /// Whether the next tag is the closing tag `number`.
    pub fn at_closing(&self, number: u8) -> bool {
        matches!(self.peek_tag(), Some(t) if t.context && t.number == number && t.kind == TagKind::Closing)
    }

    /// Whether the next tag is the context primitive tag `number`.
    pub fn at_context(&self, number: u8) -> bool {
        matches!(self.peek_tag(), Some(t) if t.context && t.number == number && matches!(t.kind, TagKind::Content(_)))
    }

    fn unexpected(what: &'static str, want: String, got: &Tag) -> CodecError {
        CodecError::UnexpectedTag {
            what,
            expected: want,
            found: got.describe(),
        }
    }

    /// Reads the opening tag `number`.
    pub fn expect_opening(&mut self, number: u8, what: &'static str) -> Result<(), CodecError> {
        let tag = self.read_tag(what)?;
        if tag.context && tag.number == number && tag.kind == TagKind::Opening {
            return Ok(());
        }
        Err(Self::unexpected(
            what,
            format!("opening tag {number}"),
            &tag,
        ))
    }

    /// Reads the closing tag `number`.
    pub fn expect_closing(&mut self, number: u8, what: &'static str) -> Result<(), CodecError> {
        let tag = self.read_tag(what)?;
        if tag.context && tag.number == number && tag.kind == TagKind::Closing {
            return Ok(());
        }
        Err(Self::unexpected(
            what,
            format!("closing tag {number}"),
            &tag,
        ))
    }

    /// Reads a context-tagged primitive `number` and returns its content.
    pub fn read_context(&mut self, number: u8, what: &'static str) -> Result<&'a [u8], CodecError> {
        let tag = self.read_tag(what)?;
        match tag.kind {
            TagKind::Content(n) if tag.context && tag.number == number => self.bytes(n, what),
            _ => Err(Self::unexpected(
                what,
                format!("context tag {number}"),
                &tag,
            )),
        }
    }

    /// Reads a context-tagged unsigned (or enumerated) `number`.
    pub fn read_context_unsigned(
        &mut self,
        number: u8,
        what: &'static str,
    ) -> Result<u64, CodecError> {
        let content = self.read_context(number, what)?;
        decode_unsigned(content, what)
    }

    /// Reads a context-tagged unsigned `number` if it is next.
    pub fn read_optional_context_unsigned(
        &mut self,
        number: u8,
        what: &'static str,
    ) -> Result<Option<u64>, CodecError> {
        if self.at_context(number) {
            return self.read_context_unsigned(number, what).map(Some);
        }
        Ok(None)
    }

    /// Reads a context-tagged object identifier `number`.
    pub fn read_context_object_id(
        &mut self,
        number: u8,
        what: &'static str,
    ) -> Result<ObjectId, CodecError> {
        let content = self.read_context(number, what)?;
        decode_object_id(content, what)
    }

    /// Reads one application-tagged value, or a constructed/context one inside constructed data.
    pub fn read_value(&mut self, what: &'static str) -> Result<Value, CodecError> {
        self.read_value_at(what, 0)
    }

    fn read_value_at(&mut self, what: &'static str, depth: usize) -> Result<Value, CodecError> {
        let tag = self.read_tag(what)?;
        match tag.kind {
            TagKind::Opening => {
                if depth >= MAX_NESTING {
                    return Err(CodecError::Malformed {
                        what,
                        detail: format!("constructed values nested deeper than {MAX_NESTING}"),
                    });
                }
                let values = self.read_values_at(tag.number, what, depth + 1)?;
                Ok(Value::Constructed {
                    number: tag.number,
                    values,
                })
            }
            TagKind::Closing => Err(Self::unexpected(what, "a value".into(), &tag)),
            TagKind::Content(n) => {
                let content = self.bytes(n, what)?;
                if tag.context {
                    return Ok(Value::Context {
                        number: tag.number,
                        data: content.to_vec(),
                    });
                }
                decode_application(tag, content, what)
            }
        }
    }

    /// Reads values up to and including the closing tag `number`.
    pub fn read_values_until_closing(
        &mut self,
        number: u8,
        what: &'static str,
    ) -> Result<Vec<Value>, CodecError> {
        self.read_values_at(number, what, 0)
    }

    fn read_values_at(
        &mut self,
        number: u8,
        what: &'static str,
        depth: usize,
    ) -> Result<Vec<Value>, CodecError> {
        let mut values = Vec::new();
        loop {
            if self.is_empty() {
                return Err(CodecError::Truncated {
                    what,
                    need: 1,
                    have: 0,
                });
            }
            if self.at_closing(number) {
                self.read_tag(what)?;
                return Ok(values);
            }
            values.push(self.read_value_at(what, depth)?);
        }
    }

    /// Reads one application-tagged enumerated value.
    pub fn read_app_enumerated(&mut self, what: &'static str) -> Result<u64, CodecError> {
        match self.read_value(what)? {
            Value::Enumerated(n) => Ok(n),
            other => Err(CodecError::Malformed {
                what,
                detail: format!("expected an enumerated value, found {other:?}"),
            }),
        }
    }

    /// Reads one application-tagged unsigned value.
    pub fn read_app_unsigned(&mut self, what: &'static str) -> Result<u64, CodecError> {
        match self.read_value(what)? {
            Value::Unsigned(n) => Ok(n),
            other => Err(CodecError::Malformed {
                what,
                detail: format!("expected an unsigned value, found {other:?}"),
            }),
        }
    }
}

fn decode_application(tag: Tag, content: &[u8], what: &'static str) -> Result<Value, CodecError> {
    let fixed = |n: usize| -> Result<(), CodecError> {
        if content.len() == n {
            Ok(())
        } else {
            Err(CodecError::Malformed {
                what,
                detail: format!(
                    "application tag {} needs {n} octets, has {}",
                    tag.number,
                    content.len()
                ),
            })
        }
    };
    Ok(match tag.number {
        app::NULL => Value::Null,
        app::BOOLEAN => Value::Boolean(tag.lvt != 0),
        app::UNSIGNED => Value::Unsigned(decode_unsigned(content, what)?),
        app::SIGNED => Value::Signed(decode_signed(content, what)?),
        app::REAL => {
            fixed(4)?;
            Value::Real(f32::from_be_bytes([
                content[0], content[1], content[2], content[3],
            ]))
        }
        app::DOUBLE => {
            fixed(8)?;
            let mut b = [0u8; 8];
            b.copy_from_slice(content);
            Value::Double(f64::from_be_bytes(b))
        }
        app::OCTET_STRING => Value::OctetString(content.to_vec()),
        app::CHARACTER_STRING => Value::CharacterString(decode_character_string(content)),
        app::BIT_STRING => match content.split_first() {
            Some((&unused_bits, bytes)) if unused_bits <= 7 => Value::BitString {
                unused_bits,
                bytes: bytes.to_vec(),
            },
            _ => {
                return Err(CodecError::Malformed {
                    what,
                    detail: "bit string without a valid unused-bits octet".into(),
                });
            }
        },
        app::ENUMERATED => Value::Enumerated(decode_unsigned(content, what)?),
        app::DATE | app::TIME => {
            fixed(4)?;
            let b = [content[0], content[1], content[2], content[3]];
            if tag.number == app::DATE {
                Value::Date(b)
            } else {
                Value::Time(b)
            }
        }
        app::OBJECT_IDENTIFIER => Value::ObjectId(decode_object_id(content, what)?),
        number => Value::Reserved {
            number,
            data: content.to_vec(),
        },
    })
}

/// Decodes an unsigned integer of 1 to 8 octets.
pub fn decode_unsigned(content: &[u8], what: &'static str) -> Result<u64, CodecError> {
    if content.is_empty() || content.len() > 8 {
        return Err(CodecError::Malformed {
            what,
            detail: format!("an unsigned integer of {} octets", content.len()),
        });
    }
    Ok(content
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn decode_signed(content: &[u8], what: &'static str) -> Result<i64, CodecError> {
    if content.is_empty() || content.len() > 8 {
        return Err(CodecError::Malformed {
            what,
            detail: format!("a signed integer of {} octets", content.len()),
        });
    }
    let negative = content[0] & 0x80 != 0;
    let start: i64 = if negative { -1 } else { 0 };
    Ok(content
        .iter()
        .fold(start, |acc, &b| (acc << 8) | i64::from(b)))
}

fn decode_object_id(content: &[u8], what: &'static str) -> Result<ObjectId, CodecError> {
    match content {
        [a, b, c, d] => Ok(ObjectId::from_u32(u32::from_be_bytes([*a, *b, *c, *d]))),
        _ => Err(CodecError::Malformed {
            what,
            detail: format!(
                "an object identifier of {} octets (4 expected)",
                content.len()
            ),
        }),
    }
}

/// The shortest big-endian octets of an unsigned value (at least one).
pub fn unsigned_octets(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    bytes[skip..].to_vec()
}

fn signed_octets(n: i64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let mut start = 0;
    // drop leading octets that only repeat the sign of the next one
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// Appends a tag header for `len` octets of content.
pub fn encode_header(out: &mut Vec<u8>, number: u8, context: bool, len: usize) {
    let class = if context { 0x08 } else { 0x00 };
    let lvt = if len <= 4 { len as u8 } else { 5 };
    if number <= 14 {
        out.push((number << 4) | class | lvt);
    } else {
        out.push(0xF0 | class | lvt);
        out.push(number);
    }
    if len > 4 {
        if len < 254 {
            out.push(len as u8);
        } else if let Ok(short) = u16::try_from(len) {
            out.push(254);
            out.extend_from_slice(&short.to_be_bytes());
        } else {
            out.push(255);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

fn encode_app(out: &mut Vec<u8>, number: u8, content: &[u8]) {
    encode_header(out, number, false, content.len());
    out.extend_from_slice(content);
}

/// Appends a context-tagged unsigned (or enumerated) value.
pub fn encode_context_unsigned(out: &mut Vec<u8>, number: u8, value: u64) {
    let content = unsigned_octets(value);
    encode_header(out, number, true, content.len());
    out.extend_from_slice(&content);
}

/// Appends a context-tagged object identifier.
pub fn encode_context_object_id(out: &mut Vec<u8>, number: u8, id: ObjectId) {
    encode_header(out, number, true, 4);
    out.extend_from_slice(&id.to_u32().to_be_bytes());
}

/// Appends the opening tag `number`.
pub fn encode_opening(out: &mut Vec<u8>, number: u8) {
    if number <= 14 {
        out.push((number << 4) | 0x0E);
    } else {
        out.extend_from_slice(&[0xFE, number]);
    }
}

/// Appends the closing tag `number`.
pub fn encode_closing(out: &mut Vec<u8>, number: u8) {
    if number <= 14 {
        out.push((number << 4) | 0x0F);
    } else {
        out.extend_from_slice(&[0xFF, number]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings_decode() {
        // character string "AHU-1", UTF-8
        let bytes = [0x75, 0x06, 0x00, b'A', b'H', b'U', b'-', b'1'];
        let mut r = Reader::new(&bytes);
        assert_eq!(
            r.read_value("test").unwrap(),
            Value::CharacterString("AHU-1".into())
        );
        assert!(r.is_empty());
        // object identifier device,1001
        let mut r = Reader::new(&[0xC4, 0x02, 0x00, 0x03, 0xE9]);
        assert_eq!(
            r.read_value("test").unwrap(),
            Value::ObjectId(ObjectId::device(1001))
        );
        // boolean true, unsigned 1476, enumerated 3
        let mut r = Reader::new(&[0x11, 0x22, 0x05, 0xC4, 0x91, 0x03]);
        assert_eq!(r.read_value("t").unwrap(), Value::Boolean(true));
        assert_eq!(r.read_value("t").unwrap(), Value::Unsigned(1476));
        assert_eq!(r.read_value("t").unwrap(), Value::Enumerated(3));
    }

    #[test]
    fn character_sets_decode() {
        assert_eq!(decode_character_string(&[4, 0, b'h', 0, b'i']), "hi");
        assert_eq!(decode_character_string(&[3, 0, 0, 0, b'A']), "A");
        assert_eq!(decode_character_string(&[5, 0xE9]), "é");
        assert_eq!(decode_character_string(&[0, b'x', 0, 0]), "x");
        assert_eq!(decode_character_string(&[]), "");
    }

    #[test]
    fn object_ids_show_their_type() {
        assert_eq!(ObjectId::device(1001).to_string(), "device,1001");
        assert_eq!(ObjectId::WILDCARD_DEVICE.to_u32(), 0x023F_FFFF);
        assert_eq!(
            ObjectId::from_u32(0x1C00_0001).to_string(),
            "object-type-112,1"
        );
    }

    #[test]
    fn an_announced_length_beyond_the_data_is_refused_before_use() {
        // extended length 0xFFFFFFFF for an octet string
        let bytes = [0x65, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2];
        let err = Reader::new(&bytes).read_value("octets").unwrap_err();
        assert!(matches!(err, CodecError::Truncated { .. }), "{err}");
    }

    #[test]
    fn nesting_is_bounded() {
        let mut bytes = vec![0x0E; MAX_NESTING + 2];
        bytes.extend(vec![0x0F; MAX_NESTING + 2]);
        let err = Reader::new(&bytes).read_value("deep").unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<u64>().prop_map(Value::Unsigned),
            any::<i64>().prop_map(Value::Signed),
            any::<u32>().prop_map(|b| Value::Real(f32::from_bits(b & 0x7F7F_FFFF))),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::OctetString),
            "[a-zA-Z0-9 .,éü-]{0,40}".prop_map(Value::CharacterString),
            (0u8..8, proptest::collection::vec(any::<u8>(), 0..8))
                .prop_map(|(unused_bits, bytes)| Value::BitString { unused_bits, bytes }),
            any::<u64>().prop_map(Value::Enumerated),
            any::<[u8; 4]>().prop_map(Value::Date),
            any::<[u8; 4]>().prop_map(Value::Time),
            (0u16..1024, 0u32..=ObjectId::MAX_INSTANCE).prop_map(|(t, i)| Value::ObjectId(
                ObjectId {
                    object_type: t,
                    instance: i
                }
            )),
            (0u8..=254, proptest::collection::vec(any::<u8>(), 0..6))
                .prop_map(|(number, data)| Value::Context { number, data }),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            (0u8..=254, proptest::collection::vec(inner, 0..4))
                .prop_map(|(number, values)| Value::Constructed { number, values })
        })
    }

    proptest! {
        #[test]
        fn values_survive_encoding(v in any_value()) {
            let mut bytes = Vec::new();
            v.encode(&mut bytes);
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(r.read_value("roundtrip").unwrap(), v);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reading_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut r = Reader::new(&bytes);
            while !r.is_empty() {
                if r.read_value("fuzz").is_err() {
                    break;
                }
            }
            let _ = Reader::new(&bytes).read_values_until_closing(3, "fuzz");
        }
    }
}
