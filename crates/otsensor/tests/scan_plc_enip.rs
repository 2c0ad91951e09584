//! `otsensor scan plc --protocol enip` end to end against the testbed's EtherNet/IP peers (cpppo,
//! the scripted 1756 chassis, the misbehaving peers), and cross-checked with nmap's enip-info.
//!
//! Expected values come from testbed/config.sh, which the peers were started with.

mod common;

use common::{field, json_lines, otsensor, stderr};
use otsensor_testkit::{addr, require_tcp_peer, var};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn scan(data: &Path, extra: &[&str], targets: &str) -> Output {
    let mut args = vec!["scan", "plc", "--protocol", "enip", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(targets);
    otsensor(data, &args)
}

fn num(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

fn require_peers() {
    require_tcp_peer(addr("ENIP_IP", "ENIP_PORT"), "enip");
    require_tcp_peer(addr("ENIPCH_IP", "ENIPCH_PORT"), "enip-chassis");
}

fn find<'a>(devices: &'a [Value], ip: &str, position: Option<&str>) -> &'a Value {
    devices
        .iter()
        .find(|d| d["ip"] == ip && d["position"].as_str() == position)
        .unwrap_or_else(|| panic!("{ip} {position:?} not found in {devices:?}"))
}

/// Checks a device or module against a config.sh module spec
/// "VENDOR|DEVTYPE|PRODCODE|MAJOR.MINOR|SERIAL|STATUS|PRODUCT NAME".
fn assert_spec(d: &Value, spec: &str, kind: &str, type_name: &str) {
    let f: Vec<&str> = spec.splitn(7, '|').collect();
    assert_eq!(d["vendor_id"], json!(num(f[0])), "{d}");
    assert_eq!(field(d, "vendor"), "Rockwell Automation/Allen-Bradley");
    assert_eq!(field(d, "type"), kind);
    assert_eq!(field(d, "type_name"), type_name);
    assert_eq!(field(d, "product_code"), num(f[2]).to_string());
    assert_eq!(field(d, "firmware"), f[3]);
    assert_eq!(field(d, "serial"), format!("{:#010x}", num(f[4])));
    assert!(
        field(d, "status").starts_with(&format!("status {:#06x} (", num(f[5]))),
        "{d}"
    );
    assert_eq!(field(d, "product_name"), f[6]);
    assert_eq!(field(d, "model"), f[6]);
    assert_eq!(d["protocols"], json!(["enip"]));
}

#[test]
fn cpppo_and_the_chassis_come_back_with_every_configured_field() {
    require_peers();
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{},{}", var("ENIP_IP"), var("ENIPCH_IP"));
    let out = scan(data.path(), &[], &targets);
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 2, "{devices:?}");

    let plc = find(&devices, &var("ENIP_IP"), None);
    let spec = format!(
        "{}|{}|{}|{}.{}|{}|{}|{}",
        var("ENIP_VENDOR"),
        var("ENIP_DEVTYPE"),
        var("ENIP_PRODCODE"),
        var("ENIP_REV_MAJOR"),
        var("ENIP_REV_MINOR"),
        var("ENIP_SERIAL"),
        var("ENIP_STATUS"),
        var("ENIP_PRODNAME")
    );
    assert_spec(plc, &spec, "plc", "Programmable Logic Controller (14)");
    assert_eq!(
        field(plc, "status"),
        "status 0x3060 (at least one I/O connection in run mode), state 0x03 (operational)"
    );
    assert_eq!(field(plc, "plc_mode"), "run");
    assert_eq!(field(plc, "reported_ip"), var("ENIP_IP"));

    let bridge = find(&devices, &var("ENIPCH_IP"), None);
    let me = var(&format!("ENIPCH_SLOT{}", var("ENIPCH_SELF_SLOT")));
    assert_spec(
        bridge,
        &me,
        "communication_adapter",
        "Communications Adapter (12)",
    );
    assert!(field(bridge, "status").ends_with(&format!(
        ", state {:#04x} (operational)",
        num(&var("ENIPCH_STATE"))
    )));
    assert_eq!(bridge["plc_mode"], Value::Null);
    assert_eq!(field(bridge, "reported_ip"), var("ENIPCH_IP"));

    for d in &devices {
        assert_eq!(d["parent"], Value::Null);
        assert_eq!(d["modules"], json!([]));
        for key in [
            "mac",
            "name",
            "fqdn",
            "os",
            "domain",
            "vendor_url",
            "application",
        ] {
            assert_eq!(d[key], Value::Null, "{key}");
        }
    }
    assert!(stderr(&out).contains("2 identified"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 new, 0 updated"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_chassis_has_its_modules_at_depth_1_and_the_devicenet_nodes_at_depth_2() {
    require_peers();
    let data = tempfile::tempdir().unwrap();
    let ip = var("ENIPCH_IP");
    let slots: Vec<String> = var("ENIPCH_SLOTS")
        .split_whitespace()
        .map(String::from)
        .collect();
    let kinds = |devtype: &str| match devtype {
        "14" => ("plc", "Programmable Logic Controller (14)"),
        "12" => ("communication_adapter", "Communications Adapter (12)"),
        "7" => ("io_module", "General Purpose Discrete I/O (7)"),
        "2" => ("drive", "AC Drive (2)"),
        other => panic!("no expectation for device type {other}"),
    };

    let shallow = scan(
        data.path(),
        &["--depth", "1", "--per-device-rate", "0"],
        &ip,
    );
    assert!(shallow.status.success(), "{}", stderr(&shallow));
    let devices = json_lines(&shallow);
    assert_eq!(devices.len(), 1 + slots.len(), "{devices:?}");
    let bridge = find(&devices, &ip, None);
    let modules = bridge["modules"].as_array().unwrap();
    let module_slots: Vec<String> = modules.iter().map(|m| m["slot"].to_string()).collect();
    assert_eq!(module_slots, slots);
    for slot in &slots {
        let spec = var(&format!("ENIPCH_SLOT{slot}"));
        let d = find(&devices, &ip, Some(&format!("slot:{slot}")));
        let (kind, type_name) = kinds(spec.split('|').nth(1).unwrap());
        assert_spec(d, &spec, kind, type_name);
        assert_eq!(field(d, "parent"), ip);
        assert_eq!(d["reported_ip"], Value::Null);
    }
    assert_eq!(
        field(find(&devices, &ip, Some("slot:0")), "plc_mode"),
        "run"
    );
    assert!(stderr(&shallow).contains(&format!("{} new, 0 updated", 1 + slots.len())));

    let deep = scan(
        data.path(),
        &["--depth", "2", "--per-device-rate", "0"],
        &ip,
    );
    assert!(deep.status.success(), "{}", stderr(&deep));
    let devices = json_lines(&deep);
    let nodes: Vec<String> = var("ENIPCH_SLOT4_PORT2_NODES")
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(devices.len(), 1 + slots.len() + nodes.len(), "{devices:?}");
    let scanner = find(&devices, &ip, Some("slot:4"));
    assert_eq!(scanner["modules"].as_array().unwrap().len(), nodes.len());
    for node in &nodes {
        let position = format!("net:2/{:02x}", node.parse::<u8>().unwrap());
        let d = find(&devices, &ip, Some(&position));
        let spec = var(&format!("ENIPCH_SLOT4_PORT2_NODE{node}"));
        let (kind, type_name) = kinds(spec.split('|').nth(1).unwrap());
        assert_spec(d, &spec, kind, type_name);
        assert_eq!(field(d, "parent"), format!("ip:{ip}/slot:4"));
    }
    // the modules were known from the depth-1 scan; only the nodes are new
    assert!(
        stderr(&deep).contains(&format!("{} new, 0 updated", nodes.len())),
        "{}",
        stderr(&deep)
    );
    let log = json_lines(&otsensor(data.path(), &["log", "--format", "json"]));
    let error_slot = var("ENIPCH_ERROR_SLOT");
    assert!(
        log.iter().all(|e| field(e, "error").contains(&format!(
            "slot {error_slot}: {ip}:44818: Get_Attributes_All of Identity (class 0x01) via Unconnected Send, route 1/{error_slot}: answered with CIP status 0x08 (service not supported)"
        ))),
        "{log:?}"
    );
}

/// nmap's enip-info fields (`key: value` lines of its output) for one address over TCP.
fn nmap_enip_info(ip: &str, port: &str) -> BTreeMap<String, String> {
    let out = Command::new("nmap")
        .args(["-n", "-Pn", "-sT", "-p", port, "--script", "enip-info", ip])
        .output()
        .unwrap_or_else(|e| {
            panic!("nmap is needed for the cross-check (testbed/setup.sh installs it): {e}")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.trim_start_matches(['|', '_', ' ']).split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn every_field_nmap_enip_info_reports_is_reported_with_the_same_value() {
    require_peers();
    let data = tempfile::tempdir().unwrap();
    for ip_var in ["ENIP_IP", "ENIPCH_IP"] {
        let ip = var(ip_var);
        let nmap = nmap_enip_info(&ip, &var("ENIP_PORT"));
        let keys = [
            "type",
            "vendor",
            "productName",
            "serialNumber",
            "productCode",
            "revision",
            "status",
            "state",
            "deviceIp",
        ];
        for key in keys {
            assert!(nmap.contains_key(key), "nmap gave no {key}: {nmap:?}");
        }
        let out = scan(data.path(), &[], &ip);
        let devices = json_lines(&out);
        let d = &devices[0];
        assert_eq!(field(d, "type_name"), nmap["type"]);
        assert_eq!(
            format!("{} ({})", field(d, "vendor"), d["vendor_id"]),
            nmap["vendor"]
        );
        assert_eq!(field(d, "product_name"), nmap["productName"]);
        assert_eq!(field(d, "serial"), nmap["serialNumber"]);
        assert_eq!(field(d, "product_code"), nmap["productCode"]);
        assert_eq!(field(d, "firmware"), nmap["revision"]);
        let status = field(d, "status");
        assert!(
            status.starts_with(&format!("status {} (", nmap["status"])),
            "{status} vs {nmap:?}"
        );
        assert!(
            status.contains(&format!(", state {} (", nmap["state"])),
            "{status} vs {nmap:?}"
        );
        assert_eq!(field(d, "reported_ip"), nmap["deviceIp"]);
    }
}

#[test]
fn misbehaving_peers_are_each_reported_clearly_in_the_probe_log() {
    for peer in ["SILENT", "TRUNCATED", "GARBAGE"] {
        require_tcp_peer(
            addr(&format!("ENIP_{peer}_IP"), "ENIP_BAD_PORT"),
            &format!("enip-{}", peer.to_lowercase()),
        );
    }
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{}-{}", var("ENIP_SILENT_IP"), var("ENIP_CLOSED_IP"));
    let out = scan(data.path(), &["--timeout", "0.5"], &targets);
    assert!(out.status.success(), "{}", stderr(&out));
    // the truncated peer framed its reply as EtherNet/IP: a device, with no identity
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(field(&devices[0], "ip"), var("ENIP_TRUNCATED_IP"));
    assert_eq!(devices[0]["vendor"], Value::Null);
    assert_eq!(devices[0]["protocols"], json!(["enip"]));

    let entries = json_lines(&otsensor(data.path(), &["log", "--format", "json"]));
    assert_eq!(entries.len(), 4, "one entry per target: {entries:?}");
    let expect = [
        (
            "ENIP_SILENT_IP",
            "no_response",
            "no response to List Identity within 0.5 s",
        ),
        (
            "ENIP_TRUNCATED_IP",
            "error",
            "bad reply to List Identity: truncated: item data needs 39 bytes, 20 present",
        ),
        ("ENIP_GARBAGE_IP", "error", "bad reply to List Identity: "),
        (
            "ENIP_CLOSED_IP",
            "refused",
            "TCP connection refused (nothing listens on that port); ",
        ),
    ];
    for (ip_var, outcome, text) in expect {
        let ip = var(ip_var);
        let e = entries
            .iter()
            .find(|e| e["address"] == ip.as_str())
            .unwrap();
        assert_eq!(e["outcome"], outcome, "{ip_var}: {e}");
        assert!(field(e, "error").contains(text), "{ip_var}: {e}");
        assert_eq!(e["protocol"], "enip");
    }
}
