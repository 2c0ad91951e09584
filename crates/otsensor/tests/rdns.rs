//! `otsensor rdns` and `otsensor rdns test` end to end against the testbed's nsd, knot and
//! refusing nsd, a silent socket and a closed port; bad input.
//!
//! Expected names come from testbed/config.sh, which the zones were generated from.

mod common;

use common::{json_lines, otsensor, stderr, stdout};
use otsensor_core::merge::RunMerge;
use otsensor_core::{DeviceKey, Fact, Observation, Protocol};
use otsensor_store::{NewScan, RunResult, RunStatus, Store};
use otsensor_testkit::{addr, require_tcp_peer, var};
use serde_json::Value;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

fn servers() -> Vec<(&'static str, String)> {
    let nsd = addr("NSD_IP", "NSD_PORT");
    let knot = addr("KNOT_IP", "KNOT_PORT");
    require_tcp_peer(nsd, "nsd");
    require_tcp_peer(knot, "knot");
    vec![("nsd", nsd.to_string()), ("knot", knot.to_string())]
}

fn special(n: u8) -> String {
    format!("{}.0.{n}", var("DNS_SPECIAL_NET"))
}

fn no_dot(name: &str) -> String {
    name.trim_end_matches('.').to_string()
}

#[test]
fn every_address_of_the_subnets_comes_back_with_its_exact_name() {
    let data = tempfile::tempdir().unwrap();
    let net = var("DNS_REV_NET");
    let domain = var("DNS_DOMAIN");
    let (o1, o2) = net.split_once('.').unwrap();
    for (peer, server) in servers() {
        let block = format!("{net}.7.0/24");
        let specials = format!("{}.0.0/28", var("DNS_SPECIAL_NET"));
        let out = otsensor(
            data.path(),
            &[
                "rdns", "--server", &server, "--rate", "0", "--format", "json", &block, &specials,
            ],
        );
        assert!(out.status.success(), "{peer}: {}", stderr(&out));
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 256 + 16, "{peer}");
        for y in 0..256 {
            let ip = format!("{net}.7.{y}");
            let d = lines.iter().find(|d| d["ip"] == ip.as_str()).unwrap();
            let fqdn = format!("dev-{o1}-{o2}-7-{y}.{domain}");
            assert_eq!(d["status"], "found", "{peer} {ip}: {d}");
            assert_eq!(d["fqdn"], fqdn.as_str(), "{peer} {ip}");
            assert_eq!(d["name"], format!("dev-{o1}-{o2}-7-{y}").as_str());
            assert_eq!(d["names"], serde_json::json!([fqdn]));
            assert_eq!(d["in_inventory"], false);
        }
        // DESIGN.md's keys are all there, absent facts null or []
        let d = &lines[0];
        for key in [
            "mac", "type", "vendor", "model", "firmware", "serial", "os", "parent",
        ] {
            assert_eq!(d[key], Value::Null, "{key}");
        }
        for key in [
            "protocols",
            "modules",
            "interfaces",
            "neighbors",
            "hotfixes",
            "software",
        ] {
            assert_eq!(d[key], serde_json::json!([]), "{key}");
        }
        let gap = lines
            .iter()
            .find(|d| d["ip"] == var("DNS_GAP_IP").as_str())
            .unwrap();
        assert_eq!(gap["status"], "nxdomain", "{peer}");
        assert_eq!(gap["fqdn"], Value::Null);
        assert!(gap["detail"].as_str().unwrap().contains("NXDOMAIN"));
        let two = lines
            .iter()
            .find(|d| d["ip"] == var("DNS_TWO_PTR_IP").as_str())
            .unwrap();
        let names: Vec<String> = var("DNS_TWO_PTR_NAMES")
            .split_whitespace()
            .map(no_dot)
            .collect();
        assert_eq!(two["names"], serde_json::json!(names), "{peer}");
        assert_eq!(two["fqdn"], names[0].as_str());
        let long = lines
            .iter()
            .find(|d| d["ip"] == var("DNS_LONG_IP").as_str())
            .unwrap();
        let long_name = no_dot(&var("DNS_LONG_NAME"));
        assert_eq!(long["fqdn"], long_name.as_str());
        assert_eq!(
            long["name"],
            &long_name[..30],
            "at most 30 characters shown"
        );
        let many = lines
            .iter()
            .find(|d| d["ip"] == var("DNS_MANY_IP").as_str())
            .unwrap();
        let count: usize = var("DNS_MANY_COUNT").parse().unwrap();
        assert_eq!(
            many["names"].as_array().unwrap().len(),
            count,
            "{peer}: over TCP"
        );
        let summary = stderr(&out);
        assert!(summary.contains("looked up 272 addresses"), "{summary}");
        assert!(summary.contains("0 failed"), "{summary}");
    }
}

#[test]
fn labels_choose_how_much_of_the_name_is_shown() {
    let data = tempfile::tempdir().unwrap();
    let (_, server) = servers().remove(0);
    let address = special(1);
    let out = otsensor(
        data.path(),
        &[
            "rdns", "--server", &server, "--labels", "3", "--format", "csv", &address,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "ip,status,name,fqdn,names,fqdn_last_lookup,in_inventory,detail"
    );
    let row = lines.next().unwrap();
    let domain = var("DNS_DOMAIN");
    assert!(
        row.starts_with(&format!(
            "{address},found,host-1.plant.{},host-1.plant.{domain},",
            domain.split('.').next().unwrap()
        )),
        "{row}"
    );
}

/// Puts a device at `address` into the store of `data`, as a scan would.
fn seed_device(data: &Path, address: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(data).await.unwrap();
        let scan = store
            .create_scan(&NewScan {
                name: "seed".into(),
                kind: "plc".into(),
                protocol: Protocol::Modbus,
                targets: address.into(),
                spec: serde_json::json!({}),
                created: jiff::Timestamp::now(),
            })
            .await
            .unwrap();
        let now = jiff::Timestamp::now();
        let run = store.start_run(scan, now, 1).await.unwrap();
        let mut obs = Observation::new(address.parse().unwrap(), Protocol::Modbus, now);
        obs.facts.push(Fact::Vendor("Wago".into()));
        let mut merge = RunMerge::new(Default::default());
        merge.absorb(&obs);
        let changes = merge.into_changes();
        let result = RunResult {
            status: RunStatus::Completed,
            ended: now,
            changes: &changes,
            probe_log: &[],
            error: None,
        };
        store.finish_run(run, &result).await.unwrap();
        store.close().await;
    });
}

#[test]
fn names_go_into_the_inventory_devices_of_the_subnets() {
    let data = tempfile::tempdir().unwrap();
    let (_, server) = servers().remove(1);
    let device = var("DNS_TWO_PTR_IP");
    seed_device(data.path(), &device);
    let block = format!("{}.0.0/28", var("DNS_SPECIAL_NET"));
    let out = otsensor(
        data.path(),
        &[
            "rdns", "--server", &server, "--labels", "2", "--format", "json", &block,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 inventory devices named, 1 changed"),
        "{}",
        stderr(&out)
    );
    let lines = json_lines(&out);
    let d = lines.iter().find(|d| d["ip"] == device.as_str()).unwrap();
    assert_eq!(d["in_inventory"], true);
    assert_eq!(d["vendor"], "Wago", "the inventory's device");
    assert_eq!(d["name"], "hmi-10.plant");
    assert_eq!(d["fqdn"], "hmi-10.plant.ot.example");
    assert!(d["fqdn_last_lookup"].is_string());

    // the devices command shows it; nothing else was created
    let out = otsensor(data.path(), &["devices", "--format", "json"]);
    let devices = json_lines(&out);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["fqdn"], "hmi-10.plant.ot.example");

    // history, and a second run changes nothing
    let out = otsensor(
        data.path(),
        &["rdns", "--server", &server, "--labels", "2", &block],
    );
    assert!(
        stderr(&out).contains("1 inventory devices named, 0 changed"),
        "{}",
        stderr(&out)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(data.path()).await.unwrap();
        let key = DeviceKey::Ip(device.parse::<IpAddr>().unwrap());
        let history = store.history(&key).await.unwrap();
        let dns: Vec<&str> = history
            .iter()
            .filter(|h| h.source == Protocol::Dns)
            .map(|h| h.attribute.as_str())
            .collect();
        assert_eq!(dns, ["name", "fqdn"]);
        let runs = store.rdns_runs(None).await.unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].summary.found, 10);
        assert_eq!(runs[0].summary.missing, 6);
        store.close().await;
    });
}

#[test]
fn rdns_test_answers_with_the_name_or_the_exact_failure() {
    let data = tempfile::tempdir().unwrap();
    let servers = servers();
    let (_, nsd) = &servers[0];
    let (_, knot) = &servers[1];
    let test = |server: &str, address: &str, extra: &[&str]| {
        let mut args = vec!["rdns", "test", "--server", server];
        args.extend_from_slice(extra);
        args.push(address);
        otsensor(data.path(), &args)
    };

    let out = test(knot, &special(1), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let domain = var("DNS_DOMAIN");
    assert_eq!(
        stdout(&out).trim(),
        format!("{}: host-1.plant.{domain} (host name host-1)", special(1))
    );

    let rfc2317 = format!("{}.70", var("DNS_SPECIAL_NET") + ".0");
    let out = test(knot, &rfc2317, &["--format", "json"]);
    let j: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(j["status"], "found");
    assert_eq!(j["fqdn"], format!("cell-70.line-4.{domain}").as_str());
    assert_eq!(j["aliases"].as_array().unwrap().len(), 1);

    let out = test(nsd, &var("DNS_MANY_IP"), &["--format", "json"]);
    let j: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(j["tcp"], true);

    let out = test(nsd, &var("DNS_GAP_IP"), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("answered NXDOMAIN"),
        "{}",
        stderr(&out)
    );

    let out = test(nsd, &format!("{}.0.1", var("DNS_SERVFAIL_NET")), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("answered SERVFAIL"),
        "{}",
        stderr(&out)
    );

    let refuse = addr("DNS_REFUSE_IP", "DNS_REFUSE_PORT");
    require_tcp_peer(refuse, "dns-refuse");
    let out = test(&refuse.to_string(), &special(1), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("answered REFUSED"),
        "{}",
        stderr(&out)
    );

    let closed = addr("DNS_CLOSED_IP", "DNS_CLOSED_PORT");
    let out = test(&closed.to_string(), &special(1), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ICMP port unreachable"),
        "{}",
        stderr(&out)
    );

    let silent = std::net::UdpSocket::bind((var("DNS_CLOSED_IP").as_str(), 0)).unwrap();
    let port = silent.local_addr().unwrap().to_string();
    let out = test(&port, &special(1), &["--timeout", "0.7"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains(&format!("no answer from {port}")), "{text}");
    assert!(text.contains("within 0.7 s (3 UDP queries)"), "{text}");
    drop(silent);
}

#[test]
fn bad_input_exits_2_naming_the_field_and_saves_nothing() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["rdns", "--server", "127.0.0.53:0", "10.20.0.0/24"],
            "--server: 0 is not a port",
        ),
        (
            &["rdns", "--server", "127.0.0.53:70000", "10.20.0.0/24"],
            "--server: 70000 is not a port",
        ),
        (
            &["rdns", "--server", "dns.example", "10.20.0.0/24"],
            "--server: 'dns.example' is not an IP address",
        ),
        (
            &[
                "rdns",
                "--server",
                "127.0.0.53",
                "--labels",
                "0",
                "10.20.0.0/24",
            ],
            "--labels: 0",
        ),
        (
            &["rdns", "--server", "127.0.0.53", "10.20.0.0/33"],
            "SUBNET: '10.20.0.0/33'",
        ),
        (
            &["rdns", "--server", "127.0.0.53", "10.20.0.0/24", "banana"],
            "SUBNET: 'banana'",
        ),
        (
            &[
                "rdns",
                "--server",
                "127.0.0.53",
                "--rate",
                "2000000",
                "10.20.0.0/24",
            ],
            "--rate: 2000000",
        ),
        (
            &["rdns", "--server", "10.0.0.53", "10.20.0.0/24"],
            "--server: DNS server 10.0.0.53:53: 10.0.0.53 is outside the scope allow-list",
        ),
        (
            &["rdns", "--server", "127.0.0.53", "10.0.0.0/8"],
            "above the limit of 65536",
        ),
        (
            &[
                "rdns",
                "--server",
                "127.0.0.53",
                "--timeout",
                "0",
                "10.20.0.0/24",
            ],
            "--timeout 0",
        ),
        (
            &["rdns", "test", "--server", "127.0.0.53:5300", "not-an-ip"],
            "ADDRESS: 'not-an-ip'",
        ),
        (
            &["rdns", "test", "--server", "127.0.0.53:0", "10.20.0.1"],
            "--server: 0 is not a port",
        ),
        (
            &[
                "rdns",
                "test",
                "--server",
                "127.0.0.53",
                "--labels",
                "0",
                "10.20.0.1",
            ],
            "--labels: 0",
        ),
    ];
    for (args, want) in cases {
        let data = tempfile::tempdir().unwrap();
        let out = otsensor(data.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert!(
            std::fs::read_dir(data.path()).unwrap().next().is_none(),
            "{args:?}: nothing saved"
        );
    }
    // no server at all: clap's own usage error, exit 2 as well
    let out = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["rdns", "--server"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ctrl_c_stops_a_paced_run_and_keeps_what_was_found() {
    let (_, server) = servers().remove(1);
    let data = tempfile::tempdir().unwrap();
    // a /16 at the default 200 queries/s would take five and a half minutes
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["rdns", "--server", &server, "--format", "json", "--data"])
        .arg(data.path())
        .arg(format!("{}.0.0/16", var("DNS_REV_NET")))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended too early"
    );
    let sent = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    // a guard against hanging, not a measurement
    assert!(sent.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopped on request"),
        "{}",
        stderr(&out)
    );

    let log = otsensor(data.path(), &["log", "--format", "json"]);
    let entries = json_lines(&log);
    assert!(entries.len() > 10, "{} entries", entries.len());
    assert!(entries.len() < 65_536, "{} entries", entries.len());
    assert!(entries.iter().all(|e| e["outcome"] == "identified"));
}

#[test]
fn the_configuration_file_sets_the_lookup_defaults() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("otsensor.toml");
    std::fs::write(&config, "[rdns]\ntimeout_ms = 600\nattempts = 2\n").unwrap();
    let silent = std::net::UdpSocket::bind((var("DNS_CLOSED_IP").as_str(), 0)).unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let out = otsensor(
        data.path(),
        &[
            "rdns",
            "test",
            "--server",
            &server,
            "--config",
            config.to_str().unwrap(),
            "fd00::1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains("within 0.6 s (2 UDP queries)"), "{text}");
    assert!(text.contains(".d.f.ip6.arpa"), "{text}");
    drop(silent);

    std::fs::write(&config, "[rdns]\nrate = \"fast\"\n").unwrap();
    let out = otsensor(
        data.path(),
        &[
            "rdns",
            "test",
            "--server",
            &server,
            "--config",
            config.to_str().unwrap(),
            "10.20.0.1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rate"), "{}", stderr(&out));
}
