//! BACnet/IP for otsensor: a pure codec, a thin async client and a read-only identification probe.
//!
//! # The only requests this crate can send
//!
//! The safety rules allow identification and read requests only. [`codec::Request`] has exactly
//! these variants, and nothing else can be encoded; every datagram is a BVLC
//! Original-Unicast-NPDU (function 0x0A) to the target's address, never a broadcast:
//!
//! | request | code | used for |
//! |---|---|---|
//! | Who-Is, no instance limits | unconfirmed service 8 | the device's identifier, vendor ID, max APDU (its I-Am) |
//! | ReadProperty, whole property | confirmed service 12 | each of the Device object properties below, when ReadPropertyMultiple is refused; object-identifier of the wildcard device 4194303 when no I-Am comes |
//! | ReadPropertyMultiple, one object, whole properties | confirmed service 14 | object-name, vendor-name, vendor-identifier, model-name, firmware-revision, application-software-version, location, description, protocol-revision in one request |
//! | Who-Is-Router-To-Network, all networks | network layer message 0x00 | the networks behind a router (depth >= 1) |
//!
//! Confirmed requests announce a maximum APDU of 1476 octets and accept no segmented answer
//! (SA = 0): a device whose answer does not fit aborts (segmentation-not-supported) and the client
//! falls back to ReadProperty per property. Answers are matched by invoke ID and source; Error,
//! Reject and Abort PDUs become errors naming the class, code or reason.
//!
//! With depth 1 and above the probe sends Who-Is-Router-To-Network to the target; for each
//! network the target names, a Who-Is routed through it (NPDU DNET = the network, DLEN 0: the
//! router delivers it to every device of that network, the only way to find them), then the
//! reads above routed to each device that answered (DNET/DADR). Those devices become sub-devices
//! at `Position::Routed { network, mac }`. Every request gets the stage time limit and one retry;
//! Who-Is-Router-To-Network waits at most [`probe::ROUTER_QUERY_WINDOW`] per attempt (a device that
//! is no router stays silent), a routed Who-Is collects I-Ams for at most
//! [`probe::NETWORK_WHO_IS_WINDOW`]; networks and routed devices are bounded by
//! [`probe::MAX_NETWORKS`] and [`probe::MAX_ROUTED_DEVICES`].

pub mod client;
pub mod codec;
pub mod probe;
pub mod vendors;

pub use client::{Client, ClientError, DeviceInfo, IAmFrom, ReadMode};
pub use codec::Request;
pub use codec::npdu::RemoteAddress;
pub use codec::tag::ObjectId;
pub use probe::BacnetProbe;
pub use vendors::vendor_name;
