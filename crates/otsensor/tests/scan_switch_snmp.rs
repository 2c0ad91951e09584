//! `otsensor scan switch` end to end against the testbed's snmpsim (recordings of real switches)
//! and net-snmp's snmpd. Counts are what net-snmp's `snmpbulkwalk` returns from the same agent;
//! identities are what the peers were configured with (testbed/config.sh) or answer to net-snmp.

use otsensor_core::LinkKind;
use otsensor_store::Store;
use otsensor_testkit::{addr, require_snmp_peer, snmpbulkwalk, var};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

/// snmpsim is single-threaded and slow on some lookups: one scan of it at a time.
static SNMPSIM: Mutex<()> = Mutex::new(());

fn otsensor(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("OTSENSOR_SNMP_COMMUNITY")
        .env_remove("OTSENSOR_SNMP_USER")
        .env_remove("OTSENSOR_SNMP_AUTH_PASS")
        .env_remove("OTSENSOR_SNMP_PRIV_PASS")
        .envs(env.iter().copied())
        .output()
        .expect("otsensor runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn snmpsim() -> String {
    let a = addr("SNMPSIM_IP", "SNMPSIM_PORT");
    require_snmp_peer(a, "hpe-procurve", "snmpsim");
    a.to_string()
}

fn snmpd() -> String {
    let a = addr("SNMPD_IP", "SNMPD_PORT");
    require_snmp_peer(a, &var("SNMPD_COMMUNITY"), "snmpd");
    a.to_string()
}

fn walk(community: &str, agent: &str, root: &str) -> Vec<(String, String)> {
    snmpbulkwalk(&["-v2c", "-c", community, agent], root)
}

/// `Hex-STRING: 00 1B 1B 01 02 03` as `00:1b:1b:01:02:03`.
fn mac_text(value: &str) -> Option<String> {
    let hex = value.strip_prefix("Hex-STRING: ")?;
    let octets: Vec<&str> = hex.split_whitespace().collect();
    (octets.len() == 6).then(|| octets.join(":").to_lowercase())
}

/// `STRING: "x"` or `Hex-STRING: 41 42` as text.
fn text(value: &str) -> String {
    if let Some(hex) = value.strip_prefix("Hex-STRING: ") {
        let bytes: Vec<u8> = hex
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        return String::from_utf8_lossy(&bytes).trim().to_string();
    }
    value
        .strip_prefix("STRING: ")
        .unwrap_or(value)
        .trim_matches('"')
        .to_string()
}

/// The MAC in the last six sub-identifiers of an OID.
fn mac_of_index(oid: &str) -> String {
    let parts: Vec<&str> = oid.rsplit('.').take(6).collect();
    parts
        .iter()
        .rev()
        .map(|p| format!("{:02x}", p.parse::<u8>().unwrap()))
        .collect::<Vec<_>>()
        .join(":")
}

fn device<'a>(devices: &'a [Value], ip: &str) -> &'a Value {
    devices
        .iter()
        .find(|d| d["ip"] == ip)
        .unwrap_or_else(|| panic!("no device {ip}"))
}

/// No file of the data directory contains `secret`.
fn assert_not_stored(data: &Path, secret: &str) {
    for entry in std::fs::read_dir(data).unwrap() {
        // SQLite may remove its -wal/-shm files between the listing and the read
        let bytes = match std::fs::read(entry.unwrap().path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading the data directory: {e}"),
        };
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "a secret is stored in clear"
        );
    }
}

#[test]
fn hpe_procurve_switch_stations_and_links_go_into_the_inventory() {
    let agent = snmpsim();
    let _one = SNMPSIM.lock().unwrap_or_else(|e| e.into_inner());
    let data = tempfile::tempdir().unwrap();
    let community = "hpe-procurve";
    let args = [
        "scan",
        "switch",
        "--protocol",
        "snmp-v2c",
        "--timeout",
        "10",
        "--retries",
        "2",
        "--format",
        "json",
        "127.0.0.51",
    ];
    let out = otsensor(
        data.path(),
        &args,
        &[("OTSENSOR_SNMP_COMMUNITY", community)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);

    // the switch itself, as the agent describes it
    let switch = device(&devices, "127.0.0.51");
    let get = |oid: &str| {
        walk(community, &agent, oid)
            .into_iter()
            .next()
            .map(|(_, v)| text(&v))
    };
    assert_eq!(switch["type"], "switch");
    assert_eq!(switch["vendor"], "HPE");
    assert_eq!(switch["name"], "DUMSYS-64");
    assert_eq!(get("1.3.6.1.2.1.1.5").unwrap(), "DUMSYS-64");
    assert_eq!(switch["serial"], "3C421900TX");
    assert!(
        get("1.3.6.1.2.1.47.1.1.1.1.11")
            .unwrap()
            .contains("3C421900TX")
    );
    assert_eq!(switch["firmware"], "Z.14.31");
    assert_eq!(switch["protocols"], serde_json::json!(["snmp"]));

    // its tables, counted as snmpbulkwalk counts them
    let count = |root: &str| walk(community, &agent, root).len() as u64;
    let tables = &switch["switch_tables"];
    assert_eq!(tables["fdb"], count("1.3.6.1.2.1.17.4.3.1.2"));
    assert_eq!(tables["qbridge_fdb"], count("1.3.6.1.2.1.17.7.1.2.2.1.2"));
    assert_eq!(tables["lldp"], count("1.0.8802.1.1.2.1.4.1.1.5"));
    assert_eq!(tables["cdp"], count("1.3.6.1.4.1.9.9.23.1.2.1.1.6"));
    assert_eq!(tables["arp"], count("1.3.6.1.2.1.4.22.1.2"));
    let interfaces = switch["interfaces"].as_array().unwrap();
    assert_eq!(interfaces.len() as u64, count("1.3.6.1.2.1.2.2.1.2"));
    let neighbors = switch["neighbors"].as_array().unwrap();
    assert_eq!(
        neighbors.len() as u64,
        count("1.0.8802.1.1.2.1.4.1.1.5") + count("1.3.6.1.4.1.9.9.23.1.2.1.1.6")
    );

    // every MAC the bridge learned is a device, seen on this switch
    let own: BTreeSet<String> = walk(community, &agent, "1.3.6.1.2.1.2.2.1.6")
        .iter()
        .filter_map(|(_, v)| mac_text(v))
        .collect();
    let learned: BTreeSet<String> = walk(community, &agent, "1.3.6.1.2.1.17.4.3.1.3")
        .iter()
        .filter(|(_, v)| v == "INTEGER: 3")
        .map(|(o, _)| mac_of_index(o))
        .filter(|m| !own.contains(m))
        .collect();
    assert!(learned.len() > 100, "{}", learned.len());
    for mac in &learned {
        let d = devices
            .iter()
            .find(|d| d["mac"] == mac.as_str() && d["ip"] != "127.0.0.51")
            .unwrap_or_else(|| panic!("learned MAC {mac} is not a device"));
        assert_eq!(d["seen_on"][0]["switch"], "127.0.0.51", "{d}");
    }

    // uplinks are never an access port; access ports have an access link in the store
    let uplinks: BTreeSet<u64> = interfaces
        .iter()
        .filter(|i| i["uplink"] == true)
        .map(|i| i["index"].as_u64().unwrap())
        .collect();
    assert!(!uplinks.is_empty());
    let on_access_ports: Vec<&Value> = devices
        .iter()
        .filter(|d| !d["access_port"].is_null())
        .collect();
    assert!(!on_access_ports.is_empty());
    for d in &on_access_ports {
        let port = d["access_port"]["if_index"].as_u64().unwrap();
        assert!(!uplinks.contains(&port), "{d}");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let links = rt.block_on(async {
        let store = Store::open(data.path()).await.unwrap();
        let links = store.links(false).await.unwrap();
        store.close().await;
        links
    });
    let of = |kind: LinkKind| links.iter().filter(|l| l.link.kind == kind).count() as u64;
    assert_eq!(of(LinkKind::Lldp), count("1.0.8802.1.1.2.1.4.1.1.5"));
    assert_eq!(of(LinkKind::Cdp), count("1.3.6.1.4.1.9.9.23.1.2.1.1.6"));
    assert_eq!(of(LinkKind::Access), on_access_ports.len() as u64);

    let err = stderr(&out);
    assert!(
        err.contains("127.0.0.51 (DUMSYS-64): 42 interfaces"),
        "{err}"
    );
    assert!(err.contains("1 identified"), "{err}");
    // the community is sealed, never shown or stored in clear
    assert!(!err.contains(community), "{err}");
    assert_not_stored(data.path(), community);

    // the same switch again, with the credentials saved under their default name
    let again = otsensor(
        data.path(),
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v2c",
            "--timeout",
            "10",
            "--retries",
            "2",
            "--credentials",
            "snmp-v2c community",
            "127.0.0.51",
        ],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(" 0 new, 0 updated"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn cisco_c3750_arp_entries_become_devices_with_their_mac_and_cdp_neighbours() {
    let agent = snmpsim();
    let _one = SNMPSIM.lock().unwrap_or_else(|e| e.into_inner());
    let data = tempfile::tempdir().unwrap();
    let community = "cisco-c3750";
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v2c",
            "--community",
            community,
            "--timeout",
            "10",
            "--retries",
            "2",
            "--format",
            "json",
            "127.0.0.51",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    let switch = device(&devices, "127.0.0.51");
    assert_eq!(switch["vendor"], "Cisco");
    assert_eq!(switch["firmware"], "12.2(50)SE5");
    let own: BTreeSet<String> = walk(community, &agent, "1.3.6.1.2.1.2.2.1.6")
        .iter()
        .filter_map(|(_, v)| mac_text(v))
        .collect();
    let arp = walk(community, &agent, "1.3.6.1.2.1.4.22.1.2");
    assert_eq!(switch["switch_tables"]["arp"], arp.len() as u64);
    let mut stations = 0;
    for (oid, value) in &arp {
        let ip: Vec<&str> = oid.rsplit('.').take(4).collect();
        let ip = ip.into_iter().rev().collect::<Vec<_>>().join(".");
        let mac = mac_text(value).unwrap();
        if own.contains(&mac) {
            continue;
        }
        stations += 1;
        assert_eq!(device(&devices, &ip)["mac"], mac.as_str(), "{ip}");
    }
    assert!(stations > 0);
    let cdp = walk(community, &agent, "1.3.6.1.4.1.9.9.23.1.2.1.1.6").len();
    assert_eq!(switch["neighbors"].as_array().unwrap().len(), cdp);
    // snmpsim has no community@vlan: said once, not 270 times
    let err = stderr(&out);
    assert_eq!(err.matches("community@vlan").count(), 1, "{err}");
}

#[test]
fn snmpd_over_v3_authpriv_with_secrets_from_the_environment() {
    let _agent = snmpd();
    let data = tempfile::tempdir().unwrap();
    let (auth, privacy) = (var("SNMPD_V3_AUTH"), var("SNMPD_V3_PRIV"));
    let user = var("SNMPD_V3_USER");
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v3",
            "--user",
            &user,
            "--auth-proto",
            "SHA",
            "--priv-proto",
            "AES",
            "--credentials",
            "plant",
            "--format",
            "json",
            "127.0.0.60",
        ],
        &[
            ("OTSENSOR_SNMP_AUTH_PASS", &auth),
            ("OTSENSOR_SNMP_PRIV_PASS", &privacy),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let devices = json_lines(&out);
    let agent = device(&devices, &var("SNMPD_IP"));
    assert_eq!(agent["name"], var("SNMPD_SYSNAME").as_str());
    assert_eq!(agent["location"], var("SNMPD_SYSLOCATION").as_str());
    assert!(
        agent["interfaces"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
    );
    for secret in [&auth, &privacy] {
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret.as_str()));
        assert!(!stderr(&out).contains(secret.as_str()));
        assert_not_stored(data.path(), secret);
    }
    // later scans name the saved credentials only
    let again = otsensor(
        data.path(),
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v3",
            "--credentials",
            "plant",
            "127.0.0.60",
        ],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("1 identified"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn snmpd_over_v1_and_v2c() {
    let _agent = snmpd();
    for protocol in ["snmp-v1", "snmp-v2c"] {
        let data = tempfile::tempdir().unwrap();
        let out = otsensor(
            data.path(),
            &[
                "scan",
                "switch",
                "--protocol",
                protocol,
                "--format",
                "json",
                "127.0.0.60",
            ],
            &[("OTSENSOR_SNMP_COMMUNITY", &var("SNMPD_COMMUNITY"))],
        );
        assert!(out.status.success(), "{protocol}: {}", stderr(&out));
        let devices = json_lines(&out);
        assert_eq!(
            device(&devices, &var("SNMPD_IP"))["name"],
            var("SNMPD_SYSNAME").as_str(),
            "{protocol}"
        );
    }
}

/// The probe log's entry of the latest run.
fn logged(data: &Path) -> Value {
    let out = otsensor(data, &["log", "--format", "json"], &[]);
    json_lines(&out).into_iter().next().expect("one log entry")
}

#[test]
fn wrong_credentials_are_each_reported_as_what_they_are() {
    let _agent = snmpd();
    let user = var("SNMPD_V3_USER");
    let (auth, privacy) = (var("SNMPD_V3_AUTH"), var("SNMPD_V3_PRIV"));
    let v3 = |u: &str, a: &str, p: &str| {
        vec![
            "--protocol".to_string(),
            "snmp-v3".into(),
            "--user".into(),
            u.into(),
            "--auth-proto".into(),
            "SHA".into(),
            "--auth-pass".into(),
            a.into(),
            "--priv-proto".into(),
            "AES".into(),
            "--priv-pass".into(),
            p.into(),
        ]
    };
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            vec![
                "--protocol".into(),
                "snmp-v2c".into(),
                "--community".into(),
                "not-the-community".into(),
            ],
            "no_response",
            "wrong community",
        ),
        (
            v3("no-such-user", &auth, &privacy),
            "error",
            "is unknown to the agent",
        ),
        (
            v3(&user, "wrong-auth-pass", &privacy),
            "error",
            "wrong authentication password",
        ),
        (
            v3(&user, &auth, "wrong-priv-pass"),
            "error",
            "wrong privacy password",
        ),
    ];
    for (options, outcome, says) in cases {
        let data = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = vec![
            "scan".into(),
            "switch".into(),
            "--timeout".into(),
            "1".into(),
        ];
        args.extend(options);
        args.push("127.0.0.60".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = otsensor(data.path(), &args, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{says}: {}", stderr(&out));
        let entry = logged(data.path());
        assert_eq!(entry["outcome"], outcome, "{says}: {entry}");
        assert!(entry["error"].as_str().unwrap().contains(says), "{entry}");
    }
}

#[test]
fn bad_switch_options_exit_2_naming_the_option() {
    let data = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--protocol", "snmp-v3", "127.0.0.60"], "--user"),
        (&["--protocol", "snmp-v2c", "127.0.0.60"], "--community"),
        (
            &[
                "--protocol",
                "snmp-v3",
                "--user",
                "u",
                "--auth-proto",
                "SHA",
                "--auth-pass",
                "short",
                "127.0.0.60",
            ],
            "at least 8 characters",
        ),
        (
            &[
                "--protocol",
                "snmp-v3",
                "--user",
                "u",
                "--auth-proto",
                "SHA3",
                "--auth-pass",
                "long-enough",
                "127.0.0.60",
            ],
            "--auth-proto",
        ),
        (
            &[
                "--protocol",
                "snmp-v2c",
                "--vendor",
                "acme",
                "--community",
                "c",
                "127.0.0.60",
            ],
            "acme",
        ),
    ];
    for (options, says) in cases {
        let mut args = vec!["scan", "switch"];
        args.extend_from_slice(options);
        let out = otsensor(data.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{options:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{options:?}: {}", stderr(&out));
    }
}
