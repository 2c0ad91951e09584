//! Observations: what one probe of one target returned.

use crate::device::{DeviceKey, Position};
use crate::fact::Fact;
use crate::network::Link;
use crate::protocol::Protocol;
use jiff::Timestamp;
use std::net::IpAddr;

/// What a probe learned about one address, with the sub-devices it found behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The probed address.
    pub address: IpAddr,
    /// The protocol that produced it.
    pub source: Protocol,
    /// When the probe answered.
    pub time: Timestamp,
    /// What it learned about the device at `address`.
    pub facts: Vec<Fact>,
    /// Modules, units and routed devices found behind it.
    pub children: Vec<SubObservation>,
    /// Other devices it told about, each by its own key (a switch's ARP and MAC tables, its
    /// neighbours): not behind it, but seen by it.
    pub related: Vec<RelatedObservation>,
    /// Links between devices it told about (neighbours, access ports), for the device map.
    pub links: Vec<Link>,
}

impl Observation {
    /// An observation with no facts yet.
    pub fn new(address: IpAddr, source: Protocol, time: Timestamp) -> Observation {
        Observation {
            address,
            source,
            time,
            facts: vec![Fact::Protocol(source)],
            children: Vec::new(),
            related: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// What a probe learned about another device that the probed one told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedObservation {
    /// The device's key: its address, or its MAC when no address is known.
    pub key: DeviceKey,
    /// What was learned about it.
    pub facts: Vec<Fact>,
}

/// What a probe learned about a sub-device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubObservation {
    /// Where it sits in its parent.
    pub position: Position,
    /// What was learned about it.
    pub facts: Vec<Fact>,
    /// Sub-devices of this sub-device (a module's own modules, devices behind a routed network).
    pub children: Vec<SubObservation>,
}
