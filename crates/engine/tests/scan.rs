//! Engine behaviour on loopback: scope refusal, cancel within one second, sockets closed.

use otsensor_core::{Outcome, Pacing, Scope, TargetSet};
use otsensor_engine::{ScanRequest, ScanStatus, run_scan};
use otsensor_modbus::ModbusProbe;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn request(targets: &str, pacing: Pacing) -> ScanRequest {
    ScanRequest {
        targets: TargetSet::parse([targets], 65_536).unwrap(),
        scope: Scope::default(),
        pacing,
        port: 502,
        depth: 0,
    }
}

#[tokio::test]
async fn a_target_outside_the_scope_refuses_the_whole_scan() {
    let req = request("127.0.0.1,10.0.0.1", Pacing::default());
    let err = run_scan(
        Arc::new(ModbusProbe),
        req,
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("10.0.0.1 is outside the scope allow-list"),
        "{err}"
    );
}

#[tokio::test]
async fn the_scan_time_limit_stops_the_scan() {
    let pacing = Pacing {
        rate: 100,
        scan_timeout_secs: 1,
        ..Pacing::default()
    };
    let outcome = run_scan(
        Arc::new(ModbusProbe),
        request("127.1.0.0/24", pacing),
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, ScanStatus::TimedOut);
    assert!(outcome.progress.done < 256, "{:?}", outcome.progress);
}

#[tokio::test]
async fn every_target_gets_one_probe_log_entry() {
    let pacing = Pacing {
        rate: 0,
        per_device_rate: 0,
        ..Pacing::default()
    };
    let outcome = run_scan(
        Arc::new(ModbusProbe),
        request("127.1.1.0/26,127.1.1.10", pacing),
        CancellationToken::new(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(outcome.status, ScanStatus::Completed);
    assert_eq!(outcome.probe_log.len(), 64);
    let entry = &outcome.probe_log[0];
    assert_eq!(entry.outcome, Outcome::Refused);
    assert!(
        entry
            .error
            .as_deref()
            .unwrap()
            .contains("connection refused")
    );
}
