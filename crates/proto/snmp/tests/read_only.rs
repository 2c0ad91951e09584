//! Holds the probe to its read-only request list: a scripted agent records every request of a
//! whole switch discovery (SNMPv1, v2c and v3), and each must be a GetRequest, GetNextRequest or
//! GetBulkRequest.

mod common;

use common::{Behavior, start, switch_mib};
use otsensor_core::probe::Unpaced;
use otsensor_core::{DeviceKey, Fact, LinkKind, OuiTable, Outcome, Probe, ProbeContext};
use otsensor_snmp::codec::{ALLOWED_REQUEST_TAGS, TAG_GET_BULK, TAG_GET_NEXT};
use otsensor_snmp::inventory::InventoryOptions;
use otsensor_snmp::walk::WalkOptions;
use otsensor_snmp::{Secret, Security, SnmpProbe, SnmpSettings, UsmUser, VendorChoice, Version};
use std::sync::Arc;
use std::time::Duration;

fn probe(security: Security) -> SnmpProbe {
    SnmpProbe::new(
        SnmpSettings {
            security,
            retries: 0,
            vendor: VendorChoice::Auto,
            walk: WalkOptions::default(),
            inventory: InventoryOptions::default(),
        },
        Arc::new(OuiTable::parse("00-1B-1B   (hex)\t\tSiemens AG\n")),
    )
}

fn ctx(port: u16) -> ProbeContext {
    ProbeContext {
        port,
        timeout: Duration::from_secs(2),
        depth: 0,
        pacer: Arc::new(Unpaced),
    }
}

async fn discover_and_check(security: Security, communities: &[&str]) -> Vec<common::Seen> {
    let agent = start(switch_mib(), Behavior::Normal, communities).await;
    let report = probe(security)
        .probe("127.0.0.1".parse().unwrap(), ctx(agent.addr.port()))
        .await;
    assert_eq!(report.outcome, Outcome::Identified, "{:?}", report.error);
    let obs = report.observation.unwrap();
    assert!(obs.facts.contains(&Fact::Name("cell-3-sw".into())));
    assert!(obs.facts.contains(&Fact::Serial("FOC1234X0AB".into())));
    assert!(obs.facts.contains(&Fact::Firmware("15.0(2)SE11".into())));
    // the PLC is known by its ARP address, on its access port Gi0/1
    let plc = obs
        .related
        .iter()
        .find(|r| r.key == DeviceKey::Ip("10.0.0.5".parse().unwrap()))
        .unwrap();
    assert!(plc.facts.contains(&Fact::MacVendor("Siemens AG".into())));
    assert!(obs.links.iter().any(|l| l.kind == LinkKind::Access
        && l.port.as_deref() == Some("Gi0/1")
        && l.remote == Some(DeviceKey::Ip("10.0.0.5".parse().unwrap()))));
    // the host behind the uplink Gi0/2 (an LLDP bridge is there) gets no access link
    assert!(
        !obs.links
            .iter()
            .any(|l| l.kind == LinkKind::Access && l.port.as_deref() == Some("Gi0/2"))
    );
    assert!(obs.links.iter().any(|l| l.kind == LinkKind::Lldp
        && l.remote == Some(DeviceKey::Ip("10.0.0.1".parse().unwrap()))));
    let seen = agent.seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    for s in &seen {
        assert!(
            ALLOWED_REQUEST_TAGS.contains(&s.request.tag),
            "request tag {:#04x} sent",
            s.request.tag
        );
    }
    seen
}

#[tokio::test]
async fn a_v2c_discovery_sends_only_get_and_getbulk_and_reads_vlans_by_community() {
    let seen = discover_and_check(
        Security::Community {
            version: Version::V2c,
            community: Secret::new("public"),
        },
        &["public", "public@20"],
    )
    .await;
    assert!(seen.iter().any(|s| s.request.tag == TAG_GET_BULK));
    assert!(!seen.iter().any(|s| s.request.tag == TAG_GET_NEXT));
    // Cisco's per-VLAN bridge: VLAN 20 through community@vlan (VLAN 1 is the plain community)
    assert!(seen.iter().any(|s| s.scope == "public@20"));
    assert!(!seen.iter().any(|s| s.scope == "public@1"));
}

#[tokio::test]
async fn a_v1_discovery_sends_only_get_and_getnext() {
    let seen = discover_and_check(
        Security::Community {
            version: Version::V1,
            community: Secret::new("public"),
        },
        &["public", "public@20"],
    )
    .await;
    assert!(seen.iter().all(|s| s.request.tag != TAG_GET_BULK));
    assert!(seen.iter().all(|s| s.version == Version::V1));
}

#[tokio::test]
async fn a_v3_discovery_reads_vlans_by_context() {
    let seen = discover_and_check(
        Security::Usm {
            user: UsmUser {
                name: "ops".into(),
                auth: None,
                privacy: None,
            },
            context: String::new(),
        },
        &[""],
    )
    .await;
    // engine discovery is an empty GetRequest
    assert!(seen[0].request.oids.is_empty());
    assert!(seen.iter().any(|s| s.scope == "vlan-20"));
}
