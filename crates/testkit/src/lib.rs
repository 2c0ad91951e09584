//! Test support: what the testbed peers were started with, read from `testbed/config.sh`.
//!
//! Tests assert the values the peers were configured with, so they read them from the one file
//! the start scripts read, never from copies.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The repository's `testbed/` folder.
pub fn testbed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testbed")
}

fn variables() -> &'static HashMap<String, String> {
    static VARS: OnceLock<HashMap<String, String>> = OnceLock::new();
    VARS.get_or_init(|| {
        let config = testbed_dir().join("config.sh");
        let out = Command::new("bash")
            .arg("-c")
            .arg(r#"set -a; . "$1" >/dev/null; env -0"#)
            .arg("bash")
            .arg(&config)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap_or_else(|e| panic!("sourcing {}: {e}", config.display()));
        assert!(out.status.success(), "sourcing {} failed", config.display());
        out.stdout
            .split(|b| *b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (k, v) = entry.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect()
    })
}

/// A variable of `testbed/config.sh`; panics naming it when it is not set.
pub fn var(name: &str) -> String {
    variables()
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("testbed/config.sh does not set {name}"))
}

/// `IP` and `PORT` variables as a socket address, e.g. `addr("MODBUS_IP", "MODBUS_PORT")`.
pub fn addr(ip_var: &str, port_var: &str) -> SocketAddr {
    format!("{}:{}", var(ip_var), var(port_var))
        .parse()
        .unwrap_or_else(|e| panic!("{ip_var}/{port_var}: {e}"))
}

/// Fails the test with a clear message when no TCP peer listens at `addr`.
pub fn require_tcp_peer(addr: SocketAddr, peer: &str) {
    if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
        panic!(
            "testbed peer '{peer}' is not listening on {addr}: run `testbed/setup.sh && testbed/start.sh {peer}` (scripts/test.sh does it)"
        );
    }
}

/// Runs net-snmp's `snmpbulkwalk -On -Ox` (numeric OIDs, octet strings in hex, so every value is
/// on one line) with `args` then `root`, and returns the (OID without the leading dot, value)
/// pairs under `root`. Panics, naming the command, when net-snmp is missing or the walk fails.
pub fn snmpbulkwalk(args: &[&str], root: &str) -> Vec<(String, String)> {
    let out = Command::new("snmpbulkwalk")
        .args(["-On", "-Ox", "-t", "10", "-r", "2"])
        .args(args)
        .arg(root)
        .output()
        .unwrap_or_else(|e| panic!("snmpbulkwalk (net-snmp's snmp package) cannot run: {e}"));
    assert!(
        out.status.success(),
        "snmpbulkwalk {args:?} {root} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = format!(".{root}.");
    let mut pairs: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line.split_once(" = ") {
            Some((oid, value)) if oid.starts_with('.') => {
                pairs.push((oid.to_string(), value.to_string()));
            }
            // net-snmp wraps long hex values: a continuation of the previous value
            _ => {
                if let Some((_, value)) = pairs.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            }
        }
    }
    pairs
        .into_iter()
        .filter(|(oid, _)| oid.starts_with(&prefix))
        .map(|(oid, value)| {
            (
                oid.trim_start_matches('.').to_string(),
                value.trim().to_string(),
            )
        })
        .collect()
}

/// Fails the test with a clear message when no SNMP agent answers at `addr` (UDP) with the
/// SNMPv2c `community` (asks sysUpTime.0 with net-snmp's `snmpget`).
pub fn require_snmp_peer(addr: SocketAddr, community: &str, peer: &str) {
    let answered = Command::new("snmpget")
        .args(["-v2c", "-c", community, "-t", "3", "-r", "2", "-On"])
        .arg(addr.to_string())
        .arg("1.3.6.1.2.1.1.3.0")
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false);
    if !answered {
        panic!(
            "testbed peer '{peer}' does not answer SNMP on {addr}: run `testbed/setup.sh && testbed/start.sh {peer}` (scripts/test.sh does it)"
        );
    }
}
