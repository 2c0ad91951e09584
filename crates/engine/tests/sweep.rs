//! A sweep of several protocols in one pass: each address gets its probes one after the other,
//! in the order given, on their own ports, sharing the address's pacer; every probe has its
//! probe-log entry; the outcome splits by protocol.
//!
//! The probes here are the engine's test doubles (no traffic): they record when each ran, so
//! the test can check the engine's one-connection-at-a-time rule per device.

use otsensor_core::probe::BoxFuture;
use otsensor_core::{
    Observation, Outcome, Pacing, Probe, ProbeContext, ProbeReport, Protocol, Scope, TargetSet,
};
use otsensor_engine::{PortProbe, ScanRequest, ScanStatus, run_sweep};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What one probe call saw: the address, the protocol, the port it was given, when it ran.
#[derive(Debug, Clone)]
struct Call {
    address: IpAddr,
    protocol: Protocol,
    port: u16,
    start: Instant,
    end: Instant,
}

/// Takes `busy` per address, paces one packet, answers (identified) on `answers` only.
struct Recorder {
    protocol: Protocol,
    busy: Duration,
    answers: Vec<IpAddr>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Probe for Recorder {
    fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn requests(&self) -> &'static [&'static str] {
        &[]
    }

    fn probe(&self, address: IpAddr, ctx: ProbeContext) -> BoxFuture<'_, ProbeReport> {
        Box::pin(async move {
            let start = Instant::now();
            ctx.pacer.ready().await;
            tokio::time::sleep(self.busy).await;
            self.calls.lock().unwrap().push(Call {
                address,
                protocol: self.protocol,
                port: ctx.port,
                start,
                end: Instant::now(),
            });
            if self.answers.contains(&address) {
                let obs = Observation::new(address, self.protocol, jiff::Timestamp::now());
                ProbeReport::identified(obs)
            } else {
                ProbeReport::failed(Outcome::Refused, "nothing listens")
            }
        })
    }
}

fn request(targets: &str, pacing: Pacing) -> ScanRequest {
    ScanRequest {
        targets: TargetSet::parse([targets], 65_536).unwrap(),
        scope: Scope::default(),
        pacing,
        port: 0,
        depth: 0,
    }
}

fn recorder(
    protocol: Protocol,
    port: u16,
    answers: &[&str],
    calls: &Arc<Mutex<Vec<Call>>>,
) -> PortProbe {
    PortProbe {
        probe: Arc::new(Recorder {
            protocol,
            busy: Duration::from_millis(30),
            answers: answers.iter().map(|a| a.parse().unwrap()).collect(),
            calls: calls.clone(),
        }),
        port,
    }
}

#[tokio::test(start_paused = true)]
async fn each_address_gets_its_probes_one_after_the_other_in_order() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let probes = vec![
        recorder(Protocol::S7, 102, &["127.4.0.2"], &calls),
        recorder(Protocol::Enip, 44818, &["127.4.0.3"], &calls),
        recorder(Protocol::Bacnet, 47808, &["127.4.0.2"], &calls),
    ];
    let pacing = Pacing {
        parallel: 4,
        ..Pacing::default()
    };
    let outcome = run_sweep(
        probes,
        request("127.4.0.0/29", pacing),
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap();

    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.progress.total, 8);
    assert_eq!(outcome.progress.done, 8, "addresses, not probes");
    assert_eq!(outcome.progress.identified, 2, "127.4.0.2 and 127.4.0.3");
    assert_eq!(
        outcome.probe_log.len(),
        24,
        "one entry per probe per address"
    );
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 24);
    for address in TargetSet::parse(["127.4.0.0/29"], 256).unwrap().addresses() {
        let mut mine: Vec<&Call> = calls.iter().filter(|c| c.address == address).collect();
        mine.sort_by_key(|c| c.start);
        let order: Vec<(Protocol, u16)> = mine.iter().map(|c| (c.protocol, c.port)).collect();
        assert_eq!(
            order,
            [
                (Protocol::S7, 102),
                (Protocol::Enip, 44818),
                (Protocol::Bacnet, 47808)
            ],
            "{address}"
        );
        for pair in mine.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{address}: {:?} overlaps {:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_outcome_splits_by_protocol() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let probes = vec![
        recorder(Protocol::Modbus, 502, &["127.4.1.1", "127.4.1.2"], &calls),
        recorder(Protocol::S7, 102, &["127.4.1.2"], &calls),
    ];
    let outcome = run_sweep(
        probes,
        request("127.4.1.1-127.4.1.3", Pacing::default()),
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(outcome.observations.len(), 3);

    let modbus = outcome.for_protocol(Protocol::Modbus);
    assert_eq!(modbus.probe_log.len(), 3);
    assert!(
        modbus
            .probe_log
            .iter()
            .all(|e| e.protocol == Protocol::Modbus)
    );
    assert_eq!(modbus.observations.len(), 2);
    assert_eq!(
        (
            modbus.progress.done,
            modbus.progress.identified,
            modbus.progress.devices
        ),
        (3, 2, 2)
    );

    let s7 = outcome.for_protocol(Protocol::S7);
    assert_eq!(s7.probe_log.len(), 3);
    assert_eq!(s7.observations.len(), 1);
    assert_eq!(s7.observations[0].address.to_string(), "127.4.1.2");
    assert_eq!((s7.progress.done, s7.progress.identified), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn one_device_pacer_spaces_all_the_probes_of_an_address() {
    // 10 packets/s per device: the three probes' packets go out 100 ms apart at least
    let calls = Arc::new(Mutex::new(Vec::new()));
    let probes = vec![
        recorder(Protocol::S7, 102, &[], &calls),
        recorder(Protocol::Enip, 44818, &[], &calls),
        recorder(Protocol::Modbus, 502, &[], &calls),
    ];
    let pacing = Pacing {
        per_device_rate: 10,
        ..Pacing::default()
    };
    let started = Instant::now();
    let outcome = run_sweep(
        probes,
        request("127.4.2.1", pacing),
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(outcome.probe_log.len(), 3);
    // packets at 0, 100 and 200 ms; the last probe then stays busy for 30 ms
    assert!(
        started.elapsed() >= Duration::from_millis(230),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_running_probe_and_skips_the_rest() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let slow = PortProbe {
        probe: Arc::new(Recorder {
            protocol: Protocol::S7,
            busy: Duration::from_secs(3600),
            answers: vec![],
            calls: calls.clone(),
        }),
        port: 102,
    };
    let probes = vec![slow, recorder(Protocol::Modbus, 502, &[], &calls)];
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        stopper.cancel();
    });
    let outcome = run_sweep(
        probes,
        request("127.4.3.1-127.4.3.2", Pacing::default()),
        cancel,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, ScanStatus::Cancelled);
    assert_eq!(outcome.probe_log.len(), 2, "{:?}", outcome.probe_log);
    assert!(
        outcome
            .probe_log
            .iter()
            .all(|e| e.protocol == Protocol::S7 && e.outcome == Outcome::Cancelled)
    );
    assert!(calls.lock().unwrap().is_empty(), "no probe ran to its end");
}
