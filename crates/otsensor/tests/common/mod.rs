//! Helpers the command-line test files share: run the binary on a data directory, read its
//! output.

#![allow(dead_code)] // each test file uses its own subset

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `otsensor ARGS --data DATA` to its end.
pub fn otsensor(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otsensor"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("otsensor runs")
}

/// Standard output as JSON Lines, one value per line (a line that is not JSON fails the test).
pub fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text value of `key` in a device (a missing or non-text value fails the test).
pub fn field<'a>(device: &'a Value, key: &str) -> &'a str {
    device[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {device}"))
}
