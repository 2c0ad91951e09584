//! `otsensor scan plc --protocol s7` end to end against the testbed's S7 peers: python-snap7
//! (`s7`, an S7-300 rack with a CP), libsnap7 (`s7native`), and the scripted `bad_s7.py` peers.
//!
//! Expected values come from testbed/config.sh, which the peers were started with.

mod common;

use common::{json_lines, otsensor, stderr};
use otsensor_testkit::{addr, require_tcp_peer, var};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

fn scan(data: &Path, extra: &[&str], targets: &str) -> Output {
    let mut args = vec!["scan", "plc", "--protocol", "s7", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(targets);
    otsensor(data, &args)
}

fn find<'a>(devices: &'a [Value], ip: &str, position: Option<&str>) -> &'a Value {
    devices
        .iter()
        .find(|d| d["ip"] == ip && d["position"].as_str() == position)
        .unwrap_or_else(|| panic!("{ip} {position:?} not in {devices:?}"))
}

fn require_cpus() {
    require_tcp_peer(addr("S7_IP", "S7_PORT"), "s7");
    require_tcp_peer(addr("S7N_IP", "S7N_PORT"), "s7native");
    require_tcp_peer(addr("S7_SLOT3_IP", "S7_BAD_PORT"), "s7-slot3");
}

fn slots(spec: &str) -> Vec<u64> {
    spec.split_whitespace()
        .map(|e| e.split(':').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn three_cpus_come_back_with_every_configured_field() {
    require_cpus();
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{},{},{}", var("S7_IP"), var("S7N_IP"), var("S7_SLOT3_IP"));
    let out = scan(data.path(), &[], &targets);
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 3, "{devices:?}");
    for prefix in ["S7", "S7N", "S7_SLOT3"] {
        let want = |s: &str| var(&format!("{prefix}_{s}"));
        let d = find(&devices, &want("IP"), None);
        assert_eq!(d["vendor"], "Siemens", "{prefix}");
        assert_eq!(d["type"], "plc");
        assert_eq!(d["product_code"], want("ORDER").as_str());
        assert_eq!(d["hardware"], want("ORDER").as_str());
        assert_eq!(d["firmware"], want("FW").as_str());
        assert_eq!(d["model"], want("MODULE").as_str());
        assert_eq!(d["name"], want("ASNAME").as_str());
        assert_eq!(d["serial"], want("SERIAL").as_str());
        assert_eq!(d["plc_mode"], want("MODE").to_lowercase().as_str());
        // libsnap7 has no plant identification
        let location = (prefix != "S7N").then(|| want("PLANT"));
        assert_eq!(d["location"], json!(location), "{prefix}");
        assert_eq!(d["protocols"], json!(["s7"]));
        assert_eq!(d["modules"], json!([]));
        assert_eq!(d["parent"], Value::Null);
        for key in ["mac", "fqdn", "product_name", "os", "domain"] {
            assert_eq!(d[key], Value::Null, "{prefix} {key}");
        }
    }
    assert!(stderr(&out).contains("3 identified"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 new, 0 updated"),
        "{}",
        stderr(&out)
    );

    let log = otsensor(data.path(), &["log", "--format", "json"]);
    for entry in json_lines(&log) {
        assert_eq!(entry["outcome"], "identified", "{entry}");
        assert_eq!(entry["protocol"], "s7");
        assert_eq!(entry["error"], Value::Null, "{entry}");
    }
}

#[test]
fn depth_1_lists_the_rack_and_depth_2_names_the_cp() {
    require_cpus();
    let data = tempfile::tempdir().unwrap();
    let ip = var("S7_IP");
    let rack = slots(&var("S7_RACK"));
    let cp_slot: u64 = var("S7_CP_SLOT").parse().unwrap();

    let out = scan(data.path(), &["--depth", "1"], &ip);
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 1 + rack.len(), "{devices:?}");
    let cpu = find(&devices, &ip, None);
    let listed: Vec<u64> = cpu["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slot"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, rack);
    for slot in &rack {
        let m = find(&devices, &ip, Some(&format!("slot:{slot}")));
        assert_eq!(m["parent"], ip.as_str());
        assert_eq!(m["slot"], json!(slot));
        if *slot == 2 {
            assert_eq!(m["type"], "plc");
            assert_eq!(m["product_code"], var("S7_ORDER").as_str());
            assert_eq!(m["firmware"], var("S7_FW").as_str());
            assert_eq!(m["serial"], Value::Null);
        } else {
            assert_eq!(m["product_code"], Value::Null, "slot {slot}");
            assert_eq!(m["protocols"], json!([]), "slot {slot}");
        }
    }
    assert!(
        stderr(&out).contains(&format!("{} new, 0 updated", 1 + rack.len())),
        "{}",
        stderr(&out)
    );

    let deep = scan(data.path(), &["--depth", "2"], &ip);
    assert!(deep.status.success(), "{}", stderr(&deep));
    let devices = json_lines(&deep);
    let cp = find(&devices, &ip, Some(&format!("slot:{cp_slot}")));
    assert_eq!(cp["type"], "communication_adapter");
    assert_eq!(cp["vendor"], "Siemens");
    assert_eq!(cp["product_code"], var("S7_CP_ORDER").as_str());
    assert_eq!(cp["firmware"], var("S7_CP_FW").as_str());
    assert_eq!(cp["model"], var("S7_CP_MODULE").as_str());
    assert_eq!(cp["serial"], var("S7_CP_SERIAL").as_str());
    assert_eq!(cp["protocols"], json!(["s7"]));
    // only the CP learned something new
    assert!(
        stderr(&deep).contains("0 new, 1 updated"),
        "{}",
        stderr(&deep)
    );
}

#[test]
fn misbehaving_peers_are_each_reported_clearly_in_the_probe_log() {
    for peer in ["SILENT", "REFUSE", "CLOSEAFTER", "SZLERROR"] {
        require_tcp_peer(
            addr(&format!("S7_{peer}_IP"), "S7_BAD_PORT"),
            &format!("s7-{}", peer.to_lowercase()),
        );
    }
    let data = tempfile::tempdir().unwrap();
    let targets = format!(
        "{}-{},{}",
        var("S7_SILENT_IP"),
        var("S7_SZLERROR_IP"),
        var("S7_CLOSED_IP")
    );
    let out = scan(data.path(), &["--timeout", "0.5"], &targets);
    assert!(out.status.success(), "{}", stderr(&out));
    // the SZL error peer speaks S7, so it is a device, with no identity
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0]["ip"], var("S7_SZLERROR_IP").as_str());
    assert_eq!(devices[0]["protocols"], json!(["s7"]));
    assert_eq!(devices[0]["vendor"], Value::Null);

    let log = otsensor(data.path(), &["log", "--format", "json"]);
    let entries = json_lines(&log);
    assert_eq!(entries.len(), 5, "one entry per target: {entries:?}");
    let expect = [
        (
            "S7_SILENT_IP",
            "no_response",
            "no answer to the COTP connection request to TSAP 0x0102 (type 1, rack 0, slot 2) within 0.5 s",
        ),
        (
            "S7_REFUSE_IP",
            "error",
            "no S7 connection on any of 5 TSAPs tried",
        ),
        (
            "S7_CLOSEAFTER_IP",
            "error",
            "connection closed by the device during S7 Setup Communication",
        ),
        (
            "S7_SZLERROR_IP",
            "error",
            "SZL 0x0011 (module identification) answered with an error: return code 0x0a (object does not exist)",
        ),
        ("S7_CLOSED_IP", "refused", "connection refused"),
    ];
    for (ip_var, outcome, text) in expect {
        let ip = var(ip_var);
        let e = entries
            .iter()
            .find(|e| e["address"] == ip.as_str())
            .unwrap_or_else(|| panic!("{ip_var} not logged"));
        assert_eq!(e["outcome"], outcome, "{ip_var}: {e}");
        assert!(
            e["error"].as_str().unwrap_or_default().contains(text),
            "{ip_var}: {e}"
        );
        assert_eq!(e["protocol"], "s7");
    }
}

/// nmap's s7-info output as (field, value) pairs.
fn nmap_s7_info(ip: &str) -> Vec<(String, String)> {
    let out = Command::new("nmap")
        .args(["-n", "-Pn", "-sT", "-p102", "--script", "s7-info", ip])
        .output()
        .expect("nmap runs (testbed/setup.sh installs it)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("|   ").or_else(|| l.strip_prefix("|_  ")))
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn every_field_nmap_s7_info_reports_is_reported_alike() {
    require_cpus();
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{},{}", var("S7_IP"), var("S7N_IP"));
    let devices = json_lines(&scan(data.path(), &[], &targets));
    for ip in [var("S7_IP"), var("S7N_IP")] {
        let d = find(&devices, &ip, None);
        let fields = nmap_s7_info(&ip);
        assert!(fields.len() >= 6, "{ip}: nmap said {fields:?}");
        for (field, value) in fields {
            let key = match field.as_str() {
                "Module" => "product_code",
                "Basic Hardware" => "hardware",
                "Version" => "firmware",
                "System Name" => "name",
                "Module Type" => "model",
                "Serial Number" => "serial",
                "Plant Identification" => "location",
                // the copyright entry is no device attribute
                "Copyright" => continue,
                other => panic!("{ip}: nmap field {other:?} has no counterpart"),
            };
            assert_eq!(d[key], value.as_str(), "{ip}: nmap {field}");
        }
    }
}
