//! SNMPv3 message framing (RFC 3412 section 6) with USM security parameters (RFC 3414
//! section 2.4): pure parse and emit. Authentication and privacy live in [`crate::usm`].

use crate::ber::{self, OCTET_STRING, Reader, SEQUENCE};
use crate::codec::{CodecError, Pdu, Request, Version, parse_pdu};

/// msgFlags bit: authenticated.
pub const FLAG_AUTH: u8 = 0x01;
/// msgFlags bit: encrypted.
pub const FLAG_PRIV: u8 = 0x02;
/// msgFlags bit: a Report may be sent back.
pub const FLAG_REPORTABLE: u8 = 0x04;
/// msgSecurityModel of the USM.
pub const USM_SECURITY_MODEL: i64 = 3;
/// The msgMaxSize we announce: the largest UDP payload over IPv4.
pub const MAX_MESSAGE_SIZE: i64 = 65_507;
/// Longest engine ID (RFC 3411: 5 to 32 octets; we accept what arrives up to this).
pub const MAX_ENGINE_ID: usize = 32;

/// msgSecurityParameters of the USM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsmParams {
    /// msgAuthoritativeEngineID.
    pub engine_id: Vec<u8>,
    /// msgAuthoritativeEngineBoots.
    pub boots: u32,
    /// msgAuthoritativeEngineTime.
    pub time: u32,
    /// msgUserName.
    pub user: Vec<u8>,
    /// msgAuthenticationParameters (the MAC).
    pub auth: Vec<u8>,
    /// msgPrivacyParameters (the salt).
    pub privacy: Vec<u8>,
}

impl UsmParams {
    fn emit(&self) -> Vec<u8> {
        ber::constructed(
            SEQUENCE,
            &[
                &ber::octets(OCTET_STRING, &self.engine_id),
                &ber::integer(ber::INTEGER, i64::from(self.boots)),
                &ber::integer(ber::INTEGER, i64::from(self.time)),
                &ber::octets(OCTET_STRING, &self.user),
                &ber::octets(OCTET_STRING, &self.auth),
                &ber::octets(OCTET_STRING, &self.privacy),
            ],
        )
    }
}

/// The scoped PDU's envelope: which context of which engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// contextEngineID.
    pub engine_id: Vec<u8>,
    /// contextName.
    pub name: Vec<u8>,
}

/// Encodes a ScopedPDU holding `request`.
pub fn emit_scoped_pdu(
    scope: &Scope,
    request_id: i32,
    request: &Request,
) -> Result<Vec<u8>, CodecError> {
    let pdu = request.emit_pdu(request_id)?;
    Ok(ber::constructed(
        SEQUENCE,
        &[
            &ber::octets(OCTET_STRING, &scope.engine_id),
            &ber::octets(OCTET_STRING, &scope.name),
            &pdu,
        ],
    ))
}

/// Encodes a ScopedPDU around an already-encoded PDU (test agents only).
pub fn emit_scoped_raw(scope: &Scope, pdu: &[u8]) -> Vec<u8> {
    ber::constructed(
        SEQUENCE,
        &[
            &ber::octets(OCTET_STRING, &scope.engine_id),
            &ber::octets(OCTET_STRING, &scope.name),
            pdu,
        ],
    )
}

/// The body of a v3 message: a plaintext ScopedPDU or its encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgData {
    /// An encoded ScopedPDU.
    Plain(Vec<u8>),
    /// The encrypted ScopedPDU (an OCTET STRING on the wire).
    Encrypted(Vec<u8>),
}

/// A v3 message to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    /// msgID.
    pub msg_id: i32,
    /// msgFlags.
    pub flags: u8,
    /// The security parameters (with a zeroed MAC of the right length when authenticating).
    pub usm: UsmParams,
    /// The body.
    pub data: MsgData,
}

impl OutMessage {
    /// Encodes the message; returns it with the offset of the MAC's first byte.
    pub fn emit(&self) -> (Vec<u8>, usize) {
        let global = ber::constructed(
            SEQUENCE,
            &[
                &ber::integer(ber::INTEGER, i64::from(self.msg_id)),
                &ber::integer(ber::INTEGER, MAX_MESSAGE_SIZE),
                &ber::octets(OCTET_STRING, &[self.flags]),
                &ber::integer(ber::INTEGER, USM_SECURITY_MODEL),
            ],
        );
        let security = ber::octets(OCTET_STRING, &self.usm.emit());
        let data = match &self.data {
            MsgData::Plain(scoped) => scoped.clone(),
            MsgData::Encrypted(bytes) => ber::octets(OCTET_STRING, bytes),
        };
        let version = ber::integer(ber::INTEGER, Version::V3.wire());
        let message = ber::constructed(SEQUENCE, &[&version, &global, &security, &data]);
        // the MAC's place: found by parsing what was just written (so no offset bookkeeping)
        let offset = parse_message(&message)
            .map(|m| m.auth_offset)
            .unwrap_or_default();
        (message, offset)
    }
}

/// A v3 message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InMessage {
    /// msgID.
    pub msg_id: i32,
    /// msgMaxSize the sender announces.
    pub max_size: i64,
    /// msgFlags.
    pub flags: u8,
    /// msgSecurityModel.
    pub security_model: i64,
    /// The USM parameters.
    pub usm: UsmParams,
    /// Offset of the MAC's first byte in the message (where it is zeroed to verify it).
    pub auth_offset: usize,
    /// The body.
    pub data: MsgData,
}

/// Parses a v3 message (not its scoped PDU, which may be encrypted).
pub fn parse_message(data: &[u8]) -> Result<InMessage, CodecError> {
    let msg = Reader::new(data).expect(SEQUENCE, "SNMPv3Message")?;
    let mut r = msg.reader();
    let v = r.expect(ber::INTEGER, "msgVersion")?.integer()?;
    if v != Version::V3.wire() {
        return Err(CodecError::UnknownVersion(v));
    }
    let global = r.expect(SEQUENCE, "msgGlobalData")?;
    let mut g = global.reader();
    let id = g.expect(ber::INTEGER, "msgID")?.integer()?;
    let msg_id = i32::try_from(id).map_err(|_| CodecError::RequestId(id))?;
    let max_size = g.expect(ber::INTEGER, "msgMaxSize")?.integer()?;
    let flags_field = g.expect(OCTET_STRING, "msgFlags")?;
    let flags = match flags_field.value {
        [f] => *f,
        _ => return Err(CodecError::Field("msgFlags is not one octet")),
    };
    let security_model = g.expect(ber::INTEGER, "msgSecurityModel")?.integer()?;
    let security = r.expect(OCTET_STRING, "msgSecurityParameters")?;
    let (usm, auth_offset) = parse_usm(&security)?;
    let body = r.read()?;
    let data = match body.tag {
        SEQUENCE => MsgData::Plain(body.raw.to_vec()),
        OCTET_STRING => MsgData::Encrypted(body.value.to_vec()),
        other => {
            return Err(CodecError::Ber(ber::BerError::UnexpectedTag {
                at: body.offset,
                expected: "msgData (ScopedPDU or encryptedPDU)",
                tag_expected: SEQUENCE,
                found: other,
            }));
        }
    };
    Ok(InMessage {
        msg_id,
        max_size,
        flags,
        security_model,
        usm,
        auth_offset,
        data,
    })
}

fn parse_usm(security: &ber::Tlv<'_>) -> Result<(UsmParams, usize), CodecError> {
    let seq = security
        .reader()
        .expect(SEQUENCE, "UsmSecurityParameters")?;
    let mut u = seq.reader();
    let engine_id = u.expect(OCTET_STRING, "msgAuthoritativeEngineID")?;
    if engine_id.value.len() > MAX_ENGINE_ID {
        return Err(CodecError::Field(
            "msgAuthoritativeEngineID longer than 32 octets",
        ));
    }
    let boots = u
        .expect(ber::INTEGER, "msgAuthoritativeEngineBoots")?
        .integer()?;
    let time = u
        .expect(ber::INTEGER, "msgAuthoritativeEngineTime")?
        .integer()?;
    let user = u.expect(OCTET_STRING, "msgUserName")?;
    let auth = u.expect(OCTET_STRING, "msgAuthenticationParameters")?;
    let privacy = u.expect(OCTET_STRING, "msgPrivacyParameters")?;
    let params = UsmParams {
        engine_id: engine_id.value.to_vec(),
        boots: u32::try_from(boots)
            .map_err(|_| CodecError::Field("msgAuthoritativeEngineBoots out of range"))?,
        time: u32::try_from(time)
            .map_err(|_| CodecError::Field("msgAuthoritativeEngineTime out of range"))?,
        user: user.value.to_vec(),
        auth: auth.value.to_vec(),
        privacy: privacy.value.to_vec(),
    };
    Ok((params, auth.offset))
}

/// A ScopedPDU as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedPdu {
    /// contextEngineID and contextName.
    pub scope: Scope,
    /// The PDU.
    pub pdu: Pdu,
}

/// Parses a ScopedPDU; bytes after it (decryption padding) are ignored.
pub fn parse_scoped_pdu(data: &[u8]) -> Result<ScopedPdu, CodecError> {
    let seq = Reader::new(data).expect(SEQUENCE, "ScopedPDU")?;
    let mut r = seq.reader();
    let engine_id = r.expect(OCTET_STRING, "contextEngineID")?.value.to_vec();
    let name = r.expect(OCTET_STRING, "contextName")?.value.to_vec();
    let pdu = parse_pdu(&r.read()?)?;
    Ok(ScopedPdu {
        scope: Scope { engine_id, name },
        pdu,
    })
}

/// Parses a ScopedPDU holding a request (test agents only).
pub fn parse_scoped_request(
    data: &[u8],
) -> Result<(Scope, crate::codec::ReceivedRequest), CodecError> {
    let seq = Reader::new(data).expect(SEQUENCE, "ScopedPDU")?;
    let mut r = seq.reader();
    let engine_id = r.expect(OCTET_STRING, "contextEngineID")?.value.to_vec();
    let name = r.expect(OCTET_STRING, "contextName")?.value.to_vec();
    let request = crate::codec::parse_request_pdu(&r.read()?)?;
    Ok((Scope { engine_id, name }, request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{PduKind, Value, VarBind, emit_response_pdu};
    use proptest::prelude::*;

    #[test]
    fn the_mac_offset_points_at_the_zeroed_mac() {
        let scoped = emit_scoped_pdu(
            &Scope::default(),
            5,
            &Request::Get(vec!["1.3.6.1.2.1.1.5.0".parse().unwrap()]),
        )
        .unwrap();
        let msg = OutMessage {
            msg_id: 42,
            flags: FLAG_AUTH | FLAG_REPORTABLE,
            usm: UsmParams {
                engine_id: vec![0x80, 0, 0x1F, 0x88, 4, 1, 2, 3],
                boots: 3,
                time: 1000,
                user: b"opsv3".to_vec(),
                auth: vec![0; 12],
                privacy: vec![],
            },
            data: MsgData::Plain(scoped.clone()),
        };
        let (bytes, offset) = msg.emit();
        assert_eq!(&bytes[offset..offset + 12], &[0u8; 12]);
        let parsed = parse_message(&bytes).unwrap();
        assert_eq!(parsed.usm, msg.usm);
        assert_eq!(parsed.data, MsgData::Plain(scoped));
        assert_eq!(parsed.auth_offset, offset);
    }

    #[test]
    fn scoped_pdus_ignore_padding() {
        let pdu = emit_response_pdu(
            PduKind::Report,
            9,
            0,
            0,
            &[VarBind {
                oid: "1.3.6.1.6.3.15.1.1.4.0".parse().unwrap(),
                value: Value::Counter32(1),
            }],
        );
        let mut scoped = emit_scoped_raw(&Scope::default(), &pdu);
        scoped.extend_from_slice(&[0, 0, 0]);
        let parsed = parse_scoped_pdu(&scoped).unwrap();
        assert_eq!(parsed.pdu.kind, PduKind::Report);
    }

    proptest! {
        #[test]
        fn messages_round_trip(
            id in 0i32..i32::MAX,
            flags in 0u8..8,
            engine in proptest::collection::vec(any::<u8>(), 0..32),
            boots in any::<u32>(),
            time in any::<u32>(),
            user in proptest::collection::vec(any::<u8>(), 0..32),
            auth in proptest::collection::vec(any::<u8>(), 0..48),
            privacy in proptest::collection::vec(any::<u8>(), 0..16),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let msg = OutMessage {
                msg_id: id,
                flags,
                usm: UsmParams { engine_id: engine, boots, time, user, auth, privacy },
                data: MsgData::Encrypted(body),
            };
            let (bytes, _) = msg.emit();
            let parsed = parse_message(&bytes).unwrap();
            prop_assert_eq!(parsed.msg_id, id);
            prop_assert_eq!(parsed.flags, flags);
            prop_assert_eq!(parsed.usm, msg.usm);
            prop_assert_eq!(parsed.data, msg.data);
        }

        #[test]
        fn parsing_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_message(&data);
            let _ = parse_scoped_pdu(&data);
        }
    }
}
