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
