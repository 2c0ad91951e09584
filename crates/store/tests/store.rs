//! The store against real SQLite files in temporary directories.

use jiff::Timestamp;
use otsensor_core::merge::{RunMerge, observation_keys};
use otsensor_core::{
    Change, DeviceChange, DeviceKey, Fact, Observation, Outcome, Position, ProbeLogEntry, Protocol,
    SubObservation,
};
use otsensor_store::{NewScan, RunId, RunResult, RunStatus, RunSummary, ScanId, Store, StoreError};
use sqlx::{Connection, SqliteConnection};
use std::net::IpAddr;

const GATEWAY: &str = "127.0.0.12";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn key(text: &str) -> DeviceKey {
    text.parse().unwrap()
}

fn plc_scan() -> NewScan {
    NewScan {
        name: "otsensor scan plc --protocol modbus 127.0.0.12".into(),
        kind: "plc".into(),
        protocol: Protocol::Modbus,
        targets: GATEWAY.into(),
        spec: serde_json::json!({"port": 502, "timeout_secs": 3, "depth": 1}),
        created: at(0),
    }
}

/// A gateway answering Modbus, with one drive behind it at unit 17.
fn gateway_observation(time: Timestamp, firmware: &str) -> Observation {
    let mut obs = Observation::new(ip(GATEWAY), Protocol::Modbus, time);
    obs.facts.extend([
        Fact::Vendor("Schneider Electric".into()),
        Fact::Model("TSXETG100".into()),
        Fact::Firmware(firmware.into()),
    ]);
    obs.children.push(SubObservation {
        position: Position::UnitId(17),
        facts: vec![Fact::ProductName("ATV320".into())],
        children: vec![],
    });
    obs
}

fn log_entry(address: &str, outcome: Outcome, started: Timestamp) -> ProbeLogEntry {
    ProbeLogEntry {
        address: ip(address),
        protocol: Protocol::Modbus,
        outcome,
        error: (outcome != Outcome::Identified).then(|| format!("{address}: no answer in 3 s")),
        started,
        duration_ms: 1234,
    }
}

/// Merges `obs` against what the store holds, as the engine does.
async fn merge(store: &Store, obs: &Observation) -> Vec<DeviceChange> {
    let current = store.devices_by_keys(&observation_keys(obs)).await.unwrap();
    let mut run = RunMerge::new(current);
    run.absorb(obs);
    run.into_changes()
}

/// One complete run of the PLC scan over the gateway; returns its id.
async fn run_once(
    store: &Store,
    scan: ScanId,
    time: Timestamp,
    firmware: &str,
) -> (RunId, RunSummary, Vec<ProbeLogEntry>) {
    let run = store.start_run(scan, time, 2).await.unwrap();
    let changes = merge(store, &gateway_observation(time, firmware)).await;
    let log = vec![
        log_entry(GATEWAY, Outcome::Identified, time),
        log_entry("127.0.0.13", Outcome::NoResponse, time),
    ];
    let summary = store
        .finish_run(
            run,
            &RunResult {
                status: RunStatus::Completed,
                ended: time,
                changes: &changes,
                probe_log: &log,
                error: None,
            },
        )
        .await
        .unwrap();
    (run, summary, log)
}

async fn journal_mode(store: &Store) -> String {
    let url = format!("sqlite://{}", store.path().display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn opens_twice_in_wal_mode_and_creates_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").join("nested");
    let store = Store::open(&data).await.unwrap();
    assert_eq!(store.path(), data.join("otsensor.db"));
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    store.close().await;

    let again = Store::open(&data).await.unwrap();
    assert_eq!(journal_mode(&again).await, "wal");
    let read = again.scan(scan).await.unwrap().unwrap();
    assert_eq!(read.spec, plc_scan().spec);
    assert_eq!(read.protocol, Protocol::Modbus);
    assert_eq!(again.scans().await.unwrap().len(), 1);
}

#[tokio::test]
async fn open_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file).await.unwrap_err();
    assert!(matches!(err, StoreError::DataDir { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );

    // a directory where the database file should be
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("otsensor.db")).unwrap();
    let err = Store::open(&data).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("opening {}", data.join("otsensor.db").display())),
        "{text}"
    );
}

#[tokio::test]
async fn a_run_saves_devices_sub_devices_history_counts_and_probe_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();

    let (run, summary, log) = run_once(&store, scan, at(10), "1.0").await;

    let expected = RunSummary {
        probed: 2,
        identified: 1,
        new_devices: 2,
        updated_devices: 0,
    };
    assert_eq!(summary, expected);
    let stored = store.run(run).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Completed);
    assert_eq!(stored.scan, scan);
    assert_eq!(stored.started, at(10));
    assert_eq!(stored.ended, Some(at(10)));
    assert_eq!(stored.targets_total, 2);
    assert_eq!(stored.summary, expected);
    assert_eq!(stored.error, None);

    let gateway = key("ip:127.0.0.12");
    let drive = key("ip:127.0.0.12/unit:17");
    let devices = store.devices().await.unwrap();
    let keys: Vec<&DeviceKey> = devices.iter().map(|d| &d.key).collect();
    assert_eq!(keys, [&gateway, &drive]);
    let gw = store.device(&gateway).await.unwrap().unwrap();
    assert_eq!(gw.attributes.vendor.as_deref(), Some("Schneider Electric"));
    assert_eq!(gw.attributes.firmware.as_deref(), Some("1.0"));
    assert!(gw.attributes.protocols.contains(&Protocol::Modbus));
    assert_eq!((gw.first_seen, gw.last_seen), (at(10), at(10)));
    assert_eq!(
        store.children(&gateway).await.unwrap(),
        [devices[1].clone()]
    );
    assert!(store.children(&drive).await.unwrap().is_empty());
    assert_eq!(
        store
            .devices_by_keys(&[drive.clone(), key("ip:127.0.0.99")])
            .await
            .unwrap()
            .len(),
        1
    );

    let history = store.history(&gateway).await.unwrap();
    let attributes: Vec<&str> = history.iter().map(|h| h.attribute.as_str()).collect();
    assert_eq!(attributes, ["protocols", "vendor", "model", "firmware"]);
    assert!(
        history
            .iter()
            .all(|h| h.run == run && h.source == Protocol::Modbus)
    );
    assert!(history.iter().all(|h| h.old.is_none() && h.at == at(10)));
    assert_eq!(store.history(&drive).await.unwrap()[0].new, "ATV320");

    assert_eq!(store.probe_log(run).await.unwrap(), log);
    let linked = store.run_devices(run).await.unwrap();
    assert_eq!(linked.len(), 2);
    assert!(linked.iter().all(|d| d.change == Change::New));
    assert_eq!(linked[0].device, gw);
}

#[tokio::test]
async fn a_second_run_enriches_and_keeps_history_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let (first, _, _) = run_once(&store, scan, at(10), "1.0").await;
    let (second, summary, _) = run_once(&store, scan, at(20), "2.1").await;

    assert_eq!((summary.new_devices, summary.updated_devices), (0, 1));
    let gateway = key("ip:127.0.0.12");
    let gw = store.device(&gateway).await.unwrap().unwrap();
    assert_eq!(gw.attributes.firmware.as_deref(), Some("2.1"));
    assert_eq!((gw.first_seen, gw.last_seen), (at(10), at(20)));

    let firmware: Vec<_> = store
        .history(&gateway)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.attribute == "firmware")
        .map(|h| (h.run, h.old, h.new, h.at))
        .collect();
    assert_eq!(
        firmware,
        [
            (first, None, "1.0".to_string(), at(10)),
            (second, Some("1.0".to_string()), "2.1".to_string(), at(20)),
        ]
    );
    let changes: Vec<(String, Change)> = store
        .run_devices(second)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.device.key.to_string(), d.change))
        .collect();
    assert_eq!(
        changes,
        [
            ("ip:127.0.0.12".to_string(), Change::Enriched),
            ("ip:127.0.0.12/unit:17".to_string(), Change::Unchanged),
        ]
    );
    let runs: Vec<RunId> = store.runs().await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(runs, [second, first]);
}

/// Asserts that nothing of a failed `finish_run` was saved.
async fn assert_nothing_saved(store: &Store, run: RunId) {
    assert!(store.devices().await.unwrap().is_empty());
    assert!(
        store
            .history(&key("ip:127.0.0.12"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.probe_log(run).await.unwrap().is_empty());
    assert!(store.run_devices(run).await.unwrap().is_empty());
    let stored = store.run(run).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Running);
    assert_eq!(stored.summary, RunSummary::default());
}

#[tokio::test]
async fn a_failing_insert_rolls_the_whole_run_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let run = store.start_run(scan, at(10), 1).await.unwrap();
    let mut changes = merge(&store, &gateway_observation(at(10), "1.0")).await;
    // the same device twice: its second run_devices row breaks the primary key
    changes.push(changes[1].clone());
    let log = [log_entry(GATEWAY, Outcome::Identified, at(10))];
    let result = RunResult {
        status: RunStatus::Completed,
        ended: at(11),
        changes: &changes,
        probe_log: &log,
        error: None,
    };

    let err = store.finish_run(run, &result).await.unwrap_err();
    assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!("saving run {run}: ")),
        "{err}"
    );
    assert_nothing_saved(&store, run).await;

    // the run can still be saved once the input is right
    let right = &changes[..2];
    let summary = store
        .finish_run(
            run,
            &RunResult {
                changes: right,
                ..result
            },
        )
        .await;
    assert_eq!(summary.unwrap().new_devices, 2);
}

#[tokio::test]
async fn a_sub_device_without_its_parent_is_refused_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let run = store.start_run(scan, at(10), 1).await.unwrap();
    let changes = merge(&store, &gateway_observation(at(10), "1.0")).await;
    let orphan = vec![changes[1].clone(), changes[0].clone()]
        .into_iter()
        .map(|mut c| {
            if c.device.key.parent().is_some() {
                c.device.key = key("ip:127.0.0.77/slot:1");
            }
            c
        })
        .collect::<Vec<_>>();
    let result = RunResult {
        status: RunStatus::Completed,
        ended: at(11),
        changes: &orphan,
        probe_log: &[],
        error: None,
    };
    let err = store.finish_run(run, &result).await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("ip:127.0.0.77"), "{err}");
    assert_nothing_saved(&store, run).await;
}

#[tokio::test]
async fn runs_left_running_become_interrupted_and_finished_runs_stay_finished() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let other = store.create_scan(&plc_scan()).await.unwrap();
    let (done, _, _) = run_once(&store, scan, at(10), "1.0").await;
    let left = store.start_run(scan, at(20), 2).await.unwrap();
    let also_left = store.start_run(other, at(20), 2).await.unwrap();

    // one run per scan
    let err = store.start_run(scan, at(21), 2).await.unwrap_err();
    assert!(
        err.to_string().contains("already has a running run"),
        "{err}"
    );
    store.close().await;

    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(
        store.mark_interrupted_runs().await.unwrap(),
        [left, also_left]
    );
    assert!(store.mark_interrupted_runs().await.unwrap().is_empty());
    let interrupted = store.run(left).await.unwrap().unwrap();
    assert_eq!(interrupted.status, RunStatus::Interrupted);
    assert_eq!(interrupted.ended, None);
    assert!(interrupted.error.is_some());
    assert_eq!(
        store.run(done).await.unwrap().unwrap().status,
        RunStatus::Completed
    );

    // an interrupted run cannot be finished later, and the scan can run again
    let result = RunResult {
        status: RunStatus::Completed,
        ended: at(30),
        changes: &[],
        probe_log: &[],
        error: None,
    };
    let err = store.finish_run(left, &result).await.unwrap_err();
    assert!(
        err.to_string().contains("interrupted, not running"),
        "{err}"
    );
    let again = store.start_run(scan, at(40), 2).await.unwrap();
    let cancelled = RunResult {
        status: RunStatus::Cancelled,
        error: Some("stopped by admin"),
        ..result
    };
    store.finish_run(again, &cancelled).await.unwrap();
    let stored = store.run(again).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.error.as_deref()),
        (RunStatus::Cancelled, Some("stopped by admin"))
    );
}

#[tokio::test]
async fn unknown_scans_and_runs_are_refused_with_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let err = store.start_run(ScanId(42), at(0), 1).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "starting a run of scan 42: there is no scan 42"
    );
    let result = RunResult {
        status: RunStatus::Failed,
        ended: at(1),
        changes: &[],
        probe_log: &[],
        error: Some("scope refused 10.0.0.1"),
    };
    let err = store.finish_run(RunId(7), &result).await.unwrap_err();
    assert_eq!(err.to_string(), "saving run 7: there is no such run");
    assert!(store.run(RunId(7)).await.unwrap().is_none());
    assert!(store.scan(ScanId(42)).await.unwrap().is_none());
}

fn start_entry(at: Timestamp) -> otsensor_store::NewAuditEntry {
    otsensor_store::NewAuditEntry {
        at,
        actor: "ana".into(),
        via: "session".into(),
        action: "run.start".into(),
        target: None,
        detail: serde_json::json!({"trigger": "manual"}),
        client: None,
    }
}

async fn run_starts(store: &Store) -> Vec<otsensor_store::AuditEntry> {
    let query = otsensor_store::AuditQuery {
        action_prefix: Some("run.start".into()),
        actor: None,
        offset: 0,
        limit: 100,
    };
    store.audit_log(&query).await.unwrap().entries
}

#[tokio::test]
async fn a_recorded_run_starts_with_its_origin_and_audit_entry_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let origin = otsensor_store::RunOrigin {
        trigger: otsensor_store::Trigger::Manual,
        actor: "ana".into(),
    };
    let run = store
        .start_recorded_run(scan, at(10), 1, &origin, &start_entry(at(10)))
        .await
        .unwrap();
    assert_eq!(store.run_origin(run).await.unwrap(), Some(origin.clone()));
    let starts = run_starts(&store).await;
    assert_eq!(starts.len(), 1);
    assert_eq!(
        starts[0].entry.target.as_deref(),
        Some(format!("run:{run}").as_str())
    );

    // a second start of the running scan is refused, and leaves no trace
    let e = store
        .start_recorded_run(scan, at(11), 1, &origin, &start_entry(at(11)))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already has a running run"), "{e}");
    assert_eq!(run_starts(&store).await.len(), 1);
}

/// A long probe log (more entries than any one statement held before) comes back whole and in
/// order, every field as given, errors with quotes and non-ASCII text included.
#[tokio::test]
async fn a_long_probe_log_is_saved_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let scan = store.create_scan(&plc_scan()).await.unwrap();
    let run = store.start_run(scan, at(10), 1500).await.unwrap();
    let log: Vec<ProbeLogEntry> = (0..1500u32)
        .map(|n| {
            let address = format!("127.{}.{}.{}", 5 + n / 65536, (n / 256) % 256, n % 256);
            let mut entry = log_entry(&address, Outcome::NoResponse, at(10 + i64::from(n % 7)));
            entry.duration_ms = u64::from(n) * 3;
            if n % 5 == 0 {
                entry.outcome = Outcome::Identified;
                entry.error = None;
            } else if n % 5 == 1 {
                entry.error = Some(format!("\"{address}\" réponse: \\ {n}"));
            }
            entry
        })
        .collect();
    let result = RunResult {
        status: RunStatus::Completed,
        ended: at(20),
        changes: &[],
        probe_log: &log,
        error: None,
    };
    store.finish_run(run, &result).await.unwrap();
    assert_eq!(store.probe_log(run).await.unwrap(), log);
}
