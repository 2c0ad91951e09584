//! MS-WMIO: decoding CIM classes and instances from their encoding units.
//!
//! An object is an ENCODING_UNIT (signature `0x12345678`, length, ObjectBlock). Its class part
//! (property names, types, value-table offsets, class defaults) is decoded once per distinct class
//! part and kept in a [`ClassCache`], since every row of a query repeats the same one. Values:
//! every CIM type, arrays, datetimes (as text, see [`parse_datetime`]), references, embedded
//! objects, NULLs and class defaults (the NdTable).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The ENCODING_UNIT signature.
pub const SIGNATURE: u32 = 0x1234_5678;
/// CimType flag: an array of the base type.
pub const CIM_ARRAY: u32 = 0x2000;
/// CimType flag: the property is inherited.
pub const CIM_INHERITED: u32 = 0x4000;
/// How deep embedded objects are decoded.
const MAX_DEPTH: usize = 4;
/// Distinct class parts kept by a cache.
const CACHE_CAPACITY: usize = 64;

/// The CIM types (MS-WMIO 2.2.6 CimType, without the array flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CimType {
    /// sint16.
    Sint16,
    /// sint32.
    Sint32,
    /// real32.
    Real32,
    /// real64.
    Real64,
    /// string.
    String,
    /// boolean.
    Boolean,
    /// object (embedded).
    Object,
    /// sint8.
    Sint8,
    /// uint8.
    Uint8,
    /// uint16.
    Uint16,
    /// uint32.
    Uint32,
    /// sint64.
    Sint64,
    /// uint64.
    Uint64,
    /// datetime.
    DateTime,
    /// reference (an object path).
    Reference,
    /// char16.
    Char16,
}

impl CimType {
    /// The type of a CimType code (flags ignored).
    pub fn from_code(code: u32) -> Option<CimType> {
        Some(match code & !(CIM_ARRAY | CIM_INHERITED) {
            2 => CimType::Sint16,
            3 => CimType::Sint32,
            4 => CimType::Real32,
            5 => CimType::Real64,
            8 => CimType::String,
            11 => CimType::Boolean,
            13 => CimType::Object,
            16 => CimType::Sint8,
            17 => CimType::Uint8,
            18 => CimType::Uint16,
            19 => CimType::Uint32,
            20 => CimType::Sint64,
            21 => CimType::Uint64,
            101 => CimType::DateTime,
            102 => CimType::Reference,
            103 => CimType::Char16,
            _ => return None,
        })
    }

    /// Bytes of an inline value of this type.
    fn inline_size(self) -> usize {
        match self {
            CimType::Sint8 | CimType::Uint8 => 1,
            CimType::Sint16 | CimType::Uint16 | CimType::Char16 | CimType::Boolean => 2,
            CimType::Sint32 | CimType::Uint32 | CimType::Real32 => 4,
            CimType::Sint64 | CimType::Uint64 | CimType::Real64 => 8,
            CimType::String | CimType::DateTime | CimType::Reference | CimType::Object => 4,
        }
    }

    fn on_heap(self) -> bool {
        matches!(
            self,
            CimType::String | CimType::DateTime | CimType::Reference | CimType::Object
        )
    }
}

/// A property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL: no value.
    Null,
    /// boolean.
    Bool(bool),
    /// sint8, sint16, sint32, sint64.
    Int(i64),
    /// uint8, uint16, uint32, uint64.
    UInt(u64),
    /// real32, real64.
    Real(f64),
    /// char16.
    Char(char),
    /// string.
    String(String),
    /// datetime, as CIM writes it (`yyyymmddHHMMSS.mmmmmmsUUU` or an interval).
    DateTime(String),
    /// reference: an object path.
    Reference(String),
    /// An embedded object.
    Object(Box<Object>),
    /// An array.
    Array(Vec<Value>),
}

impl Value {
    /// The text of a string, datetime or reference.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::DateTime(s) | Value::Reference(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an unsigned number, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UInt(v) => Some(*v),
            Value::Int(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// The value of a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The texts of a string array (or of a single string).
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        }
    }

    /// Whether it is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Real(v) => write!(f, "{v}"),
            Value::Char(c) => write!(f, "{c}"),
            Value::String(s) | Value::DateTime(s) | Value::Reference(s) => f.write_str(s),
            Value::Object(o) => write!(f, "instance of {}", o.class_name),
            Value::Array(items) => {
                f.write_str("{")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Why an object could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad MS-WMIO object at offset {at}: {detail}")]
pub struct WmioError {
    /// Offset in the encoding unit's object block (or heap, for heap values).
    pub at: usize,
    /// What is wrong.
    pub detail: String,
}

fn err(at: usize, detail: impl Into<String>) -> WmioError {
    WmioError {
        at,
        detail: detail.into(),
    }
}

/// Whether the object is a class or an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A CIM class (its properties hold the class defaults).
    Class,
    /// A CIM instance.
    Instance,
}

/// A decoded object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Class or instance.
    pub kind: ObjectKind,
    /// The class name.
    pub class_name: String,
    /// The server named in the decoration, if any.
    pub server: Option<String>,
    /// The namespace named in the decoration, if any.
    pub namespace: Option<String>,
    /// Properties in declaration order: (name, CimType code, value).
    pub properties: Vec<(String, u32, Value)>,
}

impl Object {
    /// A property's value (names compare without case, as WMI does).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.properties
            .iter()
            .find(|(n, ..)| n.eq_ignore_ascii_case(name))
            .map(|(_, _, v)| v)
    }

    /// A property's text, when it is a non-empty string, datetime or reference.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// One property of a class part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyInfo {
    /// Its name.
    pub name: String,
    /// CimType code (with array and inherited flags).
    pub cim_type: u32,
    /// DeclarationOrder: its index in the NdTable.
    pub order: u16,
    /// ValueTableOffset.
    pub value_offset: u32,
}

/// A decoded class part: what every instance of the class shares.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassPart {
    /// The class name.
    pub class_name: String,
    /// Properties in declaration order.
    pub properties: Vec<PropertyInfo>,
    /// Length of the NdTable.
    nd_len: usize,
    /// Length of the value table.
    values_len: usize,
    /// The class defaults.
    defaults: Vec<Value>,
}

/// Class parts already decoded, by their bytes.
#[derive(Debug, Default, Clone)]
pub struct ClassCache {
    parts: HashMap<Vec<u8>, Arc<ClassPart>>,
    hits: usize,
}

impl ClassCache {
    /// An empty cache.
    pub fn new() -> ClassCache {
        ClassCache::default()
    }

    /// How many decodes were saved.
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// Distinct class parts held.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    fn class_part(
        &mut self,
        bytes: &[u8],
        base: usize,
        depth: usize,
    ) -> Result<Arc<ClassPart>, WmioError> {
        if let Some(part) = self.parts.get(bytes) {
            self.hits += 1;
            return Ok(part.clone());
        }
        let part = Arc::new(parse_class_part(bytes, base, depth, self)?);
        if self.parts.len() >= CACHE_CAPACITY {
            self.parts.clear();
        }
        self.parts.insert(bytes.to_vec(), part.clone());
        Ok(part)
    }
}

/// A bounds-checked little-endian cursor; offsets in errors are absolute (`base` + position).
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8], base: usize) -> Cursor<'a> {
        Cursor { data, pos: 0, base }
    }

    fn at(&self) -> usize {
        self.base + self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], WmioError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.data.len())
            .ok_or_else(|| err(self.at(), format!("{what}: {n} bytes past the end")))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &str) -> Result<u8, WmioError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, WmioError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, WmioError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A block that starts with its own u32 length (length included).
    fn sized_block(&mut self, what: &str) -> Result<&'a [u8], WmioError> {
        let at = self.at();
        let len = self.u32(what)? as usize;
        if len < 4 {
            return Err(err(
                at,
                format!("{what} length {len} is shorter than its length field"),
            ));
        }
        self.take(len - 4, what)
    }

    /// A heap: u32 length with the top bit set, then the bytes.
    fn heap(&mut self, what: &str) -> Result<(&'a [u8], usize), WmioError> {
        let len = (self.u32(what)? & 0x7fff_ffff) as usize;
        let at = self.at();
        Ok((self.take(len, what)?, at))
    }
}

/// Reads an encoded string (flag 0: one byte per character, 1: UTF-16LE), NUL-terminated.
fn encoded_string(data: &[u8], at: usize, base: usize) -> Result<(String, usize), WmioError> {
    let flag = *data
        .get(at)
        .ok_or_else(|| err(base + at, "string reference past the heap"))?;
    let body = &data[at + 1..];
    match flag {
        0 => {
            let end = body
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| err(base + at, "unterminated string"))?;
            Ok((
                body[..end].iter().map(|b| *b as char).collect(),
                1 + end + 1,
            ))
        }
        1 => {
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|u| *u != 0)
                .collect();
            if 2 * units.len() + 2 > body.len() {
                return Err(err(base + at, "unterminated UTF-16 string"));
            }
            Ok((String::from_utf16_lossy(&units), 1 + 2 * units.len() + 2))
        }
        f => Err(err(base + at, format!("string flag {f}"))),
    }
}

/// The well-known strings a HeapRef with its top bit set names (MS-WMIO 2.2.80).
fn dictionary(index: u32) -> Option<&'static str> {
    const WORDS: [&str; 11] = [
        "'", "key", "", "read", "write", "volatile", "provider", "dynamic", "cimwin32", "DWORD",
        "CIMTYPE",
    ];
    WORDS.get(index as usize).copied()
}

/// A string the heap holds at `href` (or a dictionary word).
fn heap_string(heap: &[u8], href: u32, base: usize) -> Result<String, WmioError> {
    if href & 0x8000_0000 != 0 {
        return dictionary(href & 0x7fff_ffff)
            .map(str::to_string)
            .ok_or_else(|| {
                err(
                    base,
                    format!("unknown dictionary word {}", href & 0x7fff_ffff),
                )
            });
    }
    Ok(encoded_string(heap, href as usize, base)?.0)
}

fn parse_class_part(
    bytes: &[u8],
    base: usize,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<ClassPart, WmioError> {
    let mut c = Cursor::new(bytes, base);
    let _len = c.u32("ClassHeader.EncodingLength")?;
    let _reserved = c.u8("ClassHeader.ReservedOctet")?;
    let name_ref = c.u32("ClassHeader.ClassNameRef")?;
    let nd_values_len = c.u32("ClassHeader.NdTableValueTableLength")? as usize;
    let _derivation = c.sized_block("DerivationList")?;
    let _qualifiers = c.sized_block("ClassQualifierSet")?;
    let at = c.at();
    let count = c.u32("PropertyCount")? as usize;
    if count.saturating_mul(8) > bytes.len() {
        return Err(err(
            at,
            format!("{count} properties in {} bytes", bytes.len()),
        ));
    }
    let mut lookups = Vec::with_capacity(count);
    for _ in 0..count {
        lookups.push((c.u32("PropertyNameRef")?, c.u32("PropertyInfoRef")?));
    }
    let nd_len = count.div_ceil(4);
    let values_at = c.at();
    let nd_values = c.take(nd_values_len, "NdTable and value table")?;
    if nd_values_len < nd_len {
        return Err(err(values_at, "value table shorter than its NdTable"));
    }
    let (heap, heap_base) = c.heap("ClassHeap")?;
    let class_name = if name_ref == 0xffff_ffff {
        String::new()
    } else {
        heap_string(heap, name_ref, heap_base)?
    };
    let mut properties = Vec::with_capacity(count);
    for (name_ref, info_ref) in lookups {
        let name = heap_string(heap, name_ref, heap_base)?;
        let mut info = Cursor::new(
            heap.get(info_ref as usize..)
                .ok_or_else(|| err(heap_base, "PropertyInfoRef past the heap"))?,
            heap_base + info_ref as usize,
        );
        let cim_type = info.u32("PropertyType")?;
        let order = info.u16("DeclarationOrder")?;
        let value_offset = info.u32("ValueTableOffset")?;
        if (order as usize) >= count {
            return Err(err(
                info.at(),
                format!("declaration order {order} of {count}"),
            ));
        }
        properties.push(PropertyInfo {
            name,
            cim_type,
            order,
            value_offset,
        });
    }
    properties.sort_by_key(|p| p.order);
    let (nd, values) = nd_values.split_at(nd_len);
    let mut defaults = Vec::with_capacity(count);
    for p in &properties {
        let bits = nd_bits(nd, p.order);
        defaults.push(if bits & 1 != 0 {
            Value::Null
        } else {
            read_value(p, values, heap, heap_base, depth, cache)?
        });
    }
    Ok(ClassPart {
        class_name,
        properties,
        nd_len,
        values_len: nd_values_len - nd_len,
        defaults,
    })
}

fn nd_bits(nd: &[u8], order: u16) -> u8 {
    let i = order as usize;
    nd.get(i / 4).map(|b| (b >> (2 * (i % 4))) & 3).unwrap_or(1)
}

/// Reads a property's value from a value table and its heap.
fn read_value(
    p: &PropertyInfo,
    values: &[u8],
    heap: &[u8],
    heap_base: usize,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Value, WmioError> {
    let ty = CimType::from_code(p.cim_type).ok_or_else(|| {
        err(
            heap_base,
            format!("{}: unknown CIM type {:#x}", p.name, p.cim_type),
        )
    })?;
    let is_array = p.cim_type & CIM_ARRAY != 0;
    let size = if is_array { 4 } else { ty.inline_size() };
    let at = p.value_offset as usize;
    let slot = values.get(at..at.saturating_add(size)).ok_or_else(|| {
        err(
            heap_base,
            format!("{}: value offset {at} past the value table", p.name),
        )
    })?;
    if is_array {
        let href = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
        return read_array(ty, heap, href as usize, heap_base, depth, cache);
    }
    if ty.on_heap() {
        let href = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
        return heap_value(ty, heap, href, heap_base, depth, cache);
    }
    Ok(inline_value(ty, slot))
}

fn inline_value(ty: CimType, b: &[u8]) -> Value {
    let le = |n: usize| -> u64 {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&b[..n]);
        u64::from_le_bytes(a)
    };
    match ty {
        CimType::Sint8 => Value::Int(b[0] as i8 as i64),
        CimType::Uint8 => Value::UInt(b[0] as u64),
        CimType::Sint16 => Value::Int(le(2) as u16 as i16 as i64),
        CimType::Uint16 => Value::UInt(le(2)),
        CimType::Sint32 => Value::Int(le(4) as u32 as i32 as i64),
        CimType::Uint32 => Value::UInt(le(4)),
        CimType::Sint64 => Value::Int(le(8) as i64),
        CimType::Uint64 => Value::UInt(le(8)),
        CimType::Real32 => Value::Real(f32::from_bits(le(4) as u32) as f64),
        CimType::Real64 => Value::Real(f64::from_bits(le(8))),
        CimType::Boolean => Value::Bool(le(2) != 0),
        CimType::Char16 => {
            Value::Char(char::from_u32(le(2) as u32).unwrap_or(char::REPLACEMENT_CHARACTER))
        }
        CimType::String | CimType::DateTime | CimType::Reference | CimType::Object => Value::Null,
    }
}

fn heap_value(
    ty: CimType,
    heap: &[u8],
    href: u32,
    heap_base: usize,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Value, WmioError> {
    match ty {
        CimType::String => Ok(Value::String(heap_string(heap, href, heap_base)?)),
        CimType::DateTime => Ok(Value::DateTime(heap_string(heap, href, heap_base)?)),
        CimType::Reference => Ok(Value::Reference(heap_string(heap, href, heap_base)?)),
        CimType::Object => {
            if depth >= MAX_DEPTH {
                return Err(err(heap_base, "objects nested too deep"));
            }
            let at = href as usize;
            let mut c = Cursor::new(
                heap.get(at..)
                    .ok_or_else(|| err(heap_base, "object past the heap"))?,
                heap_base + at,
            );
            let block = c.sized_block("embedded object")?;
            Ok(Value::Object(Box::new(decode_object_block(
                block,
                heap_base + at + 4,
                depth + 1,
                cache,
            )?)))
        }
        _ => Ok(Value::Null),
    }
}

fn read_array(
    ty: CimType,
    heap: &[u8],
    at: usize,
    heap_base: usize,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Value, WmioError> {
    let mut c = Cursor::new(
        heap.get(at..)
            .ok_or_else(|| err(heap_base, "array past the heap"))?,
        heap_base + at,
    );
    let count = c.u32("array count")? as usize;
    let item = ty.inline_size();
    if count.saturating_mul(item) > heap.len() {
        return Err(err(
            c.at(),
            format!("array of {count} items in a {}-byte heap", heap.len()),
        ));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let b = c.take(item, "array item")?;
        items.push(if ty.on_heap() {
            let href = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            heap_value(ty, heap, href, heap_base, depth, cache)?
        } else {
            inline_value(ty, b)
        });
    }
    Ok(Value::Array(items))
}

/// Decodes an ENCODING_UNIT, reusing class parts from `cache`.
pub fn decode(unit: &[u8], cache: &mut ClassCache) -> Result<Object, WmioError> {
    let mut c = Cursor::new(unit, 0);
    if c.u32("Signature")? != SIGNATURE {
        return Err(err(0, "no ENCODING_UNIT signature 0x12345678"));
    }
    let len = c.u32("ObjectEncodingLength")? as usize;
    let block = &unit[8..];
    let block = &block[..len.min(block.len())];
    decode_object_block(block, 8, 0, cache)
}

fn decode_object_block(
    block: &[u8],
    base: usize,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Object, WmioError> {
    let mut c = Cursor::new(block, base);
    let flags = c.u8("ObjectFlags")?;
    let (server, namespace) = if flags & 0x04 != 0 {
        let (s, n1) = encoded_string(block, c.pos, base)?;
        c.take(n1, "DecServerName")?;
        let (ns, n2) = encoded_string(block, c.pos, base)?;
        c.take(n2, "DecNamespaceName")?;
        (Some(s), Some(ns))
    } else {
        (None, None)
    };
    if flags & 0x01 != 0 {
        let mut object = decode_class_type(&mut c, depth, cache)?;
        object.server = server;
        object.namespace = namespace;
        return Ok(object);
    }
    if flags & 0x02 == 0 {
        return Err(err(
            base,
            format!("object flags {flags:#x}: neither class nor instance"),
        ));
    }
    let class_bytes = class_part_bytes(&mut c)?;
    let class = cache.class_part(class_bytes.0, class_bytes.1, depth)?;
    let mut object = decode_instance(&mut c, &class, depth, cache)?;
    object.server = server;
    object.namespace = namespace;
    Ok(object)
}

/// The bytes of the class part at the cursor (its first u32 is its whole length).
fn class_part_bytes<'a>(c: &mut Cursor<'a>) -> Result<(&'a [u8], usize), WmioError> {
    let at = c.at();
    let start = c.pos;
    let len = c.u32("ClassPart length")? as usize;
    if len < 4 {
        return Err(err(at, "class part shorter than its length"));
    }
    c.take(len - 4, "ClassPart")?;
    Ok((&c.data[start..start + len], at))
}

fn decode_class_type(
    c: &mut Cursor<'_>,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Object, WmioError> {
    // ParentClass, then CurrentClass: each a class part followed by its methods part
    let (parent, parent_at) = class_part_bytes(c)?;
    let _ = cache.class_part(parent, parent_at, depth)?;
    c.sized_block("parent MethodsPart")?;
    let (current, current_at) = class_part_bytes(c)?;
    let class = cache.class_part(current, current_at, depth)?;
    c.sized_block("MethodsPart")?;
    Ok(Object {
        kind: ObjectKind::Class,
        class_name: class.class_name.clone(),
        server: None,
        namespace: None,
        properties: class
            .properties
            .iter()
            .zip(&class.defaults)
            .map(|(p, v)| (p.name.clone(), p.cim_type, v.clone()))
            .collect(),
    })
}

fn decode_instance(
    c: &mut Cursor<'_>,
    class: &ClassPart,
    depth: usize,
    cache: &mut ClassCache,
) -> Result<Object, WmioError> {
    let _len = c.u32("Instance EncodingLength")?;
    let _flags = c.u8("InstanceFlags")?;
    let name_ref = c.u32("InstanceClassName")?;
    let nd = c.take(class.nd_len, "instance NdTable")?;
    let values = c.take(class.values_len, "instance value table")?;
    c.sized_block("InstanceQualifierSet")?;
    if c.u8("InstPropQualSetFlag")? == 2 {
        for _ in 0..class.properties.len() {
            c.sized_block("instance property qualifier set")?;
        }
    }
    let (heap, heap_base) = c.heap("InstanceHeap")?;
    let class_name =
        heap_string(heap, name_ref, heap_base).unwrap_or_else(|_| class.class_name.clone());
    let mut properties = Vec::with_capacity(class.properties.len());
    for (p, default) in class.properties.iter().zip(&class.defaults) {
        let bits = nd_bits(nd, p.order);
        let value = if bits & 1 != 0 {
            Value::Null
        } else if bits & 2 != 0 {
            default.clone()
        } else {
            read_value(p, values, heap, heap_base, depth, cache)?
        };
        properties.push((p.name.clone(), p.cim_type, value));
    }
    Ok(Object {
        kind: ObjectKind::Instance,
        class_name,
        server: None,
        namespace: None,
        properties,
    })
}

/// Parses a CIM datetime (`yyyymmddHHMMSS.mmmmmmsUUU`, UUU = minutes from UTC) into a timestamp.
/// Intervals and datetimes with unknown (`*`) fields give `None`.
pub fn parse_datetime(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if s.len() != 25 || !s.is_ascii() || s.as_bytes()[14] != b'.' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let sign = match s.as_bytes()[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let date = jiff::civil::Date::new(
        i16::try_from(num(0..4)?).ok()?,
        i8::try_from(num(4..6)?).ok()?,
        i8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let (h, m, sec, micro) = (num(8..10)?, num(10..12)?, num(12..14)?, num(15..21)?);
    let offset_minutes = sign * num(22..25)?;
    let civil = jiff::civil::DateTime::new(
        date.year(),
        date.month(),
        date.day(),
        i8::try_from(h).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(sec).ok()?,
        i32::try_from(micro * 1000).ok()?,
    )
    .ok()?;
    let offset = jiff::tz::Offset::from_seconds(i32::try_from(offset_minutes * 60).ok()?).ok()?;
    offset.to_timestamp(civil).ok()
}

#[cfg(test)]
pub(crate) mod tests {
    //! Objects built the way MS-WMIO lays them out (and the testbed's encoder writes them).
    use super::*;
    use proptest::prelude::*;

    /// A property for [`encode_instance`]: name, CimType code, value (None = NULL).
    pub(crate) type Prop<'a> = (&'a str, u32, Option<Value>);

    fn enc_str(s: &str) -> Vec<u8> {
        if s.is_ascii() {
            let mut v = vec![0];
            v.extend_from_slice(s.as_bytes());
            v.push(0);
            v
        } else {
            let mut v = vec![1];
            v.extend(crate::ndr::utf16le(s));
            v.extend_from_slice(&[0, 0]);
            v
        }
    }

    fn slot_size(t: u32) -> usize {
        if t & CIM_ARRAY != 0 {
            4
        } else {
            CimType::from_code(t).unwrap().inline_size()
        }
    }

    fn scalar(t: u32, v: &Value) -> Vec<u8> {
        let n = slot_size(t & !CIM_ARRAY);
        let raw: u64 = match v {
            Value::Bool(true) => 0xffff,
            Value::Bool(false) => 0,
            Value::Int(i) => *i as u64,
            Value::UInt(u) => *u,
            Value::Real(r) if n == 4 => (*r as f32).to_bits() as u64,
            Value::Real(r) => r.to_bits(),
            Value::Char(c) => *c as u64,
            _ => 0,
        };
        raw.to_le_bytes()[..n].to_vec()
    }

    /// Encodes one instance as an ENCODING_UNIT: class part with a default for each property
    /// in `defaults`, instance values in `props`.
    pub(crate) fn encode_instance(
        class: &str,
        props: &[Prop<'_>],
        defaults: &[(&str, Value)],
    ) -> Vec<u8> {
        let n = props.len();
        let nd_len = n.div_ceil(4);
        let mut cheap = enc_str(class);
        let mut value_off = 0;
        let mut lookups = Vec::new();
        let mut class_values = Vec::new();
        let mut class_nd = vec![0u8; nd_len];
        for (order, (name, t, _)) in props.iter().enumerate() {
            let name_ref = cheap.len() as u32;
            cheap.extend(enc_str(name));
            let info_ref = cheap.len() as u32;
            cheap.extend_from_slice(&t.to_le_bytes());
            cheap.extend_from_slice(&(order as u16).to_le_bytes());
            cheap.extend_from_slice(&(value_off as u32).to_le_bytes());
            cheap.extend_from_slice(&0u32.to_le_bytes());
            cheap.extend_from_slice(&4u32.to_le_bytes());
            value_off += slot_size(*t);
            lookups.push((name.to_lowercase(), name_ref, info_ref));
            match defaults.iter().find(|(d, _)| d == name) {
                Some((_, Value::String(s))) => {
                    class_values.extend_from_slice(&(cheap.len() as u32).to_le_bytes());
                    cheap.extend(enc_str(s));
                }
                Some((_, v)) => class_values.extend(scalar(*t, v)),
                None => {
                    class_nd[order / 4] |= 1 << (2 * (order % 4));
                    class_values.extend(vec![0; slot_size(*t)]);
                }
            }
        }
        lookups.sort();
        let mut body = Vec::new();
        body.extend_from_slice(&4u32.to_le_bytes());
        body.extend_from_slice(&4u32.to_le_bytes());
        body.extend_from_slice(&(n as u32).to_le_bytes());
        for (_, a, b) in &lookups {
            body.extend_from_slice(&a.to_le_bytes());
            body.extend_from_slice(&b.to_le_bytes());
        }
        body.extend_from_slice(&class_nd);
        body.extend_from_slice(&class_values);
        body.extend_from_slice(&((cheap.len() as u32) | 0x8000_0000).to_le_bytes());
        body.extend_from_slice(&cheap);
        let mut class_part = ((13 + body.len()) as u32).to_le_bytes().to_vec();
        class_part.push(0);
        class_part.extend_from_slice(&0u32.to_le_bytes());
        class_part.extend_from_slice(&((nd_len + value_off) as u32).to_le_bytes());
        class_part.extend_from_slice(&body);

        let mut iheap = enc_str(class);
        let mut values = Vec::new();
        let mut nd = vec![0u8; nd_len];
        for (i, (name, t, v)) in props.iter().enumerate() {
            let base = t & !CIM_ARRAY;
            match v {
                None if defaults.iter().any(|(d, _)| d == name) => {
                    nd[i / 4] |= 2 << (2 * (i % 4));
                    values.extend(vec![0; slot_size(*t)]);
                }
                None => {
                    nd[i / 4] |= 1 << (2 * (i % 4));
                    values.extend(vec![0; slot_size(*t)]);
                }
                Some(Value::Array(items)) if matches!(base, 8 | 101 | 102) => {
                    let at = iheap.len();
                    let strs: Vec<Vec<u8>> =
                        items.iter().map(|x| enc_str(x.as_str().unwrap())).collect();
                    let mut pos = at + 4 + 4 * strs.len();
                    iheap.extend_from_slice(&(strs.len() as u32).to_le_bytes());
                    for s in &strs {
                        iheap.extend_from_slice(&(pos as u32).to_le_bytes());
                        pos += s.len();
                    }
                    for s in strs {
                        iheap.extend(s);
                    }
                    values.extend_from_slice(&(at as u32).to_le_bytes());
                }
                Some(Value::Array(items)) => {
                    let at = iheap.len();
                    iheap.extend_from_slice(&(items.len() as u32).to_le_bytes());
                    for x in items {
                        iheap.extend(scalar(base, x));
                    }
                    values.extend_from_slice(&(at as u32).to_le_bytes());
                }
                Some(Value::Object(_)) => unreachable!(),
                Some(v) if v.as_str().is_some() => {
                    values.extend_from_slice(&(iheap.len() as u32).to_le_bytes());
                    iheap.extend(enc_str(v.as_str().unwrap()));
                }
                Some(v) => values.extend(scalar(*t, v)),
            }
        }
        let mut tail = vec![0u8];
        tail.extend_from_slice(&0u32.to_le_bytes());
        tail.extend_from_slice(&nd);
        tail.extend_from_slice(&values);
        tail.extend_from_slice(&4u32.to_le_bytes());
        tail.push(1);
        tail.extend_from_slice(&((iheap.len() as u32) | 0x8000_0000).to_le_bytes());
        tail.extend_from_slice(&iheap);
        let mut block = vec![0x06];
        block.extend(enc_str("ENG-WS-01"));
        block.extend(enc_str("ROOT\\cimv2"));
        block.extend_from_slice(&class_part);
        block.extend_from_slice(&((4 + tail.len()) as u32).to_le_bytes());
        block.extend_from_slice(&tail);
        let mut unit = SIGNATURE.to_le_bytes().to_vec();
        unit.extend_from_slice(&(block.len() as u32).to_le_bytes());
        unit.extend_from_slice(&block);
        unit
    }

    fn os_row(caption: &str) -> Vec<u8> {
        encode_instance(
            "Win32_OperatingSystem",
            &[
                ("BuildNumber", 8, Some(Value::String("17763".into()))),
                ("Caption", 8, Some(Value::String(caption.into()))),
                ("CSDVersion", 8, None),
                (
                    "InstallDate",
                    101,
                    Some(Value::DateTime("20210305101500.000000+000".into())),
                ),
                ("ServicePackMajorVersion", 18, Some(Value::UInt(2))),
                ("Primary", 11, Some(Value::Bool(true))),
                ("FreeVirtualMemory", 21, Some(Value::UInt(1 << 40))),
                ("CurrentTimeZone", 2, Some(Value::Int(-300))),
                ("Ratio", 5, Some(Value::Real(0.5))),
                ("Letter", 103, Some(Value::Char('Z'))),
                (
                    "Langs",
                    0x2000 | 19,
                    Some(Value::Array(vec![Value::UInt(1033), Value::UInt(1031)])),
                ),
                (
                    "Paths",
                    0x2000 | 8,
                    Some(Value::Array(vec![
                        Value::String("C:\\".into()),
                        Value::String("Ü".into()),
                    ])),
                ),
                (
                    "Owner",
                    102,
                    Some(Value::Reference(
                        "\\\\ENG\\root:Win32_Account.Name=\"x\"".into(),
                    )),
                ),
                ("Organization", 8, None),
            ],
            &[("Organization", Value::String("ACME".into()))],
        )
    }

    #[test]
    fn an_instance_decodes_with_every_type_nulls_and_class_defaults() {
        let mut cache = ClassCache::new();
        let o = decode(
            &os_row("Microsoft Windows Server 2019 Standard"),
            &mut cache,
        )
        .unwrap();
        assert_eq!(o.kind, ObjectKind::Instance);
        assert_eq!(o.class_name, "Win32_OperatingSystem");
        assert_eq!(o.server.as_deref(), Some("ENG-WS-01"));
        assert_eq!(o.namespace.as_deref(), Some("ROOT\\cimv2"));
        assert_eq!(
            o.text("caption"),
            Some("Microsoft Windows Server 2019 Standard")
        );
        assert_eq!(o.get("CSDVersion"), Some(&Value::Null));
        assert_eq!(
            o.get("ServicePackMajorVersion").and_then(Value::as_u64),
            Some(2)
        );
        assert_eq!(o.get("Primary"), Some(&Value::Bool(true)));
        assert_eq!(o.get("FreeVirtualMemory"), Some(&Value::UInt(1 << 40)));
        assert_eq!(o.get("CurrentTimeZone"), Some(&Value::Int(-300)));
        assert_eq!(o.get("Ratio"), Some(&Value::Real(0.5)));
        assert_eq!(o.get("Letter"), Some(&Value::Char('Z')));
        assert_eq!(
            o.get("Langs"),
            Some(&Value::Array(vec![Value::UInt(1033), Value::UInt(1031)]))
        );
        assert_eq!(o.get("Paths").unwrap().strings(), vec!["C:\\", "Ü"]);
        assert!(matches!(o.get("Owner"), Some(Value::Reference(r)) if r.contains("Win32_Account")));
        assert_eq!(o.text("Organization"), Some("ACME"), "class default");
        assert_eq!(
            o.properties
                .iter()
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>()[..3],
            ["BuildNumber", "Caption", "CSDVersion"],
            "declaration order"
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// MS-WMIO section 3, the encoding of `instance of MyClass { Id = 123; Data1 = "StringField";
    /// Array = { 1, 2, 3 }; };` (MyClass : Base, Data2 = "defaultValue" by default).
    const SPEC_INSTANCE: &str = "78 56 34 12 D3 01 00 00 06 00 44 50 52 41 56 41 54 2D 44 45 56 00 00 52 4F 4F 54 00 76 01 00 00 00 00 00 00 00 11 00 00 00 0E 00 00 00 00 42 61 73 65 00 06 00 00 00 11 00 00 00 09 00 00 00 00 08 00 00 00 16 00 00 00 04 00 00 00 27 00 00 00 2E 00 00 00 55 00 00 00 5C 00 00 00 99 00 00 00 A0 00 00 00 C7 00 00 00 CB 00 00 00 47 FF FF FF FF FF FF FF FF FD 00 00 00 FF FF FF FF 11 01 00 80 00 4D 79 43 6C 61 73 73 00 00 44 65 73 63 72 69 70 74 69 6F 6E 00 00 4D 79 43 6C 61 73 73 20 45 78 61 6D 70 6C 65 00 00 41 72 72 61 79 00 13 20 00 00 03 00 0C 00 00 00 01 00 00 00 11 00 00 00 0A 00 00 80 03 08 00 00 00 4D 00 00 00 00 75 69 6E 74 33 32 00 00 44 61 74 61 31 00 08 00 00 00 01 00 04 00 00 00 01 00 00 00 27 00 00 00 0A 00 00 80 03 08 00 00 00 91 00 00 00 03 00 00 80 00 0B 00 00 00 FF FF 04 00 00 80 00 0B 00 00 00 FF FF 00 73 74 72 69 6E 67 00 00 44 61 74 61 32 00 08 00 00 00 02 00 08 00 00 00 01 00 00 00 11 00 00 00 0A 00 00 80 03 08 00 00 00 BF 00 00 00 00 73 74 72 69 6E 67 00 00 49 64 00 03 40 00 00 00 00 00 00 00 00 00 00 00 00 1C 00 00 00 0A 00 00 80 23 08 00 00 00 F5 00 00 00 01 00 00 80 33 0B 00 00 00 FF FF 00 73 69 6E 74 33 32 00 00 64 65 66 61 75 6C 74 56 61 6C 75 65 00 00 00 00 00 00 00 49 00 00 00 00 00 00 00 00 20 7B 00 00 00 19 00 00 00 00 00 00 00 09 00 00 00 04 00 00 00 01 26 00 00 80 00 4D 79 43 6C 61 73 73 00 03 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 00 53 74 72 69 6E 67 46 69 65 6C 64 00";

    /// MS-WMIO section 3, the encoding of the class `Base { [key] sint32 Id; }`.
    const SPEC_CLASS: &str = "78 56 34 12 D0 00 00 00 05 00 44 50 52 41 56 41 54 2D 44 45 56 00 00 52 4F 4F 54 00 1D 00 00 00 00 FF FF FF FF 00 00 00 00 04 00 00 00 04 00 00 00 00 00 00 00 00 00 00 80 0C 00 00 00 00 00 00 00 00 00 00 80 66 00 00 00 00 00 00 00 00 05 00 00 00 04 00 00 00 04 00 00 00 01 00 00 00 06 00 00 00 0A 00 00 00 05 FF FF FF FF 3C 00 00 80 00 42 61 73 65 00 00 49 64 00 03 00 00 00 00 00 00 00 00 00 00 00 00 00 1C 00 00 00 0A 00 00 80 03 08 00 00 00 34 00 00 00 01 00 00 80 13 0B 00 00 00 FF FF 00 73 69 6E 74 33 32 00 0C 00 00 00 00 00 34 00 00 00 00 80 00 80 13 0B 00 00 00 FF FF 00 73 69 6E 74 33 32 00";

    #[test]
    fn the_instance_example_of_ms_wmio_section_3_decodes() {
        let o = decode(&hex(SPEC_INSTANCE), &mut ClassCache::new()).unwrap();
        assert_eq!(o.kind, ObjectKind::Instance);
        assert_eq!(o.class_name, "MyClass");
        assert_eq!(o.server.as_deref(), Some("DPRAVAT-DEV"));
        assert_eq!(o.namespace.as_deref(), Some("ROOT"));
        assert_eq!(o.get("Id"), Some(&Value::Int(123)));
        assert_eq!(o.text("Data1"), Some("StringField"));
        assert_eq!(o.text("Data2"), Some("defaultValue"), "the class default");
        assert_eq!(
            o.get("Array"),
            Some(&Value::Array(vec![
                Value::UInt(1),
                Value::UInt(2),
                Value::UInt(3)
            ]))
        );
    }

    #[test]
    fn the_class_example_of_ms_wmio_section_3_decodes() {
        let o = decode(&hex(SPEC_CLASS), &mut ClassCache::new()).unwrap();
        assert_eq!(o.kind, ObjectKind::Class);
        assert_eq!(o.class_name, "Base");
        assert_eq!(o.properties.len(), 1);
        assert_eq!(o.properties[0].0, "Id");
        assert_eq!(CimType::from_code(o.properties[0].1), Some(CimType::Sint32));
    }

    #[test]
    fn rows_of_one_class_share_one_decoded_class_part() {
        let mut cache = ClassCache::new();
        for caption in ["a", "b", "c"] {
            let o = decode(&os_row(caption), &mut cache).unwrap();
            assert_eq!(o.text("Caption"), Some(caption));
        }
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.hits(), 2);
    }

    #[test]
    fn datetimes_parse_with_their_offset() {
        let t = parse_datetime("20211002080102.500000+060").unwrap();
        assert_eq!(t.to_string(), "2021-10-02T07:01:02.5Z");
        assert_eq!(
            parse_datetime("20210305101500.000000+000")
                .unwrap()
                .to_string(),
            "2021-03-05T10:15:00Z"
        );
        assert_eq!(
            parse_datetime("00000001000000.000000:000"),
            None,
            "interval"
        );
        assert_eq!(parse_datetime("2021****101500.000000+000"), None);
    }

    #[test]
    fn a_wrong_signature_is_refused() {
        let mut unit = os_row("x");
        unit[0] = 0;
        assert!(decode(&unit, &mut ClassCache::new()).is_err());
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut unit = SIGNATURE.to_le_bytes().to_vec();
            unit.extend_from_slice(&(data.len() as u32).to_le_bytes());
            unit.extend_from_slice(&data);
            let _ = decode(&unit, &mut ClassCache::new());
            let _ = decode(&data, &mut ClassCache::new());
        }

        #[test]
        fn decoding_mutated_objects_never_panics(at in 0usize..2000, byte in any::<u8>(), cut in 0usize..2000) {
            let mut unit = os_row("Microsoft Windows");
            let i = at % unit.len();
            unit[i] = byte;
            let _ = decode(&unit, &mut ClassCache::new());
            unit.truncate(cut % unit.len());
            let _ = decode(&unit, &mut ClassCache::new());
        }

        #[test]
        fn datetime_parsing_never_panics(s in ".{0,30}", digits in "[0-9]{14}\\.[0-9]{6}[+-][0-9]{3}") {
            let _ = parse_datetime(&s);
            let _ = parse_datetime(&digits);
        }
    }
}
