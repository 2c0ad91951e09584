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
    /// Windows endpoint monitoring: WMI inventory of Windows hosts.
    #[command(subcommand)]
    Wem(WemCommand),
    /// Reverse DNS: look up the names of every address of subnets on a DNS server, and write
    /// them into the inventory's devices; `rdns test` looks up one address.
    Rdns(RdnsArgs),
    /// Run a simulated plant with the console: a fresh store, an admin with a random password
    /// (printed once), ready-made scans of every kind run once; until Ctrl-C.
    Demo(DemoArgs),
    /// Run a simulated plant on loopback addresses in the foreground until Ctrl-C; prints one
    /// JSON "ready" line saying where each kind of device and the DNS server are.
    Sim(SimArgs),
    /// Run the sensor service: the REST API over HTTPS and the scheduler.
    Serve(ServeArgs),
    /// Manage the service's users.
    #[command(subcommand)]
    User(UserCommand),
}

/// `otsensor demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Data directory of the demo's store [default: a new temporary directory].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address and port of the console [default: 127.0.0.1:8443].
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Devices of the simulated plant (switches included), at least 6; the plant lives in
    /// 127.10.0.0/16.
    #[arg(long, default_value_t = 24, value_name = "N")]
    pub devices: usize,
}

/// `otsensor sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Devices with an address of their own (switches included), at least 6.
    #[arg(long, default_value_t = 24, value_name = "N")]
    pub devices: usize,
    /// The loopback block the plant's addresses come from.
    #[arg(long, default_value = "127.10.0.0/16", value_name = "CIDR")]
    pub net: ipnet::Ipv4Net,
    /// Where the DNS server listens (default: the block's first address, port 53).
    #[arg(long, value_name = "ADDR:PORT")]
    pub dns: Option<SocketAddr>,
    /// The seed of the plant's identities (the same seed gives the same plant).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The scan use cases.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// PLC discovery and enrichment.
    Plc(Box<PlcScanArgs>),
    /// Switch discovery over SNMP: switches, the devices they have seen (IP, MAC, port, VLAN),
    /// their LLDP/CDP neighbours and the links between them.
    Switch(Box<SwitchScanArgs>),
}

/// The WEM use cases.
#[derive(Debug, Subcommand)]
pub enum WemCommand {
    /// Import the ranges file (replacing the stored ranges; an empty PASSWORD keeps the stored
    /// one), then scan every enabled range over WMI.
    Scan(WemScanArgs),
    /// Import a ranges file without scanning.
    Import(WemImportArgs),
    /// Export the stored ranges (PASSWORD left empty).
    Export(WemExportArgs),
    /// Show or set the schedule: `manual`, `every 6h`, or times of day `02:00,14:00`.
    Schedule(WemScheduleArgs),
}

/// WMI authentication levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WmiLevel {
    /// Every PDU signed (the least hardened hosts accept since the 2023 DCOM change).
    Integrity,
    /// Every PDU signed and encrypted.
    Privacy,
}

/// `otsensor wem scan`.
#[derive(Debug, Args)]
pub struct WemScanArgs {
    /// Ranges file: CSV with the headers FROM,TO,USER,PASSWORD,DISABLE.
    #[arg(long, value_name = "FILE.csv")]
    pub ranges: PathBuf,
    /// Write the results here: CSV, one row per host that answered.
    #[arg(long, value_name = "FILE.csv")]
    pub results: Option<PathBuf>,
    /// Write the probe log here: CSV, one row per address probed.
    #[arg(long, value_name = "FILE.csv")]
    pub log: Option<PathBuf>,
    /// RPC authentication level.
    #[arg(long, value_enum, default_value_t = WmiLevel::Privacy)]
    pub level: WmiLevel,
    /// Endpoint mapper port.
    #[arg(long, default_value_t = 135, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Output format of the hosts found.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pacing: PacingArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor wem import`.
#[derive(Debug, Args)]
pub struct WemImportArgs {
    /// Ranges file: CSV with the headers FROM,TO,USER,PASSWORD,DISABLE.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor wem export`.
#[derive(Debug, Args)]
pub struct WemExportArgs {
    /// Write here instead of standard output.
    #[arg(value_name = "FILE.csv")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `otsensor wem schedule`.
#[derive(Debug, Args)]
pub struct WemScheduleArgs {
    /// The new schedule (shows the current one when absent).
    #[arg(value_name = "SCHEDULE")]
    pub schedule: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
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
    /// The protocol to speak; a comma list (`s7,enip,bacnet,modbus`) sweeps them in one pass,
    /// each address getting its probes one after the other, each protocol saved as its own run.
    #[arg(long, value_enum, value_delimiter = ',', required = true)]
    pub protocol: Vec<PlcProtocol>,
    /// Port [default: the protocol's standard port] (with one protocol only).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// How deep to look behind each device (Modbus: 1 sweeps unit IDs 1-247; S7: 1 lists the
    /// modules of the rack, 2 also asks each module for its own identity; BACnet: 1 finds the
    /// devices on the networks behind a router).
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

/// SNMP versions for switch discovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SwitchProtocol {
    /// SNMPv1 with a community (GETNEXT walks).
    #[value(name = "snmp-v1")]
    SnmpV1,
    /// SNMPv2c with a community (GETBULK walks).
    #[value(name = "snmp-v2c")]
    SnmpV2c,
    /// SNMPv3 with a user (USM: noAuthNoPriv, authNoPriv or authPriv).
    #[value(name = "snmp-v3")]
    SnmpV3,
}

/// `otsensor scan switch`.
///
/// Secrets are best passed in the environment, where the process list does not show them:
/// OTSENSOR_SNMP_COMMUNITY, OTSENSOR_SNMP_AUTH_PASS, OTSENSOR_SNMP_PRIV_PASS. They are saved
/// sealed in the store (see --credentials) and never printed or logged.
#[derive(Debug, Args)]
pub struct SwitchScanArgs {
    /// The SNMP version.
    #[arg(long, value_enum)]
    pub protocol: SwitchProtocol,
    /// Vendor profile: auto (from sysObjectID), cisco, hirschmann, siemens, moxa, hpe, juniper,
    /// arista or generic.
    #[arg(long, default_value = "auto", value_parser = parse_vendor)]
    pub vendor: otsensor_snmp::VendorChoice,
    /// Community (SNMPv1/v2c); prefer the environment variable.
    #[arg(long, env = "OTSENSOR_SNMP_COMMUNITY", hide_env_values = true)]
    pub community: Option<String>,
    /// SNMPv3 user.
    #[arg(long, env = "OTSENSOR_SNMP_USER")]
    pub user: Option<String>,
    /// SNMPv3 authentication protocol: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512.
    #[arg(long, value_name = "P")]
    pub auth_proto: Option<String>,
    /// SNMPv3 authentication password (8 characters or more); prefer the environment variable.
    #[arg(
        long,
        value_name = "A",
        env = "OTSENSOR_SNMP_AUTH_PASS",
        hide_env_values = true
    )]
    pub auth_pass: Option<String>,
    /// SNMPv3 privacy protocol: DES, AES, AES-192, AES-256, AES-192-C, AES-256-C (the -C
    /// variants extend keys as Cisco does).
    #[arg(long, value_name = "P")]
    pub priv_proto: Option<String>,
    /// SNMPv3 privacy password (8 characters or more); prefer the environment variable.
    #[arg(
        long,
        value_name = "X",
        env = "OTSENSOR_SNMP_PRIV_PASS",
        hide_env_values = true
    )]
    pub priv_pass: Option<String>,
    /// SNMPv3 context name [default: the default context].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Name of the credentials in the store: given with credentials, saves them (sealed) under
    /// this name; given alone, uses the ones saved under it [default: derived from the
    /// protocol and user].
    #[arg(long, value_name = "NAME")]
    pub credentials: Option<String>,
    /// UDP port [default: 161].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// Attempts after the first when a request gets no answer.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=5))]
    pub retries: u32,
    /// A port on which more distinct MACs than this were learned is an uplink, not an access port.
    #[arg(long, value_name = "N", default_value_t = otsensor_snmp::inventory::DEFAULT_UPLINK_MACS)]
    pub uplink_macs: usize,
    /// The IEEE OUI registry for MAC vendors [default: /usr/share/ieee-data/oui.txt, from
    /// Debian's ieee-data package].
    #[arg(long, value_name = "FILE")]
    pub oui_file: Option<PathBuf>,
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

fn parse_vendor(s: &str) -> Result<otsensor_snmp::VendorChoice, String> {
    s.parse()
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

/// How lookups against a DNS server are paced: options of `rdns` and `rdns test`.
#[derive(Debug, Args, Clone)]
pub struct LookupArgs {
    /// Queries per second to the DNS server (0 lifts the limit) [default: 200].
    #[arg(long, value_name = "QPS")]
    pub rate: Option<u32>,
    /// Queries outstanding at once [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub parallel: Option<u32>,
    /// Time limit of one address's lookup (retries, TCP and CNAMEs included), in seconds
    /// [default: 5].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// UDP queries per question: the first and the retries [default: 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub attempts: Option<u32>,
    /// Widen the scope allow-list by this network (repeatable); the DNS server must be inside.
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
}

/// `otsensor rdns`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RdnsArgs {
    /// Look up one address and answer with its name or the exact failure.
    #[command(subcommand)]
    pub command: Option<RdnsCommand>,
    /// The DNS server: ADDR, ADDR:PORT, [V6]:PORT [default port: 53].
    #[arg(long, value_name = "ADDR[:PORT]", required = true)]
    pub server: Option<String>,
    /// Labels of a name to show as the host name, from the left [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub labels: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Most addresses one run may look up [default: 65536].
    #[arg(long, value_name = "N")]
    pub max_targets: Option<u64>,
    /// Subnets whose every address is looked up: CIDR blocks (IPv4 or IPv6), addresses, or
    /// comma lists of these. They are not contacted, so they need no scope.
    #[arg(required = true, value_name = "SUBNET")]
    pub subnets: Vec<String>,
    #[command(flatten)]
    pub lookup: LookupArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Subcommands of `otsensor rdns`.
#[derive(Debug, Subcommand)]
pub enum RdnsCommand {
    /// Look one address up on one server: its name(s), or exactly what failed.
    Test(RdnsTestArgs),
}

/// `otsensor rdns test`.
#[derive(Debug, Args)]
pub struct RdnsTestArgs {
    /// The DNS server: ADDR, ADDR:PORT, [V6]:PORT [default port: 53].
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub server: String,
    /// Labels of a name to show as the host name, from the left [default: 1].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub labels: Option<i64>,
    /// Output format: text (table) or one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The address to look up (IPv4 or IPv6); it is not contacted.
    #[arg(value_name = "ADDRESS")]
    pub address: String,
    #[command(flatten)]
    pub lookup: LookupArgs,
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
