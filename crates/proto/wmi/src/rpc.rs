//! DCE/RPC connection-oriented PDUs (C706 chapter 12, MS-RPCE 2.2.2) and a sans-IO association.
//!
//! [`Association`] is the client side of one RPC connection: it builds the bind (with the NTLM
//! NEGOTIATE_MESSAGE), reads the bind_ack (and its CHALLENGE_MESSAGE), builds the auth3, then
//! splits each request into signed or sealed fragments and puts each response back together,
//! verifying the server's signature on every fragment. It never touches a socket: the client feeds
//! it whole fragments ([`fragment_length`] frames them) and sends what it returns.

use crate::ndr::Uuid;
use crate::ntlm::{Credentials, Nonces, NtlmClient, NtlmError, NtlmSession, SIGNATURE_LEN};
use crate::status::Status;
use std::fmt;

/// PDU type: request.
pub const PTYPE_REQUEST: u8 = 0;
/// PDU type: response.
pub const PTYPE_RESPONSE: u8 = 2;
/// PDU type: fault.
pub const PTYPE_FAULT: u8 = 3;
/// PDU type: bind.
pub const PTYPE_BIND: u8 = 11;
/// PDU type: bind_ack.
pub const PTYPE_BIND_ACK: u8 = 12;
/// PDU type: bind_nak.
pub const PTYPE_BIND_NAK: u8 = 13;
/// PDU type: alter_context.
pub const PTYPE_ALTER_CONTEXT: u8 = 14;
/// PDU type: alter_context_resp.
pub const PTYPE_ALTER_CONTEXT_RESP: u8 = 15;
/// PDU type: auth3 (MS-RPCE).
pub const PTYPE_AUTH3: u8 = 16;

/// pfc_flags: first fragment.
pub const PFC_FIRST_FRAG: u8 = 0x01;
/// pfc_flags: last fragment.
pub const PFC_LAST_FRAG: u8 = 0x02;
/// pfc_flags: an object UUID follows the request header.
pub const PFC_OBJECT_UUID: u8 = 0x80;

/// Length of the common header.
pub const HEADER_LEN: usize = 16;
/// Length of the request and response headers (common header included).
pub const CALL_HEADER_LEN: usize = 24;
/// Length of the sec_trailer that precedes an auth value.
pub const SEC_TRAILER_LEN: usize = 8;
/// auth_type of NTLM (RPC_C_AUTHN_WINNT).
pub const AUTHN_WINNT: u8 = 10;
/// The fragment size this client offers for both directions.
pub const MAX_FRAGMENT: u16 = 4280;
/// The largest response stub put back together (against endless fragment streams).
pub const MAX_RESPONSE: usize = 16 * 1024 * 1024;
/// Stub padding before the sec_trailer (as Windows and Samba do).
const AUTH_PAD_ALIGN: usize = 16;
/// The auth_context_id of every verifier of an association.
const AUTH_CONTEXT_ID: u32 = 0x0001_3581;

/// NDR 2.0 transfer syntax.
pub const NDR20: SyntaxId = SyntaxId {
    uuid: Uuid::from_u128(0x8A885D04_1CEB_11C9_9FE8_08002B104860),
    major: 2,
    minor: 0,
};

/// An interface (abstract syntax) or transfer syntax with its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyntaxId {
    /// Interface UUID.
    pub uuid: Uuid,
    /// Major version.
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl SyntaxId {
    /// A DCOM interface: its IID, version 0.0.
    pub const fn dcom(iid: Uuid) -> SyntaxId {
        SyntaxId {
            uuid: iid,
            major: 0,
            minor: 0,
        }
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.uuid.0);
        out.extend_from_slice(&self.major.to_le_bytes());
        out.extend_from_slice(&self.minor.to_le_bytes());
    }
}

/// The authentication level of an association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthLevel {
    /// Authenticated at bind only (RPC_C_AUTHN_LEVEL_CONNECT).
    Connect = 2,
    /// Every PDU signed (RPC_C_AUTHN_LEVEL_PKT_INTEGRITY).
    Integrity = 5,
    /// Every PDU signed and its stub encrypted (RPC_C_AUTHN_LEVEL_PKT_PRIVACY).
    Privacy = 6,
}

impl AuthLevel {
    /// The level's name on the command line and in logs.
    pub fn name(self) -> &'static str {
        match self {
            AuthLevel::Connect => "connect",
            AuthLevel::Integrity => "integrity",
            AuthLevel::Privacy => "privacy",
        }
    }

    /// Parses [`AuthLevel::name`].
    pub fn from_name(s: &str) -> Option<AuthLevel> {
        [AuthLevel::Connect, AuthLevel::Integrity, AuthLevel::Privacy]
            .into_iter()
            .find(|l| l.name() == s)
    }

    fn signs(self) -> bool {
        self >= AuthLevel::Integrity
    }
}

impl fmt::Display for AuthLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a PDU could not be built or accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The bytes are not a DCE/RPC connection-oriented PDU.
    #[error("not a DCE/RPC PDU: {0}")]
    BadPdu(String),
    /// Another PDU type than expected.
    #[error("expected a {expected} PDU, got type {got}")]
    Unexpected {
        /// What was expected.
        expected: &'static str,
        /// The PDU type received.
        got: u8,
    },
    /// The server refused the bind.
    #[error("the server refused the bind: {0}")]
    BindRefused(String),
    /// The server accepted none of the interfaces offered.
    #[error("the server rejected the presentation context of interface {0}")]
    ContextRejected(Uuid),
    /// The server answered with a fault.
    #[error("fault {0}")]
    Fault(Status),
    /// NTLM failed.
    #[error(transparent)]
    Ntlm(#[from] NtlmError),
    /// A reply that should carry a signature carries none.
    #[error("the reply carries no signature although {level} was negotiated")]
    Unsigned {
        /// The negotiated level.
        level: AuthLevel,
    },
    /// A reply of another call.
    #[error("reply to call {got}, expected call {expected}")]
    WrongCall {
        /// The call sent.
        expected: u32,
        /// The call answered.
        got: u32,
    },
    /// The reply grew past [`MAX_RESPONSE`].
    #[error("the reply grew past {MAX_RESPONSE} bytes")]
    TooLarge,
    /// A call before the association is authenticated.
    #[error("no authenticated association yet (bind first)")]
    NotBound,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The common header of every PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// PTYPE.
    pub ptype: u8,
    /// pfc_flags.
    pub flags: u8,
    /// frag_length: the whole fragment.
    pub frag_length: u16,
    /// auth_length: the auth value (after the sec_trailer).
    pub auth_length: u16,
    /// call_id.
    pub call_id: u32,
}

impl Header {
    /// Parses and checks the common header (version 5.0, little-endian, ASCII, IEEE floats).
    pub fn parse(b: &[u8]) -> Result<Header, RpcError> {
        let h = b
            .get(..HEADER_LEN)
            .ok_or_else(|| RpcError::BadPdu(format!("{} bytes, shorter than a header", b.len())))?;
        if h[0] != 5 || h[1] != 0 {
            return Err(RpcError::BadPdu(format!(
                "version {}.{}, expected 5.0",
                h[0], h[1]
            )));
        }
        if h[4] & 0xf0 != 0x10 {
            return Err(RpcError::BadPdu(format!(
                "data representation {:#04x}: only little-endian is spoken",
                h[4]
            )));
        }
        let header = Header {
            ptype: h[2],
            flags: h[3],
            frag_length: u16::from_le_bytes([h[8], h[9]]),
            auth_length: u16::from_le_bytes([h[10], h[11]]),
            call_id: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
        };
        if (header.frag_length as usize) < HEADER_LEN {
            return Err(RpcError::BadPdu(format!(
                "fragment length {} is shorter than the header",
                header.frag_length
            )));
        }
        Ok(header)
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[5, 0, self.ptype, self.flags, 0x10, 0, 0, 0]);
        out.extend_from_slice(&self.frag_length.to_le_bytes());
        out.extend_from_slice(&self.auth_length.to_le_bytes());
        out.extend_from_slice(&self.call_id.to_le_bytes());
    }
}

/// The whole length of the fragment whose first 16 bytes are `header` (for framing a stream).
pub fn fragment_length(header: &[u8; HEADER_LEN]) -> Result<usize, RpcError> {
    Ok(Header::parse(header)?.frag_length as usize)
}

/// The sec_trailer of an auth verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecTrailer {
    /// auth_type.
    pub auth_type: u8,
    /// auth_level.
    pub auth_level: u8,
    /// auth_pad_length: stub padding before the trailer.
    pub pad_length: u8,
    /// auth_context_id.
    pub context_id: u32,
}

impl SecTrailer {
    fn bytes(&self) -> [u8; SEC_TRAILER_LEN] {
        let c = self.context_id.to_le_bytes();
        [
            self.auth_type,
            self.auth_level,
            self.pad_length,
            0,
            c[0],
            c[1],
            c[2],
            c[3],
        ]
    }
}

/// A fragment split into its parts: header, body (after the 16-byte header, before the
/// verifier), sec_trailer and auth value.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// The common header.
    pub header: Header,
    /// Bytes between the common header and the sec_trailer.
    pub body: &'a [u8],
    /// The sec_trailer, when the fragment carries a verifier.
    pub trailer: Option<SecTrailer>,
    /// The auth value.
    pub auth_value: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// Splits one whole fragment.
    pub fn parse(pdu: &'a [u8]) -> Result<Fragment<'a>, RpcError> {
        let header = Header::parse(pdu)?;
        let frag_len = header.frag_length as usize;
        let pdu = pdu.get(..frag_len).ok_or_else(|| {
            RpcError::BadPdu(format!(
                "fragment of {} bytes announces {frag_len}",
                pdu.len()
            ))
        })?;
        if header.auth_length == 0 {
            return Ok(Fragment {
                header,
                body: &pdu[HEADER_LEN..],
                trailer: None,
                auth_value: &[],
            });
        }
        let auth_len = header.auth_length as usize;
        let trailer_at = frag_len
            .checked_sub(auth_len + SEC_TRAILER_LEN)
            .filter(|t| *t >= HEADER_LEN)
            .ok_or_else(|| {
                RpcError::BadPdu(format!(
                    "auth length {auth_len} does not fit a {frag_len}-byte fragment"
                ))
            })?;
        let t = &pdu[trailer_at..trailer_at + SEC_TRAILER_LEN];
        Ok(Fragment {
            header,
            body: &pdu[HEADER_LEN..trailer_at],
            trailer: Some(SecTrailer {
                auth_type: t[0],
                auth_level: t[1],
                pad_length: t[2],
                context_id: u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
            }),
            auth_value: &pdu[trailer_at + SEC_TRAILER_LEN..],
        })
    }
}

/// Names a bind_nak's provider_reject_reason.
pub fn reject_reason(code: u16) -> &'static str {
    match code {
        0 => "reason not specified",
        1 => "temporary congestion",
        2 => "local limit exceeded",
        4 => "protocol version not supported",
        8 => "authentication type not recognized",
        9 => "invalid checksum",
        _ => "unknown reason",
    }
}

/// What a bind_ack or alter_context_resp says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAck {
    /// max_xmit_frag: the largest fragment the server sends.
    pub max_xmit: u16,
    /// max_recv_frag: the largest fragment the server accepts.
    pub max_recv: u16,
    /// assoc_group_id.
    pub assoc_group: u32,
    /// The secondary address (the server's port, as text).
    pub secondary_address: String,
    /// One (result, reason) per presentation context offered, in order.
    pub results: Vec<(u16, u16)>,
    /// The auth value (NTLM CHALLENGE_MESSAGE), if any.
    pub auth_value: Vec<u8>,
}

/// Parses a bind_ack or alter_context_resp (a bind_nak becomes [`RpcError::BindRefused`]).
pub fn parse_bind_ack(pdu: &[u8]) -> Result<BindAck, RpcError> {
    let frag = Fragment::parse(pdu)?;
    match frag.header.ptype {
        PTYPE_BIND_ACK | PTYPE_ALTER_CONTEXT_RESP => {}
        PTYPE_BIND_NAK => {
            let code = u16_at(frag.body, 0).unwrap_or(0);
            return Err(RpcError::BindRefused(format!(
                "bind_nak, {} ({code})",
                reject_reason(code)
            )));
        }
        PTYPE_FAULT => return Err(RpcError::Fault(Status(fault_status(frag.body)))),
        got => {
            return Err(RpcError::Unexpected {
                expected: "bind_ack",
                got,
            });
        }
    }
    let b = frag.body;
    let short = || RpcError::BadPdu("bind_ack shorter than its fields".into());
    let max_xmit = u16_at(b, 0).ok_or_else(short)?;
    let max_recv = u16_at(b, 2).ok_or_else(short)?;
    let assoc_group = u32_at(b, 4).ok_or_else(short)?;
    let sec_len = u16_at(b, 8).ok_or_else(short)? as usize;
    let sec = b.get(10..10 + sec_len).ok_or_else(short)?;
    let secondary_address = String::from_utf8_lossy(sec)
        .trim_end_matches('\0')
        .to_string();
    // the result list starts 4-aligned from the start of the PDU
    let mut at = 10 + sec_len;
    at += (4 - (HEADER_LEN + at) % 4) % 4;
    let n = *b.get(at).ok_or_else(short)? as usize;
    at += 4;
    let mut results = Vec::with_capacity(n);
    for i in 0..n {
        let r = b.get(at + i * 24..at + i * 24 + 24).ok_or_else(short)?;
        results.push((
            u16::from_le_bytes([r[0], r[1]]),
            u16::from_le_bytes([r[2], r[3]]),
        ));
    }
    Ok(BindAck {
        max_xmit,
        max_recv,
        assoc_group,
        secondary_address,
        results,
        auth_value: frag.auth_value.to_vec(),
    })
}

fn fault_status(body: &[u8]) -> u32 {
    // alloc_hint(4) p_cont_id(2) cancel_count(1) reserved(1) status(4)
    u32_at(body, 8).unwrap_or(0)
}

/// One request split into the fragments to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Its call_id.
    pub call_id: u32,
    /// The fragments, in order.
    pub fragments: Vec<Vec<u8>>,
}

/// A response being put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembly {
    call_id: u32,
    stub: Vec<u8>,
    fragments: usize,
}

impl Reassembly {
    /// Fragments received so far.
    pub fn fragments(&self) -> usize {
        self.fragments
    }
}

/// A presentation context offered in a bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Context {
    id: u16,
    syntax: SyntaxId,
    accepted: bool,
}

/// The client side of one RPC connection (sans-IO).
pub struct Association {
    level: AuthLevel,
    ntlm: NtlmClient,
    session: Option<NtlmSession>,
    max_send: usize,
    next_call_id: u32,
    contexts: Vec<Context>,
    authenticated: bool,
}

impl fmt::Debug for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Association")
            .field("level", &self.level)
            .field("max_send", &self.max_send)
            .field("contexts", &self.contexts)
            .field("authenticated", &self.authenticated)
            .finish_non_exhaustive()
    }
}

impl Association {
    /// A new association that authenticates with NTLM at `level`.
    pub fn new(level: AuthLevel, credentials: Credentials, workstation: &str) -> Association {
        Association {
            level,
            ntlm: NtlmClient::new(credentials, workstation),
            session: None,
            max_send: MAX_FRAGMENT as usize,
            next_call_id: 1,
            contexts: Vec::new(),
            authenticated: false,
        }
    }

    /// The authentication level.
    pub fn level(&self) -> AuthLevel {
        self.level
    }

    fn take_call_id(&mut self) -> u32 {
        let id = self.next_call_id;
        self.next_call_id = self.next_call_id.wrapping_add(1).max(1);
        id
    }

    fn context_list(&mut self, syntaxes: &[SyntaxId], out: &mut Vec<u8>) {
        out.push(syntaxes.len() as u8);
        out.extend_from_slice(&[0, 0, 0]);
        for s in syntaxes {
            let id = self.contexts.len() as u16;
            self.contexts.push(Context {
                id,
                syntax: *s,
                accepted: false,
            });
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&[1, 0]);
            s.emit(out);
            NDR20.emit(out);
        }
    }

    fn bind_like(&mut self, ptype: u8, syntaxes: &[SyntaxId], with_auth: bool) -> Vec<u8> {
        let call_id = self.take_call_id();
        let mut body = Vec::new();
        body.extend_from_slice(&MAX_FRAGMENT.to_le_bytes());
        body.extend_from_slice(&MAX_FRAGMENT.to_le_bytes());
        body.extend_from_slice(&0u32.to_le_bytes());
        let first = self.contexts.len();
        self.contexts.truncate(first);
        self.context_list(syntaxes, &mut body);
        let auth: Vec<u8> = if with_auth {
            self.ntlm.negotiate().to_vec()
        } else {
            Vec::new()
        };
        finish_pdu(
            ptype,
            PFC_FIRST_FRAG | PFC_LAST_FRAG,
            call_id,
            &body,
            with_auth.then(|| (self.trailer(0), auth)),
        )
    }

    fn trailer(&self, pad_length: u8) -> SecTrailer {
        SecTrailer {
            auth_type: AUTHN_WINNT,
            auth_level: self.level as u8,
            pad_length,
            context_id: AUTH_CONTEXT_ID,
        }
    }

    /// The bind PDU offering `syntaxes` (context IDs 0, 1, ... in order) with the NTLM NEGOTIATE.
    pub fn bind(&mut self, syntaxes: &[SyntaxId]) -> Vec<u8> {
        self.contexts.clear();
        self.bind_like(PTYPE_BIND, syntaxes, true)
    }

    /// Reads the bind_ack: records accepted contexts, answers the CHALLENGE_MESSAGE and returns
    /// the auth3 PDU to send (the server sends nothing back to it).
    pub fn accept_bind_ack(&mut self, pdu: &[u8], nonces: Nonces) -> Result<Vec<u8>, RpcError> {
        let ack = parse_bind_ack(pdu)?;
        self.record_results(&ack)?;
        if ack.auth_value.is_empty() {
            return Err(RpcError::BindRefused(
                "the bind_ack carries no NTLM challenge".into(),
            ));
        }
        let (authenticate, session) = self.ntlm.authenticate(&ack.auth_value, nonces)?;
        self.session = Some(session);
        self.authenticated = true;
        let call_id = self.take_call_id();
        Ok(finish_pdu(
            PTYPE_AUTH3,
            PFC_FIRST_FRAG | PFC_LAST_FRAG,
            call_id,
            &[0, 0, 0, 0],
            Some((self.trailer(0), authenticate)),
        ))
    }

    fn record_results(&mut self, ack: &BindAck) -> Result<(), RpcError> {
        self.max_send = (ack.max_recv as usize).clamp(HEADER_LEN + 256, MAX_FRAGMENT as usize);
        let start = self.contexts.len().saturating_sub(ack.results.len());
        for (ctx, (result, _reason)) in self.contexts[start..].iter_mut().zip(&ack.results) {
            ctx.accepted = *result == 0;
        }
        if let Some(first) = self.contexts.get(start)
            && !self.contexts[start..].iter().any(|c| c.accepted)
        {
            return Err(RpcError::ContextRejected(first.syntax.uuid));
        }
        Ok(())
    }

    /// An alter_context PDU adding `syntaxes` to the association (no new authentication).
    pub fn alter_context(&mut self, syntaxes: &[SyntaxId]) -> Vec<u8> {
        self.bind_like(PTYPE_ALTER_CONTEXT, syntaxes, false)
    }

    /// Reads the alter_context_resp.
    pub fn accept_alter_context_resp(&mut self, pdu: &[u8]) -> Result<(), RpcError> {
        let ack = parse_bind_ack(pdu)?;
        self.record_results(&ack)
    }

    /// The context ID of an accepted interface.
    pub fn context_id(&self, syntax: &SyntaxId) -> Option<u16> {
        self.contexts
            .iter()
            .find(|c| c.accepted && c.syntax == *syntax)
            .map(|c| c.id)
    }

    /// Splits a request into fragments, each signed (and sealed at privacy).
    pub fn request(
        &mut self,
        context_id: u16,
        opnum: u16,
        object: Option<Uuid>,
        stub: &[u8],
    ) -> Result<Call, RpcError> {
        if !self.authenticated {
            return Err(RpcError::NotBound);
        }
        let call_id = self.take_call_id();
        let head_len = CALL_HEADER_LEN + if object.is_some() { 16 } else { 0 };
        let overhead = head_len
            + if self.level.signs() {
                SEC_TRAILER_LEN + SIGNATURE_LEN + AUTH_PAD_ALIGN
            } else {
                0
            };
        let chunk =
            ((self.max_send - overhead) / AUTH_PAD_ALIGN * AUTH_PAD_ALIGN).max(AUTH_PAD_ALIGN);
        let mut fragments = Vec::new();
        let mut offset = 0;
        loop {
            let end = (offset + chunk).min(stub.len());
            let mut flags = if object.is_some() { PFC_OBJECT_UUID } else { 0 };
            if offset == 0 {
                flags |= PFC_FIRST_FRAG;
            }
            if end == stub.len() {
                flags |= PFC_LAST_FRAG;
            }
            let mut body = Vec::with_capacity(head_len + end - offset + AUTH_PAD_ALIGN);
            body.extend_from_slice(&((stub.len() - offset) as u32).to_le_bytes());
            body.extend_from_slice(&context_id.to_le_bytes());
            body.extend_from_slice(&opnum.to_le_bytes());
            if let Some(o) = object {
                body.extend_from_slice(&o.0);
            }
            body.extend_from_slice(&stub[offset..end]);
            fragments.push(self.protect(
                PTYPE_REQUEST,
                flags,
                call_id,
                body,
                head_len - HEADER_LEN,
            )?);
            offset = end;
            if offset >= stub.len() {
                break;
            }
        }
        Ok(Call { call_id, fragments })
    }

    /// Adds the verifier to a request fragment: pads, seals and signs as the level says.
    fn protect(
        &mut self,
        ptype: u8,
        flags: u8,
        call_id: u32,
        mut body: Vec<u8>,
        stub_at: usize,
    ) -> Result<Vec<u8>, RpcError> {
        if !self.level.signs() {
            return Ok(finish_pdu(ptype, flags, call_id, &body, None));
        }
        let stub_len = body.len() - stub_at;
        let pad = (AUTH_PAD_ALIGN - stub_len % AUTH_PAD_ALIGN) % AUTH_PAD_ALIGN;
        body.resize(body.len() + pad, 0);
        let trailer = self.trailer(pad as u8);
        let frag_length = HEADER_LEN + body.len() + SEC_TRAILER_LEN + SIGNATURE_LEN;
        let mut header = Vec::with_capacity(HEADER_LEN);
        Header {
            ptype,
            flags,
            frag_length: frag_length as u16,
            auth_length: SIGNATURE_LEN as u16,
            call_id,
        }
        .emit(&mut header);
        let session = self.session.as_mut().ok_or(RpcError::NotBound)?;
        let trailer_bytes = trailer.bytes();
        let signature = if self.level == AuthLevel::Privacy {
            let plain = body.clone();
            session.seal(&mut body[stub_at..]);
            session.sign(&[&header, &plain, &trailer_bytes])
        } else {
            session.sign(&[&header, &body, &trailer_bytes])
        };
        let mut pdu = header;
        pdu.extend_from_slice(&body);
        pdu.extend_from_slice(&trailer_bytes);
        pdu.extend_from_slice(&signature);
        Ok(pdu)
    }

    /// Starts putting the response to `call` together.
    pub fn reassembly(&self, call: &Call) -> Reassembly {
        Reassembly {
            call_id: call.call_id,
            stub: Vec::new(),
            fragments: 0,
        }
    }

    /// Takes one response fragment: verifies and unseals it; returns the whole stub after the
    /// last fragment. A fault becomes [`RpcError::Fault`].
    pub fn accept_response(
        &mut self,
        asm: &mut Reassembly,
        pdu: &[u8],
    ) -> Result<Option<Vec<u8>>, RpcError> {
        let frag = Fragment::parse(pdu)?;
        let h = frag.header;
        if h.ptype == PTYPE_FAULT {
            return Err(RpcError::Fault(Status(fault_status(frag.body))));
        }
        if h.ptype != PTYPE_RESPONSE {
            return Err(RpcError::Unexpected {
                expected: "response",
                got: h.ptype,
            });
        }
        if h.call_id != asm.call_id {
            return Err(RpcError::WrongCall {
                expected: asm.call_id,
                got: h.call_id,
            });
        }
        if asm.fragments == 0 && h.flags & PFC_FIRST_FRAG == 0 {
            return Err(RpcError::BadPdu(
                "first response fragment lacks PFC_FIRST_FRAG".into(),
            ));
        }
        const BODY_HEAD: usize = CALL_HEADER_LEN - HEADER_LEN;
        if frag.body.len() < BODY_HEAD {
            return Err(RpcError::BadPdu("response shorter than its header".into()));
        }
        let stub = if self.level.signs() {
            self.unprotect(pdu, &frag)?
        } else {
            frag.body[BODY_HEAD..].to_vec()
        };
        if asm.stub.len() + stub.len() > MAX_RESPONSE {
            return Err(RpcError::TooLarge);
        }
        asm.stub.extend_from_slice(&stub);
        asm.fragments += 1;
        if h.flags & PFC_LAST_FRAG != 0 {
            Ok(Some(std::mem::take(&mut asm.stub)))
        } else {
            Ok(None)
        }
    }

    /// Checks a response fragment's verifier; returns its stub, unsealed and without padding.
    fn unprotect(&mut self, pdu: &[u8], frag: &Fragment<'_>) -> Result<Vec<u8>, RpcError> {
        const BODY_HEAD: usize = CALL_HEADER_LEN - HEADER_LEN;
        let trailer = frag
            .trailer
            .ok_or(RpcError::Unsigned { level: self.level })?;
        if trailer.auth_type != AUTHN_WINNT || trailer.auth_level < self.level as u8 {
            return Err(RpcError::BadPdu(format!(
                "verifier of type {} at level {}, expected NTLM at {}",
                trailer.auth_type, trailer.auth_level, self.level as u8
            )));
        }
        let pad = trailer.pad_length as usize;
        let body_len = frag.body.len();
        if pad > body_len - BODY_HEAD {
            return Err(RpcError::BadPdu(format!(
                "auth padding {pad} is longer than the stub"
            )));
        }
        let session = self.session.as_mut().ok_or(RpcError::NotBound)?;
        let mut body = frag.body.to_vec();
        if trailer.auth_level >= AuthLevel::Privacy as u8 {
            session.unseal(&mut body[BODY_HEAD..]);
        }
        let trailer_bytes = pdu
            .get(HEADER_LEN + body_len..HEADER_LEN + body_len + SEC_TRAILER_LEN)
            .ok_or_else(|| RpcError::BadPdu("sec_trailer missing".into()))?;
        session.verify(&[&pdu[..HEADER_LEN], &body, trailer_bytes], frag.auth_value)?;
        body.truncate(body_len - pad);
        Ok(body.split_off(BODY_HEAD))
    }
}

/// Header + body + optional (sec_trailer, auth value), with lengths filled in.
fn finish_pdu(
    ptype: u8,
    flags: u8,
    call_id: u32,
    body: &[u8],
    auth: Option<(SecTrailer, Vec<u8>)>,
) -> Vec<u8> {
    let auth_len = auth.as_ref().map(|(_, v)| v.len()).unwrap_or(0);
    let trailer_len = if auth.is_some() { SEC_TRAILER_LEN } else { 0 };
    let frag_length = HEADER_LEN + body.len() + trailer_len + auth_len;
    let mut pdu = Vec::with_capacity(frag_length);
    Header {
        ptype,
        flags,
        frag_length: frag_length as u16,
        auth_length: auth_len as u16,
        call_id,
    }
    .emit(&mut pdu);
    pdu.extend_from_slice(body);
    if let Some((t, v)) = auth {
        pdu.extend_from_slice(&t.bytes());
        pdu.extend_from_slice(&v);
    }
    pdu
}

#[cfg(test)]
pub(crate) mod tests {
    //! A scripted server side (the keys mirrored) checks the client byte for byte.
    use super::*;
    use crate::ntlm::{self, CLIENT_FLAGS};
    use proptest::prelude::*;

    const IFACE: SyntaxId = SyntaxId::dcom(Uuid::from_u128(0x000001A0_0000_0000_C000_000000000046));

    /// A CHALLENGE_MESSAGE like a Windows server's (with a timestamp, so the client adds a MIC).
    pub(crate) fn challenge() -> Vec<u8> {
        let info = ntlm::encode_av_pairs(&[
            ntlm::AvPair {
                id: 2,
                value: crate::ndr::utf16le("LAB"),
            },
            ntlm::AvPair {
                id: 7,
                value: 0x01d7_0000_0000_0000u64.to_le_bytes().to_vec(),
            },
        ]);
        let mut m = b"NTLMSSP\0\x02\0\0\0".to_vec();
        m.extend_from_slice(&[0, 0, 0, 0, 48, 0, 0, 0]);
        m.extend_from_slice(&(CLIENT_FLAGS | ntlm::NEGOTIATE_TARGET_INFO).to_le_bytes());
        m.extend_from_slice(&[9; 8]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&(info.len() as u16).to_le_bytes());
        m.extend_from_slice(&(info.len() as u16).to_le_bytes());
        m.extend_from_slice(&48u32.to_le_bytes());
        m.extend_from_slice(&info);
        m
    }

    pub(crate) fn bind_ack(n: usize, accepted: usize, challenge: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&4280u16.to_le_bytes());
        body.extend_from_slice(&4280u16.to_le_bytes());
        body.extend_from_slice(&0x1234u32.to_le_bytes());
        body.extend_from_slice(&4u16.to_le_bytes());
        body.extend_from_slice(b"135\0");
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&[n as u8, 0, 0, 0]);
        for i in 0..n {
            let r: u16 = if i < accepted { 0 } else { 2 };
            body.extend_from_slice(&r.to_le_bytes());
            body.extend_from_slice(&r.to_le_bytes());
            NDR20.emit(&mut body);
        }
        finish_pdu(
            PTYPE_BIND_ACK,
            3,
            1,
            &body,
            Some((
                SecTrailer {
                    auth_type: 10,
                    auth_level: 6,
                    pad_length: 0,
                    context_id: AUTH_CONTEXT_ID,
                },
                challenge.to_vec(),
            )),
        )
    }

    pub(crate) const NONCES: Nonces = Nonces {
        client_challenge: [0xaa; 8],
        session_key: [0x55; 16],
        time: [0; 8],
    };

    /// The server's view of the session: keys swapped.
    pub(crate) fn server_session() -> NtlmSession {
        NtlmSession::new_server(CLIENT_FLAGS, &NONCES.session_key)
    }

    pub(crate) fn bound(level: AuthLevel) -> Association {
        let mut a = Association::new(level, Credentials::parse("LAB\\alice", "pw"), "OTSENSOR");
        let _ = a.bind(&[IFACE]);
        a.accept_bind_ack(&bind_ack(1, 1, &challenge()), NONCES)
            .unwrap();
        a
    }

    /// A response the way the testbed responder builds one.
    pub(crate) fn response(
        server: &mut NtlmSession,
        level: AuthLevel,
        call_id: u32,
        flags: u8,
        stub: &[u8],
    ) -> Vec<u8> {
        let pad = (4 - stub.len() % 4) % 4;
        let mut body = Vec::new();
        body.extend_from_slice(&(stub.len() as u32).to_le_bytes());
        body.extend_from_slice(&[0, 0, 0, 0]);
        body.extend_from_slice(stub);
        body.resize(body.len() + pad, 0);
        let trailer = SecTrailer {
            auth_type: 10,
            auth_level: level as u8,
            pad_length: pad as u8,
            context_id: AUTH_CONTEXT_ID,
        }
        .bytes();
        let mut header = Vec::new();
        Header {
            ptype: PTYPE_RESPONSE,
            flags,
            frag_length: (16 + body.len() + 8 + 16) as u16,
            auth_length: 16,
            call_id,
        }
        .emit(&mut header);
        let sig = if level == AuthLevel::Privacy {
            let plain = body.clone();
            server.seal(&mut body[8..]);
            server.sign(&[&header, &plain, &trailer])
        } else {
            server.sign(&[&header, &body, &trailer])
        };
        let mut pdu = header;
        pdu.extend_from_slice(&body);
        pdu.extend_from_slice(&trailer);
        pdu.extend_from_slice(&sig);
        pdu
    }

    #[test]
    fn bind_offers_each_interface_with_ndr_and_the_ntlm_negotiate() {
        let mut a = Association::new(AuthLevel::Privacy, Credentials::parse("u", "p"), "X");
        let pdu = a.bind(&[IFACE, SyntaxId::dcom(Uuid::from_u128(7))]);
        let f = Fragment::parse(&pdu).unwrap();
        assert_eq!(f.header.ptype, PTYPE_BIND);
        assert_eq!(f.header.frag_length as usize, pdu.len());
        assert_eq!(f.body[8], 2, "two contexts");
        assert_eq!(&f.body[12 + 4..12 + 20], &IFACE.uuid.0);
        assert_eq!(f.trailer.unwrap().auth_level, 6);
        assert!(f.auth_value.starts_with(b"NTLMSSP\0\x01\0\0\0"));
    }

    #[test]
    fn bind_ack_results_and_challenge_give_an_auth3() {
        let mut a = Association::new(AuthLevel::Integrity, Credentials::parse("u", "p"), "X");
        let _ = a.bind(&[IFACE, SyntaxId::dcom(Uuid::from_u128(7))]);
        let auth3 = a
            .accept_bind_ack(&bind_ack(2, 1, &challenge()), NONCES)
            .unwrap();
        assert_eq!(a.context_id(&IFACE), Some(0));
        assert_eq!(a.context_id(&SyntaxId::dcom(Uuid::from_u128(7))), None);
        let f = Fragment::parse(&auth3).unwrap();
        assert_eq!(f.header.ptype, PTYPE_AUTH3);
        assert!(f.auth_value.starts_with(b"NTLMSSP\0\x03\0\0\0"));
    }

    #[test]
    fn a_bind_nak_names_its_reason() {
        let pdu = finish_pdu(PTYPE_BIND_NAK, 3, 1, &[8, 0, 0, 0], None);
        let e = parse_bind_ack(&pdu).unwrap_err();
        assert!(
            e.to_string().contains("authentication type not recognized"),
            "{e}"
        );
    }

    #[test]
    fn sealed_requests_unseal_and_verify_on_the_server_side() {
        for level in [AuthLevel::Integrity, AuthLevel::Privacy] {
            let mut a = bound(level);
            let mut server = server_session();
            let stub: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
            let object = Uuid::from_u128(0xA2);
            let call = a.request(0, 6, Some(object), &stub).unwrap();
            assert!(call.fragments.len() > 2, "split into fragments");
            let mut got = Vec::new();
            for (i, pdu) in call.fragments.iter().enumerate() {
                assert!(pdu.len() <= MAX_FRAGMENT as usize);
                let f = Fragment::parse(pdu).unwrap();
                assert_eq!(f.header.flags & PFC_FIRST_FRAG != 0, i == 0);
                assert_eq!(
                    f.header.flags & PFC_LAST_FRAG != 0,
                    i + 1 == call.fragments.len()
                );
                assert_eq!(&f.body[8..24], &object.0);
                let t = f.trailer.unwrap();
                let mut body = f.body.to_vec();
                if level == AuthLevel::Privacy {
                    server.unseal(&mut body[24..]);
                    assert_ne!(&body[24..], &f.body[24..]);
                }
                let trailer = &pdu[16 + body.len()..16 + body.len() + 8];
                server
                    .verify(&[&pdu[..16], &body, trailer], f.auth_value)
                    .unwrap();
                got.extend_from_slice(&body[24..body.len() - t.pad_length as usize]);
            }
            assert_eq!(got, stub);
        }
    }

    #[test]
    fn signed_and_sealed_responses_verify_and_reassemble() {
        for level in [AuthLevel::Integrity, AuthLevel::Privacy] {
            let mut a = bound(level);
            let mut server = server_session();
            let call = a.request(0, 4, None, b"hello").unwrap();
            let mut asm = a.reassembly(&call);
            let r1 = response(
                &mut server,
                level,
                call.call_id,
                PFC_FIRST_FRAG,
                b"first part ",
            );
            let r2 = response(
                &mut server,
                level,
                call.call_id,
                PFC_LAST_FRAG,
                b"second part",
            );
            assert_eq!(a.accept_response(&mut asm, &r1).unwrap(), None);
            assert_eq!(
                a.accept_response(&mut asm, &r2).unwrap().unwrap(),
                b"first part second part".to_vec()
            );
        }
    }

    #[test]
    fn a_response_with_a_bad_signature_is_refused() {
        let mut a = bound(AuthLevel::Integrity);
        let mut server = server_session();
        let call = a.request(0, 4, None, b"x").unwrap();
        let mut asm = a.reassembly(&call);
        let mut r = response(
            &mut server,
            AuthLevel::Integrity,
            call.call_id,
            3,
            b"answer",
        );
        let n = r.len();
        r[n - 10] ^= 0x40;
        assert!(matches!(
            a.accept_response(&mut asm, &r),
            Err(RpcError::Ntlm(NtlmError::BadSignature { seq: 0 }))
        ));
    }

    #[test]
    fn an_unsigned_response_is_refused_when_integrity_was_negotiated() {
        let mut a = bound(AuthLevel::Privacy);
        let call = a.request(0, 4, None, b"x").unwrap();
        let mut asm = a.reassembly(&call);
        let r = finish_pdu(PTYPE_RESPONSE, 3, call.call_id, &[0; 12], None);
        assert_eq!(
            a.accept_response(&mut asm, &r),
            Err(RpcError::Unsigned {
                level: AuthLevel::Privacy
            })
        );
    }

    #[test]
    fn faults_carry_their_status() {
        let mut a = bound(AuthLevel::Privacy);
        let call = a.request(0, 4, None, b"x").unwrap();
        let mut asm = a.reassembly(&call);
        let mut body = vec![0u8; 8];
        body.extend_from_slice(&5u32.to_le_bytes());
        body.extend_from_slice(&[0; 4]);
        let r = finish_pdu(PTYPE_FAULT, 3, call.call_id, &body, None);
        assert_eq!(
            a.accept_response(&mut asm, &r),
            Err(RpcError::Fault(Status(5)))
        );
    }

    #[test]
    fn connect_level_sends_no_verifier() {
        let mut a = bound(AuthLevel::Connect);
        let call = a.request(0, 4, None, b"abc").unwrap();
        let f = Fragment::parse(&call.fragments[0]).unwrap();
        assert_eq!(f.trailer, None);
        assert_eq!(&f.body[8..], b"abc");
    }

    proptest! {
        #[test]
        fn pdu_decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Fragment::parse(&data);
            let _ = parse_bind_ack(&data);
            let mut a = bound(AuthLevel::Privacy);
            let call = a.request(0, 4, None, b"x").unwrap();
            let mut asm = a.reassembly(&call);
            let _ = a.accept_response(&mut asm, &data);
        }

        #[test]
        fn valid_headers_with_arbitrary_bodies_never_panic(
            ptype in prop_oneof![Just(2u8), Just(3), Just(12), Just(13), Just(15)],
            auth_len in 0u16..64,
            body in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut pdu = vec![5, 0, ptype, 3, 0x10, 0, 0, 0];
            pdu.extend_from_slice(&((16 + body.len()) as u16).to_le_bytes());
            pdu.extend_from_slice(&auth_len.to_le_bytes());
            pdu.extend_from_slice(&2u32.to_le_bytes());
            pdu.extend_from_slice(&body);
            let _ = parse_bind_ack(&pdu);
            let mut a = bound(AuthLevel::Integrity);
            let call = a.request(0, 4, None, b"x").unwrap();
            let mut asm = a.reassembly(&call);
            let _ = a.accept_response(&mut asm, &pdu);
        }
    }
}
