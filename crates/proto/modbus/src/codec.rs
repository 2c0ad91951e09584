//! The Modbus/TCP wire codec: MBAP header, the two requests we send, and their responses.
//!
//! Pure functions over bytes; every length from the wire is checked before use, and no input
//! makes them panic. Field names follow the Modbus Application Protocol Specification V1.1b3
//! and the Modbus Messaging on TCP/IP Implementation Guide V1.0b.

use std::collections::BTreeMap;
use std::fmt;

/// Length of the MBAP header: transaction ID, protocol ID, length, unit ID.
pub const MBAP_LEN: usize = 7;
/// Largest value of the MBAP length field: unit ID plus a PDU of at most 253 bytes.
pub const MAX_LENGTH_FIELD: u16 = 254;
/// Function code of Read Device Identification (Encapsulated Interface Transport).
pub const FC_ENCAPSULATED_INTERFACE: u8 = 0x2B;
/// MEI type of Read Device Identification.
pub const MEI_READ_DEVICE_ID: u8 = 0x0E;
/// Function code of Report Server ID.
pub const FC_REPORT_SERVER_ID: u8 = 0x11;
/// Every function code this crate can emit (the read-only allow-list).
pub const ALLOWED_FUNCTIONS: [u8; 2] = [FC_ENCAPSULATED_INTERFACE, FC_REPORT_SERVER_ID];

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The MBAP protocol identifier is not 0.
    #[error("protocol identifier {0:#06x} is not Modbus (0)")]
    NotModbus(u16),
    /// The MBAP length field is impossible.
    #[error("length field {0} is outside the Modbus range 2 to {MAX_LENGTH_FIELD}")]
    BadLength(u16),
    /// The PDU ended before a field it announced.
    #[error("response truncated: {what} needs {need} bytes, {have} present")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The response's function code does not answer the request.
    #[error("function code {got:#04x} does not answer a request with function {sent:#04x}")]
    WrongFunction {
        /// The request's function code.
        sent: u8,
        /// What came back.
        got: u8,
    },
    /// A Read Device Identification response with another MEI type.
    #[error("MEI type {0:#04x} is not Read Device Identification (0x0e)")]
    WrongMei(u8),
    /// The PDU was empty.
    #[error("empty PDU")]
    Empty,
}

/// The MBAP header of a Modbus/TCP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MbapHeader {
    /// Transaction identifier, echoed by the server.
    pub transaction_id: u16,
    /// Protocol identifier, 0 for Modbus.
    pub protocol_id: u16,
    /// Number of following bytes: unit ID plus PDU.
    pub length: u16,
    /// Unit identifier (the device behind a gateway, or 255 / 0 for the device itself).
    pub unit_id: u8,
}

impl MbapHeader {
    /// Parses and checks a header.
    pub fn parse(bytes: &[u8; MBAP_LEN]) -> Result<MbapHeader, CodecError> {
        let header = MbapHeader {
            transaction_id: u16::from_be_bytes([bytes[0], bytes[1]]),
            protocol_id: u16::from_be_bytes([bytes[2], bytes[3]]),
            length: u16::from_be_bytes([bytes[4], bytes[5]]),
            unit_id: bytes[6],
        };
        if header.protocol_id != 0 {
            return Err(CodecError::NotModbus(header.protocol_id));
        }
        if !(2..=MAX_LENGTH_FIELD).contains(&header.length) {
            return Err(CodecError::BadLength(header.length));
        }
        Ok(header)
    }

    /// Length of the PDU that follows the header.
    pub fn pdu_len(&self) -> usize {
        usize::from(self.length).saturating_sub(1)
    }

    /// Writes the header.
    pub fn emit(&self) -> [u8; MBAP_LEN] {
        let t = self.transaction_id.to_be_bytes();
        let p = self.protocol_id.to_be_bytes();
        let l = self.length.to_be_bytes();
        [t[0], t[1], p[0], p[1], l[0], l[1], self.unit_id]
    }
}

/// Read device ID codes of Read Device Identification (stream access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReadDeviceIdCode {
    /// 01: the basic objects (vendor, product code, revision).
    Basic = 1,
    /// 02: the regular objects (URL, product name, model, application name).
    Regular = 2,
    /// 03: the extended, vendor-specific objects.
    Extended = 3,
}

/// A request this crate can send. There is no other (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Function 43 / MEI 14: Read Device Identification, stream access from `object_id`.
    ReadDeviceId {
        /// Which stream.
        code: ReadDeviceIdCode,
        /// First object to return.
        object_id: u8,
    },
    /// Function 17: Report Server ID.
    ReportServerId,
}

impl Request {
    /// The function code.
    pub fn function(&self) -> u8 {
        match self {
            Request::ReadDeviceId { .. } => FC_ENCAPSULATED_INTERFACE,
            Request::ReportServerId => FC_REPORT_SERVER_ID,
        }
    }

    /// The PDU.
    pub fn pdu(&self) -> Vec<u8> {
        match *self {
            Request::ReadDeviceId { code, object_id } => vec![
                FC_ENCAPSULATED_INTERFACE,
                MEI_READ_DEVICE_ID,
                code as u8,
                object_id,
            ],
            Request::ReportServerId => vec![FC_REPORT_SERVER_ID],
        }
    }

    /// The whole Modbus/TCP frame (MBAP header and PDU).
    pub fn frame(&self, transaction_id: u16, unit_id: u8) -> Vec<u8> {
        let pdu = self.pdu();
        let header = MbapHeader {
            transaction_id,
            protocol_id: 0,
            length: u16::try_from(pdu.len() + 1).unwrap_or(MAX_LENGTH_FIELD),
            unit_id,
        };
        let mut frame = header.emit().to_vec();
        frame.extend_from_slice(&pdu);
        frame
    }
}

/// A Modbus exception code, named as in the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExceptionCode(pub u8);

impl ExceptionCode {
    /// The specification's name for the code.
    pub fn name(self) -> &'static str {
        match self.0 {
            0x01 => "Illegal Function",
            0x02 => "Illegal Data Address",
            0x03 => "Illegal Data Value",
            0x04 => "Server Device Failure",
            0x05 => "Acknowledge",
            0x06 => "Server Device Busy",
            0x08 => "Memory Parity Error",
            0x0A => "Gateway Path Unavailable",
            0x0B => "Gateway Target Device Failed to Respond",
            _ => "unknown exception",
        }
    }

    /// Whether a gateway says no device answers at that unit ID.
    pub fn is_gateway_miss(self) -> bool {
        matches!(self.0, 0x0A | 0x0B)
    }
}

impl fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), self.0)
    }
}

/// One Read Device Identification response PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdResponse {
    /// The read device ID code echoed.
    pub read_code: u8,
    /// The conformity level of the device (0x01-0x03, 0x81-0x83).
    pub conformity_level: u8,
    /// 0xFF when more objects follow in another transaction.
    pub more_follows: bool,
    /// The object to ask for next when more follow.
    pub next_object_id: u8,
    /// The objects of this response: (object ID, value).
    pub objects: Vec<(u8, Vec<u8>)>,
}

/// A Report Server ID response: device-specific bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdResponse {
    /// Server ID, run indicator and additional data, as sent.
    pub data: Vec<u8>,
}

impl ServerIdResponse {
    /// The run indicator status (0xFF on, 0x00 off) where its place can be told: after a
    /// one-byte server ID (the common layout), or as the last byte.
    pub fn run_indicator(&self) -> Option<bool> {
        let as_flag = |b: u8| match b {
            0xFF => Some(true),
            0x00 => Some(false),
            _ => None,
        };
        self.data
            .get(1)
            .copied()
            .and_then(as_flag)
            .or_else(|| self.data.last().copied().and_then(as_flag))
    }

    /// The longest run of printable ASCII (at least 3 characters), which devices use for a name.
    pub fn text(&self) -> Option<String> {
        self.data
            .split(|b| !(0x20..0x7F).contains(b))
            .map(|run| String::from_utf8_lossy(run).trim().to_string())
            .filter(|s| s.len() >= 3)
            .max_by_key(String::len)
    }
}

/// A decoded response PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Answer to Read Device Identification.
    DeviceId(DeviceIdResponse),
    /// Answer to Report Server ID.
    ServerId(ServerIdResponse),
    /// An exception response: function | 0x80 and a code.
    Exception {
        /// The function that failed.
        function: u8,
        /// Why.
        code: ExceptionCode,
    },
}

/// Decodes the PDU answering `request`.
pub fn parse_response(request: &Request, pdu: &[u8]) -> Result<Response, CodecError> {
    let function = *pdu.first().ok_or(CodecError::Empty)?;
    let sent = request.function();
    if function == sent | 0x80 {
        let code = *pdu.get(1).ok_or(CodecError::Truncated {
            what: "exception code",
            need: 2,
            have: pdu.len(),
        })?;
        return Ok(Response::Exception {
            function: sent,
            code: ExceptionCode(code),
        });
    }
    if function != sent {
        return Err(CodecError::WrongFunction {
            sent,
            got: function,
        });
    }
    match request {
        Request::ReadDeviceId { .. } => parse_device_id(pdu).map(Response::DeviceId),
        Request::ReportServerId => parse_server_id(pdu).map(Response::ServerId),
    }
}

fn take<'a>(
    pdu: &'a [u8],
    at: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], CodecError> {
    pdu.get(at..at.saturating_add(len))
        .ok_or(CodecError::Truncated {
            what,
            need: at.saturating_add(len),
            have: pdu.len(),
        })
}

fn parse_device_id(pdu: &[u8]) -> Result<DeviceIdResponse, CodecError> {
    let head = take(pdu, 0, 7, "device identification header")?;
    if head[1] != MEI_READ_DEVICE_ID {
        return Err(CodecError::WrongMei(head[1]));
    }
    let count = usize::from(head[6]);
    let mut objects = Vec::with_capacity(count.min(64));
    let mut at = 7;
    for _ in 0..count {
        let object_head = take(pdu, at, 2, "object header")?;
        let (id, len) = (object_head[0], usize::from(object_head[1]));
        let value = take(pdu, at + 2, len, "object value")?;
        objects.push((id, value.to_vec()));
        at += 2 + len;
    }
    Ok(DeviceIdResponse {
        read_code: head[2],
        conformity_level: head[3],
        more_follows: head[4] == 0xFF,
        next_object_id: head[5],
        objects,
    })
}

fn parse_server_id(pdu: &[u8]) -> Result<ServerIdResponse, CodecError> {
    let count = usize::from(*take(pdu, 1, 1, "byte count")?.first().unwrap_or(&0));
    let data = take(pdu, 2, count, "server ID data")?;
    Ok(ServerIdResponse {
        data: data.to_vec(),
    })
}

/// Standard object IDs of Read Device Identification.
pub mod object {
    /// VendorName (basic).
    pub const VENDOR_NAME: u8 = 0x00;
    /// ProductCode (basic).
    pub const PRODUCT_CODE: u8 = 0x01;
    /// MajorMinorRevision (basic).
    pub const REVISION: u8 = 0x02;
    /// VendorUrl (regular).
    pub const VENDOR_URL: u8 = 0x03;
    /// ProductName (regular).
    pub const PRODUCT_NAME: u8 = 0x04;
    /// ModelName (regular).
    pub const MODEL_NAME: u8 = 0x05;
    /// UserApplicationName (regular).
    pub const APPLICATION_NAME: u8 = 0x06;
}

/// Everything a device said in its identification streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceIdentification {
    /// Conformity level (0x01-0x03, 0x81-0x83), as last reported.
    pub conformity_level: u8,
    /// Every object by ID, as sent.
    pub objects: BTreeMap<u8, Vec<u8>>,
}

impl DeviceIdentification {
    /// Adds the objects of one response.
    pub fn absorb(&mut self, response: &DeviceIdResponse) {
        self.conformity_level = response.conformity_level;
        for (id, value) in &response.objects {
            self.objects.insert(*id, value.clone());
        }
    }

    /// An object as text (lossy UTF-8, trailing NULs and spaces trimmed); `None` if absent or empty.
    pub fn text(&self, id: u8) -> Option<String> {
        let value = self.objects.get(&id)?;
        let text = String::from_utf8_lossy(value)
            .trim_end_matches(['\0', ' '])
            .trim_start()
            .to_string();
        (!text.is_empty()).then_some(text)
    }

    /// The highest stream the device supports: 1 basic, 2 regular, 3 extended.
    pub fn level(&self) -> u8 {
        self.conformity_level & 0x7F
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_frames_are_exact() {
        let req = Request::ReadDeviceId {
            code: ReadDeviceIdCode::Basic,
            object_id: 0,
        };
        assert_eq!(
            req.frame(0x0102, 255),
            [1, 2, 0, 0, 0, 5, 255, 0x2B, 0x0E, 1, 0]
        );
        assert_eq!(
            Request::ReportServerId.frame(7, 1),
            [0, 7, 0, 0, 0, 2, 1, 0x11]
        );
    }

    #[test]
    fn header_checks_protocol_and_length() {
        assert_eq!(
            MbapHeader::parse(&[0, 1, 0, 0, 0xFF, 0xFF, 1]),
            Err(CodecError::BadLength(65535))
        );
        assert_eq!(
            MbapHeader::parse(&[0, 1, 0x12, 0x34, 0, 5, 1]),
            Err(CodecError::NotModbus(0x1234))
        );
        assert_eq!(
            MbapHeader::parse(&[0, 1, 0, 0, 0, 5, 9]).unwrap().pdu_len(),
            4
        );
    }

    #[test]
    fn device_id_response_decodes_objects() {
        let pdu = [
            0x2B, 0x0E, 0x01, 0x83, 0xFF, 0x02, 0x02, 0x00, 0x03, b'A', b'B', b'C', 0x01, 0x01,
            b'X',
        ];
        let req = Request::ReadDeviceId {
            code: ReadDeviceIdCode::Basic,
            object_id: 0,
        };
        let Ok(Response::DeviceId(r)) = parse_response(&req, &pdu) else {
            panic!("not decoded")
        };
        assert!(r.more_follows);
        assert_eq!(r.next_object_id, 2);
        assert_eq!(r.objects, vec![(0, b"ABC".to_vec()), (1, b"X".to_vec())]);
        let short = &pdu[..pdu.len() - 1];
        assert!(matches!(
            parse_response(&req, short),
            Err(CodecError::Truncated {
                what: "object value",
                ..
            })
        ));
    }

    #[test]
    fn exceptions_are_named() {
        let r = parse_response(&Request::ReportServerId, &[0x91, 0x01]).unwrap();
        let Response::Exception { code, .. } = r else {
            panic!()
        };
        assert_eq!(code.to_string(), "Illegal Function (0x01)");
        assert_eq!(
            ExceptionCode(0x0B).name(),
            "Gateway Target Device Failed to Respond"
        );
    }

    #[test]
    fn server_id_finds_run_indicator_and_text() {
        let r = ServerIdResponse {
            data: [&[0x42u8, 0xFF][..], b"M340 CPU"].concat(),
        };
        assert_eq!(r.run_indicator(), Some(true));
        assert_eq!(r.text().as_deref(), Some("M340 CPU"));
    }

    fn any_request() -> impl Strategy<Value = Request> {
        prop_oneof![
            Just(Request::ReportServerId),
            (1u8..=3, any::<u8>()).prop_map(|(c, object_id)| Request::ReadDeviceId {
                code: match c {
                    1 => ReadDeviceIdCode::Basic,
                    2 => ReadDeviceIdCode::Regular,
                    _ => ReadDeviceIdCode::Extended,
                },
                object_id
            }),
        ]
    }

    proptest! {
        #[test]
        fn every_request_is_on_the_read_only_list(req in any_request(), tid in any::<u16>(), unit in any::<u8>()) {
            let frame = req.frame(tid, unit);
            let header = MbapHeader::parse(frame[..MBAP_LEN].try_into().unwrap()).unwrap();
            prop_assert_eq!(header.pdu_len(), frame.len() - MBAP_LEN);
            prop_assert!(ALLOWED_FUNCTIONS.contains(&frame[MBAP_LEN]));
            if frame[MBAP_LEN] == FC_ENCAPSULATED_INTERFACE {
                prop_assert_eq!(frame[MBAP_LEN + 1], MEI_READ_DEVICE_ID);
            }
        }

        #[test]
        fn decoding_never_panics(req in any_request(), pdu in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_response(&req, &pdu);
        }

        #[test]
        fn headers_never_panic(bytes in any::<[u8; 7]>()) {
            if let Ok(h) = MbapHeader::parse(&bytes) {
                prop_assert!(h.pdu_len() <= 253);
            }
        }
    }
}
