//! Cancel: a running /16 sweep stops within one second with every socket closed.
//!
//! Alone in its own test binary, so no other test's sockets are counted.

use otsensor_core::{Outcome, Pacing, Scope, TargetSet};
use otsensor_engine::{ScanRequest, ScanStatus, run_scan};
use otsensor_modbus::ModbusProbe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_slash_16_sweep_within_one_second_and_closes_every_socket() {
    let baseline = open_sockets();
    let cancel = CancellationToken::new();
    // default pacing: 1000 packets/s overall, so the sweep would take over a minute
    let req = ScanRequest {
        targets: TargetSet::parse(["127.3.0.0/16"], 65_536).unwrap(),
        scope: Scope::default(),
        pacing: Pacing::default(),
        port: 502,
        depth: 0,
    };
    let scan = tokio::spawn(run_scan(
        Arc::new(ModbusProbe),
        req,
        cancel.clone(),
        &|_| {},
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let asked = Instant::now();
    cancel.cancel();
    let outcome = scan.await.unwrap().unwrap();
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
    assert_eq!(outcome.status, ScanStatus::Cancelled);
    assert!(outcome.progress.done > 100, "{:?}", outcome.progress);
    assert!(outcome.progress.done < 65_536, "{:?}", outcome.progress);
    assert_eq!(outcome.probe_log.len() as u64, outcome.progress.done);
    assert!(
        outcome
            .probe_log
            .iter()
            .all(|e| matches!(e.outcome, Outcome::Refused | Outcome::Cancelled))
    );
    assert_eq!(open_sockets(), baseline, "sockets left open after cancel");
}
