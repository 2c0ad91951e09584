//! `otsensor scan plc --protocol s7,enip,bacnet,modbus`: one pass over the targets with every
//! protocol, against the testbed's pymodbus, python-snap7, cpppo and bacpypes3 peers.
//!
//! Expected values come from testbed/config.sh, which the peers were started with.

mod common;

use common::{json_lines, otsensor, stderr};
use otsensor_testkit::{addr, require_tcp_peer, var};
use serde_json::Value;

fn require_peers() {
    require_tcp_peer(addr("MODBUS_IP", "MODBUS_PORT"), "modbus");
    require_tcp_peer(addr("S7_IP", "S7_PORT"), "s7");
    require_tcp_peer(addr("ENIP_IP", "ENIP_PORT"), "enip");
}

fn targets() -> String {
    ["MODBUS_IP", "S7_IP", "ENIP_IP", "BACNET_IP"]
        .map(var)
        .join(",")
}

fn device<'a>(devices: &'a [Value], ip_var: &str) -> &'a Value {
    let ip = var(ip_var);
    devices
        .iter()
        .find(|d| d["ip"] == ip.as_str() && d["parent"].is_null())
        .unwrap_or_else(|| panic!("{ip} ({ip_var}) not found in {devices:?}"))
}

/// `scan plc --protocol PROTOCOLS --format json` over the four peers.
fn sweep(data: &std::path::Path, protocols: &str) -> std::process::Output {
    let targets = targets();
    otsensor(
        data,
        &[
            "scan",
            "plc",
            "--protocol",
            protocols,
            "--format",
            "json",
            &targets,
        ],
    )
}

#[test]
fn one_pass_finds_each_peer_by_its_own_protocol_with_its_identity() {
    require_peers();
    let data = tempfile::tempdir().unwrap();
    let out = sweep(data.path(), "s7,enip,bacnet,modbus");
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 4, "{devices:?}");

    let modbus = device(&devices, "MODBUS_IP");
    assert_eq!(modbus["protocols"], serde_json::json!(["modbus"]));
    assert_eq!(modbus["vendor"], var("MODBUS_VENDOR").as_str());
    assert_eq!(modbus["product_code"], var("MODBUS_PRODCODE").as_str());
    assert_eq!(modbus["firmware"], var("MODBUS_REV").as_str());

    let s7 = device(&devices, "S7_IP");
    assert_eq!(s7["protocols"], serde_json::json!(["s7"]));
    assert_eq!(s7["model"], var("S7_MODULE").as_str());
    assert_eq!(s7["serial"], var("S7_SERIAL").as_str());
    assert_eq!(s7["firmware"], var("S7_FW").as_str());

    let enip = device(&devices, "ENIP_IP");
    assert_eq!(enip["protocols"], serde_json::json!(["enip"]));
    assert_eq!(enip["model"], var("ENIP_PRODNAME").as_str());
    let serial: u64 = var("ENIP_SERIAL").parse().unwrap();
    assert_eq!(enip["serial"], format!("{serial:#010x}").as_str());

    let bacnet = device(&devices, "BACNET_IP");
    assert_eq!(bacnet["protocols"], serde_json::json!(["bacnet"]));
    assert_eq!(bacnet["name"], var("BACNET_NAME").as_str());
    assert_eq!(bacnet["vendor"], var("BACNET_VENDOR_NAME").as_str());
    assert_eq!(bacnet["model"], var("BACNET_MODEL").as_str());
    assert_eq!(bacnet["firmware"], var("BACNET_FIRMWARE").as_str());

    // one summary line per protocol: 4 addresses probed, the one peer of that kind identified
    let err = stderr(&out);
    for protocol in ["s7", "enip", "bacnet", "modbus"] {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("{protocol}: ")))
            .unwrap_or_else(|| panic!("no {protocol} summary in {err}"));
        assert!(
            line.contains("probed 4 of 4 addresses") && line.contains(": 1 identified"),
            "{line}"
        );
    }
}

#[test]
fn each_protocol_is_saved_as_its_own_run_with_a_log_entry_per_address() {
    require_peers();
    let data = tempfile::tempdir().unwrap();
    let out = sweep(data.path(), "modbus,s7");
    assert!(out.status.success(), "{}", stderr(&out));
    for (run, protocol, identified_ip) in [("1", "modbus", "MODBUS_IP"), ("2", "s7", "S7_IP")] {
        let log = otsensor(data.path(), &["log", "--run", run, "--format", "json"]);
        assert!(log.status.success(), "{}", stderr(&log));
        let entries = json_lines(&log);
        assert_eq!(entries.len(), 4, "run {run}: {entries:?}");
        for entry in &entries {
            assert_eq!(entry["protocol"], protocol, "{entry}");
            let expected = match entry["address"] == var(identified_ip).as_str() {
                true => "identified",
                false => "refused",
            };
            assert_eq!(entry["outcome"], expected, "{entry}");
        }
    }
}

#[test]
fn a_port_with_several_protocols_is_refused_before_anything_is_sent() {
    let data = tempfile::tempdir().unwrap();
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "s7,modbus",
            "--port",
            "1102",
            "127.0.0.20",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--port"), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "nothing saved"
    );
}
