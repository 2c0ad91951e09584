//! The BACnet/IP wire codec: BVLC ([`bvlc`]), NPDU ([`npdu`]), APDU ([`apdu`]), tagged values
//! ([`tag`]) and the services used ([`service`]); the [`Request`]s this crate can send, and
//! [`Incoming`], one received datagram decoded whole.
//!
//! Pure functions over bytes, no I/O: every length from the wire is checked before use, nesting is
//! bounded, and no input makes them panic. Names follow ASHRAE 135 (BACnet) and its Annex J.

pub mod apdu;
pub mod bvlc;
pub mod npdu;
pub mod service;
pub mod tag;

use apdu::{Apdu, service as svc};
use bvlc::Bvlc;
use npdu::{NetworkMessage, Npci, Nsdu, RemoteAddress};
use service::{PropertyId, ReadProperty, ReadPropertyMultiple, WhoIs};
use std::fmt;
use tag::ObjectId;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The data ended before a field it announced.
    #[error("{what} truncated: needs {need} octets, {have} present")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Octets needed.
        need: usize,
        /// Octets present.
        have: usize,
    },
    /// The first octet is not the BACnet/IP BVLC type.
    #[error("BVLC type {0:#04x} is not BACnet/IP (0x81)")]
    NotBacnetIp(u8),
    /// The BVLC length field is impossible for the datagram.
    #[error("BVLC length field {field} does not fit the datagram of {actual} octets")]
    BvlcLength {
        /// The length field.
        field: u16,
        /// The datagram's length.
        actual: usize,
    },
    /// The NPDU version is not 1.
    #[error("NPDU version {0} is not 1")]
    NpduVersion(u8),
    /// The APDU type is not defined.
    #[error("APDU type {0} is not defined")]
    UnknownPduType(u8),
    /// A tag other than the one the grammar requires.
    #[error("{what}: expected {expected}, found {found}")]
    UnexpectedTag {
        /// The field being read.
        what: &'static str,
        /// What the grammar requires.
        expected: String,
        /// What was there.
        found: String,
    },
    /// Some other violation of the encoding.
    #[error("{what}: {detail}")]
    Malformed {
        /// The field being read.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A frame this crate did not send (the request list check).
    #[error("not a request this crate sends: {0}")]
    NotARequest(String),
}

/// A request this crate can send. There is no other (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request {
    /// Who-Is without limits (unconfirmed service 8).
    WhoIs,
    /// Who-Is-Router-To-Network for every network (network layer message 0x00).
    WhoIsRouterToNetwork,
    /// ReadProperty of a whole property (confirmed service 12).
    ReadProperty(ReadProperty),
    /// ReadPropertyMultiple of whole properties of one object (confirmed service 14).
    ReadPropertyMultiple(ReadPropertyMultiple),
}

impl Request {
    /// Its name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Request::WhoIs => "Who-Is",
            Request::WhoIsRouterToNetwork => "Who-Is-Router-To-Network",
            Request::ReadProperty(_) => "ReadProperty",
            Request::ReadPropertyMultiple(_) => "ReadPropertyMultiple",
        }
    }

    /// Whether it is a confirmed request (has an invoke ID and an answer).
    pub fn is_confirmed(&self) -> bool {
        matches!(
            self,
            Request::ReadProperty(_) | Request::ReadPropertyMultiple(_)
        )
    }

    /// ReadProperty of `property` of `object`.
    pub fn read_property(object: ObjectId, property: PropertyId) -> Request {
        Request::ReadProperty(ReadProperty { object, property })
    }

    /// The whole datagram: an Original-Unicast-NPDU to the device at the IP address, routed on by it
    /// to `destination` when given (a station, or every device of a network for Who-Is).
    /// Confirmed requests refuse segmented answers and carry `invoke_id`.
    pub fn frame(&self, destination: Option<&RemoteAddress>, invoke_id: u8) -> Vec<u8> {
        let mut npdu = Vec::with_capacity(64);
        let network_message = matches!(self, Request::WhoIsRouterToNetwork);
        Npci::request(destination.cloned(), self.is_confirmed()).emit(network_message, &mut npdu);
        let mut data = Vec::with_capacity(48);
        match self {
            Request::WhoIs => {
                WhoIs::default().emit(&mut data);
                apdu::emit_unconfirmed_request(svc::WHO_IS, &data, &mut npdu);
            }
            Request::WhoIsRouterToNetwork => {
                NetworkMessage::WhoIsRouterToNetwork(None).emit(&mut npdu);
            }
            Request::ReadProperty(rp) => {
                rp.emit(&mut data);
                apdu::emit_confirmed_request(invoke_id, svc::READ_PROPERTY, &data, &mut npdu);
            }
            Request::ReadPropertyMultiple(rpm) => {
                rpm.emit(&mut data);
                apdu::emit_confirmed_request(
                    invoke_id,
                    svc::READ_PROPERTY_MULTIPLE,
                    &data,
                    &mut npdu,
                );
            }
        }
        bvlc::emit_original_unicast(&npdu)
    }

    /// Decodes a datagram as one of the requests this crate sends, or says why it is not one:
    /// the check behind "read only" (every datagram a client sent must pass it).
    pub fn parse_frame(
        datagram: &[u8],
    ) -> Result<(Option<RemoteAddress>, Option<u8>, Request), CodecError> {
        let not = |why: &str| CodecError::NotARequest(why.to_string());
        let Bvlc::Npdu { function, npdu, .. } = bvlc::parse(datagram)? else {
            return Err(not("a BVLL management message"));
        };
        if function != bvlc::function::ORIGINAL_UNICAST_NPDU {
            return Err(not(&format!("BVLC function {function:#04x} (not unicast)")));
        }
        let (npci, nsdu) = npdu::parse(npdu)?;
        if npci.source.is_some() {
            return Err(not("an NPDU with a source address"));
        }
        let destination = npci.destination;
        match nsdu {
            Nsdu::Message(NetworkMessage::WhoIsRouterToNetwork(None)) if destination.is_none() => {
                Ok((None, None, Request::WhoIsRouterToNetwork))
            }
            Nsdu::Message(m) => Err(not(&format!("network message {m:?}"))),
            Nsdu::Apdu(bytes) => match apdu::parse(bytes)? {
                Apdu::UnconfirmedRequest {
                    service: svc::WHO_IS,
                    data,
                } if WhoIs::parse(data)?.limits.is_none() => {
                    Ok((destination, None, Request::WhoIs))
                }
                Apdu::ConfirmedRequest {
                    invoke_id,
                    service,
                    segmented: false,
                    segmented_response_accepted: false,
                    data,
                    ..
                } if npci.expecting_reply => {
                    let request = match service {
                        svc::READ_PROPERTY => Request::ReadProperty(ReadProperty::parse(data)?),
                        svc::READ_PROPERTY_MULTIPLE => {
                            Request::ReadPropertyMultiple(ReadPropertyMultiple::parse(data)?)
                        }
                        other => return Err(not(&format!("confirmed service {other}"))),
                    };
                    Ok((destination, Some(invoke_id), request))
                }
                other => Err(not(&format!("APDU {other:?}"))),
            },
        }
    }
}

impl fmt::Display for Request {
    /// `ReadProperty object-name of device,1001`, `Who-Is`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::ReadProperty(rp) => {
                write!(f, "ReadProperty {} of {}", rp.property, rp.object)
            }
            Request::ReadPropertyMultiple(rpm) => {
                write!(
                    f,
                    "ReadPropertyMultiple ({} properties) of {}",
                    rpm.properties.len(),
                    rpm.object
                )
            }
            other => f.write_str(other.name()),
        }
    }
}

/// What a received datagram carries, decoded whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// An APDU.
    Apdu(Apdu<'a>),
    /// A network layer message.
    Message(NetworkMessage),
    /// A BVLC-Result (e.g. a NAK), with its code.
    BvlcResult(u16),
    /// A BVLL management message, with its function.
    BvlcOther(u8),
}

/// One received datagram: its NPCI (default for BVLL-only messages) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming<'a> {
    /// The network layer header.
    pub npci: Npci,
    /// What it carries.
    pub body: Body<'a>,
}

impl<'a> Incoming<'a> {
    /// Decodes a datagram through BVLC, NPDU and APDU header.
    pub fn parse(datagram: &'a [u8]) -> Result<Incoming<'a>, CodecError> {
        let npdu = match bvlc::parse(datagram)? {
            Bvlc::Npdu { npdu, .. } => npdu,
            Bvlc::Result(code) => {
                return Ok(Incoming {
                    npci: Npci::default(),
                    body: Body::BvlcResult(code),
                });
            }
            Bvlc::Other(function) => {
                return Ok(Incoming {
                    npci: Npci::default(),
                    body: Body::BvlcOther(function),
                });
            }
        };
        let (npci, nsdu) = npdu::parse(npdu)?;
        let body = match nsdu {
            Nsdu::Apdu(bytes) => Body::Apdu(apdu::parse(bytes)?),
            Nsdu::Message(m) => Body::Message(m),
        };
        Ok(Incoming { npci, body })
    }
}

/// A datagram as a device sends it, from `source` (routed) or itself (for tests and simulated
/// peers): an Original-Unicast-NPDU with the given APDU.
pub fn answer_frame(source: Option<&RemoteAddress>, apdu: &[u8]) -> Vec<u8> {
    let npci = Npci {
        source: source.cloned(),
        ..Npci::default()
    };
    let mut npdu = Vec::with_capacity(apdu.len() + 16);
    npci.emit(false, &mut npdu);
    npdu.extend_from_slice(apdu);
    bvlc::emit_original_unicast(&npdu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frames_are_exact() {
        assert_eq!(
            Request::WhoIs.frame(None, 0),
            [0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08]
        );
        assert_eq!(
            Request::WhoIsRouterToNetwork.frame(None, 0),
            [0x81, 0x0A, 0x00, 0x07, 0x01, 0x80, 0x00]
        );
        assert_eq!(
            Request::WhoIs.frame(Some(&RemoteAddress::broadcast(2)), 0),
            [
                0x81, 0x0A, 0x00, 0x0C, 0x01, 0x20, 0x00, 0x02, 0x00, 0xFF, 0x10, 0x08
            ]
        );
        // ReadProperty model-name of device,20005 at 2:05, invoke ID 1, as the router peer takes it
        let rp = Request::read_property(ObjectId::device(20005), PropertyId::MODEL_NAME);
        assert_eq!(
            rp.frame(Some(&RemoteAddress::station(2, &[5])), 1),
            [
                0x81, 0x0A, 0x00, 0x16, 0x01, 0x24, 0x00, 0x02, 0x01, 0x05, 0xFF, 0x00, 0x05, 0x01,
                0x0C, 0x0C, 0x02, 0x00, 0x4E, 0x25, 0x19, 0x46
            ]
        );
    }

    #[test]
    fn the_request_check_refuses_everything_else() {
        // a WriteProperty (service 15) is not a request of this crate
        let mut npdu = Vec::new();
        Npci::request(None, true).emit(false, &mut npdu);
        apdu::emit_confirmed_request(1, 15, &[0x0C, 0, 0, 0, 1], &mut npdu);
        let err = Request::parse_frame(&bvlc::emit_original_unicast(&npdu)).unwrap_err();
        assert!(err.to_string().contains("confirmed service 15"), "{err}");
        // a broadcast Who-Is is not either
        let mut frame = Request::WhoIs.frame(None, 0);
        frame[1] = bvlc::function::ORIGINAL_BROADCAST_NPDU;
        assert!(Request::parse_frame(&frame).is_err());
        // a confirmed request accepting segmented answers is not either
        let mut frame =
            Request::read_property(ObjectId::device(1), PropertyId::OBJECT_NAME).frame(None, 1);
        frame[6] |= 0x02;
        assert!(Request::parse_frame(&frame).is_err());
    }

    #[test]
    fn routed_answers_decode_whole() {
        let datagram = [
            0x81, 0x0A, 0x00, 0x18, 0x01, 0x08, 0x00, 0x02, 0x01, 0x05, 0x10, 0x00, 0xC4, 0x02,
            0x00, 0x4E, 0x25, 0x22, 0x04, 0x00, 0x91, 0x00, 0x21, 0x07,
        ];
        let incoming = Incoming::parse(&datagram).unwrap();
        assert_eq!(incoming.npci.source, Some(RemoteAddress::station(2, &[5])));
        let Body::Apdu(Apdu::UnconfirmedRequest { service, data }) = incoming.body else {
            panic!()
        };
        assert_eq!(service, svc::I_AM);
        assert_eq!(
            service::IAm::parse(data).unwrap().device,
            ObjectId::device(20005)
        );
    }

    pub(crate) fn any_request() -> impl Strategy<Value = Request> {
        let object =
            (0u16..1024, 0u32..=ObjectId::MAX_INSTANCE).prop_map(|(object_type, instance)| {
                ObjectId {
                    object_type,
                    instance,
                }
            });
        prop_oneof![
            Just(Request::WhoIs),
            Just(Request::WhoIsRouterToNetwork),
            (object.clone(), any::<u32>())
                .prop_map(|(o, p)| Request::read_property(o, PropertyId(p))),
            (object, proptest::collection::vec(any::<u32>(), 0..12)).prop_map(|(object, ps)| {
                Request::ReadPropertyMultiple(ReadPropertyMultiple {
                    object,
                    properties: ps.into_iter().map(PropertyId).collect(),
                })
            }),
        ]
    }

    fn any_destination() -> impl Strategy<Value = Option<RemoteAddress>> {
        proptest::option::of(
            (1u16..65535, proptest::collection::vec(any::<u8>(), 0..7))
                .prop_map(|(network, mac)| RemoteAddress { network, mac }),
        )
    }

    proptest! {
        #[test]
        fn every_request_is_on_the_read_only_list(req in any_request(), dest in any_destination(), invoke in any::<u8>()) {
            // Who-Is-Router-To-Network is only ever sent to the router itself
            let dest = if req == Request::WhoIsRouterToNetwork { None } else { dest };
            let frame = req.frame(dest.as_ref(), invoke);
            let (got_dest, got_invoke, got) = Request::parse_frame(&frame).unwrap();
            prop_assert_eq!(&got, &req);
            prop_assert_eq!(got_dest, dest);
            prop_assert_eq!(got_invoke, req.is_confirmed().then_some(invoke));
            prop_assert_eq!(frame[1], bvlc::function::ORIGINAL_UNICAST_NPDU);
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Incoming::parse(&bytes);
            let _ = Request::parse_frame(&bytes);
        }

        #[test]
        fn decoding_damaged_frames_never_panics(req in any_request(), dest in any_destination(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
            let mut frame = req.frame(dest.as_ref(), 1);
            let i = at % frame.len();
            frame[i] = byte;
            frame.truncate(cut % (frame.len() + 1));
            let _ = Incoming::parse(&frame);
            let _ = Request::parse_frame(&frame);
        }
    }
}
