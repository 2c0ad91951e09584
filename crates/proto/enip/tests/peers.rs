//! The client against the testbed's EtherNet/IP peers: cpppo 5.2.5 (one device) and the scripted
//! 1756 chassis, over TCP and UDP.
//!
//! Every expected value is read from testbed/config.sh, which the peers were started with.

use otsensor_core::probe::Unpaced;
use otsensor_enip::codec::{Hop, PortAttribute};
use otsensor_enip::{Client, ClientError, Identity, ListIdentity, Route, list_identity_udp};
use otsensor_testkit::{addr, require_tcp_peer, var};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(3);

async fn connect(ip_var: &str, port_var: &str, peer: &str) -> Client {
    let target = addr(ip_var, port_var);
    require_tcp_peer(target, peer);
    Client::connect(target, LIMIT, Arc::new(Unpaced))
        .await
        .unwrap()
}

fn num(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

/// A module of config.sh: "VENDOR|DEVTYPE|PRODCODE|MAJOR.MINOR|SERIAL|STATUS|PRODUCT NAME".
struct Module {
    vendor: u16,
    device_type: u16,
    product_code: u16,
    revision: String,
    serial: u32,
    status: u16,
    name: String,
}

fn module(var_name: &str) -> Module {
    let spec = var(var_name);
    let f: Vec<&str> = spec.splitn(7, '|').collect();
    assert_eq!(f.len(), 7, "{var_name}: {spec}");
    Module {
        vendor: num(f[0]) as u16,
        device_type: num(f[1]) as u16,
        product_code: num(f[2]) as u16,
        revision: f[3].to_string(),
        serial: num(f[4]) as u32,
        status: num(f[5]) as u16,
        name: f[6].to_string(),
    }
}

fn assert_module(id: &Identity, want: &Module, what: &str) {
    assert_eq!(id.vendor_id, want.vendor, "{what} vendor");
    assert_eq!(id.device_type, want.device_type, "{what} device type");
    assert_eq!(id.product_code, want.product_code, "{what} product code");
    assert_eq!(id.revision.to_string(), want.revision, "{what} revision");
    assert_eq!(id.serial, want.serial, "{what} serial");
    assert_eq!(id.status, want.status, "{what} status");
    assert_eq!(id.product_name, want.name, "{what} product name");
}

fn assert_cpppo_identity(li: &ListIdentity) {
    let id = &li.identity;
    assert_eq!(id.vendor_id.to_string(), var("ENIP_VENDOR"));
    assert_eq!(id.device_type.to_string(), var("ENIP_DEVTYPE"));
    assert_eq!(id.product_code.to_string(), var("ENIP_PRODCODE"));
    assert_eq!(id.revision.major.to_string(), var("ENIP_REV_MAJOR"));
    assert_eq!(id.revision.minor.to_string(), var("ENIP_REV_MINOR"));
    assert_eq!(id.serial.to_string(), var("ENIP_SERIAL"));
    assert_eq!(
        id.serial_hex(),
        format!("{:#010x}", num(&var("ENIP_SERIAL")))
    );
    assert_eq!(id.product_name, var("ENIP_PRODNAME"));
    assert_eq!(id.status.to_string(), var("ENIP_STATUS"));
    assert_eq!(id.state.map(|s| s.to_string()), Some(var("ENIP_STATE")));
    assert_eq!(li.socket.ip().to_string(), var("ENIP_IP"));
    assert_eq!(li.socket.port().to_string(), var("ENIP_PORT"));
    assert_eq!(li.protocol_version, 1);
}

#[tokio::test]
async fn cpppo_gives_every_list_identity_field_over_tcp() {
    let mut client = connect("ENIP_IP", "ENIP_PORT", "enip").await;
    let li = client.list_identity().await.unwrap();
    assert_cpppo_identity(&li);
    client.close().await;
}

#[tokio::test]
async fn cpppo_gives_every_list_identity_field_over_udp() {
    let target = addr("ENIP_IP", "ENIP_PORT");
    require_tcp_peer(target, "enip");
    let li = list_identity_udp(target, LIMIT, Arc::new(Unpaced))
        .await
        .unwrap();
    assert_cpppo_identity(&li);
}

#[tokio::test]
async fn cpppo_answers_its_identity_object_directly_and_on_every_route() {
    let mut client = connect("ENIP_IP", "ENIP_PORT", "enip").await;
    let own = client.list_identity().await.unwrap().identity;
    let direct = client.read_identity(&Route::local()).await.unwrap();
    assert_ne!(client.session(), 0, "a session was registered");
    let routed = client.read_identity(&Route::slot(5)).await.unwrap();
    // cpppo ignores the route path: every slot is the device itself
    for id in [direct, routed] {
        assert_eq!(
            (id.vendor_id, id.product_code, id.serial, &id.product_name),
            (
                own.vendor_id,
                own.product_code,
                own.serial,
                &own.product_name
            )
        );
    }
    client.close().await;
}

fn chassis_self() -> Module {
    module(&format!("ENIPCH_SLOT{}", var("ENIPCH_SELF_SLOT")))
}

fn assert_chassis_list_identity(li: &ListIdentity) {
    assert_module(&li.identity, &chassis_self(), "list identity");
    assert_eq!(
        li.identity.state.map(|s| s.to_string()),
        Some(var("ENIPCH_STATE"))
    );
    let want: SocketAddr = addr("ENIPCH_IP", "ENIPCH_PORT");
    assert_eq!(SocketAddr::V4(li.socket), want);
}

#[tokio::test]
async fn the_chassis_gives_every_list_identity_field_over_tcp_and_udp() {
    let mut client = connect("ENIPCH_IP", "ENIPCH_PORT", "enip-chassis").await;
    assert_chassis_list_identity(&client.list_identity().await.unwrap());
    client.close().await;
    let udp = list_identity_udp(addr("ENIPCH_IP", "ENIPCH_PORT"), LIMIT, Arc::new(Unpaced))
        .await
        .unwrap();
    assert_chassis_list_identity(&udp);
}

#[tokio::test]
async fn every_chassis_slot_is_a_configured_module_or_a_routing_error() {
    let mut client = connect("ENIPCH_IP", "ENIPCH_PORT", "enip-chassis").await;
    let slots: Vec<u8> = var("ENIPCH_SLOTS")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let error_slot: u8 = var("ENIPCH_ERROR_SLOT").parse().unwrap();
    for slot in 0..=16u8 {
        let got = client.read_identity(&Route::slot(slot)).await;
        if slots.contains(&slot) {
            let id = got.unwrap_or_else(|e| panic!("slot {slot}: {e}"));
            assert_module(
                &id,
                &module(&format!("ENIPCH_SLOT{slot}")),
                &format!("slot {slot}"),
            );
        } else if slot == error_slot {
            match got {
                Err(ClientError::Cip {
                    at_router: false,
                    status,
                    ..
                }) => assert_eq!(u64::from(status.general), num(&var("ENIPCH_ERROR_STATUS"))),
                other => panic!("slot {slot}: {other:?}"),
            }
        } else {
            let err = got.unwrap_err();
            assert!(
                matches!(&err, ClientError::Cip { at_router: true, status, .. } if status.general == 1 && status.extended == [0x0312]),
                "slot {slot}: {err}"
            );
            assert!(
                err.to_string().contains(
                    "the route failed at a router with CIP status 0x01 (connection failure), extended 0x0312 (link address not valid)"
                ),
                "{err}"
            );
        }
    }
    client.close().await;
}

#[tokio::test]
async fn a_communications_module_lists_its_ports_and_routes_to_its_nodes() {
    let mut client = connect("ENIPCH_IP", "ENIPCH_PORT", "enip-chassis").await;
    let slot = 4u8;
    let ports = var("ENIPCH_SLOT4_PORTS");
    for (instance, spec) in ports.split_whitespace().enumerate() {
        let (number, kind) = spec.split_once(':').unwrap();
        let instance = instance as u8 + 1;
        let route = Route::slot(slot);
        let got_kind = client
            .read_port_attribute(&route, instance, PortAttribute::Type)
            .await
            .unwrap();
        let got_number = client
            .read_port_attribute(&route, instance, PortAttribute::Number)
            .await
            .unwrap();
        assert_eq!(
            (got_number.to_string(), got_kind.to_string()),
            (number.into(), kind.into())
        );
    }
    let beyond = client
        .read_port_attribute(&Route::slot(slot), 3, PortAttribute::Type)
        .await
        .unwrap_err();
    assert!(
        beyond.to_string().contains("0x16 (object does not exist)"),
        "{beyond}"
    );
    for node in var("ENIPCH_SLOT4_PORT2_NODES").split_whitespace() {
        let n: u8 = node.parse().unwrap();
        let route = Route(vec![
            Hop {
                port: 1,
                link: slot,
            },
            Hop { port: 2, link: n },
        ]);
        let id = client.read_identity(&route).await.unwrap();
        assert_module(
            &id,
            &module(&format!("ENIPCH_SLOT4_PORT2_NODE{node}")),
            &format!("node {node}"),
        );
    }
    let absent = client
        .read_identity(&Route::slot(slot).then(2, 63))
        .await
        .unwrap_err();
    assert!(
        absent
            .to_string()
            .contains("extended 0x0204 (unconnected request timed out)"),
        "{absent}"
    );
    client.close().await;
}

#[tokio::test]
async fn a_read_without_a_session_registers_one_first() {
    let mut client = connect("ENIPCH_IP", "ENIPCH_PORT", "enip-chassis").await;
    assert_eq!(client.session(), 0);
    let own = client.read_identity(&Route::local()).await.unwrap();
    assert_module(&own, &chassis_self(), "unrouted");
    assert_ne!(client.session(), 0);
    client.close().await;
}
