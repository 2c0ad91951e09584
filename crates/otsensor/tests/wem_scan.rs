//! `otsensor wem` end to end against the testbed's WMI responders (`wmi-all`).
//!
//! One range covers the six responders 127.0.0.70-75: two answer (one in fragments), four fail
//! each their own way, and the results, the log and the inventory say exactly that.

mod common;

use common::otsensor;
use otsensor_testkit::{require_tcp_peer, var};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn require_wmi_peers() {
    for (ip, name) in [
        ("WMI_IP", "wmi"),
        ("WMI_FRAG_IP", "wmi-frag"),
        ("WMI_BADSIG_IP", "wmi-badsig"),
        ("WMI_SILENT_IP", "wmi-silent"),
        ("WMI_CLOSED_IP", "wmi-closed"),
        ("WMI_FAULT_IP", "wmi-fault"),
    ] {
        let a: SocketAddr = format!("{}:{}", var(ip), var("WMI_PORT")).parse().unwrap();
        require_tcp_peer(a, name);
    }
}

/// CSV rows as maps from header to value.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn ranges_file(dir: &Path, password: &str) -> std::path::PathBuf {
    let path = dir.join("ranges.csv");
    let text = format!(
        "FROM,TO,USER,PASSWORD,DISABLE\n{},{},{}\\{},{},FALSE\n127.0.1.1,127.0.1.9,nobody,x,TRUE\n",
        var("WMI_IP"),
        var("WMI_FAULT_IP"),
        var("WMI_DOMAIN"),
        var("WMI_USER"),
        password
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_wem_scan_writes_results_log_and_inventory() {
    require_wmi_peers();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ranges = ranges_file(dir.path(), &var("WMI_PASS"));
    let results = dir.path().join("results.csv");
    let log = dir.path().join("log.csv");
    let out = otsensor(
        &data,
        &[
            "wem",
            "scan",
            "--ranges",
            ranges.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--timeout",
            "2",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("probed 6 addresses in 1 ranges: 2 answered, 4 failed"),
        "{}",
        stderr(&out)
    );

    // results: the two answering responders, with the dataset's values
    let rows = csv_rows(&results);
    let ips: Vec<&str> = rows.iter().map(|r| r["IP"].as_str()).collect();
    assert_eq!(ips, [var("WMI_IP"), var("WMI_FRAG_IP")]);
    for r in &rows {
        assert_eq!(r["NAME"], "ENG-WS-01");
        assert_eq!(r["DOMAIN"], var("WMI_DOMAIN"));
        assert_eq!(r["OS"], "Microsoft Windows Server 2019 Standard");
        assert_eq!(r["OS_BUILD"], "17763");
        assert_eq!(r["SERVICE_PACK"], "");
        assert_eq!(r["MACS"], "00:0c:29:aa:bb:cc");
        assert_eq!(r["HOTFIXES"], "2");
        assert_eq!(r["LAST_KB"], "KB5005701");
        assert_eq!(r["LAST_KB_INSTALLED"], "2021-09-15");
        assert_eq!(r["SOFTWARE"], "3");
    }

    // log: every address of the enabled range, success or failure with its reason
    let lines = csv_rows(&log);
    assert_eq!(lines.len(), 6);
    let by_ip: BTreeMap<&str, &BTreeMap<String, String>> =
        lines.iter().map(|l| (l["IP"].as_str(), l)).collect();
    let line = |v: &str| by_ip[var(v).as_str()];
    assert_eq!(line("WMI_IP")["RESULT"], "success");
    assert_eq!(line("WMI_FRAG_IP")["RESULT"], "success");
    for (v, text) in [
        ("WMI_BADSIG_IP", "signature"),
        ("WMI_SILENT_IP", "firewall"),
        (
            "WMI_CLOSED_IP",
            "connection refused at TCP connect to the dynamic WMI port",
        ),
        ("WMI_FAULT_IP", "WBEM_E_ACCESS_DENIED"),
    ] {
        assert_eq!(line(v)["RESULT"], "failure", "{v}");
        assert!(line(v)["ERROR"].contains(text), "{v}: {}", line(v)["ERROR"]);
        assert!(line(v)["RANGE"].starts_with(&var("WMI_IP")));
    }
    assert!(
        lines
            .iter()
            .all(|l| l["DURATION_MS"].parse::<u64>().is_ok())
    );

    // the inventory: typed OS, domain, hotfixes, software
    let devices: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let host = devices
        .iter()
        .find(|d| d["ip"] == Value::String(var("WMI_IP")))
        .expect("the responder in the inventory");
    assert_eq!(host["os"]["name"], "Microsoft Windows Server 2019 Standard");
    assert_eq!(host["os"]["version"], "10.0.17763");
    assert_eq!(host["os"]["architecture"], "64-bit");
    assert_eq!(host["domain"], var("WMI_DOMAIN").as_str());
    assert_eq!(host["mac"], "00:0c:29:aa:bb:cc");
    assert_eq!(
        host["serial"],
        "VMware-56 4d 8a 1e 2b 3c 4d 5e-6f 70 81 92 a3 b4 c5 d6"
    );
    let kbs: Vec<&str> = host["hotfixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(kbs, ["KB5005112", "KB5005701"]);
    let software: Vec<&str> = host["software"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(software.contains(&"Siemens TIA Portal V16"), "{software:?}");
    assert_eq!(
        host["interfaces"].as_array().unwrap().len(),
        1,
        "enabled adapters only"
    );

    // the stored ranges export without their passwords, and re-import keeping them
    let exported = otsensor(&data, &["wem", "export"]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let text = String::from_utf8_lossy(&exported.stdout).into_owned();
    assert!(
        text.starts_with("FROM,TO,USER,PASSWORD,DISABLE\n"),
        "{text}"
    );
    assert!(!text.contains(&var("WMI_PASS")), "{text}");
    let again = dir.path().join("again.csv");
    std::fs::write(&again, &text).unwrap();
    let out = otsensor(
        &data,
        &[
            "wem",
            "scan",
            "--ranges",
            again.to_str().unwrap(),
            "--timeout",
            "2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 answered"),
        "the stored password was kept: {}",
        stderr(&out)
    );
}

#[test]
fn a_wrong_password_is_logged_as_a_logon_failure() {
    require_wmi_peers();
    let dir = tempfile::tempdir().unwrap();
    let ranges = dir.path().join("ranges.csv");
    std::fs::write(
        &ranges,
        format!(
            "FROM,TO,USER,PASSWORD,DISABLE\n{0},{0},{1},wrong-password,FALSE\n",
            var("WMI_IP"),
            var("WMI_USER")
        ),
    )
    .unwrap();
    let log = dir.path().join("log.csv");
    let out = otsensor(
        &dir.path().join("data"),
        &[
            "wem",
            "scan",
            "--ranges",
            ranges.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = csv_rows(&log);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["RESULT"], "failure");
    assert!(
        lines[0]["ERROR"].contains("logon failure"),
        "{}",
        lines[0]["ERROR"]
    );
    assert!(!lines[0]["ERROR"].contains("wrong-password"));
}

#[test]
fn a_bad_ranges_file_is_refused_whole_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let ranges = dir.path().join("ranges.csv");
    std::fs::write(
        &ranges,
        "FROM,TO,USER,PASSWORD,DISABLE\n127.0.0.70,127.0.0.70,u,p,FALSE\n127.0.0.x,127.0.0.9,u,p,FALSE\n127.0.0.9,127.0.0.9,u,p,YES\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = otsensor(
        &data,
        &["wem", "scan", "--ranges", ranges.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("line 3:") && text.contains("line 4:"),
        "{text}"
    );
    let exported = otsensor(&data, &["wem", "export"]);
    assert_eq!(
        String::from_utf8_lossy(&exported.stdout),
        "FROM,TO,USER,PASSWORD,DISABLE\n",
        "nothing was imported"
    );
}

#[test]
fn a_range_outside_the_scope_is_refused_before_any_packet() {
    let dir = tempfile::tempdir().unwrap();
    let ranges = dir.path().join("ranges.csv");
    std::fs::write(
        &ranges,
        "FROM,TO,USER,PASSWORD,DISABLE\n192.0.2.1,192.0.2.9,u,p,FALSE\n",
    )
    .unwrap();
    let out = otsensor(
        &dir.path().join("data"),
        &["wem", "scan", "--ranges", ranges.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("192.0.2.1"), "{}", stderr(&out));
}

#[test]
fn the_schedule_is_set_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = otsensor(&data, &["wem", "schedule"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "manual");
    let out = otsensor(&data, &["wem", "schedule", "every 6h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("every 6h (next: "));
    let out = otsensor(&data, &["wem", "schedule", "25:99"]);
    assert_eq!(out.status.code(), Some(2));
}
