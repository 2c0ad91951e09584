//! The S7 probe: who is the CPU, what state is it in, and which modules sit in its rack.

use crate::client::{Client, ClientError, Stage};
use crate::codec::{SzlList, SzlRead, Tsap};
use crate::szl::{ComponentIdentification, ModuleIdentification, ModuleStatus, OperatingState};
use otsensor_core::probe::BoxFuture;
use otsensor_core::{
    DeviceType, Fact, Observation, Outcome, Position, Probe, ProbeContext, ProbeReport, Protocol,
    SubObservation,
};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// The device TSAPs tried, in order, one connection at a time: rack 0 slot 2 (S7-300/400 CPUs,
/// nmap's first), slot 1 (S7-1200/1500, ET 200 CPUs), slot 0 (S7-1200/1500 alike), slot 3
/// (S7-400 CPUs behind a wide power supply), then 0x0200 (nmap's second: OP connection, LOGO!).
pub const TSAP_ORDER: [Tsap; 5] = [
    Tsap::rack_slot(0, 2),
    Tsap::rack_slot(0, 1),
    Tsap::rack_slot(0, 0),
    Tsap::rack_slot(0, 3),
    Tsap(0x0200),
];

/// The most rack modules recorded (an S7-400 rack has 18 slots, an S7-300 rack 11).
pub const MAX_RACK_MODULES: usize = 32;

/// The requests the probe can send, for the probe log and the docs.
pub const REQUESTS: &[&str] = &[
    "COTP connection request (ISO 8073 CR, class 0) from TSAP 0x0100 to TSAP 0x0102, 0x0101, 0x0100, 0x0103, 0x0200 in that order, one connection at a time; with depth 2, to rack 0 slot N of each module",
    "S7 job Setup Communication (0xF0)",
    "S7 userdata read SZL 0x0011 index 0 (module identification)",
    "S7 userdata read SZL 0x001C index 0 (component identification)",
    "S7 userdata read SZL 0x0424 index 0 (CPU operating state)",
    "S7 userdata read SZL 0x0D91 index 0 (modules of rack 0; depth 1 and above)",
    "S7 userdata read SZL follow-up (next fragment of an answer longer than a PDU)",
];

/// Read-only Siemens S7 identification probe.
#[derive(Debug, Default, Clone, Copy)]
pub struct S7Probe;

impl Probe for S7Probe {
    fn protocol(&self) -> Protocol {
        Protocol::S7
    }

    fn requests(&self) -> &'static [&'static str] {
        REQUESTS
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(probe(address, ctx))
    }
}

/// What a CPU or module said about itself; each part `None` when its SZL was not answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// SZL 0x0011.
    pub module: Option<ModuleIdentification>,
    /// SZL 0x001C.
    pub component: Option<ComponentIdentification>,
    /// SZL 0x0424.
    pub state: Option<OperatingState>,
}

impl Identity {
    /// Whether the identification lists gave anything at all.
    pub fn is_identified(&self) -> bool {
        self.module.as_ref().is_some_and(|m| !m.is_empty())
            || self.component.as_ref().is_some_and(|c| !c.is_empty())
    }

    fn order_code(&self) -> Option<&str> {
        self.module.as_ref()?.order_code.as_deref()
    }

    fn serial(&self) -> Option<&str> {
        self.component.as_ref()?.serial.as_deref()
    }

    /// Whether two identities name the same hardware (same order code and serial number).
    pub fn same_hardware(&self, other: &Identity) -> bool {
        self.is_identified()
            && (self.order_code(), self.serial()) == (other.order_code(), other.serial())
    }
}

/// What reading an identity ran into: errors, notes on partial answers, and whether the
/// connection is still good.
#[derive(Debug, Default)]
pub struct ReadProblems {
    /// Reads that failed.
    pub errors: Vec<ClientError>,
    /// Answers that came back short.
    pub notes: Vec<String>,
    /// Whether the connection can be used further.
    pub usable: bool,
}

impl ReadProblems {
    fn texts(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(ToString::to_string)
            .chain(self.notes.iter().cloned())
            .collect()
    }
}

/// Reads SZL 0x0011, 0x001C and (with `with_state`) 0x0424 in turn. An error answer to one
/// list does not stop the others; a lost connection or silence does.
pub async fn read_identity(client: &mut Client, with_state: bool) -> (Identity, ReadProblems) {
    let mut identity = Identity::default();
    let mut problems = ReadProblems {
        usable: true,
        ..ReadProblems::default()
    };
    let lists: &[SzlRead] = if with_state {
        &[
            SzlRead::ModuleIdentification,
            SzlRead::ComponentIdentification,
            SzlRead::OperatingState,
        ]
    } else {
        &[
            SzlRead::ModuleIdentification,
            SzlRead::ComponentIdentification,
        ]
    };
    for &szl in lists {
        let Some(list) = read_one(client, szl, &mut problems).await else {
            if problems.usable {
                continue;
            }
            break;
        };
        match szl {
            SzlRead::ModuleIdentification => {
                identity.module = Some(ModuleIdentification::decode(&list))
            }
            SzlRead::ComponentIdentification => {
                identity.component = Some(ComponentIdentification::decode(&list))
            }
            SzlRead::OperatingState => identity.state = OperatingState::decode(&list),
            SzlRead::RackModules => {}
        }
    }
    (identity, problems)
}

/// Reads one list; records a failure or a partial answer in `problems`.
async fn read_one(
    client: &mut Client,
    szl: SzlRead,
    problems: &mut ReadProblems,
) -> Option<SzlList> {
    match client.read_szl(szl).await {
        Ok(list) => {
            if list.is_partial() {
                problems.notes.push(format!(
                    "{szl}: partial answer, {} of {} records",
                    list.complete_records(),
                    list.record_count
                ));
            }
            Some(list)
        }
        Err(e) => {
            problems.usable = e.connection_usable();
            problems.errors.push(e);
            None
        }
    }
}

async fn probe(address: IpAddr, ctx: ProbeContext) -> ProbeReport {
    let addr = SocketAddr::new(address, ctx.port);
    let mut client =
        match Client::connect_any(addr, &TSAP_ORDER, ctx.timeout, ctx.pacer.clone()).await {
            Ok(c) => c,
            Err(e) => return connect_failure(e),
        };
    let mut obs = Observation::new(address, Protocol::S7, jiff::Timestamp::now());
    let (identity, problems) = read_identity(&mut client, true).await;
    if !identity.is_identified() {
        client.close().await;
        return unidentified(obs, &problems);
    }
    obs.facts.extend(station_facts(&identity));
    let mut warnings = problems.texts();
    let cpu_slot = cpu_slot(client.tsap());
    if ctx.depth >= 1 && problems.usable {
        let mut rack = RackProblems::default();
        obs.children = rack_modules(&mut client, &identity, cpu_slot, &mut rack).await;
        warnings.extend(rack.texts);
    }
    client.close().await;
    if ctx.depth >= 2 && !obs.children.is_empty() {
        warnings.extend(identify_modules(addr, &ctx, &identity, cpu_slot, &mut obs.children).await);
    }
    ProbeReport {
        outcome: Outcome::Identified,
        observation: Some(obs),
        error: (!warnings.is_empty()).then(|| warnings.join("; ")),
    }
}

fn connect_failure(e: ClientError) -> ProbeReport {
    let outcome = match &e {
        ClientError::Refused { .. } => Outcome::Refused,
        ClientError::ConnectTimeout { .. } => Outcome::NoResponse,
        ClientError::Timeout {
            stage: Stage::Cotp(_),
            ..
        } => Outcome::NoResponse,
        _ => Outcome::Error,
    };
    ProbeReport::failed(outcome, e)
}

/// The device speaks S7 (it accepted COTP and Setup Communication) but said nothing of itself.
fn unidentified(obs: Observation, problems: &ReadProblems) -> ProbeReport {
    let silent = !problems.errors.is_empty()
        && problems
            .errors
            .iter()
            .all(|e| matches!(e, ClientError::Timeout { .. }));
    let mut texts = problems.texts();
    if texts.is_empty() {
        texts.push("the identification lists (SZL 0x0011, 0x001C) came back empty".into());
    }
    ProbeReport {
        outcome: if silent {
            Outcome::NoResponse
        } else {
            Outcome::Error
        },
        observation: Some(obs),
        error: Some(texts.join("; ")),
    }
}

/// The CPU's slot, when the connection reached it by rack and slot (a PG TSAP).
fn cpu_slot(tsap: Tsap) -> Option<u8> {
    (tsap.connection_type() == Tsap::TYPE_PG).then(|| tsap.slot())
}

/// Whether the identity is Siemens hardware: a Siemens order number (6ES7 SIMATIC, 6GK7
/// SIMATIC NET, 6AG1 SIPLUS, 6ED1 LOGO!, 6AV HMI) or the Siemens copyright entry.
fn is_siemens(identity: &Identity) -> bool {
    let by_order = identity.order_code().is_some_and(|o| {
        ["6ES7", "6GK7", "6AG1", "6ED1", "6AV"]
            .iter()
            .any(|p| o.starts_with(p))
    });
    let by_copyright = identity
        .component
        .as_ref()
        .and_then(|c| c.copyright.as_deref())
        .is_some_and(|c| c.contains("Siemens"));
    by_order || by_copyright
}

fn is_communication_processor(identity: &Identity) -> bool {
    identity.order_code().is_some_and(|o| o.starts_with("6GK"))
}

/// Facts of the device itself (the CPU the connection reached): identity, station name,
/// plant identification and operating state.
pub fn station_facts(identity: &Identity) -> Vec<Fact> {
    let mut facts = Vec::new();
    if is_siemens(identity) {
        facts.push(Fact::Vendor("Siemens".into()));
    }
    facts.push(Fact::DeviceType(if is_communication_processor(identity) {
        DeviceType::CommunicationAdapter
    } else {
        DeviceType::Plc
    }));
    facts.extend(hardware_facts(identity));
    if let Some(c) = &identity.component {
        push(&mut facts, &c.plc_name, Fact::Name);
        push(&mut facts, &c.serial, Fact::Serial);
        push(&mut facts, &c.plant_id, Fact::Location);
    }
    if let Some(state) = identity.state {
        facts.push(Fact::PlcMode(state.plc_mode()));
    }
    facts
}

/// Facts that describe the module hardware: order code, basic hardware, firmware, type name.
fn hardware_facts(identity: &Identity) -> Vec<Fact> {
    let mut facts = Vec::new();
    if let Some(m) = &identity.module {
        push(&mut facts, &m.order_code, Fact::ProductCode);
        push(&mut facts, &m.hardware, Fact::Hardware);
        push(&mut facts, &m.firmware, Fact::Firmware);
    }
    if let Some(c) = &identity.component {
        let model = c.module_type.as_ref().or(c.module_name.as_ref()).cloned();
        push(&mut facts, &model, Fact::Model);
    }
    facts
}

/// Facts of a module that answered on its own TSAP (a CP, an FM, a second CPU).
pub fn module_facts(identity: &Identity) -> Vec<Fact> {
    let mut facts = vec![Fact::Protocol(Protocol::S7)];
    if is_siemens(identity) {
        facts.push(Fact::Vendor("Siemens".into()));
    }
    let cpu = identity
        .component
        .as_ref()
        .and_then(|c| c.module_type.as_deref())
        .is_some_and(|t| t.starts_with("CPU"));
    if is_communication_processor(identity) {
        facts.push(Fact::DeviceType(DeviceType::CommunicationAdapter));
    } else if cpu {
        facts.push(Fact::DeviceType(DeviceType::Plc));
    }
    facts.extend(hardware_facts(identity));
    if let Some(c) = &identity.component {
        push(&mut facts, &c.module_name, Fact::Name);
        push(&mut facts, &c.serial, Fact::Serial);
        push(&mut facts, &c.plant_id, Fact::Location);
    }
    facts
}

fn push(facts: &mut Vec<Fact>, value: &Option<String>, make: fn(String) -> Fact) {
    if let Some(v) = value {
        facts.push(make(v.clone()));
    }
}

#[derive(Default)]
struct RackProblems {
    texts: Vec<String>,
}

/// Reads SZL 0x0D91 (rack 0) and turns each module into a sub-device at its slot; the CPU's
/// own slot carries the CPU's hardware facts.
async fn rack_modules(
    client: &mut Client,
    cpu: &Identity,
    cpu_slot: Option<u8>,
    problems: &mut RackProblems,
) -> Vec<SubObservation> {
    let list = match client.read_szl(SzlRead::RackModules).await {
        Ok(list) => list,
        Err(e) => {
            problems.texts.push(format!("rack modules not listed: {e}"));
            return Vec::new();
        }
    };
    if list.is_partial() {
        problems.texts.push(format!(
            "{}: partial answer, {} of {} records",
            SzlRead::RackModules,
            list.complete_records(),
            list.record_count
        ));
    }
    rack_children(&ModuleStatus::decode_all(&list), cpu, cpu_slot)
}

/// One sub-device per occupied slot (configured but missing modules left out; a module's
/// interface submodules fold into it), at most [`MAX_RACK_MODULES`].
pub fn rack_children(
    statuses: &[ModuleStatus],
    cpu: &Identity,
    cpu_slot: Option<u8>,
) -> Vec<SubObservation> {
    let mut slots: BTreeMap<u8, ModuleStatus> = BTreeMap::new();
    for status in statuses.iter().filter(|s| !s.is_missing()) {
        if slots.len() == MAX_RACK_MODULES && !slots.contains_key(&status.slot()) {
            continue;
        }
        slots.entry(status.slot()).or_insert(*status);
    }
    slots
        .into_keys()
        .map(|slot| SubObservation {
            position: Position::Slot(u16::from(slot)),
            facts: if Some(slot) == cpu_slot {
                cpu_slot_facts(cpu)
            } else {
                Vec::new()
            },
            children: Vec::new(),
        })
        .collect()
}

fn cpu_slot_facts(cpu: &Identity) -> Vec<Fact> {
    let mut facts = vec![
        Fact::Protocol(Protocol::S7),
        Fact::DeviceType(DeviceType::Plc),
    ];
    if is_siemens(cpu) {
        facts.push(Fact::Vendor("Siemens".into()));
    }
    facts.extend(hardware_facts(cpu));
    facts
}

/// Depth 2: asks each module other than the CPU on its own TSAP (rack 0, its slot), one
/// connection at a time, for SZL 0x0011 and 0x001C. Modules without S7 (signal modules) refuse
/// the connection and keep their slot only. A device that answers every slot as the CPU
/// ignores the slot, so the walk stops there. Returns warnings.
async fn identify_modules(
    addr: SocketAddr,
    ctx: &ProbeContext,
    cpu: &Identity,
    cpu_slot: Option<u8>,
    children: &mut [SubObservation],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for child in children.iter_mut() {
        let Position::Slot(slot) = child.position else {
            continue;
        };
        let Ok(slot) = u8::try_from(slot) else {
            continue;
        };
        if Some(slot) == cpu_slot || slot > 31 {
            continue;
        }
        let tsap = Tsap::rack_slot(0, slot);
        let mut client = match Client::connect(addr, tsap, ctx.timeout, ctx.pacer.clone()).await {
            Ok(c) => c,
            Err(e) if e.tries_next_tsap() => continue,
            Err(e) => {
                warnings.push(format!("module walk stopped at slot {slot}: {e}"));
                break;
            }
        };
        let (identity, problems) = read_identity(&mut client, false).await;
        client.close().await;
        if identity.same_hardware(cpu) {
            tracing::debug!(%addr, slot, "the device answers every slot as the CPU: walk stopped");
            break;
        }
        if identity.is_identified() {
            child.facts = module_facts(&identity);
        }
        warnings.extend(
            problems
                .texts()
                .into_iter()
                .map(|t| format!("module in slot {slot}: {t}")),
        );
        if !problems.usable {
            break;
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use otsensor_core::PlcMode;

    fn cpu() -> Identity {
        Identity {
            module: Some(ModuleIdentification {
                order_code: Some("6ES7 315-2EH14-0AB0".into()),
                hardware: Some("6ES7 315-2EH14-0AB0".into()),
                firmware: Some("3.2.6".into()),
            }),
            component: Some(ComponentIdentification {
                plc_name: Some("SIMATIC 300(1)".into()),
                module_name: Some("CPU 315-2 PN/DP".into()),
                plant_id: Some("Pump-Station-3".into()),
                copyright: Some("Original Siemens Equipment".into()),
                serial: Some("S C-X4U421302009".into()),
                module_type: Some("CPU 315-2 PN/DP".into()),
            }),
            state: Some(OperatingState {
                current: 4,
                previous: 8,
            }),
        }
    }

    #[test]
    fn a_cpu_gives_every_station_fact() {
        let facts = station_facts(&cpu());
        for want in [
            Fact::Vendor("Siemens".into()),
            Fact::DeviceType(DeviceType::Plc),
            Fact::ProductCode("6ES7 315-2EH14-0AB0".into()),
            Fact::Hardware("6ES7 315-2EH14-0AB0".into()),
            Fact::Firmware("3.2.6".into()),
            Fact::Name("SIMATIC 300(1)".into()),
            Fact::Model("CPU 315-2 PN/DP".into()),
            Fact::Serial("S C-X4U421302009".into()),
            Fact::Location("Pump-Station-3".into()),
            Fact::PlcMode(PlcMode::Stop),
        ] {
            assert!(facts.contains(&want), "{want:?} missing in {facts:?}");
        }
        assert_eq!(facts.len(), 10);
    }

    #[test]
    fn a_partial_identity_gives_partial_facts() {
        let mut identity = cpu();
        identity.component = None;
        identity.state = None;
        let facts = station_facts(&identity);
        assert!(facts.contains(&Fact::ProductCode("6ES7 315-2EH14-0AB0".into())));
        assert!(
            !facts
                .iter()
                .any(|f| matches!(f, Fact::Serial(_) | Fact::PlcMode(_)))
        );
        assert!(identity.is_identified());
        assert!(!Identity::default().is_identified());
    }

    #[test]
    fn rack_children_mark_the_cpu_slot_and_skip_missing_modules() {
        let status = |slot: u8, sub: u8, io_status: u16| ModuleStatus {
            adr1: 0,
            adr2: u16::from(slot) << 8 | u16::from(sub),
            logical_address: 0,
            expected_type: 0,
            actual_type: 0,
            io_status,
            area_width: 0x11,
        };
        let statuses = [
            status(2, 0, 0xB402),
            status(2, 1, 0xFF02),
            status(4, 0, 0xB402),
            status(5, 0, 0xB504),
        ];
        let children = rack_children(&statuses, &cpu(), Some(2));
        let slots: Vec<_> = children.iter().map(|c| c.position.clone()).collect();
        assert_eq!(slots, [Position::Slot(2), Position::Slot(4)]);
        assert!(
            children[0]
                .facts
                .contains(&Fact::DeviceType(DeviceType::Plc))
        );
        assert!(
            !children[0]
                .facts
                .iter()
                .any(|f| matches!(f, Fact::Serial(_)))
        );
        assert!(children[1].facts.is_empty());
    }

    #[test]
    fn a_communication_processor_is_named_so() {
        let cp = Identity {
            module: Some(ModuleIdentification {
                order_code: Some("6GK7 343-1EX30-0XE0".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(module_facts(&cp).contains(&Fact::DeviceType(DeviceType::CommunicationAdapter)));
        assert!(!cp.same_hardware(&cpu()));
        assert!(cpu().same_hardware(&cpu()));
    }

    #[test]
    fn only_pg_tsaps_name_the_cpu_slot() {
        assert_eq!(cpu_slot(Tsap::rack_slot(0, 3)), Some(3));
        assert_eq!(cpu_slot(Tsap(0x0200)), None);
    }
}
