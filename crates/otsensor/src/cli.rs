//! The command line, as DESIGN.md's contract lays it out.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// otsensor: safe, scheduled active monitoring for OT networks.
#[derive(Debug, Parser)]
#[command(name = "otsensor", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan targets and add what answers to the inventory.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// List the devices of the inventory.
    Devices(DevicesArgs),
    /// Show the probe log of a run (the latest by default): one line per probed target.
    Log(LogArgs),
    /// Run a simulated plant with the console (not yet: see the README).
    Demo(CommonArgs),
    /// Run the sensor service: the REST API over HTTPS and the scheduler.
    Serve(ServeArgs),
    /// Manage the service's users.
    #[command(subcommand)]
    User(UserCommand),
}

/// The scan use cases.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// PLC discovery and enrichment.
    Plc(PlcScanArgs),
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Configuration file (TOML).
    #[arg(long, value_name = "FILE", env = "OTSENSOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (the store) [default: ./otsensor-data].
    #[arg(long, value_name = "DIR", env = "OTSENSOR_DATA")]
    pub data: Option<PathBuf>,
}

/// Pacing and scope options every scanning command takes.
#[derive(Debug, Args, Clone)]
pub struct PacingArgs {
    /// Packets per second overall (0 lifts the limit) [default: 1000].
    #[arg(long, value_name = "PPS")]
    pub rate: Option<u32>,
    /// Packets per second to one device (0 lifts the limit) [default: 40].
    #[arg(long, value_name = "PPS")]
    pub per_device_rate: Option<u32>,
    /// Devices probed at once [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub parallel: Option<u32>,
    /// Widen the scope allow-list by this network (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Time limit of each stage (connect, each request), in seconds [default: 5].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Time limit of the whole scan, in seconds (0: none) [default: 0].
    #[arg(long, value_name = "SECS")]
    pub scan_timeout: Option<u64>,
    /// Stop after this many devices, sub-devices included (0: none) [default: 0].
    #[arg(long, value_name = "N")]
    pub device_limit: Option<usize>,
    /// Most addresses one scan may cover [default: 65536].
    #[arg(long, value_name = "N")]
    pub max_targets: Option<u64>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table for people.
    Table,
    /// JSON Lines: one object per device.
    Json,
    /// CSV with a header line.
    Csv,
}

/// PLC protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlcProtocol {
    /// Modbus/TCP (TCP 502).
    Modbus,
    /// Siemens S7comm (TCP 102).
    S7,
    /// EtherNet/IP with CIP (TCP/UDP 44818).
    Enip,
    /// BACnet/IP (UDP 47808).
    Bacnet,
}

/// `otsensor scan plc`.
#[derive(Debug, Args)]
pub struct PlcScanArgs {
    /// The protocol to speak.
    #[arg(long, value_enum)]
    pub protocol: PlcProtocol,
    /// Port [default: the protocol's standard port].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// How deep to look behind each device (Modbus: 1 sweeps unit IDs 1-247).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub depth: u8,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Addresses, CIDR blocks, ranges A-B, or comma lists of these.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub pacing: PacingArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The run (default: the latest).
    #[arg(long, value_name = "N")]
    pub run: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: server.listen, else 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve plain HTTP instead of HTTPS (only behind a TLS proxy on the same host).
    #[arg(long)]
    pub insecure_http: bool,
    /// Certificate chain to serve (PEM) [default: a self-signed one made in the data directory].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (password from OTSENSOR_PASSWORD, else asked for).
    Add(UserAddArgs),
}

/// Roles of the service's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything.
    Admin,
    /// Sees everything; runs and stops existing scans.
    Analyst,
    /// Sees.
    Readonly,
}

/// `otsensor user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The login name.
    pub name: String,
    /// What the user may do.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    #[command(flatten)]
    pub common: CommonArgs,
}
