//! Links, MAC lookups and sealed SNMP credentials against real SQLite files.

use jiff::Timestamp;
use otsensor_core::merge::{RunMerge, observation_keys};
use otsensor_core::{
    DeviceKey, Fact, Link, LinkKind, MacAddr, Observation, Outcome, ProbeLogEntry, Protocol,
    RelatedObservation, Secret, SnmpCredentials,
};
use otsensor_store::{KEY_FILE, NewScan, RunResult, RunStatus, Store};
use std::net::IpAddr;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

const SWITCH: &str = "127.0.0.51";

fn switch_observation(time: Timestamp, plc_port: &str) -> Observation {
    let switch: IpAddr = SWITCH.parse().unwrap();
    let mut obs = Observation::new(switch, Protocol::Snmp, time);
    obs.facts.push(Fact::Name("sw-1".into()));
    let plc = DeviceKey::Mac(mac("00:1b:1b:00:00:01"));
    obs.related.push(RelatedObservation {
        key: plc.clone(),
        facts: vec![Fact::Mac(mac("00:1b:1b:00:00:01"))],
    });
    obs.links.push(Link {
        device: DeviceKey::Ip(switch),
        port: Some(plc_port.into()),
        if_index: Some(3),
        remote: Some(plc),
        remote_name: None,
        remote_port: None,
        kind: LinkKind::Access,
        vlan: Some(10),
    });
    obs.links.push(Link {
        device: DeviceKey::Ip(switch),
        port: Some("24".into()),
        if_index: Some(24),
        remote: None,
        remote_name: Some("core-1".into()),
        remote_port: Some("Eth1/19".into()),
        kind: LinkKind::Lldp,
        vlan: None,
    });
    obs
}

async fn run(store: &Store, time: Timestamp, obs: &Observation) {
    let scan = store
        .create_scan(&NewScan {
            name: "scan switch".into(),
            kind: "switch".into(),
            protocol: Protocol::Snmp,
            targets: SWITCH.into(),
            spec: serde_json::json!({}),
            created: time,
        })
        .await
        .unwrap();
    let run = store.start_run(scan, time, 1).await.unwrap();
    let current = store.devices_by_keys(&observation_keys(obs)).await.unwrap();
    let mut merge = RunMerge::new(current);
    merge.absorb(obs);
    let changes = merge.into_changes();
    let log = [ProbeLogEntry {
        address: SWITCH.parse().unwrap(),
        protocol: Protocol::Snmp,
        outcome: Outcome::Identified,
        error: None,
        started: time,
        duration_ms: 10,
    }];
    store
        .finish_run_with_links(
            run,
            &RunResult {
                status: RunStatus::Completed,
                ended: time,
                changes: &changes,
                probe_log: &log,
                error: None,
            },
            &obs.links,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn links_are_saved_and_links_no_longer_reported_turn_inactive() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    run(&store, at(0), &switch_observation(at(0), "3")).await;
    let links = store.links(false).await.unwrap();
    assert_eq!(links.len(), 2);
    let access = links
        .iter()
        .find(|l| l.link.kind == LinkKind::Access)
        .unwrap();
    assert_eq!(
        access.link.remote,
        Some(DeviceKey::Mac(mac("00:1b:1b:00:00:01")))
    );
    assert_eq!(access.link.vlan, Some(10));
    let lldp = links
        .iter()
        .find(|l| l.link.kind == LinkKind::Lldp)
        .unwrap();
    assert_eq!(lldp.link.remote, None);
    assert_eq!(lldp.link.remote_name.as_deref(), Some("core-1"));

    // the PLC moved to port 5: the old access link is kept, inactive
    run(&store, at(60), &switch_observation(at(60), "5")).await;
    let active = store.links(false).await.unwrap();
    assert_eq!(active.len(), 2);
    assert!(active.iter().any(|l| l.link.port.as_deref() == Some("5")));
    let all = store.links(true).await.unwrap();
    assert_eq!(all.len(), 3);
    let old = all
        .iter()
        .find(|l| l.link.port.as_deref() == Some("3"))
        .unwrap();
    assert!(!old.active);
    let lldp = all.iter().find(|l| l.link.kind == LinkKind::Lldp).unwrap();
    assert_eq!((lldp.first_seen, lldp.last_seen), (at(0), at(60)));
}

#[tokio::test]
async fn devices_known_by_address_are_found_by_their_mac() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut obs = switch_observation(at(0), "3");
    obs.related.push(RelatedObservation {
        key: DeviceKey::Ip("10.0.0.7".parse().unwrap()),
        facts: vec![Fact::Mac(mac("00:1b:1b:00:00:07"))],
    });
    run(&store, at(0), &obs).await;
    let found = store
        .device_keys_by_macs(&[mac("00:1b:1b:00:00:07"), mac("00:1b:1b:00:00:01")])
        .await
        .unwrap();
    // the MAC-only device is not "known by address"
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[&mac("00:1b:1b:00:00:07")],
        DeviceKey::Ip("10.0.0.7".parse().unwrap())
    );
}

#[tokio::test]
async fn credentials_are_sealed_in_the_database_and_open_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let creds = SnmpCredentials::User {
        user: "opsv3".into(),
        auth: Some(("SHA".into(), Secret::new("authpass-SECRET-1"))),
        privacy: Some(("AES".into(), Secret::new("privpass-SECRET-2"))),
        context: String::new(),
    };
    store
        .save_snmp_credentials("plant-switches", &creds)
        .await
        .unwrap();
    assert_eq!(
        store.snmp_credentials("plant-switches").await.unwrap(),
        Some(creds)
    );
    assert_eq!(store.snmp_credentials("other").await.unwrap(), None);
    let summaries = store.snmp_credential_summaries().await.unwrap();
    assert_eq!(summaries[0].summary, "v3 user opsv3 (SHA/AES)");

    // the key file is private, and no secret is in any file of the data directory
    let key = dir.path().join(KEY_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        // SQLite may remove its -wal/-shm files between the listing and the read
        let bytes = match std::fs::read(entry.unwrap().path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading the data directory: {e}"),
        };
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("SECRET"), "a secret is stored in clear");
    }

    // with another key the sealed value does not open, and says so without the secret
    std::fs::remove_file(&key).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let err = store
        .snmp_credentials("plant-switches")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not decrypt"), "{err}");
    assert!(!err.contains("SECRET"));
}
