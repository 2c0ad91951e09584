//! The EtherNet/IP probe: who is the device (List Identity), and, with depth, which modules sit in
//! its chassis and which nodes behind their communication ports.

use crate::client::{Client, ClientError, list_identity_udp};
use crate::codec::{Identity, ListIdentity, PortAttribute, Route};
use crate::names;
use otsensor_core::probe::BoxFuture;
use otsensor_core::{
    Fact, Observation, Outcome, Position, Probe, ProbeContext, ProbeReport, Protocol,
    SubObservation,
};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

/// The backplane slots the depth-1 walk reads (a 1756 chassis has at most 17: 0 to 16).
pub const SLOTS: RangeInclusive<u8> = 0..=16;
/// The most Port object instances read per communications module.
pub const MAX_PORTS: u8 = 8;
/// The most sub-devices (modules and nodes) one probe records.
pub const MAX_SUB_DEVICES: usize = 256;
/// Time limit of the UDP List Identity tried when the TCP port refuses.
pub const UDP_FALLBACK_TIMEOUT: Duration = Duration::from_secs(1);
/// Time limit of one node of a depth-2 walk (absent nodes cost this much on slow networks).
pub const NODE_TIMEOUT: Duration = Duration::from_secs(1);

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "EtherNet/IP List Identity (0x63), TCP; UDP when the TCP port refuses",
    "EtherNet/IP RegisterSession (0x65) and UnRegisterSession (0x66) (depth >= 1)",
    "EtherNet/IP SendRRData (0x6f): CIP Get_Attributes_All (0x01) of Identity (class 0x01, instance 1), in an Unconnected Send (0x52) to the Connection Manager (class 0x06) routed to backplane slots 0-16 (depth >= 1) and to the nodes of a communications module's ControlNet/DeviceNet port (depth 2)",
    "EtherNet/IP SendRRData (0x6f): CIP Get_Attribute_Single (0x0e) of Port (class 0xf4) attributes 1 and 2, routed to a communications module (depth 2)",
];

/// Read-only EtherNet/IP identification probe.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnipProbe;

impl Probe for EnipProbe {
    fn protocol(&self) -> Protocol {
        Protocol::Enip
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(probe(address, ctx))
    }
}

async fn probe(address: IpAddr, ctx: ProbeContext) -> ProbeReport {
    let addr = SocketAddr::new(address, ctx.port);
    let mut client = match Client::connect(addr, ctx.timeout, ctx.pacer.clone()).await {
        Ok(c) => c,
        Err(e @ ClientError::Refused { .. }) => return udp_fallback(addr, &ctx, e).await,
        Err(e) => return connect_failure(e),
    };
    let now = jiff::Timestamp::now();
    let li = match client.list_identity().await {
        Ok(li) => li,
        Err(e) => {
            client.close().await;
            return list_identity_failure(address, now, e);
        }
    };
    let mut obs = Observation::new(address, Protocol::Enip, now);
    obs.facts.extend(list_identity_facts(&li));
    let mut notes = Vec::new();
    if ctx.depth >= 1 {
        let walk = walk_backplane(&mut client, ctx.depth, ctx.timeout).await;
        obs.children = walk.modules;
        notes = walk.notes;
    }
    client.close().await;
    ProbeReport {
        outcome: Outcome::Identified,
        observation: Some(obs),
        error: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

fn connect_failure(e: ClientError) -> ProbeReport {
    let outcome = match e {
        ClientError::Refused { .. } | ClientError::UdpUnreachable { .. } => Outcome::Refused,
        ClientError::ConnectTimeout { .. } => Outcome::NoResponse,
        _ => Outcome::Error,
    };
    ProbeReport::failed(outcome, e)
}

/// The TCP port refused: some devices answer List Identity on UDP all the same.
async fn udp_fallback(addr: SocketAddr, ctx: &ProbeContext, tcp: ClientError) -> ProbeReport {
    let limit = ctx.timeout.min(UDP_FALLBACK_TIMEOUT);
    match list_identity_udp(addr, limit, ctx.pacer.clone()).await {
        Ok(li) => {
            let mut obs = Observation::new(addr.ip(), Protocol::Enip, jiff::Timestamp::now());
            obs.facts.extend(list_identity_facts(&li));
            let note = (ctx.depth >= 1)
                .then(|| format!("{tcp}; identified over UDP, so no backplane walk"));
            ProbeReport {
                outcome: Outcome::Identified,
                observation: Some(obs),
                error: note,
            }
        }
        Err(udp) => ProbeReport::failed(Outcome::Refused, format!("{tcp}; {udp}")),
    }
}

fn list_identity_failure(address: IpAddr, now: jiff::Timestamp, e: ClientError) -> ProbeReport {
    let outcome = match e {
        ClientError::Timeout { .. } => Outcome::NoResponse,
        _ => Outcome::Error,
    };
    // a well-framed but refused or truncated reply still proves an EtherNet/IP device is there
    let observation = e
        .spoke_enip()
        .then(|| Observation::new(address, Protocol::Enip, now));
    ProbeReport {
        outcome,
        observation,
        error: Some(e.to_string()),
    }
}

/// Facts of a List Identity reply: the identity, and the address the device gives for itself.
pub fn list_identity_facts(li: &ListIdentity) -> Vec<Fact> {
    let mut facts = identity_facts(&li.identity);
    if !li.socket.ip().is_unspecified() {
        facts.push(Fact::ReportedIp(IpAddr::V4(*li.socket.ip())));
    }
    facts
}

/// Facts of an Identity object, named through the shipped vendor and device type lists.
pub fn identity_facts(id: &Identity) -> Vec<Fact> {
    let mut facts = vec![Fact::VendorId(u32::from(id.vendor_id))];
    if let Some(vendor) = names::vendor_name(id.vendor_id) {
        facts.push(Fact::Vendor(vendor.to_string()));
    }
    facts.push(Fact::DeviceType(names::classify(id.device_type)));
    facts.push(Fact::TypeName(names::device_type_label(id.device_type)));
    facts.push(Fact::ProductCode(id.product_code.to_string()));
    facts.push(Fact::Firmware(id.revision.to_string()));
    facts.push(Fact::Serial(id.serial_hex()));
    if !id.product_name.is_empty() {
        facts.push(Fact::ProductName(id.product_name.clone()));
        facts.push(Fact::Model(id.product_name.clone()));
    }
    facts.push(Fact::Status(names::describe_status_and_state(
        id.status, id.state,
    )));
    if let Some(mode) = names::plc_mode(id.device_type, id.status) {
        facts.push(Fact::PlcMode(mode));
    }
    facts
}

fn sub_observation(position: Position, id: &Identity) -> SubObservation {
    let mut facts = vec![Fact::Protocol(Protocol::Enip)];
    facts.extend(identity_facts(id));
    SubObservation {
        position,
        facts,
        children: Vec::new(),
    }
}

/// One device is the same as another when vendor, product code and serial number agree.
fn device_key(id: &Identity) -> (u16, u16, u32) {
    (id.vendor_id, id.product_code, id.serial)
}

/// What a walk found, and what it could not read.
#[derive(Debug, Default)]
struct Walk {
    modules: Vec<SubObservation>,
    notes: Vec<String>,
}

/// What one routed identity read says about its target.
enum Target {
    /// The target's identity.
    Found(Identity),
    /// Nothing there: the route failed with a connection failure (empty slot, absent node).
    Absent,
    /// Something there that answered with a CIP error (noted).
    Unreadable(ClientError),
    /// The device does not route (a router error other than a connection failure): stop.
    NoRouting(ClientError),
    /// The connection failed or the device stopped answering: stop.
    Broken(ClientError),
}

async fn read_target(client: &mut Client, route: &Route) -> Target {
    match client.read_identity(route).await {
        Ok(id) => Target::Found(id),
        Err(ClientError::Cip {
            at_router: true,
            ref status,
            ..
        }) if status.general == 0x01 => Target::Absent,
        Err(
            e @ ClientError::Cip {
                at_router: true, ..
            },
        ) => Target::NoRouting(e),
        Err(e @ ClientError::Cip { .. }) => Target::Unreadable(e),
        Err(e) => Target::Broken(e),
    }
}

/// Reads the Identity object of every backplane slot; at depth 2, follows the ports of the
/// communications modules found.
async fn walk_backplane(client: &mut Client, depth: u8, limit: Duration) -> Walk {
    let mut walk = Walk::default();
    let mut found: Vec<(u8, Identity)> = Vec::new();
    for slot in SLOTS {
        match read_target(client, &Route::slot(slot)).await {
            Target::Found(id) => found.push((slot, id)),
            Target::Absent => {}
            Target::Unreadable(e) => walk.notes.push(format!("slot {slot}: {e}")),
            Target::NoRouting(e) => {
                walk.notes.push(format!("no backplane walk: {e}"));
                break;
            }
            Target::Broken(e) => {
                walk.notes
                    .push(format!("backplane walk stopped at slot {slot}: {e}"));
                break;
            }
        }
    }
    drop_copies(&mut found, &mut walk.notes);
    let mut budget = MAX_SUB_DEVICES.saturating_sub(found.len());
    found.truncate(MAX_SUB_DEVICES);
    for (slot, id) in found {
        let mut module = sub_observation(Position::Slot(slot.into()), &id);
        if depth >= 2 && names::is_communications_adapter(id.device_type) && budget > 0 {
            client.set_timeout(limit.min(NODE_TIMEOUT));
            module.children = walk_ports(client, slot, &id, &mut budget, &mut walk.notes).await;
            client.set_timeout(limit);
        }
        walk.modules.push(module);
    }
    walk
}

/// A device that ignores the route path answers every slot as itself: identities seen in more
/// than one slot are no modules (serial numbers are unique per vendor).
fn drop_copies(found: &mut Vec<(u8, Identity)>, notes: &mut Vec<String>) {
    let mut seen: HashMap<(u16, u16, u32), usize> = HashMap::new();
    for (_, id) in found.iter() {
        *seen.entry(device_key(id)).or_default() += 1;
    }
    let copies: Vec<u8> = found
        .iter()
        .filter(|(_, id)| seen.get(&device_key(id)).copied().unwrap_or(0) > 1)
        .map(|(slot, _)| *slot)
        .collect();
    if copies.is_empty() {
        return;
    }
    notes.push(format!(
        "{} slots ({}) answer with one and the same identity: the device ignores the route path, so they are not recorded as modules",
        copies.len(),
        copies
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    ));
    found.retain(|(slot, _)| !copies.contains(slot));
}

/// The node addresses of a port type that has them: ControlNet (2, 3) 1-99, DeviceNet (5) 0-63.
fn node_range(port_type: u16) -> Option<RangeInclusive<u8>> {
    match port_type {
        2 | 3 => Some(1..=99),
        5 => Some(0..=63),
        _ => None,
    }
}

/// Reads a communications module's ports (Port object), then the Identity object of every node
/// on its ControlNet and DeviceNet ports, one hop past the module.
async fn walk_ports(
    client: &mut Client,
    slot: u8,
    module: &Identity,
    budget: &mut usize,
    notes: &mut Vec<String>,
) -> Vec<SubObservation> {
    let route = Route::slot(slot);
    let mut ports = Vec::new();
    for instance in 1..=MAX_PORTS {
        let kind = match client
            .read_port_attribute(&route, instance, PortAttribute::Type)
            .await
        {
            Ok(kind) => kind,
            Err(ClientError::Cip { .. }) => break, // no more ports (0x16), or no Port object
            Err(e) => {
                notes.push(format!("slot {slot} ports: {e}"));
                return Vec::new();
            }
        };
        let number = match client
            .read_port_attribute(&route, instance, PortAttribute::Number)
            .await
        {
            Ok(n) => n,
            Err(ClientError::Cip { .. }) => u16::from(instance),
            Err(e) => {
                notes.push(format!("slot {slot} ports: {e}"));
                return Vec::new();
            }
        };
        ports.push((number, kind));
    }
    let mut children = Vec::new();
    for (port, kind) in ports {
        let Some(nodes) = node_range(kind) else {
            continue;
        };
        for node in nodes {
            if *budget == 0 {
                notes.push(format!(
                    "slot {slot} port {port}: stopped at node {node}, {MAX_SUB_DEVICES} sub-devices recorded"
                ));
                return children;
            }
            match read_target(client, &route.then(port, node)).await {
                Target::Found(id) if device_key(&id) == device_key(module) => {}
                Target::Found(id) => {
                    *budget -= 1;
                    children.push(sub_observation(
                        Position::Routed {
                            network: port,
                            mac: format!("{node:02x}"),
                        },
                        &id,
                    ));
                }
                Target::Absent => {}
                Target::Unreadable(e) => {
                    notes.push(format!("slot {slot} port {port} node {node}: {e}"))
                }
                Target::NoRouting(e) | Target::Broken(e) => {
                    notes.push(format!(
                        "slot {slot} port {port}: walk stopped at node {node}: {e}"
                    ));
                    break;
                }
            }
        }
    }
    children
}
