//! The BACnet application layer PDU header (ASHRAE 135 clause 20.1): request and answer types,
//! invoke IDs, segmentation flags, and the Error, Reject and Abort PDUs with their named reasons.

use super::CodecError;
use super::tag::Reader;
use std::fmt;

/// PDU types (the high nibble of the first octet).
pub mod pdu_type {
    /// BACnet-Confirmed-Request-PDU.
    pub const CONFIRMED_REQUEST: u8 = 0;
    /// BACnet-Unconfirmed-Request-PDU.
    pub const UNCONFIRMED_REQUEST: u8 = 1;
    /// BACnet-SimpleACK-PDU.
    pub const SIMPLE_ACK: u8 = 2;
    /// BACnet-ComplexACK-PDU.
    pub const COMPLEX_ACK: u8 = 3;
    /// BACnet-SegmentACK-PDU.
    pub const SEGMENT_ACK: u8 = 4;
    /// BACnet-Error-PDU.
    pub const ERROR: u8 = 5;
    /// BACnet-Reject-PDU.
    pub const REJECT: u8 = 6;
    /// BACnet-Abort-PDU.
    pub const ABORT: u8 = 7;
}

/// Service choices used here (clause 21).
pub mod service {
    /// Confirmed: ReadProperty.
    pub const READ_PROPERTY: u8 = 12;
    /// Confirmed: ReadPropertyMultiple.
    pub const READ_PROPERTY_MULTIPLE: u8 = 14;
    /// Unconfirmed: I-Am.
    pub const I_AM: u8 = 0;
    /// Unconfirmed: Who-Is.
    pub const WHO_IS: u8 = 8;
}

/// The largest APDU this client accepts: 1476 octets, the BACnet/IP maximum.
pub const MAX_APDU_ACCEPTED: u32 = 1476;
/// Its encoding in a confirmed request (clause 20.1.2.5: B'0101' = up to 1476 octets).
pub const MAX_APDU_CODE: u8 = 0x05;

/// The APDU sizes a device may announce in a confirmed request, by the 4-bit code.
pub fn max_apdu_from_code(code: u8) -> Option<u32> {
    match code {
        0 => Some(50),
        1 => Some(128),
        2 => Some(206),
        3 => Some(480),
        4 => Some(1024),
        5 => Some(1476),
        _ => None,
    }
}

/// A decoded APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apdu<'a> {
    /// A confirmed request (a client never gets one, but can recognise it).
    ConfirmedRequest {
        /// The invoke ID.
        invoke_id: u8,
        /// The service choice.
        service: u8,
        /// Segmented-message bit.
        segmented: bool,
        /// Segmented-response-accepted bit.
        segmented_response_accepted: bool,
        /// Maximum segments accepted (raw 3-bit code).
        max_segments: u8,
        /// Maximum APDU accepted (raw 4-bit code).
        max_apdu: u8,
        /// The service request.
        data: &'a [u8],
    },
    /// An unconfirmed request (I-Am, Who-Is, ...).
    UnconfirmedRequest {
        /// The service choice.
        service: u8,
        /// The service request.
        data: &'a [u8],
    },
    /// A Simple-ACK.
    SimpleAck {
        /// The invoke ID.
        invoke_id: u8,
        /// The service acknowledged.
        service: u8,
    },
    /// A Complex-ACK, whole or one segment of it.
    ComplexAck {
        /// The invoke ID.
        invoke_id: u8,
        /// The service answered.
        service: u8,
        /// Segmented-message bit: this is one segment of a longer answer.
        segmented: bool,
        /// More-follows bit.
        more_follows: bool,
        /// The segment's sequence number (segmented answers only).
        sequence_number: Option<u8>,
        /// The service answer.
        data: &'a [u8],
    },
    /// A Segment-ACK.
    SegmentAck {
        /// The invoke ID.
        invoke_id: u8,
        /// Sent by the server.
        server: bool,
    },
    /// An Error PDU.
    Error {
        /// The invoke ID.
        invoke_id: u8,
        /// The service that failed.
        service: u8,
        /// Error class and code.
        error: BacnetError,
    },
    /// A Reject PDU: the request was malformed or not understood.
    Reject {
        /// The invoke ID.
        invoke_id: u8,
        /// Why.
        reason: RejectReason,
    },
    /// An Abort PDU: the transaction was ended.
    Abort {
        /// The invoke ID.
        invoke_id: u8,
        /// Sent by the server (true) or by the client.
        server: bool,
        /// Why.
        reason: AbortReason,
    },
}

fn get(bytes: &[u8], i: usize, what: &'static str) -> Result<u8, CodecError> {
    bytes.get(i).copied().ok_or(CodecError::Truncated {
        what,
        need: i + 1,
        have: bytes.len(),
    })
}

/// Parses an APDU header (and the error of an Error PDU).
pub fn parse(apdu: &[u8]) -> Result<Apdu<'_>, CodecError> {
    let first = get(apdu, 0, "APDU type")?;
    let rest = |from: usize| apdu.get(from..).unwrap_or_default();
    match first >> 4 {
        pdu_type::CONFIRMED_REQUEST => {
            let segmented = first & 0x08 != 0;
            let sizes = get(apdu, 1, "Confirmed-Request max segments/APDU")?;
            let invoke_id = get(apdu, 2, "Confirmed-Request invoke ID")?;
            let at = if segmented { 5 } else { 3 };
            let service = get(apdu, at, "Confirmed-Request service choice")?;
            Ok(Apdu::ConfirmedRequest {
                invoke_id,
                service,
                segmented,
                segmented_response_accepted: first & 0x02 != 0,
                max_segments: (sizes >> 4) & 0x07,
                max_apdu: sizes & 0x0F,
                data: rest(at + 1),
            })
        }
        pdu_type::UNCONFIRMED_REQUEST => Ok(Apdu::UnconfirmedRequest {
            service: get(apdu, 1, "Unconfirmed-Request service choice")?,
            data: rest(2),
        }),
        pdu_type::SIMPLE_ACK => Ok(Apdu::SimpleAck {
            invoke_id: get(apdu, 1, "Simple-ACK invoke ID")?,
            service: get(apdu, 2, "Simple-ACK service choice")?,
        }),
        pdu_type::COMPLEX_ACK => {
            let segmented = first & 0x08 != 0;
            let invoke_id = get(apdu, 1, "Complex-ACK invoke ID")?;
            let (sequence_number, at) = if segmented {
                (Some(get(apdu, 2, "Complex-ACK sequence number")?), 4)
            } else {
                (None, 2)
            };
            let service = get(apdu, at, "Complex-ACK service choice")?;
            Ok(Apdu::ComplexAck {
                invoke_id,
                service,
                segmented,
                more_follows: first & 0x04 != 0,
                sequence_number,
                data: rest(at + 1),
            })
        }
        pdu_type::SEGMENT_ACK => Ok(Apdu::SegmentAck {
            invoke_id: get(apdu, 1, "Segment-ACK invoke ID")?,
            server: first & 0x01 != 0,
        }),
        pdu_type::ERROR => {
            let invoke_id = get(apdu, 1, "Error invoke ID")?;
            let service = get(apdu, 2, "Error service choice")?;
            let error = BacnetError::parse(rest(3))?;
            Ok(Apdu::Error {
                invoke_id,
                service,
                error,
            })
        }
        pdu_type::REJECT => Ok(Apdu::Reject {
            invoke_id: get(apdu, 1, "Reject invoke ID")?,
            reason: RejectReason(get(apdu, 2, "Reject reason")?),
        }),
        pdu_type::ABORT => Ok(Apdu::Abort {
            invoke_id: get(apdu, 1, "Abort invoke ID")?,
            server: first & 0x01 != 0,
            reason: AbortReason(get(apdu, 2, "Abort reason")?),
        }),
        other => Err(CodecError::UnknownPduType(other)),
    }
}

/// A confirmed request that accepts no segmented answer, announcing [`MAX_APDU_ACCEPTED`].
pub fn emit_confirmed_request(invoke_id: u8, service: u8, data: &[u8], out: &mut Vec<u8>) {
    // PDU type 0; SEG = 0, MOR = 0, SA = 0 (segmented response NOT accepted)
    out.push(pdu_type::CONFIRMED_REQUEST << 4);
    // max segments: 0 (unspecified; irrelevant without SA), max APDU: 1476
    out.push(MAX_APDU_CODE);
    out.push(invoke_id);
    out.push(service);
    out.extend_from_slice(data);
}

/// An unconfirmed request.
pub fn emit_unconfirmed_request(service: u8, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[pdu_type::UNCONFIRMED_REQUEST << 4, service]);
    out.extend_from_slice(data);
}

/// A whole (unsegmented) Complex-ACK, as a device sends it (for tests and simulated peers).
pub fn emit_complex_ack(invoke_id: u8, service: u8, data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[pdu_type::COMPLEX_ACK << 4, invoke_id, service]);
    out.extend_from_slice(data);
}

/// An Error PDU, as a device sends it (for tests and simulated peers).
pub fn emit_error(invoke_id: u8, service: u8, error: BacnetError, out: &mut Vec<u8>) {
    out.extend_from_slice(&[pdu_type::ERROR << 4, invoke_id, service]);
    error.emit(out);
}

/// A Reject PDU, as a device sends it (for tests and simulated peers).
pub fn emit_reject(invoke_id: u8, reason: RejectReason, out: &mut Vec<u8>) {
    out.extend_from_slice(&[pdu_type::REJECT << 4, invoke_id, reason.0]);
}

/// An Abort PDU sent by a server (for tests and simulated peers).
pub fn emit_abort(invoke_id: u8, reason: AbortReason, out: &mut Vec<u8>) {
    out.extend_from_slice(&[(pdu_type::ABORT << 4) | 0x01, invoke_id, reason.0]);
}

/// An error class and code (clause 18, 21: Error ::= SEQUENCE { error-class, error-code }).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BacnetError {
    /// The error class.
    pub class: u32,
    /// The error code.
    pub code: u32,
}

impl BacnetError {
    /// Error class "object".
    pub const CLASS_OBJECT: u32 = 1;
    /// Error class "property".
    pub const CLASS_PROPERTY: u32 = 2;
    /// Error class "services".
    pub const CLASS_SERVICES: u32 = 5;
    /// Error code "unknown-object".
    pub const UNKNOWN_OBJECT: u32 = 31;
    /// Error code "unknown-property".
    pub const UNKNOWN_PROPERTY: u32 = 32;

    /// Parses the two enumerations, inside an opening/closing tag 0 where the service wraps them.
    pub fn parse(data: &[u8]) -> Result<BacnetError, CodecError> {
        let mut r = Reader::new(data);
        let wrapped = r.at_opening(0);
        if wrapped {
            r.expect_opening(0, "Error PDU")?;
        }
        let class = r.read_app_enumerated("error class")?;
        let code = r.read_app_enumerated("error code")?;
        Ok(BacnetError {
            class: u32::try_from(class).unwrap_or(u32::MAX),
            code: u32::try_from(code).unwrap_or(u32::MAX),
        })
    }

    /// Appends the two application-tagged enumerations.
    pub fn emit(&self, out: &mut Vec<u8>) {
        use super::tag::Value;
        Value::Enumerated(u64::from(self.class)).encode(out);
        Value::Enumerated(u64::from(self.code)).encode(out);
    }

    /// The standard's name of the class.
    pub fn class_name(&self) -> &'static str {
        match self.class {
            0 => "device",
            1 => "object",
            2 => "property",
            3 => "resources",
            4 => "security",
            5 => "services",
            6 => "vt",
            7 => "communication",
            _ => "proprietary class",
        }
    }

    /// The standard's name of the code (the common ones; others show as a number).
    pub fn code_name(&self) -> &'static str {
        match self.code {
            0 => "other",
            2 => "configuration-in-progress",
            3 => "device-busy",
            5 => "file-access-denied",
            7 => "inconsistent-parameters",
            9 => "invalid-data-type",
            13 => "invalid-parameter-data-type",
            16 => "missing-required-parameter",
            25 => "operational-problem",
            26 => "password-failure",
            27 => "read-access-denied",
            29 => "service-request-denied",
            30 => "timeout",
            31 => "unknown-object",
            32 => "unknown-property",
            36 => "unsupported-object-type",
            37 => "value-out-of-range",
            41 => "character-set-not-supported",
            42 => "invalid-array-index",
            45 => "optional-functionality-not-supported",
            47 => "datatype-not-supported",
            50 => "property-is-not-an-array",
            82 => "busy",
            85 => "access-denied",
            _ => "error",
        }
    }
}

impl fmt::Display for BacnetError {
    /// `property: unknown-property (class 2, code 32)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (class {}, code {})",
            self.class_name(),
            self.code_name(),
            self.class,
            self.code
        )
    }
}

/// The reason of a Reject PDU (clause 18.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RejectReason(pub u8);

impl RejectReason {
    /// Reject reason "unrecognized-service".
    pub const UNRECOGNIZED_SERVICE: RejectReason = RejectReason(9);

    /// The standard's name.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "other",
            1 => "buffer-overflow",
            2 => "inconsistent-parameters",
            3 => "invalid-parameter-data-type",
            4 => "invalid-tag",
            5 => "missing-required-parameter",
            6 => "parameter-out-of-range",
            7 => "too-many-arguments",
            8 => "undefined-enumeration",
            9 => "unrecognized-service",
            64.. => "proprietary",
            _ => "unknown reason",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// The reason of an Abort PDU (clause 18.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbortReason(pub u8);

impl AbortReason {
    /// Abort reason "buffer-overflow".
    pub const BUFFER_OVERFLOW: AbortReason = AbortReason(1);
    /// Abort reason "segmentation-not-supported" (the answer would need segments we refused).
    pub const SEGMENTATION_NOT_SUPPORTED: AbortReason = AbortReason(4);

    /// The standard's name.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "other",
            1 => "buffer-overflow",
            2 => "invalid-apdu-in-this-state",
            3 => "preempted-by-higher-priority-task",
            4 => "segmentation-not-supported",
            5 => "security-error",
            6 => "insufficient-security",
            7 => "window-size-out-of-range",
            8 => "application-exceeded-reply-time",
            9 => "out-of-resources",
            10 => "tsm-timeout",
            11 => "apdu-too-long",
            64.. => "proprietary",
            _ => "unknown reason",
        }
    }
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn confirmed_requests_refuse_segmented_answers() {
        let mut out = Vec::new();
        emit_confirmed_request(7, service::READ_PROPERTY, &[0xAA], &mut out);
        assert_eq!(out, [0x00, 0x05, 7, 12, 0xAA]);
        let Apdu::ConfirmedRequest {
            segmented_response_accepted,
            max_apdu,
            ..
        } = parse(&out).unwrap()
        else {
            panic!()
        };
        assert!(!segmented_response_accepted);
        assert_eq!(max_apdu_from_code(max_apdu), Some(MAX_APDU_ACCEPTED));
    }

    #[test]
    fn errors_rejects_and_aborts_are_named() {
        // the testbed's bacpypes3 for an unknown object: class object (1), code unknown-object (31)
        let error = parse(&[0x50, 0x03, 0x0C, 0x91, 0x01, 0x91, 0x1F]).unwrap();
        let Apdu::Error { error, .. } = error else {
            panic!()
        };
        assert_eq!(
            error.to_string(),
            "object: unknown-object (class 1, code 31)"
        );
        // wrapped in an opening tag 0, as services with constructed errors send it
        let wrapped = BacnetError::parse(&[0x0E, 0x91, 0x02, 0x91, 0x20, 0x0F]).unwrap();
        assert_eq!(wrapped.code_name(), "unknown-property");
        assert_eq!(
            parse(&[0x60, 0x03, 0x09]).unwrap(),
            Apdu::Reject {
                invoke_id: 3,
                reason: RejectReason::UNRECOGNIZED_SERVICE
            }
        );
        let Apdu::Abort { reason, server, .. } = parse(&[0x71, 0x03, 0x04]).unwrap() else {
            panic!()
        };
        assert!(server);
        assert_eq!(reason.to_string(), "segmentation-not-supported (4)");
        assert!(matches!(parse(&[0x90]), Err(CodecError::UnknownPduType(9))));
    }

    #[test]
    fn segmented_complex_acks_are_recognised() {
        let ack = parse(&[0x3C, 0x01, 0x00, 0x04, 0x0E, 0xAA]).unwrap();
        assert_eq!(
            ack,
            Apdu::ComplexAck {
                invoke_id: 1,
                service: 14,
                segmented: true,
                more_follows: true,
                sequence_number: Some(0),
                data: &[0xAA]
            }
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn errors_survive_encoding(class in any::<u32>(), code in any::<u32>(), invoke in any::<u8>(), svc in any::<u8>()) {
            let error = BacnetError { class, code };
            let mut out = Vec::new();
            emit_error(invoke, svc, error, &mut out);
            prop_assert_eq!(parse(&out).unwrap(), Apdu::Error { invoke_id: invoke, service: svc, error });
        }
    }
}
