//! DNS servers and lookup runs in a real SQLite file.

use jiff::Timestamp;
use otsensor_core::merge::RunMerge;
use otsensor_core::{
    DeviceKey, DnsServerInput, DnsServerSettings, Fact, NameLookup, NameResult, Observation,
    Outcome, Protocol,
};
use otsensor_store::{
    DnsServerId, NewScan, RdnsRunResult, RdnsSummary, RunId, RunResult, RunStatus, Store,
    StoreError,
};
use std::net::{IpAddr, SocketAddr};

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn settings(subnets: &[&str]) -> DnsServerSettings {
    DnsServerSettings::from_input(&DnsServerInput {
        address: "127.0.0.53:5300".into(),
        labels: Some(1.into()),
        subnets: subnets.iter().map(|s| s.to_string()).collect(),
        schedule: Some("02:30, 14:00".into()),
        ..Default::default()
    })
    .unwrap()
}

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    (dir, store)
}

/// Puts devices at `addresses` into the inventory, as a Modbus scan at time `at(0)` would.
async fn seed_devices(store: &Store, addresses: &[&str]) {
    let scan = store
        .create_scan(&NewScan {
            name: "seed".into(),
            kind: "plc".into(),
            protocol: Protocol::Modbus,
            targets: addresses.join(","),
            spec: serde_json::json!({}),
            created: at(0),
        })
        .await
        .unwrap();
    let run = store
        .start_run(scan, at(0), addresses.len() as u64)
        .await
        .unwrap();
    let mut merge = RunMerge::new(Default::default());
    for a in addresses {
        let mut obs = Observation::new(ip(a), Protocol::Modbus, at(0));
        obs.facts.push(Fact::Vendor("Wago".into()));
        merge.absorb(&obs);
    }
    let changes = merge.into_changes();
    store
        .finish_run(
            run,
            &RunResult {
                status: RunStatus::Completed,
                ended: at(1),
                changes: &changes,
                probe_log: &[],
                error: None,
            },
        )
        .await
        .unwrap();
}

fn found(address: &str, names: &[&str], when: Timestamp) -> NameLookup {
    NameLookup {
        address: ip(address),
        result: NameResult::Found(names.iter().map(|s| s.to_string()).collect()),
        looked_up: when,
        duration_ms: 3,
        detail: format!("{address} is {}", names.join(", ")),
    }
}

fn not_found(address: &str, result: NameResult, when: Timestamp) -> NameLookup {
    NameLookup {
        address: ip(address),
        result,
        looked_up: when,
        duration_ms: 700,
        detail: format!("{address}: no name"),
    }
}

/// One ad-hoc lookup run over `lookups`.
async fn lookup_run(
    store: &Store,
    subnets: &[&str],
    labels: u8,
    lookups: &[NameLookup],
    when: Timestamp,
) -> (RunId, RdnsSummary) {
    let scan = store
        .create_scan(&NewScan {
            name: "rdns".into(),
            kind: "rdns".into(),
            protocol: Protocol::Dns,
            targets: subnets.join(","),
            spec: serde_json::json!({}),
            created: when,
        })
        .await
        .unwrap();
    let run = store
        .start_run(scan, when, lookups.len() as u64)
        .await
        .unwrap();
    let nets: Vec<ipnet::IpNet> = subnets.iter().map(|s| s.parse().unwrap()).collect();
    let server: SocketAddr = "127.0.0.53:5300".parse().unwrap();
    let summary = store
        .finish_rdns_run(
            run,
            &RdnsRunResult {
                status: RunStatus::Completed,
                ended: when,
                server,
                server_id: None,
                labels,
                subnets: &nets,
                lookups,
                error: None,
            },
        )
        .await
        .unwrap();
    (run, summary)
}

async fn count_rows(store: &Store, table: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.path().display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn servers_are_created_read_updated_and_deleted_whole() {
    let (_dir, store) = open().await;
    let first = settings(&["10.20.0.0/16", "fd00:1::/64"]);
    let id = store.create_dns_server(&first, at(0)).await.unwrap();
    let read = store.dns_server(id).await.unwrap().unwrap();
    assert_eq!(read.settings, first);
    assert_eq!(read.created, at(0));
    let scan = store.scan(read.scan).await.unwrap().unwrap();
    assert_eq!(scan.kind, "rdns");
    assert_eq!(scan.targets, "10.20.0.0/16,fd00:1::/64");

    let mut second = settings(&["10.21.0.0/24"]);
    second.labels = 2;
    second.enabled = false;
    second.schedule = "every 6 hours".parse().unwrap();
    store.update_dns_server(id, &second, at(5)).await.unwrap();
    let read = store.dns_server(id).await.unwrap().unwrap();
    assert_eq!(read.settings, second);
    assert_eq!((read.created, read.updated), (at(0), at(5)));
    assert_eq!(
        store.scan(read.scan).await.unwrap().unwrap().targets,
        "10.21.0.0/24"
    );

    let other = store.create_dns_server(&first, at(6)).await.unwrap();
    let all: Vec<DnsServerId> = store
        .dns_servers()
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(all, [id, other]);

    store.delete_dns_server(id).await.unwrap();
    assert_eq!(store.dns_server(id).await.unwrap(), None);
    assert_eq!(
        count_rows(&store, "dns_server_subnets").await,
        2,
        "the other's two"
    );
    let err = store.delete_dns_server(id).await.unwrap_err();
    assert!(err.to_string().contains("there is no DNS server"), "{err}");
}

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field_and_nothing_is_saved() {
    let (_dir, store) = open().await;
    let mut bad = settings(&["10.20.0.0/16"]);
    bad.labels = 0;
    let err = store.create_dns_server(&bad, at(0)).await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }));
    assert!(err.to_string().contains("labels: 0"), "{err}");
    let mut bad = settings(&["10.20.0.0/16"]);
    bad.port = 0;
    let err = store.create_dns_server(&bad, at(0)).await.unwrap_err();
    assert!(err.to_string().contains("port: 0"), "{err}");
    let mut bad = settings(&["10.20.0.0/16"]);
    bad.subnets.clear();
    let err = store.create_dns_server(&bad, at(0)).await.unwrap_err();
    assert!(err.to_string().contains("subnets"), "{err}");
    for table in ["dns_servers", "dns_server_subnets", "scans"] {
        assert_eq!(count_rows(&store, table).await, 0, "{table}");
    }

    // an update that fails keeps the old settings whole
    let good = settings(&["10.20.0.0/16"]);
    let id = store.create_dns_server(&good, at(0)).await.unwrap();
    let mut bad = good.clone();
    bad.subnets.clear();
    assert!(store.update_dns_server(id, &bad, at(1)).await.is_err());
    assert_eq!(store.dns_server(id).await.unwrap().unwrap().settings, good);
    let err = store
        .update_dns_server(DnsServerId(99), &good, at(1))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("there is no DNS server 99"),
        "{err}"
    );
    assert_eq!(count_rows(&store, "dns_server_subnets").await, 1);
}

#[tokio::test]
async fn a_lookup_run_writes_names_into_devices_inside_the_subnets_with_history() {
    let (_dir, store) = open().await;
    seed_devices(
        &store,
        &["10.20.0.1", "10.20.0.2", "10.20.0.4", "10.21.0.5"],
    )
    .await;
    let lookups = [
        found("10.20.0.1", &["plc-1.line-2.ot.example"], at(100)),
        not_found("10.20.0.2", NameResult::Missing, at(100)),
        found("10.20.0.3", &["nobody.ot.example"], at(100)),
        not_found(
            "10.20.0.4",
            NameResult::Failed(Outcome::NoResponse),
            at(100),
        ),
        found("10.21.0.5", &["outside.ot.example"], at(100)),
    ];
    let (run, summary) = lookup_run(&store, &["10.20.0.0/16"], 2, &lookups, at(100)).await;
    assert_eq!(
        summary,
        RdnsSummary {
            looked_up: 5,
            found: 3,
            missing: 1,
            failed: 1,
            devices: 1,
            changed: 1
        }
    );
    let d = store
        .device(&DeviceKey::Ip(ip("10.20.0.1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.attributes.name.as_deref(), Some("plc-1.line-2"));
    assert_eq!(
        d.attributes.fqdn.as_deref(),
        Some("plc-1.line-2.ot.example")
    );
    assert_eq!(d.attributes.fqdn_looked_up, Some(at(100)));
    assert_eq!(
        d.last_seen,
        at(0),
        "a name lookup does not make the device seen"
    );
    assert!(d.attributes.protocols.iter().all(|p| *p != Protocol::Dns));
    let history = store.history(&d.key).await.unwrap();
    let dns: Vec<(&str, Option<&str>, &str)> = history
        .iter()
        .filter(|h| h.source == Protocol::Dns)
        .map(|h| (h.attribute.as_str(), h.old.as_deref(), h.new.as_str()))
        .collect();
    assert_eq!(
        dns,
        [
            ("name", None, "plc-1.line-2"),
            ("fqdn", None, "plc-1.line-2.ot.example")
        ]
    );
    assert!(
        history
            .iter()
            .filter(|h| h.source == Protocol::Dns)
            .all(|h| h.run == run)
    );
    // outside the subnets, or not in the inventory: untouched, not created
    let outside = store
        .device(&DeviceKey::Ip(ip("10.21.0.5")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outside.attributes.fqdn, None);
    assert_eq!(
        store.device(&DeviceKey::Ip(ip("10.20.0.3"))).await.unwrap(),
        None
    );

    // the run, its counts and its probe log
    let r = store.run(run).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(
        (
            r.summary.probed,
            r.summary.identified,
            r.summary.updated_devices
        ),
        (5, 3, 1)
    );
    let rd = store.rdns_run(run).await.unwrap().unwrap();
    assert_eq!(rd.summary, summary);
    assert_eq!(rd.server, "127.0.0.53:5300");
    let log = store.probe_log(run).await.unwrap();
    let outcomes: Vec<Outcome> = log.iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Identified,
            Outcome::Error,
            Outcome::Identified,
            Outcome::NoResponse,
            Outcome::Identified
        ]
    );
    assert_eq!(log[1].error.as_deref(), Some("10.20.0.2: no name"));
    assert!(log.iter().all(|e| e.protocol == Protocol::Dns));
}

#[tokio::test]
async fn a_second_run_counts_changes_and_refreshes_the_lookup_time() {
    let (_dir, store) = open().await;
    seed_devices(&store, &["10.20.0.1", "10.20.0.2"]).await;
    let names = |t| {
        [
            found("10.20.0.1", &["plc-1.ot.example"], t),
            found("10.20.0.2", &["plc-2.ot.example"], t),
        ]
    };
    let (_, first) = lookup_run(&store, &["10.20.0.0/24"], 1, &names(at(100)), at(100)).await;
    assert_eq!((first.devices, first.changed), (2, 2));
    let (_, same) = lookup_run(&store, &["10.20.0.0/24"], 1, &names(at(200)), at(200)).await;
    assert_eq!((same.devices, same.changed), (2, 0));
    let d = store
        .device(&DeviceKey::Ip(ip("10.20.0.1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.attributes.fqdn_looked_up,
        Some(at(200)),
        "refreshed silently"
    );
    let renamed = [found("10.20.0.1", &["hmi-1.ot.example"], at(300))];
    let (run, third) = lookup_run(&store, &["10.20.0.0/24"], 1, &renamed, at(300)).await;
    assert_eq!((third.found, third.devices, third.changed), (1, 1, 1));
    let history = store.history(&d.key).await.unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (
            last.run,
            last.attribute.as_str(),
            last.old.as_deref(),
            last.new.as_str()
        ),
        (run, "fqdn", Some("plc-1.ot.example"), "hmi-1.ot.example")
    );
    let runs = store.rdns_runs(None).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].run, run, "newest first");
}

#[tokio::test]
async fn a_refused_lookup_run_saves_nothing() {
    let (_dir, store) = open().await;
    seed_devices(&store, &["10.20.0.1"]).await;
    let (run, _) = lookup_run(&store, &["10.20.0.0/24"], 1, &[], at(10)).await;
    // finishing it again: refused, nothing written
    let lookups = [found("10.20.0.1", &["x.example"], at(20))];
    let nets = ["10.20.0.0/24".parse().unwrap()];
    let result = RdnsRunResult {
        status: RunStatus::Completed,
        ended: at(20),
        server: "127.0.0.53:5300".parse().unwrap(),
        server_id: None,
        labels: 1,
        subnets: &nets,
        lookups: &lookups,
        error: None,
    };
    let err = store.finish_rdns_run(run, &result).await.unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
    let d = store
        .device(&DeviceKey::Ip(ip("10.20.0.1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.attributes.fqdn, None);
    assert_eq!(count_rows(&store, "rdns_runs").await, 1);
}

#[tokio::test]
async fn runs_of_a_server_are_listed_and_outlive_it() {
    let (_dir, store) = open().await;
    let s = settings(&["10.20.0.0/24"]);
    let id = store.create_dns_server(&s, at(0)).await.unwrap();
    let server = store.dns_server(id).await.unwrap().unwrap();
    let run = store.start_run(server.scan, at(1), 1).await.unwrap();
    assert!(
        store.start_run(server.scan, at(1), 1).await.is_err(),
        "one run per server"
    );
    let lookups = [not_found("10.20.0.9", NameResult::Missing, at(2))];
    store
        .finish_rdns_run(
            run,
            &RdnsRunResult {
                status: RunStatus::Completed,
                ended: at(2),
                server: s.server(),
                server_id: Some(id),
                labels: s.labels,
                subnets: &s.subnets,
                lookups: &lookups,
                error: None,
            },
        )
        .await
        .unwrap();
    let runs = store.rdns_runs(Some(id)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].started, runs[0].summary.missing), (at(1), 1));
    store.delete_dns_server(id).await.unwrap();
    let left = store.rdns_run(run).await.unwrap().unwrap();
    assert_eq!(left.server_id, None);
    assert_eq!(store.rdns_runs(Some(id)).await.unwrap().len(), 0);
}

#[tokio::test]
async fn device_addresses_inside_subnets_are_listed() {
    let (_dir, store) = open().await;
    seed_devices(
        &store,
        &["10.20.0.9", "10.20.0.1", "10.21.0.1", "127.0.0.10"],
    )
    .await;
    let nets = [
        "10.20.0.0/24".parse().unwrap(),
        "127.0.0.0/8".parse().unwrap(),
    ];
    let addrs = store.device_addresses_in(&nets).await.unwrap();
    assert_eq!(addrs, [ip("10.20.0.1"), ip("10.20.0.9"), ip("127.0.0.10")]);
}
