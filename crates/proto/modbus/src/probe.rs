//! The Modbus probe: who is the device, and which units answer behind it.

use crate::client::{Client, ClientError};
use crate::codec::{DeviceIdentification, ServerIdResponse, object};
use otsensor_core::probe::BoxFuture;
use otsensor_core::{
    Fact, Observation, Outcome, PlcMode, Position, Probe, ProbeContext, ProbeReport, Protocol,
    SubObservation,
};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Unit IDs asked for the device itself, in order: 255 (the device, per the TCP guide), 1, 0.
pub const SELF_UNITS: [u8; 3] = [255, 1, 0];
/// The unit IDs a depth-1 sweep asks (the valid serial addresses).
pub const SWEEP_UNITS: std::ops::RangeInclusive<u8> = 1..=247;
/// Time limit of one unit of the sweep (absent units behind a silent gateway cost this much).
pub const SWEEP_UNIT_TIMEOUT: Duration = Duration::from_secs(1);

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "Modbus FC43/MEI14 Read Device Identification (basic, regular, extended stream access)",
    "Modbus FC17 Report Server ID",
];

/// Read-only Modbus/TCP identification probe.
#[derive(Debug, Default, Clone, Copy)]
pub struct ModbusProbe;

impl Probe for ModbusProbe {
    fn protocol(&self) -> Protocol {
        Protocol::Modbus
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(probe(address, ctx))
    }
}

/// What the device itself said, and on which unit.
enum SelfIdentity {
    Identified(DeviceIdentification),
    ServerId(ServerIdResponse),
}

async fn probe(address: IpAddr, ctx: ProbeContext) -> ProbeReport {
    let addr = SocketAddr::new(address, ctx.port);
    let mut client = match Client::connect(addr, ctx.timeout, ctx.pacer.clone()).await {
        Ok(c) => c,
        Err(e) => return connect_failure(e),
    };
    let now = jiff::Timestamp::now();
    let (identity, failures) = identify_self(&mut client).await;
    let mut obs = Observation::new(address, Protocol::Modbus, now);
    let report = match &identity {
        Some(SelfIdentity::Identified(ident)) => {
            obs.facts.extend(identification_facts(ident));
            None
        }
        Some(SelfIdentity::ServerId(sid)) => {
            obs.facts.extend(server_id_facts(sid));
            None
        }
        None => Some(self_failure(&failures)),
    };
    if let Some(failed) = report {
        // an exception still proves a Modbus device is there
        let answered = failures
            .iter()
            .any(|e| matches!(e, ClientError::Exception { .. }));
        client.close().await;
        return ProbeReport {
            observation: answered.then_some(obs),
            ..failed
        };
    }
    let mut warning = None;
    if ctx.depth >= 1 {
        let own = match &identity {
            Some(SelfIdentity::Identified(ident)) => Some(ident.clone()),
            _ => None,
        };
        match sweep_units(&mut client, own.as_ref(), ctx.timeout).await {
            Ok(children) => obs.children = children,
            Err((children, e)) => {
                obs.children = children;
                warning = Some(format!("unit sweep stopped: {e}"));
            }
        }
    }
    client.close().await;
    ProbeReport {
        outcome: Outcome::Identified,
        observation: Some(obs),
        error: warning,
    }
}

fn connect_failure(e: ClientError) -> ProbeReport {
    let outcome = match e {
        ClientError::Refused { .. } => Outcome::Refused,
        ClientError::ConnectTimeout { .. } => Outcome::NoResponse,
        _ => Outcome::Error,
    };
    ProbeReport::failed(outcome, e)
}

/// Asks units 255, 1, 0 for their identification, then for their server ID; stops at the first answer.
async fn identify_self(client: &mut Client) -> (Option<SelfIdentity>, Vec<ClientError>) {
    let mut failures = Vec::new();
    let mut answering = Vec::new();
    for unit in SELF_UNITS {
        match client.read_device_identification(unit).await {
            Ok(ident) => return (Some(SelfIdentity::Identified(ident)), failures),
            Err(e) => {
                let usable = e.connection_usable();
                if matches!(e, ClientError::Exception { code, .. } if !code.is_gateway_miss()) {
                    answering.push(unit);
                }
                failures.push(e);
                if !usable {
                    return (None, failures);
                }
            }
        }
    }
    for unit in answering {
        match client.report_server_id(unit).await {
            Ok(sid) => return (Some(SelfIdentity::ServerId(sid)), failures),
            Err(e) => {
                let usable = e.connection_usable();
                failures.push(e);
                if !usable {
                    break;
                }
            }
        }
    }
    (None, failures)
}

fn self_failure(failures: &[ClientError]) -> ProbeReport {
    let all_timeouts = !failures.is_empty()
        && failures
            .iter()
            .all(|e| matches!(e, ClientError::Timeout { .. }));
    let outcome = if all_timeouts {
        Outcome::NoResponse
    } else {
        Outcome::Error
    };
    let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
    ProbeReport::failed(outcome, text.join("; "))
}

/// Facts from the identification objects, named as the Modbus specification names them.
pub fn identification_facts(ident: &DeviceIdentification) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut push = |id: u8, make: fn(String) -> Fact| {
        if let Some(text) = ident.text(id) {
            facts.push(make(text));
        }
    };
    push(object::VENDOR_NAME, Fact::Vendor);
    push(object::PRODUCT_CODE, Fact::ProductCode);
    push(object::REVISION, Fact::Firmware);
    push(object::VENDOR_URL, Fact::VendorUrl);
    push(object::PRODUCT_NAME, Fact::ProductName);
    push(object::APPLICATION_NAME, Fact::Application);
    // the model is ModelName, or the product name where the device has no model name
    let model = ident
        .text(object::MODEL_NAME)
        .or_else(|| ident.text(object::PRODUCT_NAME));
    if let Some(model) = model {
        facts.push(Fact::Model(model));
    }
    facts
}

fn server_id_facts(sid: &ServerIdResponse) -> Vec<Fact> {
    let mut facts = Vec::new();
    if let Some(text) = sid.text() {
        facts.push(Fact::ProductName(text));
    }
    if let Some(running) = sid.run_indicator() {
        facts.push(Fact::PlcMode(if running {
            PlcMode::Run
        } else {
            PlcMode::Stop
        }));
    }
    facts
}

/// Sweeps units 1-247 one at a time (paced by the client), recording each unit whose identity
/// differs from the device's own (a device that ignores the unit ID answers every one alike).
async fn sweep_units(
    client: &mut Client,
    own: Option<&DeviceIdentification>,
    timeout: Duration,
) -> Result<Vec<SubObservation>, (Vec<SubObservation>, ClientError)> {
    client.set_timeout(timeout.min(SWEEP_UNIT_TIMEOUT));
    let mut children = Vec::new();
    for unit in SWEEP_UNITS {
        match client.read_device_identification(unit).await {
            Ok(ident) if Some(&ident) == own => {}
            Ok(ident) => children.push(SubObservation {
                position: Position::UnitId(unit),
                facts: [
                    vec![Fact::Protocol(Protocol::Modbus)],
                    identification_facts(&ident),
                ]
                .concat(),
                children: Vec::new(),
            }),
            Err(e) if e.connection_usable() => {}
            Err(e) => return Err((children, e)),
        }
    }
    client.set_timeout(timeout);
    Ok(children)
}
