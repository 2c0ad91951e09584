//! The client and the probe against the testbed's S7 peers: python-snap7 3.3 (`s7`, an S7-300
//! rack), libsnap7 (`s7native`), and the scripted peers of `peers/bad_s7.py`.
//!
//! Every expected value is read from testbed/config.sh, which the peers were started with, and
//! every frame the client sent is held to the crate's read-only list.

use otsensor_core::probe::Unpaced;
use otsensor_core::{
    DeviceType, Fact, Outcome, PlcMode, Position, Probe, ProbeContext, ProbeReport, Protocol,
};
use otsensor_s7::codec::{AllowedRequest, SzlRead, Tsap, allowed_request};
use otsensor_s7::probe::{TSAP_ORDER, read_identity};
use otsensor_s7::szl::{ComponentIdentification, ModuleIdentification, ModuleStatus};
use otsensor_s7::{Client, ClientError, S7Probe, Stage};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(3);

fn peer(ip_var: &str, port_var: &str, name: &str) -> SocketAddr {
    let target = addr(ip_var, port_var);
    require_tcp_peer(target, name);
    target
}

/// Every frame must be one of the crate's read-only requests; returns their kinds.
fn assert_read_only(sent: &[Vec<u8>]) -> Vec<AllowedRequest> {
    sent.iter()
        .map(|frame| {
            allowed_request(frame)
                .unwrap_or_else(|| panic!("frame not on the read-only list: {frame:02x?}"))
        })
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The slots of a `S7_RACK`-style list ("2:cpu 4:in:0 ...").
fn rack_slots(spec: &str) -> Vec<u8> {
    spec.split_whitespace()
        .map(|e| e.split(':').next().unwrap().parse().unwrap())
        .collect()
}

fn mode(name: &str) -> PlcMode {
    match name {
        "RUN" => PlcMode::Run,
        "STOP" => PlcMode::Stop,
        "STARTUP" => PlcMode::Startup,
        _ => PlcMode::Fault,
    }
}

/// The identity fields of a peer whose config.sh prefix is `p` (S7, S7N, S7_SLOT3).
struct Expected {
    order: String,
    fw: String,
    module: String,
    serial: String,
    asname: String,
    plant: Option<String>,
    mode: PlcMode,
}

fn expected(p: &str) -> Expected {
    // libsnap7 has no plant identification
    let plant = (p != "S7N").then(|| var(&format!("{p}_PLANT")));
    Expected {
        order: var(&format!("{p}_ORDER")),
        fw: var(&format!("{p}_FW")),
        module: var(&format!("{p}_MODULE")),
        serial: var(&format!("{p}_SERIAL")),
        asname: var(&format!("{p}_ASNAME")),
        plant,
        mode: mode(&var(&format!("{p}_MODE"))),
    }
}

async fn check_identity(client: &mut Client, want: &Expected) {
    let module = ModuleIdentification::decode(
        &client
            .read_szl(SzlRead::ModuleIdentification)
            .await
            .unwrap(),
    );
    assert_eq!(module.order_code, some(&want.order));
    assert_eq!(module.hardware, some(&want.order));
    assert_eq!(module.firmware, some(&want.fw));
    let list = client
        .read_szl(SzlRead::ComponentIdentification)
        .await
        .unwrap();
    assert!(!list.is_partial(), "{list:?}");
    let component = ComponentIdentification::decode(&list);
    assert_eq!(component.plc_name, some(&want.asname));
    assert_eq!(component.module_name, some(&want.module));
    assert_eq!(component.plant_id, want.plant);
    assert_eq!(component.serial, some(&want.serial));
    assert_eq!(component.module_type, some(&want.module));
    assert_eq!(
        component.copyright.as_deref(),
        Some("Original Siemens Equipment")
    );
}

#[tokio::test]
async fn both_cpus_give_back_every_configured_field() {
    for (p, ip, port, name) in [
        ("S7", "S7_IP", "S7_PORT", "s7"),
        ("S7N", "S7N_IP", "S7N_PORT", "s7native"),
    ] {
        let target = peer(ip, port, name);
        let mut client = Client::connect_any(target, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
            .await
            .unwrap();
        assert_eq!(client.tsap(), Tsap(0x0102), "{name}");
        let want = expected(p);
        check_identity(&mut client, &want).await;
        let (identity, problems) = read_identity(&mut client, true).await;
        assert!(problems.errors.is_empty(), "{name}: {:?}", problems.errors);
        assert_eq!(
            identity.state.map(|s| s.plc_mode()),
            Some(want.mode),
            "{name}"
        );
        let modules =
            ModuleStatus::decode_all(&client.read_szl(SzlRead::RackModules).await.unwrap());
        let slots: Vec<u8> = modules.iter().map(ModuleStatus::slot).collect();
        assert_eq!(slots, rack_slots(&var(&format!("{p}_RACK"))), "{name}");
        let kinds = assert_read_only(client.sent());
        assert_eq!(kinds[0], AllowedRequest::ConnectionRequest);
        assert_eq!(kinds[1], AllowedRequest::SetupCommunication);
        assert!(kinds.contains(&AllowedRequest::ReadSzl(SzlRead::RackModules)));
        client.close().await;
    }
}

fn ctx(depth: u8, timeout: Duration) -> ProbeContext {
    ProbeContext {
        port: 102,
        timeout,
        depth,
        pacer: Arc::new(Unpaced),
    }
}

async fn probe(ip_var: &str, depth: u8, timeout: Duration) -> ProbeReport {
    S7Probe
        .probe(var(ip_var).parse().unwrap(), ctx(depth, timeout))
        .await
}

fn station_facts(want: &Expected) -> Vec<Fact> {
    let mut facts = vec![
        Fact::Protocol(Protocol::S7),
        Fact::Vendor("Siemens".into()),
        Fact::DeviceType(DeviceType::Plc),
        Fact::ProductCode(want.order.clone()),
        Fact::Hardware(want.order.clone()),
        Fact::Firmware(want.fw.clone()),
        Fact::Model(want.module.clone()),
        Fact::Name(want.asname.clone()),
        Fact::Serial(want.serial.clone()),
    ];
    facts.extend(want.plant.clone().map(Fact::Location));
    facts.push(Fact::PlcMode(want.mode));
    facts
}

#[tokio::test]
async fn the_probe_reports_each_cpu_exactly_and_no_modules_at_depth_0() {
    for (p, ip, name) in [("S7", "S7_IP", "s7"), ("S7N", "S7N_IP", "s7native")] {
        require_tcp_peer(addr(ip, &format!("{p}_PORT")), name);
        let report = probe(ip, 0, LIMIT).await;
        assert_eq!(report.outcome, Outcome::Identified, "{name}: {report:?}");
        assert_eq!(report.error, None, "{name}");
        let obs = report.observation.unwrap();
        assert_eq!(obs.facts, station_facts(&expected(p)), "{name}");
        assert!(obs.children.is_empty());
    }
}

#[tokio::test]
async fn depth_1_lists_the_rack_and_depth_2_identifies_the_cp() {
    require_tcp_peer(addr("S7_IP", "S7_PORT"), "s7");
    let slots: Vec<Position> = rack_slots(&var("S7_RACK"))
        .into_iter()
        .map(|s| Position::Slot(u16::from(s)))
        .collect();
    let cpu_slot = Position::Slot(2);
    let cp_slot = Position::Slot(var("S7_CP_SLOT").parse().unwrap());

    let report = probe("S7_IP", 1, LIMIT).await;
    assert_eq!(report.outcome, Outcome::Identified, "{report:?}");
    assert_eq!(report.error, None);
    let obs = report.observation.unwrap();
    let got: Vec<Position> = obs.children.iter().map(|c| c.position.clone()).collect();
    assert_eq!(got, slots);
    let cpu = obs
        .children
        .iter()
        .find(|c| c.position == cpu_slot)
        .unwrap();
    for fact in [
        Fact::DeviceType(DeviceType::Plc),
        Fact::ProductCode(var("S7_ORDER")),
        Fact::Firmware(var("S7_FW")),
        Fact::Model(var("S7_MODULE")),
    ] {
        assert!(cpu.facts.contains(&fact), "{fact:?} not in {:?}", cpu.facts);
    }
    assert!(
        obs.children
            .iter()
            .filter(|c| c.position != cpu_slot)
            .all(|c| c.facts.is_empty())
    );

    let deep = probe("S7_IP", 2, LIMIT).await;
    assert_eq!(deep.outcome, Outcome::Identified, "{deep:?}");
    assert_eq!(deep.error, None);
    let obs = deep.observation.unwrap();
    assert_eq!(obs.children.len(), slots.len());
    let cp = obs.children.iter().find(|c| c.position == cp_slot).unwrap();
    assert_eq!(
        cp.facts,
        vec![
            Fact::Protocol(Protocol::S7),
            Fact::Vendor("Siemens".into()),
            Fact::DeviceType(DeviceType::CommunicationAdapter),
            Fact::ProductCode(var("S7_CP_ORDER")),
            Fact::Hardware(var("S7_CP_ORDER")),
            Fact::Firmware(var("S7_CP_FW")),
            Fact::Model(var("S7_CP_MODULE")),
            Fact::Name(var("S7_CP_MODULE")),
            Fact::Serial(var("S7_CP_SERIAL")),
        ]
    );
    // signal modules refuse their TSAP and keep their slot only
    assert!(
        obs.children
            .iter()
            .filter(|c| c.position != cpu_slot && c.position != cp_slot)
            .all(|c| c.facts.is_empty())
    );
}

#[tokio::test]
async fn libsnap7_lists_its_cpu_and_ignoring_the_slot_ends_the_walk() {
    require_tcp_peer(addr("S7N_IP", "S7N_PORT"), "s7native");
    let report = probe("S7N_IP", 2, LIMIT).await;
    assert_eq!(report.outcome, Outcome::Identified, "{report:?}");
    let obs = report.observation.unwrap();
    assert_eq!(obs.children.len(), 1);
    assert_eq!(obs.children[0].position, Position::Slot(2));
    assert!(
        obs.children[0]
            .facts
            .contains(&Fact::ProductCode(var("S7N_ORDER")))
    );
}

#[tokio::test]
async fn the_tsap_order_is_followed_to_slot_3_and_fragments_are_joined() {
    let target = peer("S7_SLOT3_IP", "S7_BAD_PORT", "s7-slot3");
    let mut client = Client::connect_any(target, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
        .await
        .unwrap();
    assert_eq!(client.tsap(), Tsap::rack_slot(0, 3));
    assert_eq!(client.pdu_size(), 240);
    let want = expected("S7_SLOT3");
    check_identity(&mut client, &want).await;
    // one connection request per TSAP, in the documented order, before the session
    let called: Vec<u16> = client
        .sent()
        .iter()
        .filter(|f| allowed_request(f) == Some(AllowedRequest::ConnectionRequest))
        .map(|f| u16::from_be_bytes([f[f.len() - 2], f[f.len() - 1]]))
        .collect();
    assert_eq!(called, [0x0102, 0x0101, 0x0100, 0x0103]);
    let kinds = assert_read_only(client.sent());
    assert!(kinds.contains(&AllowedRequest::ReadSzlNext), "{kinds:?}");
    client.close().await;

    let report = probe("S7_SLOT3_IP", 1, LIMIT).await;
    assert_eq!(report.outcome, Outcome::Identified);
    let obs = report.observation.unwrap();
    assert_eq!(obs.facts, station_facts(&want));
    // the rack list is not answered: no modules, and the probe log says why
    assert!(obs.children.is_empty());
    let warning = report.error.unwrap();
    assert!(
        warning.contains("rack modules not listed")
            && warning.contains("return code 0x0a (object does not exist)"),
        "{warning}"
    );
}

#[tokio::test]
async fn misbehaving_peers_give_clear_errors() {
    let silent = peer("S7_SILENT_IP", "S7_BAD_PORT", "s7-silent");
    let err = Client::connect_any(
        silent,
        &TSAP_ORDER,
        Duration::from_millis(500),
        Arc::new(Unpaced),
    )
    .await
    .err()
    .unwrap();
    assert!(
        matches!(
            err,
            ClientError::Timeout {
                stage: Stage::Cotp(Tsap(0x0102)),
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(
            "no answer to the COTP connection request to TSAP 0x0102 (type 1, rack 0, slot 2) within 0.5 s"
        ),
        "{err}"
    );

    let refuse = peer("S7_REFUSE_IP", "S7_BAD_PORT", "s7-refuse");
    let err = Client::connect_any(refuse, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
        .await
        .err()
        .unwrap();
    let ClientError::NoTsapAccepted { attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(attempts.len(), TSAP_ORDER.len());
    for (attempt, tsap) in attempts.iter().zip(TSAP_ORDER) {
        assert!(
            matches!(attempt, ClientError::CotpRefused { tsap: t, reason: 3, .. } if *t == tsap),
            "{attempt}"
        );
    }
    assert!(
        err.to_string()
            .contains("refused (disconnect reason 0x03, address unknown)"),
        "{err}"
    );

    let close = peer("S7_CLOSEAFTER_IP", "S7_BAD_PORT", "s7-closeafter");
    let err = Client::connect_any(close, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
        .await
        .err()
        .unwrap();
    let ClientError::NoTsapAccepted { attempts, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(attempts.len(), TSAP_ORDER.len());
    assert!(
        err.to_string()
            .contains("connection closed by the device during S7 Setup Communication"),
        "{err}"
    );

    let szl = peer("S7_SZLERROR_IP", "S7_BAD_PORT", "s7-szlerror");
    let mut client = Client::connect_any(szl, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
        .await
        .unwrap();
    let err = client
        .read_szl(SzlRead::ModuleIdentification)
        .await
        .unwrap_err();
    assert!(err.connection_usable());
    assert!(
        err.to_string().contains(
            "SZL 0x0011 (module identification) answered with an error: return code 0x0a (object does not exist), parameter error 0xd401 (invalid or unsupported SZL ID)"
        ),
        "{err}"
    );
    assert_read_only(client.sent());
    client.close().await;
}

#[tokio::test]
async fn the_probe_log_tells_each_bad_case_apart() {
    let cases = [
        (
            "S7_SILENT_IP",
            "s7-silent",
            Outcome::NoResponse,
            "no answer to the COTP connection request",
        ),
        (
            "S7_REFUSE_IP",
            "s7-refuse",
            Outcome::Error,
            "no S7 connection on any of 5 TSAPs tried",
        ),
        (
            "S7_CLOSEAFTER_IP",
            "s7-closeafter",
            Outcome::Error,
            "closed by the device during S7 Setup Communication",
        ),
        (
            "S7_SZLERROR_IP",
            "s7-szlerror",
            Outcome::Error,
            "SZL 0x001C (component identification) answered with an error",
        ),
    ];
    for (ip_var, name, outcome, text) in cases {
        require_tcp_peer(addr(ip_var, "S7_BAD_PORT"), name);
        // only the silent peer needs the short limit; the others answer at once, and a generous
        // limit keeps a busy machine from turning their answers into timeouts
        let limit = if name == "s7-silent" {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(10)
        };
        let report = probe(ip_var, 1, limit).await;
        assert_eq!(report.outcome, outcome, "{name}: {report:?}");
        let error = report.error.clone().unwrap();
        assert!(error.contains(text), "{name}: {error}");
        // the SZL error peer speaks S7: a device with no identity; the others are no devices
        let speaks_s7 = name == "s7-szlerror";
        assert_eq!(report.observation.is_some(), speaks_s7, "{name}");
        if let Some(obs) = report.observation {
            assert_eq!(obs.facts, [Fact::Protocol(Protocol::S7)]);
        }
    }
}

#[tokio::test]
async fn a_refused_port_says_so() {
    let target = addr("S7_CLOSED_IP", "S7_BAD_PORT");
    let err = Client::connect_any(target, &TSAP_ORDER, LIMIT, Arc::new(Unpaced))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ClientError::Refused { .. }), "{err}");
    let report = probe("S7_CLOSED_IP", 0, LIMIT).await;
    assert_eq!(report.outcome, Outcome::Refused);
    assert!(report.error.unwrap().contains("connection refused"));
}
