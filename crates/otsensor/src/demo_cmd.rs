//! `otsensor demo`: the simulated plant and the sensor service, in one command.
//!
//! 1. generates the plant (127.10.0.0/16) and serves it ([`otsensor_sim::start`]);
//! 2. makes a fresh store in the data directory (default: a new temporary directory) with the
//!    user `admin` (role admin) and a random password, printed once;
//! 3. runs a switch discovery (SNMP v2c) of the plant's switches and a reverse-DNS lookup of the
//!    plant's addresses on its DNS server, the way `otsensor scan switch` and `otsensor rdns` do
//!    (the service cannot store those kinds of scan on this branch yet), into the same store;
//! 4. stores one PLC scan per protocol (depth 1, the plant's devices of that protocol), starts
//!    the service with the scope set to the plant's block, and runs each stored scan once;
//! 5. prints the console's address, the login and `otsensor demo: ready`, and runs until Ctrl-C.
//!
//! Output lines (stable, the demo test reads them): `otsensor demo: console at URL`,
//! `otsensor demo: log in as admin with the password PASSWORD`, `otsensor demo: ready`.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use otsensor_server::SystemClock;
use otsensor_server::model::ScanInput;
use otsensor_sim::{Plant, PlantConfig, Ready};
use otsensor_store::{NewAuditEntry, Store};

use crate::cli::{CommonArgs, DemoArgs, ServeArgs};
use crate::config::Config;
use crate::error::CliError;

/// The demo plant's block.
const DEMO_NET: &str = "127.10.0.0/16";

/// How long the demo waits for its first runs before it shows the console anyway.
const FIRST_RUNS_LIMIT: Duration = Duration::from_secs(180);

/// Runs the demo until Ctrl-C.
pub async fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let data = match &args.data {
        Some(dir) => dir.clone(),
        None => fresh_dir()?,
    };
    std::fs::create_dir_all(&data)
        .map_err(|e| CliError::failed(format!("creating {}: {e}", data.display())))?;
    let net = DEMO_NET.parse().map_err(CliError::failed)?;
    let plant = Plant::generate(&PlantConfig {
        devices: args.devices,
        net,
        seed: 1,
    })
    .map_err(CliError::usage)?;
    let sim = otsensor_sim::start(plant, None)
        .await
        .map_err(CliError::failed)?;
    let ready = sim.ready();
    say(&format!(
        "simulated plant: {} devices in {DEMO_NET}, DNS on {}; store in {}",
        ready.devices,
        ready.dns,
        data.display()
    ));

    let password = random_password()?;
    cli(
        &data,
        &["user", "add", "admin", "--role", "admin"],
        Some(&password),
    )?;
    let allow = DEMO_NET.to_string();
    let switches = ready
        .snmp
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    cli(
        &data,
        &[
            "scan",
            "switch",
            "--protocol",
            "snmp-v2c",
            "--community",
            &ready.snmp.community,
            "--allow",
            &allow,
            "--format",
            "csv",
            &switches.join(","),
        ],
        None,
    )?;
    say("switch discovery of the plant's switches: done");
    let mut subnets: Vec<String> = ready
        .snmp
        .addresses
        .iter()
        .chain(&ready.modbus.addresses)
        .chain(&ready.s7.addresses)
        .chain(&ready.enip.addresses)
        .chain(&ready.bacnet.addresses)
        .map(|ip| {
            let [a, b, c, _] = ip.octets();
            format!("{a}.{b}.{c}.0/24")
        })
        .collect();
    subnets.sort();
    subnets.dedup();
    let mut rdns = vec![
        "rdns", "--server", &ready.dns, "--allow", &allow, "--format", "csv",
    ];
    rdns.extend(subnets.iter().map(String::as_str));
    cli(&data, &rdns, None)?;
    say("reverse DNS of the plant's addresses: done");

    let config = service_config(&data, args.listen)?;
    let scans = store_plc_scans(&data, &config, &ready).await?;
    let mut service = otsensor_server::start(config, Arc::new(SystemClock))
        .await
        .map_err(CliError::failed)?;
    for (id, name) in &scans {
        service
            .run_now(*id, "admin")
            .await
            .map_err(|e| CliError::failed(format!("starting {name}: {e}")))?;
    }
    let waited = tokio::time::Instant::now();
    while scans.iter().any(|(id, _)| service.is_running(*id)) && waited.elapsed() < FIRST_RUNS_LIMIT
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    say(&format!(
        "ran the stored PLC scans ({}) once",
        scans
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    say(&format!("console at {}", service.url()));
    say(&format!("log in as admin with the password {password}"));
    say("ready");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        result = service.stopped() => {
            if let Err(e) = result {
                return Err(CliError::failed(format!("the server stopped: {e}")));
            }
        }
    }
    service.shutdown().await;
    sim.stop().await;
    Ok(ExitCode::SUCCESS)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "otsensor demo: {line}");
    let _ = out.flush();
}

fn fresh_dir() -> Result<PathBuf, CliError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("otsensor-demo-{}-{nanos}", std::process::id()));
    Ok(dir)
}

/// 16 random bytes from the OS, as 32 hex digits.
fn random_password() -> Result<String, CliError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            CliError::failed(format!("reading /dev/urandom for the admin password: {e}"))
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs this binary's own subcommand with `--data DIR`; its output is dropped, its failure is
/// the demo's.
fn cli(data: &Path, args: &[&str], password: Option<&str>) -> Result<(), CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::failed(format!("finding the otsensor binary: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("OTSENSOR_PASSWORD", p);
    }
    let out = cmd
        .output()
        .map_err(|e| CliError::failed(format!("running otsensor {}: {e}", args.join(" "))))?;
    if !out.status.success() {
        return Err(CliError::failed(format!(
            "otsensor {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn service_config(
    data: &Path,
    listen: SocketAddr,
) -> Result<otsensor_server::config::ServiceConfig, CliError> {
    let common = CommonArgs {
        config: None,
        data: Some(data.to_path_buf()),
    };
    let config = Config::load(&common)?;
    let serve = ServeArgs {
        listen: Some(listen),
        insecure_http: false,
        tls_cert: None,
        tls_key: None,
        common,
    };
    let mut service = config.service(&serve)?;
    let net: ipnet::IpNet = DEMO_NET.parse().map_err(CliError::failed)?;
    service.scope = otsensor_core::Scope::with(vec![net]);
    Ok(service)
}

/// Stores one PLC scan per protocol (depth 1) of the plant's devices; returns (id, name).
async fn store_plc_scans(
    data: &Path,
    config: &otsensor_server::config::ServiceConfig,
    ready: &Ready,
) -> Result<Vec<(i64, String)>, CliError> {
    let store = Store::open(data).await.map_err(CliError::failed)?;
    let now = jiff::Timestamp::now();
    let mut scans = Vec::new();
    for (protocol, name, endpoints) in [
        (
            "modbus",
            "Demo plant: Modbus/TCP devices and gateways",
            &ready.modbus,
        ),
        ("s7", "Demo plant: Siemens S7 stations", &ready.s7),
        (
            "enip",
            "Demo plant: EtherNet/IP chassis and controllers",
            &ready.enip,
        ),
        (
            "bacnet",
            "Demo plant: BACnet/IP controllers and routers",
            &ready.bacnet,
        ),
    ] {
        let input: ScanInput = serde_json::from_value(serde_json::json!({
            "name": name,
            "use_case": {"kind": "plc", "protocol": protocol, "depth": 1},
            "targets": endpoints.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }))
        .map_err(|e| CliError::failed(format!("the {protocol} scan: {e}")))?;
        let settings = input
            .validate(config, now)
            .map_err(|e| CliError::failed(format!("the {protocol} scan: {e:?}")))?;
        let audit = NewAuditEntry {
            at: now,
            actor: "admin".into(),
            via: "demo".into(),
            action: "scan.create".into(),
            target: None,
            detail: serde_json::json!({"name": name}),
            client: None,
        };
        let id = store
            .create_definition(&settings, "admin", now, &audit)
            .await
            .map_err(CliError::failed)?;
        scans.push((id.0, name.to_string()));
    }
    store.close().await;
    Ok(scans)
}
