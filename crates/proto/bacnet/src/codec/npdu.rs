//! The BACnet network layer (ASHRAE 135 clause 6): the NPDU header with its routing addresses,
//! and the network layer messages a client meets (Who-Is-Router-To-Network and its answers).

use super::CodecError;
use std::fmt;

/// The only protocol version (clause 6.2.1).
pub const VERSION: u8 = 0x01;
/// Hop count put in routed requests (clause 6.2.2: 255).
pub const HOP_COUNT: u8 = 0xFF;

/// Bits of the NPCI control octet (clause 6.2.2).
pub mod control {
    /// The NSDU is a network layer message, not an APDU.
    pub const NETWORK_MESSAGE: u8 = 0x80;
    /// DNET, DLEN, DADR and the hop count are present.
    pub const DESTINATION: u8 = 0x20;
    /// SNET, SLEN and SADR are present.
    pub const SOURCE: u8 = 0x08;
    /// A confirmed request or another message that expects a reply.
    pub const EXPECTING_REPLY: u8 = 0x04;
    /// Network priority (0 normal).
    pub const PRIORITY: u8 = 0x03;
}

/// Network layer message types (clause 6.2.4).
pub mod message {
    /// Who-Is-Router-To-Network.
    pub const WHO_IS_ROUTER_TO_NETWORK: u8 = 0x00;
    /// I-Am-Router-To-Network.
    pub const I_AM_ROUTER_TO_NETWORK: u8 = 0x01;
    /// I-Could-Be-Router-To-Network.
    pub const I_COULD_BE_ROUTER_TO_NETWORK: u8 = 0x02;
    /// Reject-Message-To-Network.
    pub const REJECT_MESSAGE_TO_NETWORK: u8 = 0x03;
    /// Router-Busy-To-Network.
    pub const ROUTER_BUSY_TO_NETWORK: u8 = 0x04;
    /// Router-Available-To-Network.
    pub const ROUTER_AVAILABLE_TO_NETWORK: u8 = 0x05;
}

/// A device's address on a remote BACnet network: network number and MAC (DNET/DADR, SNET/SADR).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemoteAddress {
    /// The network number (1 to 65534; 65535 is the global broadcast).
    pub network: u16,
    /// The MAC address on that network; empty means every device on it (a remote broadcast).
    pub mac: Vec<u8>,
}

impl RemoteAddress {
    /// A single device on `network`.
    pub fn station(network: u16, mac: &[u8]) -> RemoteAddress {
        RemoteAddress {
            network,
            mac: mac.to_vec(),
        }
    }

    /// Every device on `network` (DLEN 0).
    pub fn broadcast(network: u16) -> RemoteAddress {
        RemoteAddress {
            network,
            mac: Vec::new(),
        }
    }

    /// The MAC in lowercase hex without separators (e.g. `05`, `c0a80005bac0`).
    pub fn mac_hex(&self) -> String {
        self.mac.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for RemoteAddress {
    /// `network 2 MAC 05`, or `network 2 (every device)` for a remote broadcast.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mac.is_empty() {
            write!(f, "network {} (every device)", self.network)
        } else {
            write!(f, "network {} MAC {}", self.network, self.mac_hex())
        }
    }
}

/// The NPCI: everything of the NPDU before the APDU or network message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Npci {
    /// The sender expects a reply.
    pub expecting_reply: bool,
    /// Network priority (0 to 3).
    pub priority: u8,
    /// DNET/DADR: where a router is to deliver it.
    pub destination: Option<RemoteAddress>,
    /// SNET/SADR: where a routed message came from.
    pub source: Option<RemoteAddress>,
    /// The hop count (present with a destination).
    pub hop_count: Option<u8>,
}

/// What an NPDU carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nsdu<'a> {
    /// An application layer PDU.
    Apdu(&'a [u8]),
    /// A network layer message.
    Message(NetworkMessage),
}

/// A network layer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMessage {
    /// Who-Is-Router-To-Network, for one network or (None) for all.
    WhoIsRouterToNetwork(Option<u16>),
    /// I-Am-Router-To-Network: the networks reachable through the sender.
    IAmRouterToNetwork(Vec<u16>),
    /// I-Could-Be-Router-To-Network (a half-router).
    ICouldBeRouterToNetwork {
        /// The network.
        network: u16,
        /// Performance index.
        performance: u8,
    },
    /// Reject-Message-To-Network: a router could not deliver a message.
    RejectMessageToNetwork {
        /// Why.
        reason: NetworkRejectReason,
        /// The destination network concerned.
        network: u16,
    },
    /// Router-Busy-To-Network.
    RouterBusyToNetwork(Vec<u16>),
    /// Router-Available-To-Network.
    RouterAvailableToNetwork(Vec<u16>),
    /// Another message type (with its vendor ID for proprietary types 0x80 and above).
    Other {
        /// The message type.
        message_type: u8,
        /// The vendor of a proprietary message.
        vendor_id: Option<u16>,
    },
}

/// Reason of a Reject-Message-To-Network (clause 6.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkRejectReason(pub u8);

impl NetworkRejectReason {
    /// The standard's description.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "other error",
            1 => "the router knows no route to the destination network",
            2 => "the router is busy",
            3 => "unknown network layer message type",
            4 => "the message is too long to be routed",
            5 => "security error",
            6 => "addressing error",
            _ => "unknown reason",
        }
    }
}

impl fmt::Display for NetworkRejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let out = rest.get(..n).ok_or(CodecError::Truncated {
            what,
            need: n,
            have: rest.len(),
        })?;
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, CodecError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn address(&mut self, what: &'static str) -> Result<RemoteAddress, CodecError> {
        let network = self.u16(what)?;
        let len = usize::from(self.u8(what)?);
        let mac = self.take(len, what)?.to_vec();
        Ok(RemoteAddress { network, mac })
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }
}

/// Parses an NPDU into its NPCI and what it carries.
pub fn parse(npdu: &[u8]) -> Result<(Npci, Nsdu<'_>), CodecError> {
    let mut c = Cursor { data: npdu, pos: 0 };
    let version = c.u8("NPDU version")?;
    if version != VERSION {
        return Err(CodecError::NpduVersion(version));
    }
    let ctrl = c.u8("NPDU control")?;
    let destination = if ctrl & control::DESTINATION != 0 {
        Some(c.address("NPDU destination (DNET/DLEN/DADR)")?)
    } else {
        None
    };
    let source = if ctrl & control::SOURCE != 0 {
        Some(c.address("NPDU source (SNET/SLEN/SADR)")?)
    } else {
        None
    };
    let hop_count = match destination {
        Some(_) => Some(c.u8("NPDU hop count")?),
        None => None,
    };
    let npci = Npci {
        expecting_reply: ctrl & control::EXPECTING_REPLY != 0,
        priority: ctrl & control::PRIORITY,
        destination,
        source,
        hop_count,
    };
    if ctrl & control::NETWORK_MESSAGE == 0 {
        return Ok((npci, Nsdu::Apdu(c.rest())));
    }
    let message_type = c.u8("network message type")?;
    let vendor_id = if message_type >= 0x80 {
        Some(c.u16("network message vendor ID")?)
    } else {
        None
    };
    let message = parse_message(message_type, vendor_id, &mut c)?;
    Ok((npci, Nsdu::Message(message)))
}

fn network_list(c: &mut Cursor<'_>, what: &'static str) -> Result<Vec<u16>, CodecError> {
    let rest = c.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CodecError::Truncated {
            what,
            need: rest.len() + 1,
            have: rest.len(),
        });
    }
    Ok(rest
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect())
}

fn parse_message(
    message_type: u8,
    vendor_id: Option<u16>,
    c: &mut Cursor<'_>,
) -> Result<NetworkMessage, CodecError> {
    Ok(match message_type {
        message::WHO_IS_ROUTER_TO_NETWORK => {
            let network = if c.rest().is_empty() {
                None
            } else {
                Some(c.u16("Who-Is-Router-To-Network network")?)
            };
            NetworkMessage::WhoIsRouterToNetwork(network)
        }
        message::I_AM_ROUTER_TO_NETWORK => {
            NetworkMessage::IAmRouterToNetwork(network_list(c, "I-Am-Router-To-Network list")?)
        }
        message::I_COULD_BE_ROUTER_TO_NETWORK => NetworkMessage::ICouldBeRouterToNetwork {
            network: c.u16("I-Could-Be-Router-To-Network network")?,
            performance: c.u8("I-Could-Be-Router-To-Network performance")?,
        },
        message::REJECT_MESSAGE_TO_NETWORK => NetworkMessage::RejectMessageToNetwork {
            reason: NetworkRejectReason(c.u8("Reject-Message-To-Network reason")?),
            network: c.u16("Reject-Message-To-Network network")?,
        },
        message::ROUTER_BUSY_TO_NETWORK => {
            NetworkMessage::RouterBusyToNetwork(network_list(c, "Router-Busy-To-Network list")?)
        }
        message::ROUTER_AVAILABLE_TO_NETWORK => NetworkMessage::RouterAvailableToNetwork(
            network_list(c, "Router-Available-To-Network list")?,
        ),
        message_type => NetworkMessage::Other {
            message_type,
            vendor_id,
        },
    })
}

fn push_address(out: &mut Vec<u8>, address: &RemoteAddress) {
    out.extend_from_slice(&address.network.to_be_bytes());
    // a MAC is at most 255 octets on the wire; longer ones are cut
    let mac = &address.mac[..address.mac.len().min(255)];
    out.push(mac.len() as u8);
    out.extend_from_slice(mac);
}

impl Npci {
    /// The NPCI of a request: to `destination` (routed) or to the device itself.
    pub fn request(destination: Option<RemoteAddress>, expecting_reply: bool) -> Npci {
        let hop_count = destination.as_ref().map(|_| HOP_COUNT);
        Npci {
            expecting_reply,
            priority: 0,
            destination,
            source: None,
            hop_count,
        }
    }

    /// Appends the NPCI; `network_message` sets the control bit for a network layer message.
    pub fn emit(&self, network_message: bool, out: &mut Vec<u8>) {
        let mut ctrl = self.priority & control::PRIORITY;
        if network_message {
            ctrl |= control::NETWORK_MESSAGE;
        }
        if self.destination.is_some() {
            ctrl |= control::DESTINATION;
        }
        if self.source.is_some() {
            ctrl |= control::SOURCE;
        }
        if self.expecting_reply {
            ctrl |= control::EXPECTING_REPLY;
        }
        out.extend_from_slice(&[VERSION, ctrl]);
        if let Some(d) = &self.destination {
            push_address(out, d);
        }
        if let Some(s) = &self.source {
            push_address(out, s);
        }
        if self.destination.is_some() {
            out.push(self.hop_count.unwrap_or(HOP_COUNT));
        }
    }
}

impl NetworkMessage {
    /// Appends the message type and its data.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let list = |out: &mut Vec<u8>, t: u8, nets: &[u16]| {
            out.push(t);
            for n in nets {
                out.extend_from_slice(&n.to_be_bytes());
            }
        };
        match self {
            NetworkMessage::WhoIsRouterToNetwork(network) => {
                out.push(message::WHO_IS_ROUTER_TO_NETWORK);
                if let Some(n) = network {
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            NetworkMessage::IAmRouterToNetwork(nets) => {
                list(out, message::I_AM_ROUTER_TO_NETWORK, nets)
            }
            NetworkMessage::ICouldBeRouterToNetwork {
                network,
                performance,
            } => {
                out.push(message::I_COULD_BE_ROUTER_TO_NETWORK);
                out.extend_from_slice(&network.to_be_bytes());
                out.push(*performance);
            }
            NetworkMessage::RejectMessageToNetwork { reason, network } => {
                out.extend_from_slice(&[message::REJECT_MESSAGE_TO_NETWORK, reason.0]);
                out.extend_from_slice(&network.to_be_bytes());
            }
            NetworkMessage::RouterBusyToNetwork(nets) => {
                list(out, message::ROUTER_BUSY_TO_NETWORK, nets)
            }
            NetworkMessage::RouterAvailableToNetwork(nets) => {
                list(out, message::ROUTER_AVAILABLE_TO_NETWORK, nets)
            }
            NetworkMessage::Other {
                message_type,
                vendor_id,
            } => {
                out.push(*message_type);
                if let Some(v) = vendor_id.filter(|_| *message_type >= 0x80) {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_routed_i_am_names_its_source() {
        // as the testbed's router sends it: SNET 2, SADR 05, then the APDU
        let npdu = [0x01, 0x08, 0x00, 0x02, 0x01, 0x05, 0x10, 0x00];
        let (npci, nsdu) = parse(&npdu).unwrap();
        assert_eq!(npci.source, Some(RemoteAddress::station(2, &[5])));
        assert_eq!(npci.destination, None);
        assert_eq!(nsdu, Nsdu::Apdu(&[0x10, 0x00]));
    }

    #[test]
    fn router_messages_decode() {
        let (_, nsdu) = parse(&[0x01, 0x80, 0x01, 0x00, 0x02, 0x00, 0x03]).unwrap();
        assert_eq!(
            nsdu,
            Nsdu::Message(NetworkMessage::IAmRouterToNetwork(vec![2, 3]))
        );
        let (_, nsdu) = parse(&[0x01, 0x80, 0x03, 0x01, 0x00, 0x09]).unwrap();
        let Nsdu::Message(NetworkMessage::RejectMessageToNetwork { reason, network }) = nsdu else {
            panic!("{nsdu:?}")
        };
        assert_eq!(network, 9);
        assert!(reason.to_string().contains("no route"));
        assert!(parse(&[0x01, 0x80, 0x01, 0x00]).is_err());
        assert!(matches!(
            parse(&[0x02, 0x00]),
            Err(CodecError::NpduVersion(2))
        ));
    }

    #[test]
    fn a_routed_request_carries_dnet_dadr_and_hop_count() {
        let mut out = Vec::new();
        Npci::request(Some(RemoteAddress::station(2, &[5])), true).emit(false, &mut out);
        assert_eq!(out, [0x01, 0x24, 0x00, 0x02, 0x01, 0x05, 0xFF]);
        let mut out = Vec::new();
        Npci::request(Some(RemoteAddress::broadcast(3)), false).emit(false, &mut out);
        assert_eq!(out, [0x01, 0x20, 0x00, 0x03, 0x00, 0xFF]);
    }

    fn any_address() -> impl Strategy<Value = RemoteAddress> {
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(network, mac)| RemoteAddress { network, mac })
    }

    fn any_message() -> impl Strategy<Value = NetworkMessage> {
        let nets = || proptest::collection::vec(any::<u16>(), 0..6);
        prop_oneof![
            proptest::option::of(any::<u16>()).prop_map(NetworkMessage::WhoIsRouterToNetwork),
            nets().prop_map(NetworkMessage::IAmRouterToNetwork),
            (any::<u16>(), any::<u8>()).prop_map(|(network, performance)| {
                NetworkMessage::ICouldBeRouterToNetwork {
                    network,
                    performance,
                }
            }),
            (any::<u8>(), any::<u16>()).prop_map(|(r, network)| {
                NetworkMessage::RejectMessageToNetwork {
                    reason: NetworkRejectReason(r),
                    network,
                }
            }),
            nets().prop_map(NetworkMessage::RouterBusyToNetwork),
            nets().prop_map(NetworkMessage::RouterAvailableToNetwork),
        ]
    }

    proptest! {
        #[test]
        fn npci_and_messages_survive_encoding(
            destination in proptest::option::of(any_address()),
            source in proptest::option::of(any_address()),
            expecting_reply in any::<bool>(),
            priority in 0u8..4,
            message in proptest::option::of(any_message()),
            apdu in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let hop_count = destination.as_ref().map(|_| HOP_COUNT);
            let npci = Npci { expecting_reply, priority, destination, source, hop_count };
            let mut out = Vec::new();
            npci.emit(message.is_some(), &mut out);
            match &message {
                Some(m) => m.emit(&mut out),
                None => out.extend_from_slice(&apdu),
            }
            let (got, nsdu) = parse(&out).unwrap();
            prop_assert_eq!(got, npci);
            match message {
                Some(m) => prop_assert_eq!(nsdu, Nsdu::Message(m)),
                None => prop_assert_eq!(nsdu, Nsdu::Apdu(&apdu)),
            }
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&bytes);
        }
    }
}
