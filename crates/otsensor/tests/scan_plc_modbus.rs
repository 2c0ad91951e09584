//! `otsensor scan plc --protocol modbus` end to end against the testbed's pymodbus peers.
//!
//! Expected values come from testbed/config.sh, which the peers were started with.

mod common;

use common::{field, json_lines, otsensor, stderr};
use otsensor_testkit::{addr, require_tcp_peer, var};
use serde_json::Value;

fn require_modbus_peers() {
    require_tcp_peer(addr("MODBUS_IP", "MODBUS_PORT"), "modbus");
    require_tcp_peer(addr("MODBUS2_IP", "MODBUS2_PORT"), "modbus2");
    require_tcp_peer(addr("MODBUSGW_IP", "MODBUSGW_PORT"), "modbusgw");
}

#[test]
fn two_servers_come_back_with_every_configured_field() {
    require_modbus_peers();
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{},{}", var("MODBUS_IP"), var("MODBUS2_IP"));
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--format",
            "json",
            &targets,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 2, "{devices:?}");
    for prefix in ["MODBUS", "MODBUS2"] {
        let d = devices
            .iter()
            .find(|d| d["ip"] == var(&format!("{prefix}_IP")).as_str())
            .unwrap_or_else(|| panic!("{prefix} not found"));
        let want = |s: &str| var(&format!("{prefix}_{s}"));
        assert_eq!(field(d, "vendor"), want("VENDOR"));
        assert_eq!(field(d, "product_code"), want("PRODCODE"));
        assert_eq!(field(d, "firmware"), want("REV"));
        assert_eq!(field(d, "vendor_url"), want("URL"));
        assert_eq!(field(d, "product_name"), want("PRODNAME"));
        assert_eq!(field(d, "model"), want("MODEL"));
        assert_eq!(field(d, "application"), want("APPNAME"));
        assert_eq!(d["protocols"], serde_json::json!(["modbus"]));
        assert_eq!(d["parent"], Value::Null);
        assert_eq!(d["modules"], serde_json::json!([]));
        for key in [
            "mac", "name", "fqdn", "type", "serial", "plc_mode", "os", "domain",
        ] {
            assert_eq!(d[key], Value::Null, "{key}");
        }
        for key in ["interfaces", "neighbors", "hotfixes", "software"] {
            assert_eq!(d[key], serde_json::json!([]), "{key}");
        }
    }
    assert!(stderr(&out).contains("2 identified"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 new, 0 updated"),
        "{}",
        stderr(&out)
    );

    // a second scan finds the same devices unchanged
    let again = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--format",
            "json",
            &targets,
        ],
    );
    assert!(
        stderr(&again).contains("0 new, 0 updated"),
        "{}",
        stderr(&again)
    );
    let listed = otsensor(data.path(), &["devices", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&listed.stdout);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("ip,parent,position,mac,name,fqdn,type,vendor,model")
    );
    assert_eq!(lines.count(), 2, "{csv}");
    assert!(csv.contains(&var("MODBUS2_PRODCODE")));
}

fn gateway_units() -> Vec<(u8, Vec<String>)> {
    var("MODBUSGW_UNITS")
        .split_whitespace()
        .map(|u| {
            let fields = var(&format!("MODBUSGW_UNIT{u}"))
                .split('|')
                .map(String::from)
                .collect();
            (u.parse().unwrap(), fields)
        })
        .collect()
}

#[test]
fn a_gateway_has_its_units_as_sub_devices_at_depth_1_and_none_at_depth_0() {
    require_modbus_peers();
    let data = tempfile::tempdir().unwrap();
    let gw = var("MODBUSGW_IP");
    let shallow = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--format",
            "json",
            &gw,
        ],
    );
    let devices = json_lines(&shallow);
    assert_eq!(devices.len(), 1);
    assert_eq!(field(&devices[0], "vendor"), var("MODBUSGW_VENDOR"));
    assert_eq!(devices[0]["modules"], serde_json::json!([]));

    let deep = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--depth",
            "1",
            "--per-device-rate",
            "0",
            "--format",
            "json",
            &gw,
        ],
    );
    assert!(deep.status.success(), "{}", stderr(&deep));
    let devices = json_lines(&deep);
    let units = gateway_units();
    assert_eq!(devices.len(), 1 + units.len(), "{devices:?}");
    let gateway = &devices[0];
    assert_eq!(field(gateway, "model"), var("MODBUSGW_MODEL"));
    assert_eq!(gateway["modules"].as_array().unwrap().len(), units.len());
    for (unit, fields) in units {
        let d = devices
            .iter()
            .find(|d| d["unit_id"] == unit)
            .unwrap_or_else(|| panic!("unit {unit} missing"));
        assert_eq!(field(d, "parent"), gw);
        assert_eq!(field(d, "ip"), gw);
        assert_eq!(field(d, "position"), format!("unit:{unit}"));
        assert_eq!(field(d, "vendor"), fields[0]);
        assert_eq!(field(d, "product_code"), fields[1]);
        assert_eq!(field(d, "firmware"), fields[2]);
        assert_eq!(field(d, "product_name"), fields[3]);
        assert_eq!(field(d, "model"), fields[4]);
    }
    // the gateway itself was known from the first scan: enriched by nothing, its units are new
    assert!(
        stderr(&deep).contains("3 new, 0 updated"),
        "{}",
        stderr(&deep)
    );
}

#[test]
fn misbehaving_peers_are_each_reported_clearly_in_the_probe_log() {
    for peer in ["SILENT", "MIDFRAME", "EXCEPTION", "BIGLEN", "GARBAGE"] {
        require_tcp_peer(
            addr(&format!("MODBUS_{peer}_IP"), "MODBUS_BAD_PORT"),
            &format!("modbus-{}", peer.to_lowercase()),
        );
    }
    let data = tempfile::tempdir().unwrap();
    let targets = format!("{}-{}", var("MODBUS_SILENT_IP"), var("MODBUS_CLOSED_IP"));
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--timeout",
            "0.5",
            "--format",
            "json",
            &targets,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // the exception peer speaks Modbus, so it is a device, with no identity
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(field(&devices[0], "ip"), var("MODBUS_EXCEPTION_IP"));
    assert_eq!(devices[0]["vendor"], Value::Null);

    let log = otsensor(data.path(), &["log", "--format", "json"]);
    let entries = json_lines(&log);
    assert_eq!(entries.len(), 6, "one entry per target: {entries:?}");
    let entry = |ip_var: &str| {
        let ip = var(ip_var);
        entries
            .iter()
            .find(|e| e["address"] == ip.as_str())
            .unwrap()
            .clone()
    };
    let expect = [
        (
            "MODBUS_SILENT_IP",
            "no_response",
            "no response to Read Device Identification (43/14) (unit 255) within 0.5 s",
        ),
        (
            "MODBUS_MIDFRAME_IP",
            "error",
            "connection closed by the device",
        ),
        (
            "MODBUS_EXCEPTION_IP",
            "error",
            "answered with exception Illegal Function (0x01)",
        ),
        (
            "MODBUS_BIGLEN_IP",
            "error",
            "length field 65535 is outside the Modbus range 2 to 254",
        ),
        (
            "MODBUS_GARBAGE_IP",
            "error",
            "bad reply to Read Device Identification",
        ),
        ("MODBUS_CLOSED_IP", "refused", "connection refused"),
    ];
    for (ip_var, outcome, text) in expect {
        let e = entry(ip_var);
        assert_eq!(e["outcome"], outcome, "{ip_var}: {e}");
        assert!(field(&e, "error").contains(text), "{ip_var}: {e}");
        assert_eq!(e["protocol"], "modbus");
    }
}

#[test]
fn a_target_outside_the_scope_is_refused_and_nothing_is_saved() {
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("store");
    // never sent: the scope check refuses the scan before any packet
    let out = otsensor(
        &store,
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "127.0.0.10,192.0.2.7",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("192.0.2.7 is outside the scope allow-list (127.0.0.0/8, ::1/128)"),
        "{}",
        stderr(&out)
    );
    assert!(!store.exists(), "nothing may be saved");
}

#[test]
fn malformed_input_exits_2_naming_the_item() {
    let data = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["127.0.0.9-127.0.0.1"],
            "127.0.0.9-127.0.0.1: start is after end",
        ),
        (
            &["127.0.0.1,plc-7"],
            "plc-7: not an address, a CIDR block or a range A-B",
        ),
        (
            &["127.0.0.0/40"],
            "127.0.0.0/40: prefix length 40 is above 32",
        ),
        (
            &["--allow", "nonsense", "127.0.0.1"],
            "--allow nonsense: not a CIDR block",
        ),
        (
            &["--timeout", "0", "127.0.0.1"],
            "--timeout 0: must be from 0.01 to 600 seconds",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["scan", "plc", "--protocol", "modbus"];
        all.extend_from_slice(args);
        let out = otsensor(data.path(), &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
    let big = otsensor(
        data.path(),
        &["scan", "plc", "--protocol", "modbus", "127.0.0.0/8"],
    );
    assert_eq!(big.status.code(), Some(2));
    assert!(stderr(&big).contains("16777216 addresses, above the limit of 65536"));
    let no_port = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--port",
            "0",
            "127.0.0.1",
        ],
    );
    assert_eq!(no_port.status.code(), Some(2));
    assert!(stderr(&no_port).contains("--port"));
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "bad input saves nothing"
    );
}

#[test]
fn a_bad_configuration_file_names_the_key() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("otsensor.toml");
    std::fs::write(&config, "[pacing]\nrate = 100\nper_devce_rate = 5\n").unwrap();
    let out = otsensor(
        &data.path().join("store"),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--config",
            config.to_str().unwrap(),
            "127.0.0.1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("otsensor.toml") && err.contains("per_devce_rate") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn the_device_limit_stops_the_scan() {
    require_modbus_peers();
    let data = tempfile::tempdir().unwrap();
    let targets = format!(
        "{},{},{}",
        var("MODBUS_IP"),
        var("MODBUS2_IP"),
        var("MODBUSGW_IP")
    );
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "plc",
            "--protocol",
            "modbus",
            "--device-limit",
            "1",
            "--parallel",
            "1",
            "--format",
            "json",
            &targets,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 1);
    assert!(
        stderr(&out).contains("stopped at the device limit of 1"),
        "{}",
        stderr(&out)
    );
}
