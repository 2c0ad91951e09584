//! `otsensor demo`: the simulated plant and the sensor service, in one command.
//!
//! 1. generates the plant (127.10.0.0/16) and serves it ([`otsensor_sim::start`]);
//! 2. makes a fresh store in the data directory (default: a new temporary directory) with the
//!    user `admin` (role admin) and a random password, printed once;
//! 3. stores ready-made scans in the service: one PLC scan per protocol (depth 1, the plant's
//!    devices of that protocol), a switch discovery (SNMP v2c, the community sealed like any
//!    other) of the plant's switches, and the plant's DNS server for reverse DNS of its subnets;
//! 4. starts the service with the scope set to the plant's block, runs every stored scan once,
//!    then the reverse-DNS lookup of the devices they found;
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
    let config = service_config(&data, args.listen)?;
    let scans = store_scans(&data, &config, &ready).await?;
    let dns_server = store_dns_server(&data, &ready).await?;
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
        "ran the stored scans ({}) once",
        scans
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let lookup = service
        .run_rdns_now(dns_server, "admin")
        .await
        .map_err(|e| CliError::failed(format!("starting the reverse-DNS lookup: {e}")))?;
    while service.is_rdns_running(lookup) && waited.elapsed() < FIRST_RUNS_LIMIT {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    say(&format!(
        "reverse DNS of the devices found, on the plant's DNS server {}: done",
        ready.dns
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

/// Stores one PLC scan per protocol (depth 1) of the plant's devices and a switch discovery of
/// its switches (the community sealed); returns (id, name).
async fn store_scans(
    data: &Path,
    config: &otsensor_server::config::ServiceConfig,
    ready: &Ready,
) -> Result<Vec<(i64, String)>, CliError> {
    let store = Store::open(data).await.map_err(CliError::failed)?;
    let now = jiff::Timestamp::now();
    let mut scans = Vec::new();
    let mut inputs: Vec<(String, serde_json::Value)> = [
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
    ]
    .into_iter()
    .map(|(protocol, name, endpoints)| {
        (
            name.to_string(),
            serde_json::json!({"kind": "plc", "protocol": protocol, "depth": 1, "targets": addresses(&endpoints.addresses)}),
        )
    })
    .collect();
    inputs.push((
        "Demo plant: switches, their ports and neighbours (SNMP v2c)".to_string(),
        serde_json::json!({
            "kind": "switch",
            "version": "snmp-v2c",
            "community": ready.snmp.community,
            "targets": addresses(&ready.snmp.addresses),
        }),
    ));
    for (name, mut use_case) in inputs {
        let targets = use_case
            .as_object_mut()
            .and_then(|o| o.remove("targets"))
            .unwrap_or_default();
        let input: ScanInput = serde_json::from_value(serde_json::json!({
            "name": name,
            "use_case": use_case,
            "targets": targets,
        }))
        .map_err(|e| CliError::failed(format!("the scan {name:?}: {e}")))?;
        let checked = input
            .validate(config, now, None)
            .map_err(|e| CliError::failed(format!("the scan {name:?}: {e:?}")))?;
        if let Some((sealed_as, credentials)) = &checked.credentials {
            store
                .save_snmp_credentials(sealed_as, credentials)
                .await
                .map_err(CliError::failed)?;
        }
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
            .create_definition(&checked.settings, "admin", now, &audit)
            .await
            .map_err(CliError::failed)?;
        scans.push((id.0, name));
    }
    store.close().await;
    Ok(scans)
}

/// The addresses of one kind of the plant's devices, as scan targets.
fn addresses(ips: &[std::net::Ipv4Addr]) -> Vec<String> {
    ips.iter().map(ToString::to_string).collect()
}

/// Stores the plant's DNS server for reverse DNS of the plant's subnets (every 24 hours,
/// enabled); returns its id.
async fn store_dns_server(data: &Path, ready: &Ready) -> Result<i64, CliError> {
    let input = otsensor_core::DnsServerInput {
        address: ready.dns.clone(),
        port: None,
        labels: None,
        subnets: vec![DEMO_NET.to_string()],
        schedule: Some("every 24 hours".into()),
        enabled: Some(true),
        rate: None,
    };
    let settings = otsensor_core::DnsServerSettings::from_input(&input)
        .map_err(|e| CliError::failed(format!("the demo's DNS server: {e}")))?;
    let store = Store::open(data).await.map_err(CliError::failed)?;
    let now = jiff::Timestamp::now();
    let id = store
        .create_dns_server(&settings, now)
        .await
        .map_err(CliError::failed)?;
    let audit = NewAuditEntry {
        at: now,
        actor: "admin".into(),
        via: "demo".into(),
        action: "rdns_server.create".into(),
        target: Some(format!("dns_server:{id}")),
        detail: serde_json::json!({ "settings": settings }),
        client: None,
    };
    store.record_audit(&audit).await.map_err(CliError::failed)?;
    store.close().await;
    Ok(id.0)
}
