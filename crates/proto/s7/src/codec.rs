//! The S7comm wire codec: TPKT (RFC 1006), COTP class 0 (ISO 8073), the S7 header, Setup
//! Communication, and the userdata "read SZL" exchange.
//!
//! Pure functions over bytes: [`Request`] emits the only frames otsensor sends, the `parse_*`
//! functions decode what comes back. Every length from the wire is checked before use, and no
//! input makes them panic. SZL payloads are decoded further in [`crate::szl`].

use std::fmt;

/// TPKT version (RFC 1006).
pub const TPKT_VERSION: u8 = 3;
/// Length of the TPKT header: version, reserved, 16-bit length.
pub const TPKT_HEADER_LEN: usize = 4;
/// Smallest TPKT length a reply may carry: header plus the shortest COTP TPDU (a data TPDU).
pub const MIN_TPKT_LEN: usize = TPKT_HEADER_LEN + 3;
/// Largest TPKT length accepted. We ask for 1024-byte TPDUs; anything much larger is refused
/// before allocating.
pub const MAX_TPKT_LEN: usize = 4096;

/// COTP TPDU code: connection request (CR).
pub const COTP_CR: u8 = 0xE0;
/// COTP TPDU code: connection confirm (CC).
pub const COTP_CC: u8 = 0xD0;
/// COTP TPDU code: disconnect request (DR).
pub const COTP_DR: u8 = 0x80;
/// COTP TPDU code: data (DT).
pub const COTP_DT: u8 = 0xF0;
/// COTP TPDU code: TPDU error (ER).
pub const COTP_ER: u8 = 0x70;
/// COTP parameter: TPDU size (as a power of two).
pub const COTP_PARAM_TPDU_SIZE: u8 = 0xC0;
/// COTP parameter: calling (our) TSAP.
pub const COTP_PARAM_CALLING_TSAP: u8 = 0xC1;
/// COTP parameter: called (the device's) TSAP.
pub const COTP_PARAM_CALLED_TSAP: u8 = 0xC2;
/// The TPDU size we ask for: 2^10 = 1024 bytes.
pub const TPDU_SIZE_1024: u8 = 0x0A;
/// End-of-TSDU bit of a data TPDU: the last TPDU of an S7 PDU.
pub const COTP_EOT: u8 = 0x80;

/// S7comm protocol identifier.
pub const S7_PROTOCOL_ID: u8 = 0x32;
/// ROSCTR (message type): job request.
pub const ROSCTR_JOB: u8 = 0x01;
/// ROSCTR: acknowledgement without data.
pub const ROSCTR_ACK: u8 = 0x02;
/// ROSCTR: acknowledgement with data.
pub const ROSCTR_ACK_DATA: u8 = 0x03;
/// ROSCTR: userdata (CPU functions such as SZL reads).
pub const ROSCTR_USERDATA: u8 = 0x07;
/// Job function code: Setup Communication.
pub const FN_SETUP_COMMUNICATION: u8 = 0xF0;
/// Userdata function group: CPU functions (SZL).
pub const UD_GROUP_CPU: u8 = 0x04;
/// Userdata subfunction of the CPU group: read SZL.
pub const UD_SUBFN_READ_SZL: u8 = 0x01;
/// Userdata type nibble: request.
pub const UD_TYPE_REQUEST: u8 = 0x4;
/// Userdata type nibble: response.
pub const UD_TYPE_RESPONSE: u8 = 0x8;
/// Userdata method: request.
pub const UD_METHOD_REQUEST: u8 = 0x11;
/// Userdata method: response (also used by the follow-up request of a fragmented answer).
pub const UD_METHOD_RESPONSE: u8 = 0x12;
/// Data item return code: success.
pub const RETURN_SUCCESS: u8 = 0xFF;
/// Data item return code: object does not exist.
pub const RETURN_OBJECT_MISSING: u8 = 0x0A;
/// Data transport size: octet string (length in bytes).
pub const TRANSPORT_OCTET_STRING: u8 = 0x09;

/// The PDU size we propose in Setup Communication (the device may lower it).
pub const PROPOSED_PDU_SIZE: u16 = 480;
/// The local TSAP we call from: connection type PG (programming device), rack 0, slot 0.
pub const LOCAL_TSAP: Tsap = Tsap(0x0100);

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The TPKT version is not 3: not ISO-on-TCP.
    #[error("TPKT version {0} is not 3 (not ISO-on-TCP, RFC 1006)")]
    NotTpkt(u8),
    /// The TPKT length is impossible or above what we accept.
    #[error("TPKT length {0} is outside the accepted range {MIN_TPKT_LEN} to {MAX_TPKT_LEN}")]
    BadTpktLength(usize),
    /// A field ran past the end of what was received.
    #[error("{what} truncated: needs {need} bytes, {have} present")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The COTP length indicator points past the TPDU.
    #[error("COTP length indicator {li} exceeds the {len}-byte TPDU")]
    BadCotpLength {
        /// The length indicator.
        li: u8,
        /// The TPDU length.
        len: usize,
    },
    /// A COTP TPDU of a kind that does not answer what was sent.
    #[error("unexpected COTP TPDU {code:#04x} ({name}) where {expected} was expected")]
    UnexpectedCotp {
        /// The TPDU code.
        code: u8,
        /// Its name.
        name: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// The S7 protocol identifier is not 0x32.
    #[error("protocol identifier {0:#04x} is not S7comm (0x32)")]
    NotS7(u8),
    /// An S7 message type that does not answer the request.
    #[error("S7 message type (ROSCTR) {got:#04x} does not answer a request of type {sent:#04x}")]
    WrongRosctr {
        /// The request's type.
        sent: u8,
        /// What came back.
        got: u8,
    },
    /// The S7 reply does not carry the expected function or subfunction.
    #[error("S7 reply carries {what} {got:#04x}, expected {want:#04x}")]
    WrongFunction {
        /// Which field.
        what: &'static str,
        /// Expected value.
        want: u8,
        /// Received value.
        got: u8,
    },
    /// The reply names another SZL than the one asked for.
    #[error("answer is SZL 0x{got:04X}, asked for SZL 0x{want:04X}")]
    WrongSzl {
        /// Asked for.
        want: u16,
        /// Answered.
        got: u16,
    },
}

fn take<'a>(
    bytes: &'a [u8],
    at: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], CodecError> {
    bytes
        .get(at..at.saturating_add(len))
        .ok_or(CodecError::Truncated {
            what,
            need: at.saturating_add(len),
            have: bytes.len(),
        })
}

fn be16(bytes: &[u8], at: usize, what: &'static str) -> Result<u16, CodecError> {
    let b = take(bytes, at, 2, what)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn byte(bytes: &[u8], at: usize, what: &'static str) -> Result<u8, CodecError> {
    Ok(take(bytes, at, 1, what)?[0])
}

/// A transport service access point: which S7 service of the device a connection reaches.
///
/// The device's TSAP of an S7 CPU is `connection type << 8 | rack << 5 | slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tsap(pub u16);

impl Tsap {
    /// Connection type PG (programming device).
    pub const TYPE_PG: u8 = 0x01;

    /// The PG TSAP of the module in `rack` (0-7) at `slot` (0-31).
    pub const fn rack_slot(rack: u8, slot: u8) -> Tsap {
        Tsap(((Tsap::TYPE_PG as u16) << 8) | (((rack & 0x07) as u16) << 5) | (slot & 0x1F) as u16)
    }

    /// The connection type (high byte): 1 PG, 2 OP, 3 S7 basic.
    pub const fn connection_type(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The rack number encoded in the low byte.
    pub const fn rack(self) -> u8 {
        ((self.0 >> 5) & 0x07) as u8
    }

    /// The slot number encoded in the low byte.
    pub const fn slot(self) -> u8 {
        (self.0 & 0x1F) as u8
    }
}

impl fmt::Display for Tsap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#06x} (type {}, rack {}, slot {})",
            self.0,
            self.connection_type(),
            self.rack(),
            self.slot()
        )
    }
}

/// The SZL partial lists otsensor reads. There is no other (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SzlRead {
    /// SZL 0x0011 index 0: all module identification records (order code, hardware, firmware).
    ModuleIdentification,
    /// SZL 0x001C index 0: all component identification records (names, serial, module type).
    ComponentIdentification,
    /// SZL 0x0424 index 0: the current mode transition (CPU operating state).
    OperatingState,
    /// SZL 0x0D91 index 0: module status of every module in the central rack (rack 0).
    RackModules,
}

impl SzlRead {
    /// Every SZL read, in the order the probe asks them.
    pub const ALL: [SzlRead; 4] = [
        SzlRead::ModuleIdentification,
        SzlRead::ComponentIdentification,
        SzlRead::OperatingState,
        SzlRead::RackModules,
    ];

    /// The SZL ID.
    pub const fn id(self) -> u16 {
        match self {
            SzlRead::ModuleIdentification => 0x0011,
            SzlRead::ComponentIdentification => 0x001C,
            SzlRead::OperatingState => 0x0424,
            SzlRead::RackModules => 0x0D91,
        }
    }

    /// The SZL index (always 0: all records, or rack 0).
    pub const fn index(self) -> u16 {
        0x0000
    }

    /// What the partial list holds.
    pub const fn name(self) -> &'static str {
        match self {
            SzlRead::ModuleIdentification => "module identification",
            SzlRead::ComponentIdentification => "component identification",
            SzlRead::OperatingState => "CPU operating state",
            SzlRead::RackModules => "modules of rack 0",
        }
    }
}

impl fmt::Display for SzlRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SZL 0x{:04X} ({})", self.id(), self.name())
    }
}

/// A request this crate can send. There is no other (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// COTP connection request from [`LOCAL_TSAP`] to `called`, asking for 1024-byte TPDUs.
    ConnectionRequest {
        /// The device's TSAP.
        called: Tsap,
    },
    /// S7 job: Setup Communication, proposing [`PROPOSED_PDU_SIZE`] and one parallel job each way.
    SetupCommunication {
        /// PDU reference, echoed by the device.
        pdu_ref: u16,
    },
    /// S7 userdata: read one SZL partial list.
    ReadSzl {
        /// PDU reference, echoed by the device.
        pdu_ref: u16,
        /// Which list.
        szl: SzlRead,
    },
    /// S7 userdata: ask for the next fragment of an SZL answer that did not fit one PDU.
    ReadSzlNext {
        /// PDU reference, echoed by the device.
        pdu_ref: u16,
        /// The sequence number the device gave the answer.
        sequence: u8,
    },
}

impl Request {
    /// A short name for logs and errors.
    pub fn name(&self) -> String {
        match self {
            Request::ConnectionRequest { called } => {
                format!("COTP connection request to TSAP {called}")
            }
            Request::SetupCommunication { .. } => "S7 Setup Communication".into(),
            Request::ReadSzl { szl, .. } => format!("read {szl}"),
            Request::ReadSzlNext { .. } => "read SZL (next fragment)".into(),
        }
    }

    /// The S7 PDU of the request (none for the COTP connection request).
    pub fn s7_pdu(&self) -> Option<Vec<u8>> {
        match *self {
            Request::ConnectionRequest { .. } => None,
            Request::SetupCommunication { pdu_ref } => {
                let mut params = vec![FN_SETUP_COMMUNICATION, 0x00];
                params.extend_from_slice(&1u16.to_be_bytes()); // max AmQ calling
                params.extend_from_slice(&1u16.to_be_bytes()); // max AmQ called
                params.extend_from_slice(&PROPOSED_PDU_SIZE.to_be_bytes());
                Some(s7_message(ROSCTR_JOB, pdu_ref, &params, &[]))
            }
            Request::ReadSzl { pdu_ref, szl } => {
                let params = userdata_params(UD_METHOD_REQUEST, 0, None);
                let mut data = vec![RETURN_SUCCESS, TRANSPORT_OCTET_STRING, 0x00, 0x04];
                data.extend_from_slice(&szl.id().to_be_bytes());
                data.extend_from_slice(&szl.index().to_be_bytes());
                Some(s7_message(ROSCTR_USERDATA, pdu_ref, &params, &data))
            }
            Request::ReadSzlNext { pdu_ref, sequence } => {
                let params = userdata_params(UD_METHOD_RESPONSE, sequence, Some(()));
                let data = [RETURN_OBJECT_MISSING, 0x00, 0x00, 0x00];
                Some(s7_message(ROSCTR_USERDATA, pdu_ref, &params, &data))
            }
        }
    }

    /// The whole frame on the wire: TPKT, COTP and (for S7 requests) the S7 PDU.
    pub fn frame(&self) -> Vec<u8> {
        match (self, self.s7_pdu()) {
            (Request::ConnectionRequest { called }, _) => tpkt(&connection_request(*called)),
            (_, Some(pdu)) => {
                let mut cotp = vec![0x02, COTP_DT, COTP_EOT];
                cotp.extend_from_slice(&pdu);
                tpkt(&cotp)
            }
            (_, None) => Vec::new(),
        }
    }
}

/// The userdata parameter block of a request: 4 bytes of head and length, then method,
/// type/group, subfunction and sequence; the follow-up form adds data unit reference, last data
/// unit and error code.
fn userdata_params(method: u8, sequence: u8, follow_up: Option<()>) -> Vec<u8> {
    let len = if follow_up.is_some() { 8 } else { 4 };
    let mut params = vec![
        0x00,
        0x01,
        0x12,
        len,
        method,
        (UD_TYPE_REQUEST << 4) | UD_GROUP_CPU,
        UD_SUBFN_READ_SZL,
        sequence,
    ];
    if follow_up.is_some() {
        params.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]);
    }
    params
}

fn s7_message(rosctr: u8, pdu_ref: u16, params: &[u8], data: &[u8]) -> Vec<u8> {
    let mut pdu = vec![S7_PROTOCOL_ID, rosctr, 0x00, 0x00];
    pdu.extend_from_slice(&pdu_ref.to_be_bytes());
    pdu.extend_from_slice(&(params.len() as u16).to_be_bytes());
    pdu.extend_from_slice(&(data.len() as u16).to_be_bytes());
    pdu.extend_from_slice(params);
    pdu.extend_from_slice(data);
    pdu
}

fn connection_request(called: Tsap) -> Vec<u8> {
    let mut cr = vec![
        0x00, // length indicator, set below
        COTP_CR,
        0x00,
        0x00, // destination reference
        0x00,
        0x01, // source reference
        0x00, // class 0
        COTP_PARAM_TPDU_SIZE,
        1,
        TPDU_SIZE_1024,
        COTP_PARAM_CALLING_TSAP,
        2,
    ];
    cr.extend_from_slice(&LOCAL_TSAP.0.to_be_bytes());
    cr.extend_from_slice(&[COTP_PARAM_CALLED_TSAP, 2]);
    cr.extend_from_slice(&called.0.to_be_bytes());
    cr[0] = (cr.len() - 1) as u8;
    cr
}

/// Wraps a COTP TPDU in a TPKT header.
pub fn tpkt(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + TPKT_HEADER_LEN).min(usize::from(u16::MAX)) as u16;
    let mut frame = vec![TPKT_VERSION, 0x00];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Checks a TPKT header; returns the length of the COTP TPDU that follows it.
pub fn parse_tpkt_header(header: &[u8; TPKT_HEADER_LEN]) -> Result<usize, CodecError> {
    if header[0] != TPKT_VERSION {
        return Err(CodecError::NotTpkt(header[0]));
    }
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if !(MIN_TPKT_LEN..=MAX_TPKT_LEN).contains(&len) {
        return Err(CodecError::BadTpktLength(len));
    }
    Ok(len - TPKT_HEADER_LEN)
}

/// The name of a COTP TPDU code.
pub fn cotp_name(code: u8) -> &'static str {
    match code & 0xF0 {
        COTP_CR => "connection request",
        COTP_CC => "connection confirm",
        COTP_DR => "disconnect request",
        0xC0 => "disconnect confirm",
        COTP_DT => "data",
        COTP_ER => "TPDU error",
        _ => "unknown TPDU",
    }
}

/// The ISO 8073 meaning of a disconnect reason.
pub fn disconnect_reason_name(reason: u8) -> &'static str {
    match reason {
        0x00 => "reason not specified",
        0x01 => "congestion at TSAP",
        0x02 => "session entity not attached to TSAP",
        0x03 => "address unknown",
        0x80 => "normal disconnect",
        0x81 => "remote transport entity congestion",
        0x82 => "connection negotiation failed",
        0x83 => "duplicate source reference",
        0x84 => "mismatched references",
        0x85 => "protocol error",
        0x87 => "reference overflow",
        0x88 => "connection request refused on this network connection",
        0x8A => "header or parameter length invalid",
        _ => "unknown reason",
    }
}

/// A decoded COTP TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cotp<'a> {
    /// Connection confirm: the device accepted the TSAP.
    ConnectionConfirm {
        /// The TPDU size the device agreed to, in bytes, if it said.
        tpdu_size: Option<usize>,
        /// The called TSAP the device echoed, if it did.
        called: Option<Tsap>,
    },
    /// Disconnect request: the device refused (or ended) the connection.
    DisconnectRequest {
        /// The ISO 8073 reason code.
        reason: u8,
    },
    /// TPDU error: the device rejected our TPDU.
    Error {
        /// The reject cause.
        cause: u8,
    },
    /// A data TPDU carrying (part of) an S7 PDU.
    Data {
        /// Whether this is the last TPDU of the S7 PDU (end of TSDU).
        last: bool,
        /// The bytes carried.
        payload: &'a [u8],
    },
    /// Another TPDU code.
    Other(u8),
}

/// Decodes one COTP TPDU (the TPKT payload).
pub fn parse_cotp(tpdu: &[u8]) -> Result<Cotp<'_>, CodecError> {
    let li = byte(tpdu, 0, "COTP length indicator")?;
    let header_end = usize::from(li) + 1;
    if header_end > tpdu.len() || li < 1 {
        return Err(CodecError::BadCotpLength {
            li,
            len: tpdu.len(),
        });
    }
    let code = tpdu[1];
    let header = &tpdu[..header_end];
    match code & 0xF0 {
        COTP_DT => {
            let eot = byte(header, 2, "COTP data header")?;
            Ok(Cotp::Data {
                last: eot & COTP_EOT != 0,
                payload: &tpdu[header_end..],
            })
        }
        COTP_CC => {
            take(header, 2, 5, "COTP connection confirm")?;
            let mut tpdu_size = None;
            let mut called = None;
            for (kind, value) in cotp_params(&header[7..]) {
                match (kind, value) {
                    (COTP_PARAM_TPDU_SIZE, [exp]) if (7..=13).contains(exp) => {
                        tpdu_size = Some(1usize << exp)
                    }
                    (COTP_PARAM_CALLED_TSAP, [hi, lo]) => {
                        called = Some(Tsap(u16::from_be_bytes([*hi, *lo])))
                    }
                    _ => {}
                }
            }
            Ok(Cotp::ConnectionConfirm { tpdu_size, called })
        }
        COTP_DR => {
            let reason = byte(header, 6, "COTP disconnect reason").unwrap_or(0);
            Ok(Cotp::DisconnectRequest { reason })
        }
        COTP_ER => {
            let cause = byte(header, 4, "COTP reject cause").unwrap_or(0);
            Ok(Cotp::Error { cause })
        }
        _ => Ok(Cotp::Other(code)),
    }
}

/// The variable part of a COTP header: (code, value) pairs, stopping at the first that does not fit.
fn cotp_params(mut rest: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&kind, after) = rest.split_first()?;
        let (&len, after) = after.split_first()?;
        let value = after.get(..usize::from(len))?;
        rest = &after[usize::from(len)..];
        Some((kind, value))
    })
}

/// The fixed S7 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S7Header {
    /// Message type.
    pub rosctr: u8,
    /// PDU reference, echoed from the request.
    pub pdu_ref: u16,
    /// Length of the parameter block.
    pub param_len: u16,
    /// Length of the data block.
    pub data_len: u16,
    /// Error class (acknowledgements only).
    pub error_class: u8,
    /// Error code (acknowledgements only).
    pub error_code: u8,
}

/// A decoded S7 PDU: header, parameter block and data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S7Pdu<'a> {
    /// The header.
    pub header: S7Header,
    /// The parameter block (complete).
    pub params: &'a [u8],
    /// The data block: what arrived of it.
    pub data: &'a [u8],
    /// Whether the data block is shorter than the header announced.
    pub data_truncated: bool,
}

/// Decodes an S7 PDU. The parameter block must be whole; a short data block is kept as far as it
/// goes and flagged, so partial answers still give what they hold.
pub fn parse_s7(pdu: &[u8]) -> Result<S7Pdu<'_>, CodecError> {
    let id = byte(pdu, 0, "S7 header")?;
    if id != S7_PROTOCOL_ID {
        return Err(CodecError::NotS7(id));
    }
    let rosctr = byte(pdu, 1, "S7 header")?;
    let acknowledgement = matches!(rosctr, ROSCTR_ACK | ROSCTR_ACK_DATA);
    let header_len = if acknowledgement { 12 } else { 10 };
    let head = take(pdu, 0, header_len, "S7 header")?;
    let header = S7Header {
        rosctr,
        pdu_ref: u16::from_be_bytes([head[4], head[5]]),
        param_len: u16::from_be_bytes([head[6], head[7]]),
        data_len: u16::from_be_bytes([head[8], head[9]]),
        error_class: if acknowledgement { head[10] } else { 0 },
        error_code: if acknowledgement { head[11] } else { 0 },
    };
    let params = take(
        pdu,
        header_len,
        usize::from(header.param_len),
        "S7 parameter block",
    )?;
    let data_start = header_len + params.len();
    let data_end = data_start
        .saturating_add(usize::from(header.data_len))
        .min(pdu.len());
    Ok(S7Pdu {
        header,
        params,
        data: &pdu[data_start..data_end],
        data_truncated: data_end - data_start < usize::from(header.data_len),
    })
}

/// What the device agreed to in Setup Communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupCommunication {
    /// Parallel jobs the device accepts from us.
    pub max_amq_calling: u16,
    /// Parallel jobs the device may send.
    pub max_amq_called: u16,
    /// The negotiated PDU size.
    pub pdu_size: u16,
}

/// How the device answered Setup Communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupReply {
    /// Accepted, with the negotiated values.
    Accepted(SetupCommunication),
    /// Refused with an S7 error class and code.
    Refused {
        /// Error class.
        class: u8,
        /// Error code.
        code: u8,
    },
}

/// Decodes the answer to Setup Communication.
pub fn parse_setup_reply(pdu: &S7Pdu<'_>) -> Result<SetupReply, CodecError> {
    let h = pdu.header;
    if !matches!(h.rosctr, ROSCTR_ACK | ROSCTR_ACK_DATA) {
        return Err(CodecError::WrongRosctr {
            sent: ROSCTR_JOB,
            got: h.rosctr,
        });
    }
    if h.error_class != 0 || h.error_code != 0 {
        return Ok(SetupReply::Refused {
            class: h.error_class,
            code: h.error_code,
        });
    }
    let function = byte(pdu.params, 0, "Setup Communication parameters")?;
    if function != FN_SETUP_COMMUNICATION {
        return Err(CodecError::WrongFunction {
            what: "function",
            want: FN_SETUP_COMMUNICATION,
            got: function,
        });
    }
    Ok(SetupReply::Accepted(SetupCommunication {
        max_amq_calling: be16(pdu.params, 2, "Setup Communication parameters")?,
        max_amq_called: be16(pdu.params, 4, "Setup Communication parameters")?,
        pdu_size: be16(pdu.params, 6, "Setup Communication parameters")?,
    }))
}

/// One userdata answer to a read SZL request (or its follow-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SzlFragment<'a> {
    /// The sequence number to name in a follow-up request.
    pub sequence: u8,
    /// Whether more fragments follow (last data unit = 1).
    pub more: bool,
    /// The userdata parameter error code (0 when none).
    pub error_code: u16,
    /// The data item return code (0xFF success).
    pub return_code: u8,
    /// The SZL bytes carried (what arrived of them).
    pub payload: &'a [u8],
    /// Whether the payload is shorter than its length field announced.
    pub truncated: bool,
}

impl SzlFragment<'_> {
    /// Whether the device answered with an error instead of data.
    pub fn is_error(&self) -> bool {
        self.return_code != RETURN_SUCCESS || self.error_code != 0
    }
}

/// Decodes a userdata answer to a read SZL request.
pub fn parse_szl_reply<'a>(pdu: &S7Pdu<'a>) -> Result<SzlFragment<'a>, CodecError> {
    if pdu.header.rosctr != ROSCTR_USERDATA {
        return Err(CodecError::WrongRosctr {
            sent: ROSCTR_USERDATA,
            got: pdu.header.rosctr,
        });
    }
    let p = take(pdu.params, 0, 8, "userdata parameters")?;
    let (type_group, subfunction) = (p[5], p[6]);
    if type_group & 0x0F != UD_GROUP_CPU {
        return Err(CodecError::WrongFunction {
            what: "userdata function group",
            want: UD_GROUP_CPU,
            got: type_group & 0x0F,
        });
    }
    if subfunction != UD_SUBFN_READ_SZL {
        return Err(CodecError::WrongFunction {
            what: "userdata subfunction",
            want: UD_SUBFN_READ_SZL,
            got: subfunction,
        });
    }
    // the long (response) form adds data unit reference, last data unit and error code
    let more = pdu.params.get(9).is_some_and(|&b| b != 0);
    let error_code = be16(pdu.params, 10, "userdata error code").unwrap_or(0);
    let d = pdu.data;
    let return_code = d.first().copied().unwrap_or(RETURN_OBJECT_MISSING);
    let announced = be16(d, 2, "SZL data length").map(usize::from).unwrap_or(0);
    let available = d.len().saturating_sub(4);
    let payload = d.get(4..4 + announced.min(available)).unwrap_or(&[]);
    Ok(SzlFragment {
        sequence: p[7],
        more,
        error_code,
        return_code,
        payload,
        truncated: announced > available || pdu.data_truncated,
    })
}

/// The meaning of a data item return code.
pub fn return_code_name(code: u8) -> &'static str {
    match code {
        0x00 => "reserved",
        0x01 => "hardware fault",
        0x03 => "accessing the object not allowed",
        0x05 => "address out of range",
        0x06 => "data type not supported",
        0x07 => "data type inconsistent",
        0x0A => "object does not exist",
        0xFF => "success",
        _ => "unknown return code",
    }
}

/// The meaning of a userdata parameter error code, for the common SZL ones.
pub fn userdata_error_name(code: u16) -> &'static str {
    match code {
        0x0000 => "no error",
        0x8104 => "function not implemented or not allowed in this context",
        0xD401 => "invalid or unsupported SZL ID",
        0xD402 => "invalid or unsupported SZL index",
        0xD403 => "SZL not available in this state",
        0xD404 => "information not available",
        _ => "unknown error",
    }
}

/// The most SZL bytes gathered from fragments, against devices that never stop.
pub const MAX_SZL_BYTES: usize = 65_536;

/// An SZL partial list as the device sent it: its header and the record bytes gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SzlList {
    /// SZL ID.
    pub id: u16,
    /// SZL index.
    pub index: u16,
    /// Length of one record (LENTHDR), in bytes.
    pub record_len: u16,
    /// Number of records (N_DR) announced.
    pub record_count: u16,
    /// The record bytes received (possibly fewer than announced).
    pub data: Vec<u8>,
    /// Whether the device or the network cut the answer short.
    pub truncated: bool,
}

impl SzlList {
    /// Decodes the header of the first fragment's payload and keeps its records.
    pub fn parse(payload: &[u8], truncated: bool) -> Result<SzlList, CodecError> {
        let head = take(payload, 0, 8, "SZL header")?;
        let rest = &payload[8..];
        Ok(SzlList {
            id: u16::from_be_bytes([head[0], head[1]]),
            index: u16::from_be_bytes([head[2], head[3]]),
            record_len: u16::from_be_bytes([head[4], head[5]]),
            record_count: u16::from_be_bytes([head[6], head[7]]),
            data: rest[..rest.len().min(MAX_SZL_BYTES)].to_vec(),
            truncated: truncated || rest.len() > MAX_SZL_BYTES,
        })
    }

    /// Adds the payload of a follow-up fragment (bounded by [`MAX_SZL_BYTES`]).
    pub fn extend(&mut self, more: &[u8], truncated: bool) {
        let room = MAX_SZL_BYTES.saturating_sub(self.data.len());
        self.data.extend_from_slice(&more[..more.len().min(room)]);
        self.truncated |= truncated || more.len() > room;
    }

    /// Checks that the list answers `want` (same partial list number and extract).
    pub fn check_id(&self, want: u16) -> Result<(), CodecError> {
        // some devices set the module class bits (15-12) of the ID in their answer
        if self.id & 0x0FFF != want & 0x0FFF {
            return Err(CodecError::WrongSzl { want, got: self.id });
        }
        Ok(())
    }

    /// The complete records, at most as many as announced; a partial last record is left out.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        let len = usize::from(self.record_len);
        let chunks = if len == 0 {
            None
        } else {
            Some(self.data.chunks_exact(len))
        };
        chunks
            .into_iter()
            .flatten()
            .take(usize::from(self.record_count))
    }

    /// How many records arrived whole.
    pub fn complete_records(&self) -> usize {
        self.records().count()
    }

    /// Whether fewer records arrived than the header announced.
    pub fn is_partial(&self) -> bool {
        self.truncated || self.complete_records() < usize::from(self.record_count)
    }
}

/// Every request frame this crate can emit, recognised from its bytes: the read-only allow-list.
///
/// Returns the request's kind, or `None` for any frame that is not exactly one of them.
pub fn allowed_request(frame: &[u8]) -> Option<AllowedRequest> {
    let header: &[u8; TPKT_HEADER_LEN] = frame.get(..TPKT_HEADER_LEN)?.try_into().ok()?;
    let len = parse_tpkt_header(header).ok()?;
    let tpdu = frame.get(TPKT_HEADER_LEN..)?;
    if tpdu.len() != len {
        return None;
    }
    match parse_cotp(tpdu).ok()? {
        Cotp::Data {
            last: true,
            payload,
        } => allowed_s7(payload),
        Cotp::Other(COTP_CR) => {
            let called = u16::from_be_bytes([*tpdu.get(tpdu.len() - 2)?, *tpdu.last()?]);
            (tpdu == connection_request(Tsap(called)).as_slice())
                .then_some(AllowedRequest::ConnectionRequest)
        }
        _ => None,
    }
}

fn allowed_s7(pdu: &[u8]) -> Option<AllowedRequest> {
    let pdu_ref = u16::from_be_bytes([*pdu.get(4)?, *pdu.get(5)?]);
    let candidates = [
        Request::SetupCommunication { pdu_ref },
        Request::ReadSzlNext {
            pdu_ref,
            sequence: *pdu.get(17)?,
        },
    ]
    .into_iter()
    .chain(SzlRead::ALL.map(|szl| Request::ReadSzl { pdu_ref, szl }));
    for request in candidates {
        if request.s7_pdu().as_deref() == Some(pdu) {
            return Some(match request {
                Request::SetupCommunication { .. } => AllowedRequest::SetupCommunication,
                Request::ReadSzl { szl, .. } => AllowedRequest::ReadSzl(szl),
                _ => AllowedRequest::ReadSzlNext,
            });
        }
    }
    None
}

/// The kinds of request on the read-only allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AllowedRequest {
    /// COTP connection request.
    ConnectionRequest,
    /// S7 Setup Communication.
    SetupCommunication,
    /// Read one of the SZL lists of [`SzlRead`].
    ReadSzl(SzlRead),
    /// Follow-up of a fragmented SZL answer.
    ReadSzlNext,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn request_frames_are_exact() {
        assert_eq!(
            Request::ConnectionRequest {
                called: Tsap::rack_slot(0, 2)
            }
            .frame(),
            hex("0300001611e00000000100c0010ac1020100c2020102")
        );
        // the same setup and SZL bytes nmap's s7-info sends, apart from the PDU reference
        assert_eq!(
            Request::SetupCommunication { pdu_ref: 0 }.frame(),
            hex("0300001902f08032010000000000080000f0000001000101e0")
        );
        assert_eq!(
            Request::ReadSzl {
                pdu_ref: 5,
                szl: SzlRead::ComponentIdentification
            }
            .frame(),
            hex("0300002102f080320700000005000800080001120411440100ff090004001c0000")
        );
        assert_eq!(
            Request::ReadSzlNext {
                pdu_ref: 6,
                sequence: 0x2a
            }
            .frame(),
            hex("0300002102f080320700000006000c0004000112081244012a000000000a000000")
        );
    }

    #[test]
    fn tsaps_encode_rack_and_slot() {
        assert_eq!(Tsap::rack_slot(0, 2), Tsap(0x0102));
        assert_eq!(Tsap::rack_slot(1, 3), Tsap(0x0123));
        assert_eq!(Tsap(0x0200).connection_type(), 2);
        assert_eq!(Tsap(0x0123).rack(), 1);
        assert_eq!(Tsap(0x0123).slot(), 3);
        assert_eq!(Tsap(0x0102).to_string(), "0x0102 (type 1, rack 0, slot 2)");
    }

    #[test]
    fn tpkt_headers_are_checked() {
        assert_eq!(parse_tpkt_header(&[3, 0, 0, 22]), Ok(18));
        assert_eq!(
            parse_tpkt_header(&[4, 0, 0, 22]),
            Err(CodecError::NotTpkt(4))
        );
        assert_eq!(
            parse_tpkt_header(&[3, 0, 0xFF, 0xFF]),
            Err(CodecError::BadTpktLength(65535))
        );
        assert_eq!(
            parse_tpkt_header(&[3, 0, 0, 5]),
            Err(CodecError::BadTpktLength(5))
        );
    }

    #[test]
    fn cotp_confirm_disconnect_and_data_decode() {
        // python-snap7's connection confirm
        let cc = hex("11d00001000100c0010ac1020100c2020102");
        assert_eq!(
            parse_cotp(&cc),
            Ok(Cotp::ConnectionConfirm {
                tpdu_size: Some(1024),
                called: Some(Tsap(0x0102))
            })
        );
        let dr = hex("068000010001 03".replace(' ', "").as_str());
        assert_eq!(parse_cotp(&dr), Ok(Cotp::DisconnectRequest { reason: 3 }));
        let dt = hex("02f08032");
        assert_eq!(
            parse_cotp(&dt),
            Ok(Cotp::Data {
                last: true,
                payload: &[0x32]
            })
        );
        assert_eq!(
            parse_cotp(&hex("09f0")),
            Err(CodecError::BadCotpLength { li: 9, len: 2 })
        );
    }

    #[test]
    fn setup_reply_decodes_and_refusals_are_kept() {
        let ok = hex("320300000001000800000000f0000001000101e0");
        let pdu = parse_s7(&ok).unwrap();
        assert_eq!(
            parse_setup_reply(&pdu),
            Ok(SetupReply::Accepted(SetupCommunication {
                max_amq_calling: 1,
                max_amq_called: 1,
                pdu_size: 480
            }))
        );
        let refused = hex("320200000001000000008104");
        let pdu = parse_s7(&refused).unwrap();
        assert_eq!(
            parse_setup_reply(&pdu),
            Ok(SetupReply::Refused {
                class: 0x81,
                code: 0x04
            })
        );
    }

    /// libsnap7's answer to SZL 0x0424: one 20-byte record, mode RUN.
    const LIBSNAP7_0424: &str = "320700000005000c0020000112081284010000000000ff09001c04240000001400015144ff0800000000000000002611230134260001";

    #[test]
    fn szl_reply_decodes_header_and_records() {
        let bytes = hex(LIBSNAP7_0424);
        let pdu = parse_s7(&bytes).unwrap();
        let frag = parse_szl_reply(&pdu).unwrap();
        assert!(!frag.is_error() && !frag.more && !frag.truncated);
        let list = SzlList::parse(frag.payload, frag.truncated).unwrap();
        assert_eq!((list.id, list.index), (0x0424, 0));
        assert_eq!((list.record_len, list.record_count), (20, 1));
        assert_eq!(list.records().count(), 1);
        assert!(!list.is_partial());
        assert_eq!(list.check_id(0x0424), Ok(()));
        assert!(list.check_id(0x0011).is_err());
    }

    #[test]
    fn szl_error_answers_are_recognised() {
        // libsnap7: return code 0x0a, parameter error 0xd402
        let bytes = hex("320700000008000c000400011208128401000000d4020a000000");
        let pdu = parse_s7(&bytes).unwrap();
        let frag = parse_szl_reply(&pdu).unwrap();
        assert!(frag.is_error());
        assert_eq!((frag.return_code, frag.error_code), (0x0A, 0xD402));
        // python-snap7: return code 0x81, no parameter error
        let bytes = hex("320700000005000c000400011208128401000000000081000000");
        let frag = parse_szl_reply(&parse_s7(&bytes).unwrap()).unwrap();
        assert!(frag.is_error());
        assert_eq!(frag.return_code, 0x81);
    }

    #[test]
    fn a_truncated_szl_answer_keeps_its_whole_records() {
        let mut bytes = hex(LIBSNAP7_0424);
        bytes.truncate(bytes.len() - 5); // the last 5 bytes of the only record are missing
        let pdu = parse_s7(&bytes).unwrap();
        assert!(pdu.data_truncated);
        let frag = parse_szl_reply(&pdu).unwrap();
        assert!(frag.truncated);
        let list = SzlList::parse(frag.payload, frag.truncated).unwrap();
        assert_eq!(list.records().count(), 0);
        assert!(list.is_partial());
    }

    #[test]
    fn follow_up_fragments_extend_the_list() {
        let mut list = SzlList::parse(&hex("001c0000002200020001"), false).unwrap();
        assert_eq!(list.records().count(), 0);
        list.extend(&[0u8; 32], false);
        list.extend(&[0u8; 34], false);
        assert_eq!(list.records().count(), 2);
        assert!(!list.is_partial());
    }

    #[test]
    fn the_allow_list_recognises_exactly_our_requests() {
        let ours = [
            Request::ConnectionRequest {
                called: Tsap(0x0200),
            },
            Request::SetupCommunication { pdu_ref: 9 },
            Request::ReadSzl {
                pdu_ref: 10,
                szl: SzlRead::RackModules,
            },
            Request::ReadSzlNext {
                pdu_ref: 11,
                sequence: 3,
            },
        ];
        for r in ours {
            assert!(allowed_request(&r.frame()).is_some(), "{r:?}");
        }
        // a read of SZL 0x00A0 (diagnostic buffer) is not on the list
        let other = hex(
            "0300002102f080320700000005000800080001120411440100ff090004 00a00000"
                .replace(' ', "")
                .as_str(),
        );
        assert_eq!(allowed_request(&other), None);
        // nor is a write (job 0x05), even with our framing
        let mut write = Request::SetupCommunication { pdu_ref: 9 }.frame();
        write[17] = 0x05;
        assert_eq!(allowed_request(&write), None);
    }

    fn any_request() -> impl Strategy<Value = Request> {
        prop_oneof![
            any::<u16>().prop_map(|t| Request::ConnectionRequest { called: Tsap(t) }),
            any::<u16>().prop_map(|pdu_ref| Request::SetupCommunication { pdu_ref }),
            (any::<u16>(), 0usize..4).prop_map(|(pdu_ref, i)| Request::ReadSzl {
                pdu_ref,
                szl: SzlRead::ALL[i]
            }),
            (any::<u16>(), any::<u8>())
                .prop_map(|(pdu_ref, sequence)| Request::ReadSzlNext { pdu_ref, sequence }),
        ]
    }

    proptest! {
        #[test]
        fn every_request_is_on_the_read_only_list(req in any_request()) {
            let frame = req.frame();
            let want = match req {
                Request::ConnectionRequest { .. } => AllowedRequest::ConnectionRequest,
                Request::SetupCommunication { .. } => AllowedRequest::SetupCommunication,
                Request::ReadSzl { szl, .. } => AllowedRequest::ReadSzl(szl),
                Request::ReadSzlNext { .. } => AllowedRequest::ReadSzlNext,
            };
            prop_assert_eq!(allowed_request(&frame), Some(want));
            let len = parse_tpkt_header(frame[..4].try_into().unwrap()).unwrap();
            prop_assert_eq!(len, frame.len() - 4);
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(Cotp::Data { payload, .. }) = parse_cotp(&bytes)
                && let Ok(pdu) = parse_s7(payload)
            {
                let _ = parse_setup_reply(&pdu);
                if let Ok(frag) = parse_szl_reply(&pdu)
                    && let Ok(list) = SzlList::parse(frag.payload, frag.truncated)
                {
                    prop_assert!(list.records().count() <= usize::from(list.record_count));
                }
            }
            if let Ok(pdu) = parse_s7(&bytes) {
                let _ = parse_setup_reply(&pdu);
                let _ = parse_szl_reply(&pdu);
            }
            let _ = SzlList::parse(&bytes, false);
            let _ = allowed_request(&bytes);
        }

        #[test]
        fn tpkt_headers_never_panic(header in any::<[u8; 4]>()) {
            if let Ok(len) = parse_tpkt_header(&header) {
                prop_assert!(len + TPKT_HEADER_LEN <= MAX_TPKT_LEN);
            }
        }
    }
}
