//! BACnet Virtual Link Control for BACnet/IP (ASHRAE 135 Annex J): the four-octet header of
//! every BACnet/IP datagram.

use super::CodecError;
use std::net::{Ipv4Addr, SocketAddrV4};

/// BVLC type of BACnet/IP (Annex J).
pub const BVLC_TYPE_BIP: u8 = 0x81;
/// Length of the BVLC header: type, function, length.
pub const HEADER_LEN: usize = 4;

/// BVLC function codes (J.2).
pub mod function {
    /// BVLC-Result.
    pub const RESULT: u8 = 0x00;
    /// Forwarded-NPDU (from a BBMD, with the original source's address).
    pub const FORWARDED_NPDU: u8 = 0x04;
    /// Distribute-Broadcast-To-Network (from a foreign device).
    pub const DISTRIBUTE_BROADCAST_TO_NETWORK: u8 = 0x09;
    /// Original-Unicast-NPDU: the only function this crate sends.
    pub const ORIGINAL_UNICAST_NPDU: u8 = 0x0A;
    /// Original-Broadcast-NPDU.
    pub const ORIGINAL_BROADCAST_NPDU: u8 = 0x0B;
}

/// A decoded BACnet/IP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bvlc<'a> {
    /// A datagram carrying an NPDU.
    Npdu {
        /// The BVLC function (unicast, broadcast, forwarded, distribute).
        function: u8,
        /// For Forwarded-NPDU: the address of the original sender.
        forwarded_from: Option<SocketAddrV4>,
        /// The NPDU.
        npdu: &'a [u8],
    },
    /// A BVLC-Result with its result code (e.g. a NAK from a BBMD).
    Result(u16),
    /// Another BVLL function (BDT/FDT management), which a client has no use for.
    Other(u8),
}

/// Parses one datagram's BVLC header. The length field must not exceed the datagram; octets
/// beyond it are ignored.
pub fn parse(datagram: &[u8]) -> Result<Bvlc<'_>, CodecError> {
    let header = datagram.get(..HEADER_LEN).ok_or(CodecError::Truncated {
        what: "BVLC header",
        need: HEADER_LEN,
        have: datagram.len(),
    })?;
    if header[0] != BVLC_TYPE_BIP {
        return Err(CodecError::NotBacnetIp(header[0]));
    }
    let function = header[1];
    let length = u16::from_be_bytes([header[2], header[3]]);
    let total = usize::from(length);
    if total < HEADER_LEN {
        return Err(CodecError::BvlcLength {
            field: length,
            actual: datagram.len(),
        });
    }
    let body = datagram
        .get(HEADER_LEN..total)
        .ok_or(CodecError::BvlcLength {
            field: length,
            actual: datagram.len(),
        })?;
    match function {
        function::RESULT => {
            let code = body.get(..2).ok_or(CodecError::Truncated {
                what: "BVLC-Result code",
                need: 2,
                have: body.len(),
            })?;
            Ok(Bvlc::Result(u16::from_be_bytes([code[0], code[1]])))
        }
        function::FORWARDED_NPDU => {
            let from = body.get(..6).ok_or(CodecError::Truncated {
                what: "Forwarded-NPDU original address",
                need: 6,
                have: body.len(),
            })?;
            Ok(Bvlc::Npdu {
                function,
                forwarded_from: Some(SocketAddrV4::new(
                    Ipv4Addr::new(from[0], from[1], from[2], from[3]),
                    u16::from_be_bytes([from[4], from[5]]),
                )),
                npdu: &body[6..],
            })
        }
        function::ORIGINAL_UNICAST_NPDU
        | function::ORIGINAL_BROADCAST_NPDU
        | function::DISTRIBUTE_BROADCAST_TO_NETWORK => Ok(Bvlc::Npdu {
            function,
            forwarded_from: None,
            npdu: body,
        }),
        other => Ok(Bvlc::Other(other)),
    }
}

/// An Original-Unicast-NPDU datagram carrying `npdu` (at most 65531 octets; longer is cut).
pub fn emit_original_unicast(npdu: &[u8]) -> Vec<u8> {
    let npdu = &npdu[..npdu.len().min(usize::from(u16::MAX) - HEADER_LEN)];
    let length = (npdu.len() + HEADER_LEN) as u16;
    let mut out = Vec::with_capacity(usize::from(length));
    out.extend_from_slice(&[BVLC_TYPE_BIP, function::ORIGINAL_UNICAST_NPDU]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(npdu);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicast_frames_round_trip() {
        let frame = emit_original_unicast(&[1, 0, 0x10, 0x08]);
        assert_eq!(frame, [0x81, 0x0A, 0x00, 0x08, 1, 0, 0x10, 0x08]);
        assert_eq!(
            parse(&frame).unwrap(),
            Bvlc::Npdu {
                function: function::ORIGINAL_UNICAST_NPDU,
                forwarded_from: None,
                npdu: &[1, 0, 0x10, 0x08]
            }
        );
    }

    #[test]
    fn forwarded_npdus_carry_the_original_source() {
        let frame = [
            0x81, 0x04, 0x00, 0x0E, 10, 0, 0, 5, 0xBA, 0xC0, 1, 0, 0x10, 0x08,
        ];
        let Bvlc::Npdu {
            forwarded_from,
            npdu,
            ..
        } = parse(&frame).unwrap()
        else {
            panic!("not an NPDU")
        };
        assert_eq!(forwarded_from, Some("10.0.0.5:47808".parse().unwrap()));
        assert_eq!(npdu, &[1, 0, 0x10, 0x08]);
    }

    #[test]
    fn bad_headers_are_named() {
        assert!(matches!(
            parse(&[0x82, 0x0A, 0, 4]),
            Err(CodecError::NotBacnetIp(0x82))
        ));
        assert!(matches!(
            parse(&[0x81, 0x0A, 0, 9, 1]),
            Err(CodecError::BvlcLength { field: 9, .. })
        ));
        assert!(matches!(
            parse(&[0x81, 0x0A, 0, 2]),
            Err(CodecError::BvlcLength { field: 2, .. })
        ));
        assert!(matches!(parse(&[0x81]), Err(CodecError::Truncated { .. })));
        assert_eq!(
            parse(&[0x81, 0x00, 0, 6, 0x00, 0x30]).unwrap(),
            Bvlc::Result(0x30)
        );
    }
}
