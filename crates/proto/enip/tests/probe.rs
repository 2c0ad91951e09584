//! The probe against the testbed's EtherNet/IP peers: the facts it reports, the backplane walk at
//! depth 1 and 2, the bad cases, and the read-only rule checked on recorded traffic.
//!
//! Every expected value is read from testbed/config.sh, which the peers were started with.

use otsensor_core::probe::{BoxFuture, Unpaced};
use otsensor_core::{
    DeviceType, Fact, Outcome, Pacer, PlcMode, Position, Probe, ProbeContext, ProbeReport,
    SubObservation,
};
use otsensor_enip::codec::{self, HEADER_LEN, Request};
use otsensor_enip::{EnipProbe, names};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn ctx(port: u16, depth: u8, timeout: Duration, pacer: Arc<dyn Pacer>) -> ProbeContext {
    ProbeContext {
        port,
        timeout,
        depth,
        pacer,
    }
}

async fn probe(ip_var: &str, peer: &str, depth: u8) -> ProbeReport {
    let target = addr(ip_var, "ENIP_PORT");
    require_tcp_peer(target, peer);
    EnipProbe
        .probe(
            target.ip(),
            ctx(
                target.port(),
                depth,
                Duration::from_secs(3),
                Arc::new(Unpaced),
            ),
        )
        .await
}

fn num(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

/// The facts a module of config.sh must give:
/// "VENDOR|DEVTYPE|PRODCODE|MAJOR.MINOR|SERIAL|STATUS|PRODUCT NAME".
fn module_facts(spec: &str, state: Option<u8>) -> Vec<Fact> {
    let f: Vec<&str> = spec.splitn(7, '|').collect();
    let vendor = num(f[0]) as u16;
    let device_type = num(f[1]) as u16;
    let status = num(f[5]) as u16;
    let mut facts = vec![Fact::VendorId(vendor.into())];
    if let Some(name) = names::vendor_name(vendor) {
        facts.push(Fact::Vendor(name.into()));
    }
    facts.extend([
        Fact::DeviceType(names::classify(device_type)),
        Fact::TypeName(names::device_type_label(device_type)),
        Fact::ProductCode(num(f[2]).to_string()),
        Fact::Firmware(f[3].into()),
        Fact::Serial(format!("{:#010x}", num(f[4]))),
        Fact::ProductName(f[6].into()),
        Fact::Model(f[6].into()),
        Fact::Status(names::describe_status_and_state(status, state)),
    ]);
    if let Some(mode) = names::plc_mode(device_type, status) {
        facts.push(Fact::PlcMode(mode));
    }
    facts
}

fn has(facts: &[Fact], want: &Fact) -> bool {
    facts.contains(want)
}

#[tokio::test]
async fn cpppo_is_identified_with_every_configured_field() {
    let report = probe("ENIP_IP", "enip", 0).await;
    assert_eq!(report.outcome, Outcome::Identified, "{:?}", report.error);
    assert_eq!(report.error, None);
    let obs = report.observation.unwrap();
    let f = &obs.facts;
    let want = [
        Fact::Protocol(otsensor_core::Protocol::Enip),
        Fact::VendorId(1),
        Fact::Vendor("Rockwell Automation/Allen-Bradley".into()),
        Fact::DeviceType(DeviceType::Plc),
        Fact::TypeName("Programmable Logic Controller (14)".into()),
        Fact::ProductCode(var("ENIP_PRODCODE")),
        Fact::Firmware(format!(
            "{}.{}",
            var("ENIP_REV_MAJOR"),
            var("ENIP_REV_MINOR")
        )),
        Fact::Serial(format!("{:#010x}", num(&var("ENIP_SERIAL")))),
        Fact::ProductName(var("ENIP_PRODNAME")),
        Fact::Model(var("ENIP_PRODNAME")),
        Fact::Status(format!(
            "status {:#06x} (at least one I/O connection in run mode), state 0x03 (operational)",
            num(&var("ENIP_STATUS"))
        )),
        Fact::PlcMode(PlcMode::Run),
        Fact::ReportedIp(var("ENIP_IP").parse().unwrap()),
    ];
    for fact in &want {
        assert!(has(f, fact), "{fact:?} missing in {f:?}");
    }
    assert_eq!(f.len(), want.len(), "{f:?}");
    assert!(obs.children.is_empty());
}

#[tokio::test]
async fn cpppo_ignores_the_route_path_so_its_backplane_has_no_modules() {
    let report = probe("ENIP_IP", "enip", 1).await;
    assert_eq!(report.outcome, Outcome::Identified);
    assert!(report.observation.unwrap().children.is_empty());
    let note = report.error.unwrap();
    assert!(
        note.contains("17 slots (0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16) answer with one and the same identity: the device ignores the route path"),
        "{note}"
    );
}

fn chassis_slots() -> Vec<u16> {
    var("ENIPCH_SLOTS")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

fn slot_of(sub: &SubObservation) -> u16 {
    match sub.position {
        Position::Slot(n) => n,
        ref other => panic!("module at {other}"),
    }
}

fn assert_modules_exactly_as_configured(children: &[SubObservation]) {
    let got: Vec<u16> = children.iter().map(slot_of).collect();
    assert_eq!(got, chassis_slots(), "modules in slot order, nothing else");
    for sub in children {
        let slot = slot_of(sub);
        let mut want = vec![Fact::Protocol(otsensor_core::Protocol::Enip)];
        want.extend(module_facts(&var(&format!("ENIPCH_SLOT{slot}")), None));
        assert_eq!(sub.facts, want, "slot {slot}");
    }
}

#[tokio::test]
async fn the_chassis_at_depth_0_is_the_bridge_alone() {
    let report = probe("ENIPCH_IP", "enip-chassis", 0).await;
    assert_eq!(report.outcome, Outcome::Identified);
    let obs = report.observation.unwrap();
    let me = var(&format!("ENIPCH_SLOT{}", var("ENIPCH_SELF_SLOT")));
    let mut want = vec![Fact::Protocol(otsensor_core::Protocol::Enip)];
    want.extend(module_facts(
        &me,
        Some(var("ENIPCH_STATE").parse().unwrap()),
    ));
    want.push(Fact::ReportedIp(var("ENIPCH_IP").parse().unwrap()));
    assert_eq!(obs.facts, want);
    assert!(obs.children.is_empty());
}

#[tokio::test]
async fn the_chassis_at_depth_1_has_its_modules_exactly_as_configured() {
    let report = probe("ENIPCH_IP", "enip-chassis", 1).await;
    assert_eq!(report.outcome, Outcome::Identified);
    let obs = report.observation.unwrap();
    assert_modules_exactly_as_configured(&obs.children);
    assert!(obs.children.iter().all(|m| m.children.is_empty()));
    let controller = &obs.children[0];
    assert!(has(&controller.facts, &Fact::PlcMode(PlcMode::Run)));
    assert!(has(&controller.facts, &Fact::DeviceType(DeviceType::Plc)));
    assert!(has(
        &obs.children[2].facts,
        &Fact::DeviceType(DeviceType::IoModule)
    ));
    // the module answering with a CIP error is named in the probe log, not recorded
    let note = report.error.unwrap();
    assert_eq!(
        note,
        format!(
            "slot {}: {}:{}: Get_Attributes_All of Identity (class 0x01) via Unconnected Send, route 1/{}: answered with CIP status 0x08 (service not supported)",
            var("ENIPCH_ERROR_SLOT"),
            var("ENIPCH_IP"),
            var("ENIP_PORT"),
            var("ENIPCH_ERROR_SLOT")
        )
    );
}

#[tokio::test]
async fn the_chassis_at_depth_2_has_the_nodes_behind_its_devicenet_scanner() {
    let report = probe("ENIPCH_IP", "enip-chassis", 2).await;
    assert_eq!(report.outcome, Outcome::Identified);
    let obs = report.observation.unwrap();
    assert_modules_exactly_as_configured(&obs.children);
    for module in &obs.children {
        let slot = slot_of(module);
        let mut want: Vec<(Position, Vec<Fact>)> = Vec::new();
        let spec = var(&format!("ENIPCH_SLOT{slot}"));
        // only communications adapters (device type 12) have their ports followed
        let ports = if spec.split('|').nth(1) == Some("12") {
            var(&format!("ENIPCH_SLOT{slot}_PORTS"))
        } else {
            String::new()
        };
        for spec in ports.split_whitespace() {
            let (port, kind) = spec.split_once(':').unwrap();
            if kind != "5" && kind != "2" {
                continue; // only ControlNet and DeviceNet ports have node addresses to walk
            }
            let nodes = var(&format!("ENIPCH_SLOT{slot}_PORT{port}_NODES"));
            for node in nodes.split_whitespace() {
                let mut facts = vec![Fact::Protocol(otsensor_core::Protocol::Enip)];
                facts.extend(module_facts(
                    &var(&format!("ENIPCH_SLOT{slot}_PORT{port}_NODE{node}")),
                    None,
                ));
                let position = Position::Routed {
                    network: port.parse().unwrap(),
                    mac: format!("{:02x}", node.parse::<u8>().unwrap()),
                };
                want.push((position, facts));
            }
        }
        let got: Vec<(Position, Vec<Fact>)> = module
            .children
            .iter()
            .map(|c| (c.position.clone(), c.facts.clone()))
            .collect();
        assert_eq!(got, want, "slot {slot}");
    }
    assert!(obs.children.iter().any(|m| !m.children.is_empty()));
}

#[tokio::test]
async fn bad_peers_are_reported_clearly() {
    for peer in ["SILENT", "TRUNCATED", "GARBAGE"] {
        require_tcp_peer(
            addr(&format!("ENIP_{peer}_IP"), "ENIP_BAD_PORT"),
            &format!("enip-{}", peer.to_lowercase()),
        );
    }
    // only the silent peer needs the short limit; the others answer at once, and a generous
    // limit keeps a busy machine from turning their answers into timeouts
    let run = |ip_var: &'static str| async move {
        let target = addr(ip_var, "ENIP_BAD_PORT");
        let limit = if ip_var == "ENIP_SILENT_IP" {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(10)
        };
        EnipProbe
            .probe(target.ip(), ctx(target.port(), 1, limit, Arc::new(Unpaced)))
            .await
    };
    let silent = run("ENIP_SILENT_IP").await;
    assert_eq!(silent.outcome, Outcome::NoResponse);
    assert!(silent.observation.is_none());
    assert!(
        silent
            .error
            .as_deref()
            .unwrap()
            .ends_with("no response to List Identity within 0.5 s")
    );

    let truncated = run("ENIP_TRUNCATED_IP").await;
    assert_eq!(truncated.outcome, Outcome::Error);
    assert!(
        truncated.error.as_deref().unwrap().ends_with(
            "bad reply to List Identity: truncated: item data needs 39 bytes, 20 present"
        ),
        "{:?}",
        truncated.error
    );
    // a well-framed reply proves an EtherNet/IP device, with nothing more known
    let obs = truncated.observation.unwrap();
    assert_eq!(
        obs.facts,
        vec![Fact::Protocol(otsensor_core::Protocol::Enip)]
    );

    let garbage = run("ENIP_GARBAGE_IP").await;
    assert_eq!(garbage.outcome, Outcome::Error);
    assert!(garbage.observation.is_none());
    let text = garbage.error.unwrap();
    assert!(text.contains("bad reply to List Identity: "), "{text}");

    let closed = run("ENIP_CLOSED_IP").await;
    assert_eq!(closed.outcome, Outcome::Refused);
    assert_eq!(
        closed.error.unwrap(),
        format!(
            "{0}:{1}: TCP connection refused (nothing listens on that port); {0}:{1}: UDP port unreachable (nothing listens on that UDP port)",
            var("ENIP_CLOSED_IP"),
            var("ENIP_BAD_PORT")
        )
    );
}

/// Counts every wait: one per packet the probe sends.
#[derive(Default)]
struct CountingPacer(AtomicUsize);

impl Pacer for CountingPacer {
    fn ready(&self) -> BoxFuture<'_, ()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}

/// A TCP relay on 127.0.0.1 to `upstream` that records what the client sends.
async fn tcp_recorder(upstream: SocketAddr) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let record = sent.clone();
    tokio::spawn(async move {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let server = TcpStream::connect(upstream).await.unwrap();
        let (mut cr, mut cw) = client.into_split();
        let (mut sr, mut sw) = server.into_split();
        let up = async {
            let mut buf = [0u8; 4096];
            while let Ok(n) = cr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                record.lock().unwrap().extend_from_slice(&buf[..n]);
                if sw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = sw.shutdown().await;
        };
        let down = async {
            let _ = tokio::io::copy(&mut sr, &mut cw).await;
            let _ = cw.shutdown().await;
        };
        tokio::join!(up, down);
    });
    (port, sent)
}

/// Splits recorded client bytes into request frames and decodes each against the allow-list.
fn decode_all(bytes: &[u8]) -> Vec<Request> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        assert!(rest.len() >= HEADER_LEN, "a partial header was sent");
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let (frame, tail) = rest.split_at(HEADER_LEN + len);
        let (_, request) = codec::parse_request(frame).unwrap_or_else(|e| {
            panic!("a request off the read-only list was sent ({e}): {frame:02x?}")
        });
        out.push(request);
        rest = tail;
    }
    out
}

#[tokio::test]
async fn every_request_sent_in_a_depth_2_walk_is_on_the_read_only_list_and_paced() {
    let upstream = addr("ENIPCH_IP", "ENIPCH_PORT");
    require_tcp_peer(upstream, "enip-chassis");
    let (port, sent) = tcp_recorder(upstream).await;
    let pacer = Arc::new(CountingPacer::default());
    let report = EnipProbe
        .probe(
            IpAddr::from([127, 0, 0, 1]),
            ctx(port, 2, Duration::from_secs(3), pacer.clone()),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Identified);
    assert!(!report.observation.unwrap().children.is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = decode_all(&sent.lock().unwrap());
    let count = |f: fn(&Request) -> bool| requests.iter().filter(|r| f(r)).count();
    assert_eq!(count(|r| matches!(r, Request::ListIdentity)), 1);
    assert_eq!(count(|r| matches!(r, Request::RegisterSession)), 1);
    assert_eq!(count(|r| matches!(r, Request::UnRegisterSession)), 1);
    assert!(matches!(requests.last(), Some(Request::UnRegisterSession)));
    // 17 slots, then the ports of the two communications modules and the nodes of one DeviceNet port
    let cip = count(|r| matches!(r, Request::Cip(_)));
    assert!(cip >= 17 + 64, "{cip} CIP reads");
    // one pacer wait per packet: the SYN and every request
    assert_eq!(pacer.0.load(Ordering::SeqCst), 1 + requests.len());
}

#[tokio::test]
async fn a_refused_tcp_port_falls_back_to_udp_list_identity_only() {
    let upstream = addr("ENIPCH_IP", "ENIPCH_PORT");
    require_tcp_peer(upstream, "enip-chassis");
    // a UDP relay on a port where no TCP listens
    let relay = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let record = sent.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        let Ok((n, from)) = relay.recv_from(&mut buf).await else {
            return;
        };
        record.lock().unwrap().extend_from_slice(&buf[..n]);
        let up = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        up.send_to(&buf[..n], upstream).await.unwrap();
        let (m, _) = up.recv_from(&mut buf).await.unwrap();
        relay.send_to(&buf[..m], from).await.unwrap();
    });
    let pacer = Arc::new(CountingPacer::default());
    let report = EnipProbe
        .probe(
            IpAddr::from([127, 0, 0, 1]),
            ctx(port, 1, Duration::from_secs(3), pacer.clone()),
        )
        .await;
    assert_eq!(report.outcome, Outcome::Identified, "{:?}", report.error);
    let obs = report.observation.unwrap();
    assert!(has(
        &obs.facts,
        &Fact::ReportedIp(var("ENIPCH_IP").parse().unwrap())
    ));
    assert!(obs.children.is_empty());
    assert!(
        report
            .error
            .unwrap()
            .ends_with("TCP connection refused (nothing listens on that port); identified over UDP, so no backplane walk")
    );
    assert_eq!(
        decode_all(&sent.lock().unwrap()),
        vec![Request::ListIdentity]
    );
    assert_eq!(
        pacer.0.load(Ordering::SeqCst),
        2,
        "the refused SYN and the datagram"
    );
}
