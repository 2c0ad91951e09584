//! EtherNet/IP and CIP for otsensor: a pure codec, a thin async client and a read-only
//! identification probe that walks the backplane.
//!
//! # The only requests this crate can send
//!
//! The safety rules allow identification and read requests only. [`codec::Request`] has exactly
//! these variants, and [`codec::parse_request`] accepts nothing else (a test holds recorded client
//! traffic to it):
//!
//! | encapsulation command | CIP service | object | used for |
//! |---|---|---|---|
//! | 0x63 List Identity (TCP, or UDP unicast) | - | - | vendor, device type, product code, revision, status, serial, product name, state, the device's own address |
//! | 0x65 RegisterSession, 0x66 UnRegisterSession | - | - | the session the reads below need (depth >= 1) |
//! | 0x6F SendRRData | 0x01 Get_Attributes_All | Identity (class 0x01, instance 1) | the identity of each module (depth >= 1) and node (depth 2) |
//! | 0x6F SendRRData | 0x0E Get_Attribute_Single, attributes 1 (type) and 2 (number) | Port (class 0xF4), instances 1-8 | the ports of a communications module (depth 2) |
//! | 0x6F SendRRData | 0x52 Unconnected_Send | Connection Manager (class 0x06, instance 1) | carries the two reads above along a route path of port segments |
//!
//! The probe sends List Identity over TCP (over UDP only when the TCP port refuses). With depth 1
//! and above it opens a session and reads the Identity object of backplane (port 1) slots 0 to 16
//! through Unconnected Send; an empty slot answers with a routing error and is skipped. With depth
//! 2 it reads the Port object of each communications module found (device type 0x0C) and reads the
//! Identity object of every node of its ControlNet (1-99) and DeviceNet (0-63) ports, one hop past
//! the module. It records at most [`probe::MAX_SUB_DEVICES`] sub-devices, then unregisters the
//! session and closes the connection. Every packet waits on the pacer; every request has a time
//! limit.
//!
//! Modules are sub-devices at `Position::Slot(slot)`; nodes behind a module's port are its
//! sub-devices at `Position::Routed { network: port, mac: node (two hex digits) }`.
//!
//! [`names`] turns vendor IDs and device types into names (shipped as data) and device types into
//! otsensor's kinds of device.

pub mod client;
pub mod codec;
pub mod names;
pub mod probe;

pub use client::{Client, ClientError, list_identity_udp};
pub use codec::{CipStatus, CodecError, Identity, ListIdentity, Request, Route};
pub use probe::EnipProbe;
