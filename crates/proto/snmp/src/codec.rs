//! SNMP messages and PDUs (RFC 1157, RFC 3416, RFC 3412): pure parse and emit.
//!
//! What can be emitted is exactly [`Request`]: GetRequest, GetNextRequest and GetBulkRequest.
//! What is parsed is a Response (or, in SNMPv3, a Report); every other PDU type is refused.

use crate::ber::{self, BerError, OCTET_STRING, Reader, SEQUENCE, Tlv};
use crate::oid::Oid;
use std::fmt;

/// PDU tag of GetRequest-PDU.
pub const TAG_GET: u8 = 0xA0;
/// PDU tag of GetNextRequest-PDU.
pub const TAG_GET_NEXT: u8 = 0xA1;
/// PDU tag of Response-PDU.
pub const TAG_RESPONSE: u8 = 0xA2;
/// PDU tag of GetBulkRequest-PDU.
pub const TAG_GET_BULK: u8 = 0xA5;
/// PDU tag of Report-PDU (SNMPv3).
pub const TAG_REPORT: u8 = 0xA8;
/// The only PDU tags this crate can emit: Get, GetNext, GetBulk.
pub const ALLOWED_REQUEST_TAGS: [u8; 3] = [TAG_GET, TAG_GET_NEXT, TAG_GET_BULK];

const TAG_IP_ADDRESS: u8 = 0x40;
const TAG_COUNTER32: u8 = 0x41;
const TAG_GAUGE32: u8 = 0x42;
const TAG_TIMETICKS: u8 = 0x43;
const TAG_OPAQUE: u8 = 0x44;
const TAG_COUNTER64: u8 = 0x46;
const TAG_NO_SUCH_OBJECT: u8 = 0x80;
const TAG_NO_SUCH_INSTANCE: u8 = 0x81;
const TAG_END_OF_MIB_VIEW: u8 = 0x82;

/// Most variable bindings one response may carry (a bound against hostile agents).
pub const MAX_VARBINDS: usize = 10_000;

/// The SNMP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// SNMPv1 (msgVersion 0).
    V1,
    /// SNMPv2c (msgVersion 1).
    V2c,
    /// SNMPv3 (msgVersion 3).
    V3,
}

impl Version {
    /// The value of the version field.
    pub fn wire(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
            Version::V3 => 3,
        }
    }

    /// The version named by a version field.
    pub fn from_wire(v: i64) -> Option<Version> {
        match v {
            0 => Some(Version::V1),
            1 => Some(Version::V2c),
            3 => Some(Version::V3),
            _ => None,
        }
    }

    /// "SNMPv1", "SNMPv2c", "SNMPv3".
    pub fn name(self) -> &'static str {
        match self {
            Version::V1 => "SNMPv1",
            Version::V2c => "SNMPv2c",
            Version::V3 => "SNMPv3",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value in a variable binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// INTEGER (Integer32 and enumerations).
    Integer(i64),
    /// OCTET STRING (text, MAC addresses, bit strings).
    OctetString(Vec<u8>),
    /// NULL.
    Null,
    /// OBJECT IDENTIFIER.
    ObjectId(Oid),
    /// IpAddress (IPv4).
    IpAddress([u8; 4]),
    /// Counter32.
    Counter32(u32),
    /// Gauge32 (Unsigned32).
    Gauge32(u32),
    /// TimeTicks (hundredths of a second).
    TimeTicks(u32),
    /// Opaque.
    Opaque(Vec<u8>),
    /// Counter64.
    Counter64(u64),
    /// The agent has no such object (SNMPv2 exception).
    NoSuchObject,
    /// The agent has no such instance (SNMPv2 exception).
    NoSuchInstance,
    /// Nothing follows in the agent's MIB view (SNMPv2 exception).
    EndOfMibView,
    /// A type this crate does not know, kept as its tag and octets.
    Other {
        /// The tag.
        tag: u8,
        /// The value octets.
        bytes: Vec<u8>,
    },
}

impl Value {
    /// True for the three SNMPv2 exceptions.
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView
        )
    }

    /// The value as an unsigned number, for the integer-like types.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Integer(v) => u64::try_from(*v).ok(),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => Some(u64::from(*v)),
            Value::Counter64(v) => Some(*v),
            _ => None,
        }
    }

    /// The value as octets, for OCTET STRING and Opaque.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::OctetString(b) | Value::Opaque(b) => Some(b),
            _ => None,
        }
    }

    fn parse(t: &Tlv<'_>) -> Result<Value, BerError> {
        let u32_of = |what| -> Result<u32, BerError> {
            let v = t.unsigned(32, what)?;
            Ok(u32::try_from(v).unwrap_or(u32::MAX))
        };
        Ok(match t.tag {
            ber::INTEGER => Value::Integer(t.integer()?),
            ber::OCTET_STRING => Value::OctetString(t.value.to_vec()),
            ber::NULL => Value::Null,
            ber::OBJECT_IDENTIFIER => Value::ObjectId(t.oid()?),
            TAG_IP_ADDRESS => match <[u8; 4]>::try_from(t.value) {
                Ok(a) => Value::IpAddress(a),
                Err(_) => Value::Other {
                    tag: t.tag,
                    bytes: t.value.to_vec(),
                },
            },
            TAG_COUNTER32 => Value::Counter32(u32_of("Counter32")?),
            TAG_GAUGE32 => Value::Gauge32(u32_of("Gauge32")?),
            TAG_TIMETICKS => Value::TimeTicks(u32_of("TimeTicks")?),
            TAG_OPAQUE => Value::Opaque(t.value.to_vec()),
            TAG_COUNTER64 => Value::Counter64(t.unsigned(64, "Counter64")?),
            TAG_NO_SUCH_OBJECT => Value::NoSuchObject,
            TAG_NO_SUCH_INSTANCE => Value::NoSuchInstance,
            TAG_END_OF_MIB_VIEW => Value::EndOfMibView,
            tag => Value::Other {
                tag,
                bytes: t.value.to_vec(),
            },
        })
    }

    /// Encodes the value (used by tests and test agents; requests carry NULL only).
    pub fn emit(&self) -> Vec<u8> {
        match self {
            Value::Integer(v) => ber::integer(ber::INTEGER, *v),
            Value::OctetString(b) => ber::octets(OCTET_STRING, b),
            Value::Null => ber::tlv(ber::NULL, &[]),
            Value::ObjectId(o) => ber::oid(o).unwrap_or_else(|_| ber::tlv(ber::NULL, &[])),
            Value::IpAddress(a) => ber::octets(TAG_IP_ADDRESS, a),
            Value::Counter32(v) => ber::unsigned(TAG_COUNTER32, u64::from(*v)),
            Value::Gauge32(v) => ber::unsigned(TAG_GAUGE32, u64::from(*v)),
            Value::TimeTicks(v) => ber::unsigned(TAG_TIMETICKS, u64::from(*v)),
            Value::Opaque(b) => ber::octets(TAG_OPAQUE, b),
            Value::Counter64(v) => ber::unsigned(TAG_COUNTER64, *v),
            Value::NoSuchObject => ber::tlv(TAG_NO_SUCH_OBJECT, &[]),
            Value::NoSuchInstance => ber::tlv(TAG_NO_SUCH_INSTANCE, &[]),
            Value::EndOfMibView => ber::tlv(TAG_END_OF_MIB_VIEW, &[]),
            Value::Other { tag, bytes } => ber::octets(*tag, bytes),
        }
    }
}

/// One variable binding: a name and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    /// The object instance.
    pub oid: Oid,
    /// Its value.
    pub value: Value,
}

/// error-status of a response (RFC 3416 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorStatus {
    /// noError(0).
    NoError,
    /// tooBig(1): the response would not fit in a message.
    TooBig,
    /// noSuchName(2): SNMPv1's "no such object" and end of MIB.
    NoSuchName,
    /// genErr(5).
    GenErr,
    /// noAccess(6).
    NoAccess,
    /// authorizationError(16).
    AuthorizationError,
    /// Any other status, by number.
    Other(i64),
}

impl ErrorStatus {
    /// The status of an error-status field.
    pub fn from_wire(v: i64) -> ErrorStatus {
        match v {
            0 => ErrorStatus::NoError,
            1 => ErrorStatus::TooBig,
            2 => ErrorStatus::NoSuchName,
            5 => ErrorStatus::GenErr,
            6 => ErrorStatus::NoAccess,
            16 => ErrorStatus::AuthorizationError,
            other => ErrorStatus::Other(other),
        }
    }
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorStatus::NoError => f.write_str("noError(0)"),
            ErrorStatus::TooBig => f.write_str("tooBig(1)"),
            ErrorStatus::NoSuchName => f.write_str("noSuchName(2)"),
            ErrorStatus::GenErr => f.write_str("genErr(5)"),
            ErrorStatus::NoAccess => f.write_str("noAccess(6)"),
            ErrorStatus::AuthorizationError => f.write_str("authorizationError(16)"),
            ErrorStatus::Other(n) => write!(f, "error-status {n}"),
        }
    }
}

/// A request this crate can send. Nothing else can be encoded: no Set, no Trap, no Inform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// GetRequest-PDU: the values of these instances.
    Get(Vec<Oid>),
    /// GetNextRequest-PDU: the instances that follow these names.
    GetNext(Vec<Oid>),
    /// GetBulkRequest-PDU (SNMPv2c and v3 only).
    GetBulk {
        /// How many of `oids` (from the start) get a single GETNEXT.
        non_repeaters: u32,
        /// How many successors the others get.
        max_repetitions: u32,
        /// The names.
        oids: Vec<Oid>,
    },
}

impl Request {
    /// The PDU tag.
    pub fn tag(&self) -> u8 {
        match self {
            Request::Get(_) => TAG_GET,
            Request::GetNext(_) => TAG_GET_NEXT,
            Request::GetBulk { .. } => TAG_GET_BULK,
        }
    }

    /// The request's name as the RFCs write it.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Get(_) => "GetRequest",
            Request::GetNext(_) => "GetNextRequest",
            Request::GetBulk { .. } => "GetBulkRequest",
        }
    }

    /// The names asked for.
    pub fn oids(&self) -> &[Oid] {
        match self {
            Request::Get(o) | Request::GetNext(o) => o,
            Request::GetBulk { oids, .. } => oids,
        }
    }

    /// The PDU with `request_id`, every value NULL.
    pub fn emit_pdu(&self, request_id: i32) -> Result<Vec<u8>, ber::OidEncodeError> {
        let mut varbinds = Vec::new();
        for oid in self.oids() {
            let name = ber::oid(oid)?;
            let null = ber::tlv(ber::NULL, &[]);
            varbinds.extend(ber::constructed(SEQUENCE, &[&name, &null]));
        }
        let list = ber::tlv(SEQUENCE, &varbinds);
        let (second, third) = match self {
            Request::GetBulk {
                non_repeaters,
                max_repetitions,
                ..
            } => (i64::from(*non_repeaters), i64::from(*max_repetitions)),
            _ => (0, 0),
        };
        Ok(ber::constructed(
            self.tag(),
            &[
                &ber::integer(ber::INTEGER, i64::from(request_id)),
                &ber::integer(ber::INTEGER, second),
                &ber::integer(ber::INTEGER, third),
                &list,
            ],
        ))
    }
}

/// The kind of a parsed PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduKind {
    /// Response-PDU.
    Response,
    /// Report-PDU (SNMPv3 error reports).
    Report,
}

/// A parsed Response or Report PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// Response or Report.
    pub kind: PduKind,
    /// request-id.
    pub request_id: i32,
    /// error-status.
    pub error_status: ErrorStatus,
    /// error-index (1-based; 0 when no binding is named).
    pub error_index: u32,
    /// The variable bindings.
    pub varbinds: Vec<VarBind>,
}

/// Why a message is not a valid SNMP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The BER is malformed.
    #[error(transparent)]
    Ber(#[from] BerError),
    /// The message is of another version.
    #[error("message version {0} is not SNMPv1 (0), v2c (1) or v3 (3)")]
    UnknownVersion(i64),
    /// A PDU type that is not a response.
    #[error("PDU type {0:#04x} is not a Response (0xa2) or Report (0xa8)")]
    NotAResponse(u8),
    /// A request id outside 32 bits.
    #[error("request-id {0} does not fit in 32 bits")]
    RequestId(i64),
    /// Too many variable bindings.
    #[error("more than {MAX_VARBINDS} variable bindings")]
    TooManyVarBinds,
    /// An OID in the request cannot be encoded.
    #[error(transparent)]
    Encode(#[from] ber::OidEncodeError),
    /// A field with an impossible value.
    #[error("{0}")]
    Field(&'static str),
}

/// Parses a Response or Report PDU element.
pub fn parse_pdu(t: &Tlv<'_>) -> Result<Pdu, CodecError> {
    let kind = match t.tag {
        TAG_RESPONSE => PduKind::Response,
        TAG_REPORT => PduKind::Report,
        other => return Err(CodecError::NotAResponse(other)),
    };
    let mut r = t.reader();
    let id = r.expect(ber::INTEGER, "request-id")?.integer()?;
    let request_id = i32::try_from(id).map_err(|_| CodecError::RequestId(id))?;
    let status = r.expect(ber::INTEGER, "error-status")?.integer()?;
    let index = r.expect(ber::INTEGER, "error-index")?.integer()?;
    let list = r.expect(SEQUENCE, "variable-bindings")?;
    let mut varbinds = Vec::new();
    let mut lr = list.reader();
    while !lr.is_empty() {
        if varbinds.len() >= MAX_VARBINDS {
            return Err(CodecError::TooManyVarBinds);
        }
        let vb = lr.expect(SEQUENCE, "VarBind")?;
        let mut vr = vb.reader();
        let oid = vr.expect(ber::OBJECT_IDENTIFIER, "VarBind name")?.oid()?;
        let value = Value::parse(&vr.read()?)?;
        vr.finish("a VarBind")?;
        varbinds.push(VarBind { oid, value });
    }
    Ok(Pdu {
        kind,
        request_id,
        error_status: ErrorStatus::from_wire(status),
        error_index: u32::try_from(index).unwrap_or(0),
        varbinds,
    })
}

/// A community-based (SNMPv1 / SNMPv2c) message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityMessage {
    /// V1 or V2c.
    pub version: Version,
    /// The community string.
    pub community: Vec<u8>,
    /// The PDU.
    pub pdu: Pdu,
}

/// Encodes a community-based request.
pub fn emit_community(
    version: Version,
    community: &[u8],
    request_id: i32,
    request: &Request,
) -> Result<Vec<u8>, CodecError> {
    if version == Version::V3 {
        return Err(CodecError::Field("a community message is SNMPv1 or v2c"));
    }
    if version == Version::V1 && matches!(request, Request::GetBulk { .. }) {
        return Err(CodecError::Field("SNMPv1 has no GetBulkRequest"));
    }
    let pdu = request.emit_pdu(request_id)?;
    Ok(ber::constructed(
        SEQUENCE,
        &[
            &ber::integer(ber::INTEGER, version.wire()),
            &ber::octets(OCTET_STRING, community),
            &pdu,
        ],
    ))
}

/// The version field of any SNMP message, without parsing the rest.
pub fn peek_version(data: &[u8]) -> Result<Version, CodecError> {
    let msg = Reader::new(data).expect(SEQUENCE, "Message")?;
    let v = msg.reader().expect(ber::INTEGER, "version")?.integer()?;
    Version::from_wire(v).ok_or(CodecError::UnknownVersion(v))
}

/// Parses a community-based response message.
pub fn parse_community(data: &[u8]) -> Result<CommunityMessage, CodecError> {
    let mut outer = Reader::new(data);
    let msg = outer.expect(SEQUENCE, "Message")?;
    let mut r = msg.reader();
    let v = r.expect(ber::INTEGER, "version")?.integer()?;
    let version = match Version::from_wire(v) {
        Some(Version::V3) | None => return Err(CodecError::UnknownVersion(v)),
        Some(version) => version,
    };
    let community = r.expect(OCTET_STRING, "community")?.value.to_vec();
    let pdu = parse_pdu(&r.read()?)?;
    Ok(CommunityMessage {
        version,
        community,
        pdu,
    })
}

/// Encodes a Response PDU (for test agents only; the client never sends one).
pub fn emit_response_pdu(
    kind: PduKind,
    request_id: i32,
    error_status: i64,
    error_index: i64,
    varbinds: &[VarBind],
) -> Vec<u8> {
    let mut list = Vec::new();
    for vb in varbinds {
        let name = ber::oid(&vb.oid).unwrap_or_else(|_| ber::tlv(ber::OBJECT_IDENTIFIER, &[0]));
        list.extend(ber::constructed(SEQUENCE, &[&name, &vb.value.emit()]));
    }
    let tag = match kind {
        PduKind::Response => TAG_RESPONSE,
        PduKind::Report => TAG_REPORT,
    };
    ber::constructed(
        tag,
        &[
            &ber::integer(ber::INTEGER, i64::from(request_id)),
            &ber::integer(ber::INTEGER, error_status),
            &ber::integer(ber::INTEGER, error_index),
            &ber::tlv(SEQUENCE, &list),
        ],
    )
}

/// A request as an agent sees it (for test agents and the read-only test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The PDU tag.
    pub tag: u8,
    /// request-id.
    pub request_id: i32,
    /// error-status, or non-repeaters for GetBulk.
    pub second: i64,
    /// error-index, or max-repetitions for GetBulk.
    pub third: i64,
    /// The names.
    pub oids: Vec<Oid>,
}

/// Parses any request PDU element (test agents use it; the client never receives requests).
pub fn parse_request_pdu(t: &Tlv<'_>) -> Result<ReceivedRequest, CodecError> {
    let mut r = t.reader();
    let id = r.expect(ber::INTEGER, "request-id")?.integer()?;
    let request_id = i32::try_from(id).map_err(|_| CodecError::RequestId(id))?;
    let second = r.expect(ber::INTEGER, "second field")?.integer()?;
    let third = r.expect(ber::INTEGER, "third field")?.integer()?;
    let list = r.expect(SEQUENCE, "variable-bindings")?;
    let mut oids = Vec::new();
    let mut lr = list.reader();
    while !lr.is_empty() {
        if oids.len() >= MAX_VARBINDS {
            return Err(CodecError::TooManyVarBinds);
        }
        let vb = lr.expect(SEQUENCE, "VarBind")?;
        let mut vr = vb.reader();
        oids.push(vr.expect(ber::OBJECT_IDENTIFIER, "VarBind name")?.oid()?);
    }
    Ok(ReceivedRequest {
        tag: t.tag,
        request_id,
        second,
        third,
        oids,
    })
}

/// Parses a community-based request message (test agents only).
pub fn parse_community_request(
    data: &[u8],
) -> Result<(Version, Vec<u8>, ReceivedRequest), CodecError> {
    let msg = Reader::new(data).expect(SEQUENCE, "Message")?;
    let mut r = msg.reader();
    let v = r.expect(ber::INTEGER, "version")?.integer()?;
    let version = Version::from_wire(v).ok_or(CodecError::UnknownVersion(v))?;
    let community = r.expect(OCTET_STRING, "community")?.value.to_vec();
    let request = parse_request_pdu(&r.read()?)?;
    Ok((version, community, request))
}

/// Encodes a community-based response message (test agents only).
pub fn emit_community_response(version: Version, community: &[u8], pdu: &[u8]) -> Vec<u8> {
    ber::constructed(
        SEQUENCE,
        &[
            &ber::integer(ber::INTEGER, version.wire()),
            &ber::octets(OCTET_STRING, community),
            pdu,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    #[test]
    fn a_v2c_get_of_sysname_encodes_like_net_snmp() {
        // snmpget -v2c -c public -d: request-id 0x1234
        let bytes = emit_community(
            Version::V2c,
            b"public",
            0x1234,
            &Request::Get(vec![oid("1.3.6.1.2.1.1.5.0")]),
        )
        .unwrap();
        let expected = [
            0x30, 0x27, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xA0,
            0x1A, 0x02, 0x02, 0x12, 0x34, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0E, 0x30,
            0x0C, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05, 0x00, 0x05, 0x00,
        ];
        assert_eq!(bytes, expected);
        let (version, community, req) = parse_community_request(&bytes).unwrap();
        assert_eq!(
            (version, community.as_slice()),
            (Version::V2c, &b"public"[..])
        );
        assert_eq!(req.tag, TAG_GET);
    }

    #[test]
    fn v1_cannot_carry_getbulk() {
        let bulk = Request::GetBulk {
            non_repeaters: 0,
            max_repetitions: 10,
            oids: vec![oid("1.3.6.1")],
        };
        assert!(emit_community(Version::V1, b"c", 1, &bulk).is_err());
    }

    #[test]
    fn responses_parse_with_every_value_type() {
        let varbinds = vec![
            VarBind {
                oid: oid("1.3.6.1.2.1.1.5.0"),
                value: Value::OctetString(b"sw".to_vec()),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.1.3.0"),
                value: Value::TimeTicks(123),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.4.20.1.1.10.0.0.1"),
                value: Value::IpAddress([10, 0, 0, 1]),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.31.1.1.1.6.1"),
                value: Value::Counter64(u64::MAX),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.2.2.1.5.1"),
                value: Value::Gauge32(1_000_000_000),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.1.2.0"),
                value: Value::ObjectId(oid("1.3.6.1.4.1.9.1.516")),
            },
            VarBind {
                oid: oid("1.3.6.1.2.1.1.9.0"),
                value: Value::EndOfMibView,
            },
        ];
        let pdu = emit_response_pdu(PduKind::Response, 7, 0, 0, &varbinds);
        let msg = emit_community_response(Version::V2c, b"public", &pdu);
        let parsed = parse_community(&msg).unwrap();
        assert_eq!(parsed.pdu.varbinds, varbinds);
        assert_eq!(parsed.pdu.request_id, 7);
        assert_eq!(parsed.pdu.error_status, ErrorStatus::NoError);
    }

    #[test]
    fn requests_are_not_taken_for_responses() {
        let req =
            emit_community(Version::V2c, b"c", 1, &Request::Get(vec![oid("1.3.6.1")])).unwrap();
        assert_eq!(
            parse_community(&req),
            Err(CodecError::NotAResponse(TAG_GET))
        );
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Integer),
            proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::OctetString),
            Just(Value::Null),
            any::<[u8; 4]>().prop_map(Value::IpAddress),
            any::<u32>().prop_map(Value::Counter32),
            any::<u32>().prop_map(Value::Gauge32),
            any::<u32>().prop_map(Value::TimeTicks),
            any::<u64>().prop_map(Value::Counter64),
            Just(Value::NoSuchObject),
            Just(Value::NoSuchInstance),
            Just(Value::EndOfMibView),
            proptest::collection::vec(any::<u32>(), 0..12)
                .prop_map(|rest| Value::ObjectId(Oid::new([&[1u32, 3][..], &rest].concat()))),
        ]
    }

    fn arb_varbind() -> impl Strategy<Value = VarBind> {
        (proptest::collection::vec(any::<u32>(), 0..16), arb_value()).prop_map(|(rest, value)| {
            VarBind {
                oid: Oid::new([&[1u32, 3, 6, 1][..], &rest].concat()),
                value,
            }
        })
    }

    proptest! {
        #[test]
        fn responses_round_trip(
            id in any::<i32>(),
            status in 0i64..20,
            index in 0i64..100,
            varbinds in proptest::collection::vec(arb_varbind(), 0..20),
            community in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let pdu = emit_response_pdu(PduKind::Response, id, status, index, &varbinds);
            let msg = emit_community_response(Version::V2c, &community, &pdu);
            let parsed = parse_community(&msg).unwrap();
            prop_assert_eq!(parsed.community, community);
            prop_assert_eq!(parsed.pdu.request_id, id);
            prop_assert_eq!(parsed.pdu.error_status, ErrorStatus::from_wire(status));
            prop_assert_eq!(parsed.pdu.varbinds, varbinds);
        }

        #[test]
        fn requests_round_trip(
            id in any::<i32>(),
            max_rep in 0u32..1000,
            names in proptest::collection::vec(proptest::collection::vec(any::<u32>(), 0..12), 0..10),
        ) {
            let oids: Vec<Oid> = names.into_iter().map(|r| Oid::new([&[1u32, 3, 6][..], &r].concat())).collect();
            for request in [
                Request::Get(oids.clone()),
                Request::GetNext(oids.clone()),
                Request::GetBulk { non_repeaters: 0, max_repetitions: max_rep, oids: oids.clone() },
            ] {
                let bytes = emit_community(Version::V2c, b"public", id, &request).unwrap();
                let (_, _, got) = parse_community_request(&bytes).unwrap();
                prop_assert_eq!(got.tag, request.tag());
                prop_assert_eq!(got.request_id, id);
                prop_assert_eq!(&got.oids, request.oids());
            }
        }

        #[test]
        fn parsing_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_community(&data);
            let _ = peek_version(&data);
            let _ = parse_community_request(&data);
        }

        #[test]
        fn parsing_truncated_responses_never_panics(
            varbinds in proptest::collection::vec(arb_varbind(), 1..10),
            cut in 0usize..400,
            flip in any::<(usize, u8)>(),
        ) {
            let pdu = emit_response_pdu(PduKind::Response, 1, 0, 0, &varbinds);
            let mut msg = emit_community_response(Version::V2c, b"public", &pdu);
            if !msg.is_empty() {
                let i = flip.0 % msg.len();
                msg[i] ^= flip.1;
            }
            msg.truncate(cut.min(msg.len()));
            let _ = parse_community(&msg);
        }
    }
}
