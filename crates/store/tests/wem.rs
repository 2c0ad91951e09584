//! WEM settings and results in a real SQLite store.

use jiff::Timestamp;
use otsensor_core::wem::{WemRange, WemResult, WemSchedule, import_ranges};
use otsensor_core::{Outcome, ProbeLogEntry, Protocol};
use otsensor_store::{KEY_FILE, RunResult, RunStatus, Store, StoreError};
use sqlx::{Connection, SqliteConnection};

fn ranges() -> Vec<WemRange> {
    import_ranges(
        "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.75,LAB\\alice,Passw0rd!,FALSE\n\
         10.1.0.1,10.1.0.20,ops,s3cret-ops,TRUE\n",
        &[],
    )
    .unwrap()
}

#[tokio::test]
async fn ranges_round_trip_with_passwords_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.replace_wem_ranges(&ranges()).await.unwrap();
    assert_eq!(store.wem_ranges().await.unwrap(), ranges());
    let path = store.path().to_path_buf();
    store.close().await;
    // no clear password anywhere in the database file or its WAL
    for file in [path.clone(), path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(9).any(|w| w == b"Passw0rd!"),
                "{}",
                file.display()
            );
        }
    }
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT password FROM wem_ranges WHERE from_ip = '127.0.0.70'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!stored.windows(9).any(|w| w == b"Passw0rd!"));
    // a re-import with empty passwords keeps them
    let store = Store::open(dir.path()).await.unwrap();
    let stored = store.wem_ranges().await.unwrap();
    let again = import_ranges(&otsensor_core::wem::export_ranges(&stored), &stored).unwrap();
    store.replace_wem_ranges(&again).await.unwrap();
    assert_eq!(store.wem_ranges().await.unwrap(), ranges());
    // another key file cannot read them, and says why
    std::fs::write(dir.path().join(KEY_FILE), [7u8; 32]).unwrap();
    let e = store.wem_ranges().await.unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("key file"), "{e}");
}

#[tokio::test]
async fn the_schedule_is_manual_until_set() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.wem_schedule().await.unwrap(), WemSchedule::Manual);
    let s = WemSchedule::parse("02:00,14:30").unwrap();
    store.set_wem_schedule(&s).await.unwrap();
    assert_eq!(store.wem_schedule().await.unwrap(), s);
    let _ = store.wem_scan().await.unwrap();
    assert_eq!(
        store.wem_schedule().await.unwrap(),
        s,
        "creating the scan keeps the schedule"
    );
}

fn log(run_secs: i64) -> Vec<ProbeLogEntry> {
    vec![ProbeLogEntry {
        address: "127.0.0.70".parse().unwrap(),
        protocol: Protocol::Wmi,
        outcome: Outcome::Identified,
        error: None,
        started: Timestamp::from_second(1_750_000_000 + run_secs).unwrap(),
        duration_ms: 80,
    }]
}

#[tokio::test]
async fn one_wem_scan_at_a_time_and_only_the_last_log_and_results_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let first = store.start_wem_run(Timestamp::now(), 6).await.unwrap();
    let e = store.start_wem_run(Timestamp::now(), 6).await.unwrap_err();
    assert!(
        e.to_string().contains("a WEM scan is already running"),
        "{e}"
    );
    assert!(e.to_string().contains(&format!("run {}", first.0)), "{e}");
    let finish = |run| {
        let store = store.clone();
        async move {
            let log = log(run);
            store
                .finish_run(
                    otsensor_store::RunId(run),
                    &RunResult {
                        status: RunStatus::Completed,
                        ended: Timestamp::now(),
                        changes: &[],
                        probe_log: &log,
                        error: None,
                    },
                )
                .await
                .unwrap();
        }
    };
    finish(first.0).await;
    let row = WemResult {
        ip: "127.0.0.70".into(),
        name: "ENG-WS-01".into(),
        ..WemResult::default()
    };
    store
        .save_wem_results(first, std::slice::from_ref(&row))
        .await
        .unwrap();
    let second = store.start_wem_run(Timestamp::now(), 6).await.unwrap();
    finish(second.0).await;
    store.save_wem_results(second, &[]).await.unwrap();
    assert_eq!(store.wem_results().await.unwrap(), (None, vec![]));
    assert!(
        store.probe_log(first).await.unwrap().is_empty(),
        "older WEM logs dropped"
    );
    assert_eq!(store.probe_log(second).await.unwrap().len(), 1);
}
