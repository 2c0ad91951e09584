//! `otsensor scan plc --protocol bacnet` end to end against the testbed's bacpypes3 peers (a device
//! and a router with devices behind it), and against silent, garbage and closed UDP ports that the
//! test itself opens on 127.0.0.1.
//!
//! Expected values come from testbed/config.sh, which the peers were started with.

mod common;

use common::{field, json_lines, otsensor, stderr};
use otsensor_bacnet::Request;
use otsensor_testkit::{addr, var};
use serde_json::{Value, json};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn scan(data: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["scan", "plc", "--protocol", "bacnet", "--format", "json"];
    args.extend_from_slice(extra);
    otsensor(data, &args)
}

/// A numeric field, as text (to compare with testbed/config.sh).
fn number(device: &Value, key: &str) -> String {
    device[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {device}"))
        .to_string()
}

/// Fails the test clearly when the peer does not answer a Who-Is on its UDP port.
fn require_udp_peer(target: SocketAddr, peer: &str) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket
        .send_to(&Request::WhoIs.frame(None, 0), target)
        .unwrap();
    let mut buf = [0u8; 1500];
    if socket.recv_from(&mut buf).is_err() {
        panic!(
            "testbed peer '{peer}' does not answer on udp/{target}: run `testbed/setup.sh && testbed/start.sh {peer}` (scripts/test.sh does it)"
        );
    }
}

fn require_bacnet_peers() {
    require_udp_peer(addr("BACNET_IP", "BACNET_PORT"), "bacnet");
    require_udp_peer(
        addr("BACNET_ROUTER_IP", "BACNET_ROUTER_PORT"),
        "bacnet-router",
    );
}

/// Asserts the configured identity (`<prefix>_NAME`, ...) field by field.
fn assert_identity(d: &Value, prefix: &str) {
    let want = |s: &str| var(&format!("{prefix}_{s}"));
    assert_eq!(field(d, "name"), want("NAME"));
    assert_eq!(field(d, "vendor"), want("VENDOR_NAME"));
    assert_eq!(field(d, "model"), want("MODEL"));
    assert_eq!(field(d, "firmware"), want("FIRMWARE"));
    assert_eq!(field(d, "software_version"), want("APPVER"));
    assert_eq!(field(d, "location"), want("LOCATION"));
    assert_eq!(field(d, "description"), want("DESCRIPTION"));
    assert_eq!(field(d, "type"), "building_controller");
    assert_eq!(d["protocols"], json!(["bacnet"]));
    assert_eq!(number(d, "vendor_id"), want("VENDOR_ID"));
    assert_eq!(number(d, "bacnet_instance"), want("INSTANCE"));
    for key in ["mac", "fqdn", "serial", "plc_mode", "product_code", "os"] {
        assert_eq!(d[key], Value::Null, "{key}");
    }
}

#[test]
fn the_device_and_the_router_come_back_with_every_configured_field() {
    require_bacnet_peers();
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{},{}", var("BACNET_IP"), var("BACNET_ROUTER_IP"));
    let out = scan(data.path(), &[&targets]);
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 2, "{devices:?}");
    for prefix in ["BACNET", "BACNET_ROUTER"] {
        let d = devices
            .iter()
            .find(|d| d["ip"] == var(&format!("{prefix}_IP")).as_str())
            .unwrap_or_else(|| panic!("{prefix} not found"));
        assert_identity(d, prefix);
        assert_eq!(d["parent"], Value::Null);
        assert_eq!(d["modules"], json!([]), "depth 0 looks behind nothing");
    }
    let err = stderr(&out);
    assert!(err.contains("2 identified"), "{err}");
    assert!(err.contains("2 new, 0 updated"), "{err}");
}

#[test]
fn at_depth_1_the_devices_behind_the_router_are_its_sub_devices() {
    require_bacnet_peers();
    let data = tempfile::tempdir().unwrap();
    let router = var("BACNET_ROUTER_IP");
    let out = scan(data.path(), &["--depth", "1", &router]);
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    let routed: Vec<String> = var("BACNET_ROUTED")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(devices.len(), 1 + routed.len(), "{devices:?}");
    let parent = devices.iter().find(|d| d["parent"].is_null()).unwrap();
    assert_identity(parent, "BACNET_ROUTER");
    assert_eq!(parent["modules"].as_array().unwrap().len(), routed.len());
    for instance in routed {
        let f: Vec<String> = var(&format!("BACNET_ROUTED_{instance}"))
            .split('|')
            .map(String::from)
            .collect();
        let position = format!("net:{}/{:02x}", f[0], f[1].parse::<u8>().unwrap());
        let d = devices
            .iter()
            .find(|d| d["position"] == position.as_str())
            .unwrap_or_else(|| panic!("{position} missing in {devices:?}"));
        assert_eq!(field(d, "parent"), router);
        assert_eq!(field(d, "ip"), router);
        assert_eq!(field(d, "name"), f[2]);
        assert_eq!(field(d, "vendor"), f[4]);
        assert_eq!(field(d, "model"), f[5]);
        assert_eq!(field(d, "firmware"), f[6]);
        assert_eq!(field(d, "software_version"), f[7]);
        assert_eq!(field(d, "location"), f[8]);
        assert_eq!(field(d, "description"), f[9]);
        assert_eq!(field(d, "type"), "building_controller");
        assert_eq!(d["protocols"], json!(["bacnet"]));
        assert_eq!(number(d, "vendor_id"), f[3]);
        assert_eq!(number(d, "bacnet_instance"), instance);
    }
    let err = stderr(&out);
    assert!(err.contains("1 identified"), "{err}");
    assert!(err.contains("4 new, 0 updated"), "{err}");
}

/// The probe log entry of the latest run.
fn last_log_entry(data: &Path) -> Value {
    let log = otsensor(data, &["log", "--format", "json"]);
    let entries = json_lines(&log);
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[test]
fn silent_garbage_and_closed_ports_are_each_reported_clearly() {
    let data = tempfile::tempdir().unwrap();
    // silent: a socket that reads nothing and answers nothing
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    // garbage: a socket that answers every datagram with text
    let garbage = UdpSocket::bind("127.0.0.1:0").unwrap();
    let responder = garbage.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((_, from)) = responder.recv_from(&mut buf) {
            let _ = responder.send_to(b"SSH-2.0-OpenSSH_9.2\r\n", from);
        }
    });
    // closed: a port nothing listens on
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases = [
        (
            silent.local_addr().unwrap().port(),
            "no_response",
            "Who-Is: no answer within 0.3 s (2 attempts)",
        ),
        (
            garbage.local_addr().unwrap().port(),
            "error",
            "Who-Is: bad reply: BVLC type 0x53 is not BACnet/IP (0x81)",
        ),
        (closed, "refused", "port unreachable"),
    ];
    for (port, outcome, text) in cases {
        let port = port.to_string();
        let out = scan(
            data.path(),
            &["--timeout", "0.3", "--port", &port, "127.0.0.1"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(json_lines(&out).is_empty(), "{port}: no device");
        let entry = last_log_entry(data.path());
        assert_eq!(entry["outcome"], outcome, "{entry}");
        assert_eq!(entry["protocol"], "bacnet");
        assert!(field(&entry, "error").contains(text), "{entry}");
    }
}
