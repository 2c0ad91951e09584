//! The configuration file (TOML) and how command-line options override it.

use crate::cli::{CommonArgs, PacingArgs};
use crate::error::CliError;
use ipnet::IpNet;
use otsensor_core::{Pacing, Scope, target::DEFAULT_MAX_ADDRESSES};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./otsensor-data";

/// The configuration file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data directory (the store).
    pub data_dir: Option<PathBuf>,
    /// The scope allow-list.
    #[serde(default)]
    pub scope: ScopeConfig,
    /// Pacing defaults.
    #[serde(default)]
    pub pacing: Pacing,
    /// Target-set bounds.
    #[serde(default)]
    pub targets: TargetsConfig,
    /// Reverse DNS lookup defaults.
    #[serde(default)]
    pub rdns: RdnsConfig,
}

/// `[rdns]`: how lookups against a DNS server are paced by default.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RdnsConfig {
    /// Queries per second to one DNS server (0 lifts the limit). Default 200.
    pub rate: u32,
    /// Queries outstanding at once. Default 64.
    pub parallel: usize,
    /// Time limit of one address's lookup, in milliseconds. Default 5000.
    pub timeout_ms: u64,
    /// UDP queries per question. Default 3.
    pub attempts: u32,
}

impl Default for RdnsConfig {
    fn default() -> Self {
        RdnsConfig {
            rate: otsensor_dns::resolver::DEFAULT_RATE,
            parallel: otsensor_dns::resolver::DEFAULT_IN_FLIGHT,
            timeout_ms: otsensor_dns::resolver::DEFAULT_TIMEOUT.as_millis() as u64,
            attempts: otsensor_dns::resolver::DEFAULT_ATTEMPTS,
        }
    }
}

/// `[scope]`: networks the sensor may touch besides loopback.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    /// CIDR blocks.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// `[targets]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetsConfig {
    /// Most addresses one scan may cover.
    pub max_addresses: u64,
}

impl Default for TargetsConfig {
    fn default() -> Self {
        TargetsConfig {
            max_addresses: DEFAULT_MAX_ADDRESSES,
        }
    }
}

impl Config {
    /// Reads the file named by `--config`, or the defaults when none is named.
    pub fn load(common: &CommonArgs) -> Result<Config, CliError> {
        let Some(path) = &common.config else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--config {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
    }

    /// The data directory: `--data`, else the file's `data_dir`, else the default.
    pub fn data_dir(&self, common: &CommonArgs) -> PathBuf {
        common
            .data
            .clone()
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| Path::new(DEFAULT_DATA_DIR).to_path_buf())
    }

    /// Loopback, widened by `scope.allow` and `--allow`.
    pub fn scope(&self, args: &PacingArgs) -> Result<Scope, CliError> {
        self.scope_with(&args.allow)
    }

    /// Loopback, widened by `scope.allow` and the `--allow` networks `allow`.
    pub fn scope_with(&self, allow: &[String]) -> Result<Scope, CliError> {
        let from_file = self.scope.allow.iter().map(|s| parse_net(s, "scope.allow"));
        let from_args = allow.iter().map(|s| parse_net(s, "--allow"));
        let nets: Vec<IpNet> = from_file.chain(from_args).collect::<Result<_, _>>()?;
        Ok(Scope::with(nets))
    }

    /// The file's pacing, overridden by the command line.
    pub fn pacing(&self, args: &PacingArgs) -> Result<Pacing, CliError> {
        let mut p = self.pacing;
        if let Some(v) = args.rate {
            p.rate = v;
        }
        if let Some(v) = args.per_device_rate {
            p.per_device_rate = v;
        }
        if let Some(v) = args.parallel {
            p.parallel = v as usize;
        }
        if let Some(secs) = args.timeout {
            if !(0.01..=600.0).contains(&secs) {
                return Err(CliError::usage(format!(
                    "--timeout {secs}: must be from 0.01 to 600 seconds"
                )));
            }
            p.timeout_ms = (secs * 1000.0).round() as u64;
        }
        if let Some(v) = args.scan_timeout {
            p.scan_timeout_secs = v;
        }
        if let Some(v) = args.device_limit {
            p.device_limit = v;
        }
        if p.parallel == 0 {
            return Err(CliError::usage("pacing.parallel: must be at least 1"));
        }
        Ok(p)
    }

    /// The bound on addresses per scan.
    pub fn max_targets(&self, args: &PacingArgs) -> u64 {
        args.max_targets.unwrap_or(self.targets.max_addresses)
    }
}

fn parse_net(s: &str, field: &str) -> Result<IpNet, CliError> {
    s.trim()
        .parse::<IpNet>()
        .or_else(|_| s.trim().parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| CliError::usage(format!("{field} {s}: not a CIDR block")))
}
