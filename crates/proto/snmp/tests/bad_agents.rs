//! The client and walks against misbehaving agents: non-increasing OIDs, endless walks,
//! tooBig, silence and garbage. Each ends, without panicking, with what it could read and a
//! note or error that says what happened.

mod common;

use common::{Behavior, start, switch_mib};
use otsensor_core::probe::Unpaced;
use otsensor_snmp::walk::{BulkSize, WalkOptions, walk_subtree};
use otsensor_snmp::{Client, ClientConfig, Oid, Secret, Security, Version};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

async fn client(addr: SocketAddr, version: Version) -> Client {
    Client::open(
        addr,
        ClientConfig {
            security: Security::Community {
                version,
                community: Secret::new("public"),
            },
            timeout: Duration::from_millis(300),
            retries: 1,
        },
        Arc::new(Unpaced),
    )
    .await
    .unwrap()
}

fn root() -> Oid {
    "1.3.6.1.2.1.2.2.1".parse().unwrap()
}

#[tokio::test]
async fn non_increasing_oids_stop_the_walk_with_a_note() {
    for version in [Version::V1, Version::V2c] {
        let agent = start(switch_mib(), Behavior::NonIncreasing, &["public"]).await;
        let mut c = client(agent.addr, version).await;
        let (rows, notes) = walk_subtree(
            &mut c,
            &mut BulkSize::default(),
            &root(),
            WalkOptions::default(),
        )
        .await
        .unwrap();
        assert!(rows.is_empty(), "{version}: {rows:?}");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("not increasing"), "{notes:?}");
        assert_eq!(c.stats().sent, 1, "{version}: one request, then stop");
    }
}

#[tokio::test]
async fn an_endless_walk_is_cut_at_the_row_limit() {
    let agent = start(switch_mib(), Behavior::Endless, &["public"]).await;
    let mut c = client(agent.addr, Version::V2c).await;
    let (rows, notes) = walk_subtree(
        &mut c,
        &mut BulkSize::default(),
        &root(),
        WalkOptions { max_rows: 500 },
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 500);
    assert!(notes[0].contains("stopped after 500 rows"), "{notes:?}");
}

#[tokio::test]
async fn toobig_shrinks_max_repetitions_until_the_answer_fits() {
    let agent = start(switch_mib(), Behavior::TooBigAbove(5), &["public"]).await;
    let mut c = client(agent.addr, Version::V2c).await;
    let mut bulk = BulkSize::default();
    let (rows, notes) = walk_subtree(&mut c, &mut bulk, &root(), WalkOptions::default())
        .await
        .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    // 2 interfaces x 7 ifEntry columns in the MIB
    assert_eq!(rows.len(), 14);
    assert!(bulk.varbinds() <= 5, "{}", bulk.varbinds());
    let _ = agent;
}

#[tokio::test]
async fn toobig_for_a_single_value_stops_the_walk_with_a_note() {
    let agent = start(switch_mib(), Behavior::TooBigAbove(0), &["public"]).await;
    let mut c = client(agent.addr, Version::V2c).await;
    let (rows, notes) = walk_subtree(
        &mut c,
        &mut BulkSize::default(),
        &root(),
        WalkOptions::default(),
    )
    .await
    .unwrap();
    assert!(rows.is_empty());
    assert!(
        notes[0].contains("tooBig even for a single value"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn a_silent_agent_times_out_after_the_retries() {
    let agent = start(switch_mib(), Behavior::Silent, &["public"]).await;
    let mut c = client(agent.addr, Version::V2c).await;
    let e = otsensor_snmp::discovery::read_system(&mut c)
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("2 attempts"), "{e}");
    assert_eq!(agent.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_closed_port_ends_the_request_at_once_without_retries() {
    // nothing listens on this loopback address's UDP 161: the kernel answers port unreachable
    let closed: SocketAddr = "127.4.16.1:161".parse().unwrap();
    let mut c = client(closed, Version::V2c).await;
    let e = otsensor_snmp::discovery::read_system(&mut c)
        .await
        .unwrap_err();
    assert!(e.is_port_unreachable(), "{e}");
    assert!(e.to_string().contains("UDP port unreachable"), "{e}");
    assert_eq!(
        c.stats().timeouts,
        0,
        "no attempt waited for its time limit"
    );
}

#[tokio::test]
async fn garbage_answers_are_skipped_and_end_in_a_timeout() {
    let agent = start(switch_mib(), Behavior::Garbage, &["public"]).await;
    let mut c = client(agent.addr, Version::V2c).await;
    let e = otsensor_snmp::discovery::read_system(&mut c)
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

#[tokio::test]
async fn v1_walks_end_at_nosuchname() {
    let agent = start(switch_mib(), Behavior::Normal, &["public"]).await;
    let mut c = client(agent.addr, Version::V1).await;
    // the last table of the MIB: GETNEXT past it answers noSuchName
    let vtp: Oid = "1.3.6.1.4.1.9.9.46.1.3.1.1.2".parse().unwrap();
    let (rows, notes) = walk_subtree(
        &mut c,
        &mut BulkSize::default(),
        &vtp,
        WalkOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(notes.is_empty(), "{notes:?}");
}

#[tokio::test]
async fn every_request_waits_on_the_pacer() {
    use otsensor_core::Pacer;
    use otsensor_core::probe::BoxFuture;
    use std::sync::atomic::{AtomicU64, Ordering};
    #[derive(Default)]
    struct Counting(AtomicU64);
    impl Pacer for Counting {
        fn ready(&self) -> BoxFuture<'_, ()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::ready(()))
        }
    }
    let agent = start(switch_mib(), Behavior::Silent, &["public"]).await;
    let pacer = Arc::new(Counting::default());
    let mut c = Client::open(
        agent.addr,
        ClientConfig {
            security: Security::Community {
                version: Version::V2c,
                community: Secret::new("public"),
            },
            timeout: Duration::from_millis(100),
            retries: 2,
        },
        pacer.clone(),
    )
    .await
    .unwrap();
    let _ = otsensor_snmp::discovery::read_system(&mut c).await;
    assert_eq!(pacer.0.load(Ordering::SeqCst), 3);
    assert_eq!(c.stats().sent, 3);
}
