//! `otsensor sim` end to end: the ready line, our own scanners (`scan plc` per protocol at depth 1,
//! `scan switch`, `rdns`) find exactly the identities the plant was generated with, and
//! third-party tools (nmap's ICS scripts, net-snmp, dig) understand the simulator.
//!
//! Every test runs its own simulator on its own /24 inside 127.10.0.0/16 (the demo plant's
//! block; the demo itself uses 127.10.0.0/24), and the same seed, so `Plant::generate` here gives
//! the plant the simulator serves.

mod common;

use common::otsensor;
use otsensor_sim::plant::{Kind, Plant, PlantConfig};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// A running `otsensor sim`, killed when dropped.
struct Sim {
    child: Child,
    ready: Value,
    plant: Plant,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(net: &str, devices: usize) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args([
            "sim",
            "--net",
            net,
            "--devices",
            &devices.to_string(),
            "--seed",
            "3",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("otsensor sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a ready line");
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("otsensor sim printed no JSON ready line ({e}): {line:?}"));
    let plant = Plant::generate(&PlantConfig {
        devices,
        net: net.parse().unwrap(),
        seed: 3,
    })
    .unwrap();
    Sim {
        child,
        ready,
        plant,
    }
}

fn addresses(ready: &Value, kind: &str) -> Vec<String> {
    ready[kind]["addresses"]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} addresses in {ready}"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "otsensor failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Top-level devices by address, and sub-devices by (parent, position).
fn split(lines: &[Value]) -> (BTreeMap<String, Value>, BTreeMap<(String, String), Value>) {
    let mut top = BTreeMap::new();
    let mut sub = BTreeMap::new();
    for l in lines {
        // devices known by their MAC only (bridge tables) have no address
        let Some(ip) = l["ip"].as_str().map(str::to_string) else {
            continue;
        };
        match l["parent"].as_str() {
            None => {
                top.insert(ip, l.clone());
            }
            Some(_) => {
                sub.insert(
                    (ip, l["position"].as_str().unwrap_or("").to_string()),
                    l.clone(),
                );
            }
        }
    }
    (top, sub)
}

fn scan_plc(data: &Path, protocol: &str, targets: &[String]) -> Vec<Value> {
    let targets = targets.join(",");
    let out = otsensor(
        data,
        &[
            "scan",
            "plc",
            "--protocol",
            protocol,
            "--depth",
            "1",
            "--allow",
            "127.10.0.0/16",
            "--format",
            "json",
            &targets,
        ],
    );
    json_lines(&out)
}

#[test]
fn the_ready_line_says_where_every_kind_of_device_is() {
    let sim = start_sim("127.10.1.0/24", 12);
    assert_eq!(sim.ready["ready"], true);
    assert_eq!(sim.ready["devices"], 12);
    assert_eq!(sim.ready["net"], "127.10.1.0/24");
    assert_eq!(sim.ready["dns"], "127.10.1.1:53");
    for (kind, port, plant_kind) in [
        ("modbus", 502, "modbus"),
        ("s7", 102, "s7"),
        ("enip", 44818, "enip"),
        ("bacnet", 47808, "bacnet"),
        ("snmp", 161, "switch"),
    ] {
        assert_eq!(sim.ready[kind]["port"], port);
        let want: Vec<String> = sim
            .plant
            .of_kind(plant_kind)
            .map(|d| d.ip.to_string())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(addresses(&sim.ready, kind), want, "{kind}");
    }
}

#[test]
fn plc_scans_find_exactly_the_generated_identities() {
    let sim = start_sim("127.10.2.0/24", 16);
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    let (top, sub) = split(&scan_plc(d, "modbus", &addresses(&sim.ready, "modbus")));
    for device in sim.plant.of_kind("modbus") {
        let Kind::Modbus(m) = &device.kind else {
            unreachable!()
        };
        let got = &top[&device.ip.to_string()];
        assert_eq!(got["vendor"], m.ident.vendor.as_str());
        assert_eq!(got["product_code"], m.ident.product_code.as_str());
        assert_eq!(got["firmware"], m.ident.revision.as_str());
        assert_eq!(got["model"], m.ident.model.as_str());
        for (unit, ident) in &m.units {
            let key = (device.ip.to_string(), format!("unit:{unit}"));
            let unit_dev = sub
                .get(&key)
                .unwrap_or_else(|| panic!("no unit {key:?} in {sub:?}"));
            assert_eq!(unit_dev["product_code"], ident.product_code.as_str());
        }
        let units = sub
            .keys()
            .filter(|(ip, _)| *ip == device.ip.to_string())
            .count();
        assert_eq!(units, m.units.len(), "units behind {}", device.ip);
    }

    let (top, sub) = split(&scan_plc(d, "s7", &addresses(&sim.ready, "s7")));
    for device in sim.plant.of_kind("s7") {
        let Kind::S7(s) = &device.kind else {
            unreachable!()
        };
        let got = &top[&device.ip.to_string()];
        assert_eq!(got["vendor"], "Siemens");
        assert_eq!(got["product_code"], s.order_code.as_str());
        assert_eq!(got["serial"], s.serial.as_str());
        assert_eq!(got["name"], s.plc_name.as_str());
        assert_eq!(got["location"], s.plant_id.as_str());
        assert_eq!(got["plc_mode"], if s.running { "run" } else { "stop" });
        let [a, b, c] = s.firmware;
        assert_eq!(got["firmware"], format!("{a}.{b}.{c}"));
        let slots: Vec<String> = sub
            .keys()
            .filter(|(ip, _)| *ip == device.ip.to_string())
            .map(|(_, p)| p.clone())
            .collect();
        let want: Vec<String> = s.slots.iter().map(|s| format!("slot:{s}")).collect();
        let mut slots_sorted = slots.clone();
        slots_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(slots_sorted, want_sorted, "rack of {}", device.ip);
    }

    let (top, sub) = split(&scan_plc(d, "enip", &addresses(&sim.ready, "enip")));
    for device in sim.plant.of_kind("enip") {
        let Kind::Enip(e) = &device.kind else {
            unreachable!()
        };
        let got = &top[&device.ip.to_string()];
        assert_eq!(got["vendor_id"], 1);
        assert_eq!(got["product_name"], e.ident.name.as_str());
        assert_eq!(got["serial"], format!("{:#010x}", e.ident.serial));
        for (slot, ident) in &e.slots {
            let key = (device.ip.to_string(), format!("slot:{slot}"));
            let module = sub.get(&key).unwrap_or_else(|| panic!("no module {key:?}"));
            assert_eq!(module["product_name"], ident.name.as_str());
            assert_eq!(module["serial"], format!("{:#010x}", ident.serial));
        }
        let modules = sub
            .keys()
            .filter(|(ip, _)| *ip == device.ip.to_string())
            .count();
        assert_eq!(modules, e.slots.len(), "modules of {}", device.ip);
    }

    let (top, sub) = split(&scan_plc(d, "bacnet", &addresses(&sim.ready, "bacnet")));
    for device in sim.plant.of_kind("bacnet") {
        let Kind::Bacnet(b) = &device.kind else {
            unreachable!()
        };
        let got = &top[&device.ip.to_string()];
        assert_eq!(got["bacnet_instance"], b.ident.instance);
        assert_eq!(got["name"], b.ident.object_name.as_str());
        assert_eq!(got["model"], b.ident.model.as_str());
        assert_eq!(got["vendor_id"], b.ident.vendor_id);
        let routed: Vec<&Value> = sub
            .iter()
            .filter(|((ip, _), _)| *ip == device.ip.to_string())
            .map(|(_, v)| v)
            .collect();
        assert_eq!(routed.len(), b.routed.len(), "devices behind {}", device.ip);
        for (_, _, ident) in &b.routed {
            assert!(
                routed.iter().any(|r| r["bacnet_instance"] == ident.instance
                    && r["name"] == ident.object_name.as_str()),
                "routed device {} behind {}",
                ident.instance,
                device.ip
            );
        }
    }
}

#[test]
fn switch_scans_and_reverse_dns_find_the_plant() {
    let sim = start_sim("127.10.3.0/24", 16);
    let data = tempfile::tempdir().unwrap();
    let switches = addresses(&sim.ready, "snmp").join(",");
    let out = otsensor(
        data.path(),
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v2c",
            "--community",
            "public",
            "--allow",
            "127.10.0.0/16",
            "--format",
            "json",
            &switches,
        ],
    );
    let lines = json_lines(&out);
    assert!(
        lines.iter().all(|l| l["ip"].is_string()),
        "every device the switches saw is joined to its address (ARP and bridge tables agree)"
    );
    let (top, _) = split(&lines);
    assert_eq!(top.len(), sim.plant.devices.len());
    for device in &sim.plant.devices {
        let got = top
            .get(&device.ip.to_string())
            .unwrap_or_else(|| panic!("{} not seen by the switches", device.ip));
        assert_eq!(got["mac"], device.mac_text(), "{}", device.ip);
        if let (Some((switch, port)), false) =
            (device.attached, matches!(device.kind, Kind::Switch(_)))
        {
            let access = &got["access_port"];
            assert_eq!(access["switch"], sim.plant.devices[switch].ip.to_string());
            assert_eq!(access["if_index"], port, "access port of {}", device.ip);
        }
        if let Kind::Switch(sw) = &device.kind {
            assert_eq!(got["type"], "switch");
            assert_eq!(got["name"], device.hostname.as_str());
            assert_eq!(got["serial"], sw.serial.as_str());
            assert_eq!(got["model"], sw.model.as_str());
            let neighbours = got["neighbors"].as_array().unwrap();
            assert!(!neighbours.is_empty(), "LLDP neighbours of {}", device.ip);
        }
    }

    let dns = sim.ready["dns"].as_str().unwrap().to_string();
    let out = otsensor(
        data.path(),
        &[
            "rdns",
            "--server",
            &dns,
            "--allow",
            "127.10.0.0/16",
            "--format",
            "json",
            "127.10.3.0/27",
        ],
    );
    let lines = json_lines(&out);
    for device in &sim.plant.devices {
        let line = lines
            .iter()
            .find(|l| l["ip"] == device.ip.to_string())
            .unwrap_or_else(|| panic!("no rdns line for {}", device.ip));
        assert_eq!(line["fqdn"], device.fqdn(), "{}", device.ip);
    }
}

fn tool(name: &str) -> Command {
    let found = Command::new("which")
        .arg(name)
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(found, Ok(true)),
        "{name} is not installed: the third-party checks need nmap, net-snmp (snmpget, snmpbulkwalk) and dig"
    );
    Command::new(name)
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("tool runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn third_party_tools_understand_the_simulator() {
    let sim = start_sim("127.10.4.0/24", 12);
    let first = |kind: &str| {
        sim.plant
            .of_kind(kind)
            .find(|d| match &d.kind {
                Kind::Modbus(m) => m.units.is_empty(),
                _ => true,
            })
            .unwrap()
            .clone()
    };
    let nmap = |port: &str, udp: bool, script: &str, ip: &str| {
        let mut cmd = tool("nmap");
        cmd.args([
            "-n",
            "-Pn",
            if udp { "-sU" } else { "-sT" },
            "-p",
            port,
            "--script",
            script,
            ip,
        ]);
        run(cmd)
    };

    let m = first("modbus");
    let Kind::Modbus(mb) = &m.kind else {
        unreachable!()
    };
    let out = nmap("502", false, "modbus-discover", &m.ip.to_string());
    assert!(
        out.contains(&format!(
            "Device identification: {} {}",
            mb.ident.vendor, mb.ident.product_code
        )),
        "{out}"
    );

    let s = first("s7");
    let Kind::S7(st) = &s.kind else {
        unreachable!()
    };
    let out = nmap("102", false, "s7-info", &s.ip.to_string());
    assert!(out.contains(&format!("Module: {}", st.order_code)), "{out}");
    assert!(
        out.contains(&format!("Serial Number: {}", st.serial)),
        "{out}"
    );

    let e = first("enip");
    let Kind::Enip(en) = &e.kind else {
        unreachable!()
    };
    let out = nmap("44818", false, "enip-info", &e.ip.to_string());
    assert!(
        out.contains(&format!("productName: {}", en.ident.name)),
        "{out}"
    );
    assert!(
        out.contains(&format!("serialNumber: {:#010x}", en.ident.serial)),
        "{out}"
    );

    let b = first("bacnet");
    let Kind::Bacnet(bn) = &b.kind else {
        unreachable!()
    };
    let out = nmap("47808", true, "bacnet-info", &b.ip.to_string());
    assert!(
        out.contains(&format!("Object Name: {}", bn.ident.object_name)),
        "{out}"
    );
    assert!(
        out.contains(&format!("Model Name: {}", bn.ident.model)),
        "{out}"
    );

    let sw = &sim.plant.devices[0];
    let mut cmd = tool("snmpget");
    cmd.args([
        "-v2c",
        "-c",
        "public",
        "-Oqv",
        &sw.ip.to_string(),
        "1.3.6.1.2.1.1.5.0",
    ]);
    assert_eq!(run(cmd).trim().trim_matches('"'), sw.hostname);
    let mut cmd = tool("snmpbulkwalk");
    cmd.args([
        "-v2c",
        "-c",
        "public",
        "-Oqn",
        &sw.ip.to_string(),
        "1.3.6.1.2.1.4.22.1.2",
    ]);
    let arp = run(cmd);
    // the core switch's ARP table holds every device of the plant
    assert_eq!(arp.lines().count(), sim.plant.devices.len(), "{arp}");

    let mut cmd = tool("dig");
    let dns = sim.ready["dns"].as_str().unwrap().to_string();
    let (server, port) = dns.split_once(':').unwrap();
    cmd.args([
        "+short",
        "-p",
        port,
        &format!("@{server}"),
        "-x",
        &s.ip.to_string(),
    ]);
    assert_eq!(run(cmd).trim(), format!("{}.", s.fqdn()));
}

#[test]
fn bad_plants_are_refused_with_usage_errors_and_no_ready_line() {
    for args in [
        ["--devices", "3", "--net", "127.10.9.0/24"],
        ["--devices", "12", "--net", "10.0.0.0/24"],
        ["--devices", "400", "--net", "127.10.9.0/24"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_otsensor"))
            .arg("sim")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "no ready line for {args:?}");
        assert!(!out.stderr.is_empty());
    }
}
