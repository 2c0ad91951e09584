//! The BACnet probe: who is the device, and (depth 1 and above) which devices sit on the
//! networks it routes to.

use crate::client::{Client, ClientError, DeviceInfo, IAmFrom, ReadMode};
use crate::codec::npdu::RemoteAddress;
use crate::codec::tag::ObjectId;
use crate::vendors::vendor_name;
use otsensor_core::probe::BoxFuture;
use otsensor_core::{
    DeviceType, Fact, Observation, Outcome, Position, Probe, ProbeContext, ProbeReport, Protocol,
    SubObservation,
};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Most networks behind one router that are asked for devices.
pub const MAX_NETWORKS: usize = 64;
/// Most routed devices recorded behind one router.
pub const MAX_ROUTED_DEVICES: usize = 512;
/// Longest wait for the I-Ams of one network behind a router, per attempt (devices behind slow
/// MS/TP links answer within it); shorter when the stage time limit is.
pub const NETWORK_WHO_IS_WINDOW: Duration = Duration::from_secs(3);
/// Longest wait for I-Am-Router-To-Network, per attempt: a router answers it from its own stack at
/// once, and silence (every device that is no router) should cost little.
pub const ROUTER_QUERY_WINDOW: Duration = Duration::from_secs(1);

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "BACnet Who-Is (unconfirmed service 8, no limits), unicast to the target; depth >= 1: also routed by the target to each network behind it (NPDU DNET, DLEN 0)",
    "BACnet ReadProperty (confirmed service 12) of Device object properties, whole (also object-identifier of the wildcard device 4194303); routed by the target at depth >= 1",
    "BACnet ReadPropertyMultiple (confirmed service 14) of Device object properties, whole; routed by the target at depth >= 1",
    "BACnet network layer Who-Is-Router-To-Network (message 0x00, all networks), unicast to the target, depth >= 1",
];

/// Read-only BACnet/IP identification probe.
#[derive(Debug, Default, Clone, Copy)]
pub struct BacnetProbe;

impl Probe for BacnetProbe {
    fn protocol(&self) -> Protocol {
        Protocol::Bacnet
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(probe(address, ctx))
    }
}

/// Who the device said it is: its Device object, and its vendor ID when an I-Am gave it.
struct Identity {
    device: ObjectId,
    vendor_id: Option<u32>,
}

async fn probe(address: IpAddr, ctx: ProbeContext) -> ProbeReport {
    let addr = SocketAddr::new(address, ctx.port);
    let mut client = match Client::open(addr, ctx.timeout, ctx.pacer.clone()).await {
        Ok(c) => c,
        Err(e) => return ProbeReport::failed(Outcome::Error, e),
    };
    let identity = match identify(&mut client).await {
        Ok(identity) => identity,
        Err((outcome, answered, text)) => {
            let observation = answered
                .then(|| Observation::new(address, Protocol::Bacnet, jiff::Timestamp::now()));
            return ProbeReport {
                outcome,
                observation,
                error: Some(text),
            };
        }
    };
    let mut obs = Observation::new(address, Protocol::Bacnet, jiff::Timestamp::now());
    let mut warnings = Vec::new();
    match client
        .read_device(None, identity.device, ReadMode::Multiple)
        .await
    {
        Ok(info) => obs.facts.extend(device_facts(&info, identity.vendor_id)),
        Err(e) => {
            obs.facts
                .extend(i_am_facts(identity.device, identity.vendor_id));
            warnings.push(format!("reading {}: {e}", identity.device));
        }
    }
    if ctx.depth >= 1 {
        let (children, routed_warnings) = routed_devices(&mut client, ctx.timeout).await;
        obs.children = children;
        warnings.extend(routed_warnings);
    }
    ProbeReport {
        outcome: Outcome::Identified,
        observation: Some(obs),
        error: (!warnings.is_empty()).then(|| warnings.join("; ")),
    }
}

/// Who-Is to the device; if no I-Am comes back (some devices broadcast it to port 47808 only),
/// ReadProperty object-identifier of the wildcard device. Fails with the outcome, whether the
/// device answered in BACnet at all, and the errors' text.
async fn identify(client: &mut Client) -> Result<Identity, (Outcome, bool, String)> {
    let who_is_error = match client.who_is(None).await {
        Ok(found) => match found.first() {
            Some(IAmFrom { i_am, .. }) => {
                return Ok(Identity {
                    device: i_am.device,
                    vendor_id: Some(i_am.vendor_id),
                });
            }
            None => None,
        },
        Err(e) if e.is_timeout() => Some(e),
        Err(e) => return Err((outcome_of(&e), e.device_answered(), e.to_string())),
    };
    match client.read_device_identifier(None).await {
        Ok(device) => Ok(Identity {
            device,
            vendor_id: None,
        }),
        Err(e) => {
            let text = match who_is_error {
                Some(w) => format!("{w}; {e}"),
                None => e.to_string(),
            };
            Err((outcome_of(&e), e.device_answered(), text))
        }
    }
}

fn outcome_of(e: &ClientError) -> Outcome {
    match e {
        ClientError::Refused { .. } => Outcome::Refused,
        ClientError::Timeout { .. } => Outcome::NoResponse,
        _ => Outcome::Error,
    }
}

/// The vendor's name: the device's Vendor_Name, else the registered name of its vendor ID.
fn vendor(info: Option<&DeviceInfo>, i_am_vendor: Option<u32>) -> Option<String> {
    let own = info
        .and_then(|i| i.vendor_name.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(name) = own {
        return Some(name.to_string());
    }
    info.and_then(|i| i.vendor_id)
        .or(i_am_vendor)
        .and_then(vendor_name)
        .map(str::to_string)
}

/// What an I-Am alone tells: a building controller with a device instance, of some vendor.
fn i_am_facts(device: ObjectId, vendor_id: Option<u32>) -> Vec<Fact> {
    let mut facts = vec![
        Fact::DeviceType(DeviceType::BuildingController),
        Fact::BacnetInstance(device.instance),
    ];
    if let Some(v) = vendor(None, vendor_id) {
        facts.push(Fact::Vendor(v));
    }
    facts.extend(vendor_id.map(Fact::VendorId));
    facts
}

/// Facts from the Device object's properties (empty texts are no facts).
pub fn device_facts(info: &DeviceInfo, i_am_vendor: Option<u32>) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut push = |value: &Option<String>, make: fn(String) -> Fact| {
        if let Some(text) = value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            facts.push(make(text.to_string()));
        }
    };
    push(&info.object_name, Fact::Name);
    push(&vendor(Some(info), i_am_vendor), Fact::Vendor);
    push(&info.model_name, Fact::Model);
    push(&info.firmware_revision, Fact::Firmware);
    push(&info.application_software_version, Fact::SoftwareVersion);
    push(&info.location, Fact::Location);
    push(&info.description, Fact::Description);
    facts.push(Fact::DeviceType(DeviceType::BuildingController));
    facts.push(Fact::BacnetInstance(info.device.instance));
    facts.extend(info.vendor_id.or(i_am_vendor).map(Fact::VendorId));
    facts
}

/// Who-Is-Router-To-Network, then a Who-Is routed to each network named, then each device
/// found read through the router. A device that is no router stays silent: no sub-devices.
async fn routed_devices(
    client: &mut Client,
    limit: Duration,
) -> (Vec<SubObservation>, Vec<String>) {
    let mut warnings = Vec::new();
    client.set_timeout(limit.min(ROUTER_QUERY_WINDOW));
    let asked = client.who_is_router_to_network().await;
    client.set_timeout(limit);
    let networks = match asked {
        Ok(networks) => networks,
        Err(e) if e.is_timeout() => return (Vec::new(), warnings),
        Err(e) => return (Vec::new(), vec![e.to_string()]),
    };
    let mut children = Vec::new();
    let usable = networks.into_iter().filter(|n| (1..=65534).contains(n));
    for network in usable.take(MAX_NETWORKS) {
        client.set_timeout(limit.min(NETWORK_WHO_IS_WINDOW));
        let asked = client
            .who_is(Some(&RemoteAddress::broadcast(network)))
            .await;
        client.set_timeout(limit);
        let found = match asked {
            Ok(found) => found,
            Err(e) => {
                warnings.push(e.to_string());
                continue;
            }
        };
        for IAmFrom { source, i_am } in found {
            if children.len() >= MAX_ROUTED_DEVICES {
                warnings.push(format!(
                    "more than {MAX_ROUTED_DEVICES} routed devices: the rest not read"
                ));
                break;
            }
            let Some(station) = source else { continue };
            let facts = match client
                .read_device(Some(&station), i_am.device, ReadMode::Multiple)
                .await
            {
                Ok(info) => device_facts(&info, Some(i_am.vendor_id)),
                Err(e) => {
                    warnings.push(format!("reading {} at {station}: {e}", i_am.device));
                    i_am_facts(i_am.device, Some(i_am.vendor_id))
                }
            };
            children.push(SubObservation {
                position: Position::Routed {
                    network: station.network,
                    mac: station.mac_hex(),
                },
                facts: [vec![Fact::Protocol(Protocol::Bacnet)], facts].concat(),
                children: Vec::new(),
            });
        }
    }
    children.sort_by(|a, b| a.position.cmp(&b.position));
    (children, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> DeviceInfo {
        DeviceInfo {
            device: ObjectId::device(7),
            object_name: Some("AHU-1".into()),
            vendor_name: Some("  ".into()),
            vendor_id: Some(8),
            model_name: Some("M".into()),
            firmware_revision: Some("1.0".into()),
            application_software_version: None,
            location: Some(String::new()),
            description: Some("d".into()),
            protocol_revision: Some(14),
            read_with: ReadMode::Multiple,
            multiple_failed: None,
            missing: Vec::new(),
        }
    }

    #[test]
    fn a_blank_vendor_name_falls_back_to_the_registry() {
        let facts = device_facts(&info(), Some(5));
        assert!(facts.contains(&Fact::Vendor("Delta Controls".into())));
        assert!(facts.contains(&Fact::Name("AHU-1".into())));
        assert!(facts.contains(&Fact::DeviceType(DeviceType::BuildingController)));
        assert!(!facts.iter().any(|f| matches!(f, Fact::Location(_))));
        assert!(facts.contains(&Fact::BacnetInstance(7)));
        assert!(facts.contains(&Fact::VendorId(8)));
        let mut unknown = info();
        unknown.vendor_id = None;
        let facts = device_facts(&unknown, Some(5));
        assert!(facts.contains(&Fact::Vendor("Johnson Controls, Inc.".into())));
        assert!(facts.contains(&Fact::VendorId(5)));
        unknown.vendor_name = Some("ACME".into());
        assert!(device_facts(&unknown, Some(5)).contains(&Fact::Vendor("ACME".into())));
    }
}
