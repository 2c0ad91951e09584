//! Ctrl-C stops a running /16 sweep within one second and keeps what was found.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_stops_a_slash_16_sweep_within_one_second() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["scan", "plc", "--protocol", "modbus", "--data"])
        .arg(data.path())
        .arg("127.3.0.0/16")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the sweep ended too early"
    );
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
    assert_eq!(status.code(), Some(1), "a cancelled scan exits 1");

    let log = Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(["log", "--format", "json", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let entries: Vec<Value> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(entries.len() > 100, "{} entries", entries.len());
    assert!(entries.len() < 65_536, "{} entries", entries.len());
}
