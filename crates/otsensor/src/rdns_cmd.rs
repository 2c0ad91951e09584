//! `otsensor rdns`: look up every address of subnets on a DNS server, write the names into the
//! inventory's devices, print every address; `otsensor rdns test`: one address, its name or the
//! exact failure.
//!
//! Every input is checked (core's settings validation, the scope, the target bound) before the
//! store is opened, so bad input exits 2 naming the option and saves nothing.

use crate::cli::{Format, LookupArgs, RdnsArgs, RdnsCommand, RdnsTestArgs};
use crate::config::Config;
use crate::error::CliError;
use crate::output::{LookupRow, write_lookups};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use otsensor_core::rdns::{NumberInput, host_name};
use otsensor_core::{
    Device, DeviceKey, DnsServerInput, DnsServerSettings, FieldError, NameLookup, NameResult,
    Protocol, Scope, TargetSet,
};
use otsensor_dns::{Lookup, LookupStatus, Resolver, ResolverConfig};
use otsensor_server::rdns::name_lookup;
use otsensor_store::{NewScan, RdnsRunResult, RdnsSummary, RunStatus, Store};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Runs `otsensor rdns` or `otsensor rdns test`.
pub async fn run(args: RdnsArgs) -> Result<ExitCode, CliError> {
    match args.command {
        Some(RdnsCommand::Test(test)) => test_one(test).await,
        None => lookup_subnets(args).await,
    }
}

/// Validates the server, labels, subnets and rate with core's rules; errors name the option.
fn settings(
    server: &str,
    labels: Option<i64>,
    subnets: &[String],
    rate: u32,
) -> Result<DnsServerSettings, CliError> {
    let input = DnsServerInput {
        address: server.to_string(),
        port: None,
        labels: labels.map(NumberInput::Number),
        subnets: subnets.to_vec(),
        schedule: None,
        enabled: Some(true),
        rate: Some(NumberInput::Number(i64::from(rate))),
    };
    DnsServerSettings::from_input(&input).map_err(|e| {
        let messages: Vec<String> = e.errors.iter().map(option_message).collect();
        CliError::usage(messages.join("; "))
    })
}

/// A settings error in the command line's words: `--server`, `--labels`, `SUBNET`, `--rate`.
fn option_message(e: &FieldError) -> String {
    let option = match e.field.as_str() {
        "address" | "port" => "--server",
        "labels" => "--labels",
        "rate" => "--rate",
        f if f.starts_with("subnets") => "SUBNET",
        other => other,
    };
    format!("{option}: {}", e.message)
}

/// The resolver's settings: the command line over the file's `[rdns]`.
fn resolver_config(
    config: &Config,
    settings: &DnsServerSettings,
    args: &LookupArgs,
) -> Result<ResolverConfig, CliError> {
    let file = config.rdns;
    let mut rc = ResolverConfig::new(settings.server());
    rc.rate = settings.rate;
    rc.in_flight = args.parallel.map_or(file.parallel, |p| p as usize);
    rc.attempts = args.attempts.unwrap_or(file.attempts);
    rc.timeout = match args.timeout {
        Some(secs) if !(0.01..=600.0).contains(&secs) => {
            return Err(CliError::usage(format!(
                "--timeout {secs}: must be from 0.01 to 600 seconds"
            )));
        }
        Some(secs) => Duration::from_secs_f64(secs),
        None => Duration::from_millis(file.timeout_ms),
    };
    Ok(rc)
}

/// Builds the resolver: the scope check of the DNS server and the ranges of its settings.
fn resolver(config: &Config, rc: ResolverConfig, allow: &[String]) -> Result<Resolver, CliError> {
    let scope: Scope = config.scope_with(allow)?;
    Resolver::new(rc, &scope).map_err(|e| CliError::usage(format!("--server: {e}")))
}

/// `otsensor rdns --server ADDR[:PORT] SUBNET...`.
async fn lookup_subnets(args: RdnsArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let server = args.server.as_deref().unwrap_or_default();
    let rate = args.lookup.rate.unwrap_or(config.rdns.rate);
    let settings = settings(server, args.labels, &args.subnets, rate)?;
    let limit = args.max_targets.unwrap_or(config.targets.max_addresses);
    let blocks: Vec<String> = settings.subnets.iter().map(ToString::to_string).collect();
    let targets = TargetSet::parse(blocks.iter().map(String::as_str), limit)
        .map_err(|e| CliError::usage(format!("SUBNET {e}")))?;
    let rc = resolver_config(&config, &settings, &args.lookup)?;
    let resolver = resolver(&config, rc, &args.lookup.allow)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let result = lookup_and_save(&store, &resolver, &settings, &targets, args.format).await;
    store.close().await;
    result
}

async fn lookup_and_save(
    store: &Store,
    resolver: &Resolver,
    settings: &DnsServerSettings,
    targets: &TargetSet,
    format: Format,
) -> Result<ExitCode, CliError> {
    let addresses = targets.addresses();
    let subnets: Vec<String> = settings.subnets.iter().map(ToString::to_string).collect();
    let scan = store
        .create_scan(&NewScan {
            name: format!("rdns --server {} {}", settings.server(), subnets.join(" ")),
            kind: "rdns".into(),
            protocol: Protocol::Dns,
            targets: subnets.join(","),
            spec: serde_json::json!({
                "server": settings,
                "in_flight": resolver.config().in_flight,
                "timeout_ms": resolver.config().timeout.as_millis() as u64,
                "attempts": resolver.config().attempts,
            }),
            created: Timestamp::now(),
        })
        .await
        .map_err(CliError::failed)?;
    let started = Timestamp::now();
    let run = store
        .start_run(scan, started, addresses.len() as u64)
        .await
        .map_err(CliError::failed)?;
    let clock = Instant::now();
    let (mut lookups, cancelled) = look_up_with_ctrl_c(resolver, addresses).await;
    let wall = clock.elapsed();
    lookups.sort_by_key(|(l, _)| l.address);
    // the names move into the inventory's records; the lookups keep the rest
    let names: Vec<NameLookup> = lookups
        .iter_mut()
        .map(|(l, at)| name_lookup(l, *at))
        .collect();
    let summary = store
        .finish_rdns_run(
            run,
            &RdnsRunResult {
                status: if cancelled {
                    RunStatus::Cancelled
                } else {
                    RunStatus::Completed
                },
                ended: Timestamp::now(),
                server: settings.server(),
                server_id: None,
                labels: settings.labels,
                subnets: &settings.subnets,
                lookups: &names,
                error: cancelled.then_some("stopped on request"),
            },
        )
        .await
        .map_err(CliError::failed)?;
    let keys: Vec<DeviceKey> = names.iter().map(|n| DeviceKey::Ip(n.address)).collect();
    let known = store
        .devices_by_keys(&keys)
        .await
        .map_err(CliError::failed)?;
    let rows = lookups
        .iter()
        .zip(&names)
        .map(|((l, _), n)| row(l, n, &known, settings.labels));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write_lookups(&mut out, rows, format)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failed(format!("writing output: {e}")))?;
    drop(out);
    eprintln!(
        "{}",
        summary_line(settings, &lookups, &summary, wall, run.0, cancelled)
    );
    Ok(if cancelled {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Looks every address up; Ctrl-C stops at once (sockets closed) and keeps what came.
async fn look_up_with_ctrl_c(
    resolver: &Resolver,
    addresses: Vec<IpAddr>,
) -> (Vec<(Lookup, Timestamp)>, bool) {
    let total = addresses.len() as u64;
    let bar = progress_bar(total);
    let mut lookups = Vec::with_capacity(addresses.len());
    let mut found = 0u64;
    let mut sink = |l: Lookup| {
        found += u64::from(l.status == LookupStatus::Found);
        lookups.push((l, Timestamp::now()));
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!("{found} names"));
        }
    };
    let cancelled = tokio::select! {
        result = resolver.lookup_all(addresses, &mut sink) => {
            if let Err(e) = result {
                eprintln!("otsensor: {e}");
            }
            false
        }
        _ = tokio::signal::ctrl_c() => {
            eprintln!("otsensor: stopping the lookups (Ctrl-C)");
            true
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    (lookups, cancelled)
}

fn progress_bar(total: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} addresses, {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// One output row: the inventory's device when there is one, else one made of the lookup.
fn row(l: &Lookup, n: &NameLookup, known: &BTreeMap<DeviceKey, Device>, labels: u8) -> LookupRow {
    let key = DeviceKey::Ip(n.address);
    let (device, in_inventory) = match known.get(&key) {
        Some(d) => (d.clone(), true),
        None => (lookup_device(key, n, labels), false),
    };
    LookupRow {
        device,
        in_inventory,
        status: l.status.name(),
        names: match &n.result {
            NameResult::Found(names) => names.clone(),
            _ => Vec::new(),
        },
        aliases: l.aliases.clone(),
        detail: (l.status != LookupStatus::Found).then(|| n.detail.clone()),
    }
}

/// A device made of a lookup alone (the address is not in the inventory).
fn lookup_device(key: DeviceKey, n: &NameLookup, labels: u8) -> Device {
    let mut d = Device::new(key, n.looked_up);
    if let Some(fqdn) = n.fqdn() {
        d.attributes.name = Some(host_name(fqdn, labels));
        d.attributes.fqdn = Some(fqdn.to_string());
        d.attributes.fqdn_looked_up = Some(n.looked_up);
    }
    d
}

fn summary_line(
    settings: &DnsServerSettings,
    lookups: &[(Lookup, Timestamp)],
    summary: &RdnsSummary,
    wall: Duration,
    run: i64,
    cancelled: bool,
) -> String {
    let count = |s: LookupStatus| lookups.iter().filter(|(l, _)| l.status == s).count();
    let secs = wall.as_secs_f64().max(0.001);
    let failures: Vec<String> = LookupStatus::ALL
        .into_iter()
        .filter(|s| s.is_failure())
        .filter(|s| count(*s) > 0)
        .map(|s| format!("{} {s}", count(s)))
        .collect();
    let mut line = format!(
        "rdns {}: looked up {} addresses in {secs:.1} s ({:.0}/s): {} found, {} missing, {} failed{}; {} inventory devices named, {} changed (run {run})",
        settings.server(),
        summary.looked_up,
        summary.looked_up as f64 / secs,
        summary.found,
        summary.missing,
        summary.failed,
        if failures.is_empty() {
            String::new()
        } else {
            format!(" ({})", failures.join(", "))
        },
        summary.devices,
        summary.changed,
    );
    if cancelled {
        line.push_str("; stopped on request");
    }
    line
}

/// `otsensor rdns test --server ADDR[:PORT] ADDRESS`.
async fn test_one(args: RdnsTestArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let address: IpAddr = args.address.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "ADDRESS: '{}' is not an IP address (IPv4 or IPv6)",
            args.address
        ))
    })?;
    let rate = args.lookup.rate.unwrap_or(config.rdns.rate);
    let subnet = [address.to_string()];
    let settings = settings(&args.server, args.labels, &subnet, rate)?;
    let rc = resolver_config(&config, &settings, &args.lookup)?;
    let resolver = resolver(&config, rc, &args.lookup.allow)?;
    let lookup = tokio::select! {
        r = resolver.lookup(address) => r.map_err(CliError::failed)?,
        _ = tokio::signal::ctrl_c() => return Err(CliError::failed("stopped on request")),
    };
    let found = lookup.status == LookupStatus::Found;
    match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "ip": address.to_string(),
                "server": settings.server().to_string(),
                "status": lookup.status.name(),
                "name": lookup.fqdn().map(|f| host_name(f, settings.labels)),
                "fqdn": lookup.fqdn(),
                "names": lookup.names,
                "aliases": lookup.aliases,
                "asked": lookup.asked(),
                "udp_queries": lookup.udp_queries,
                "tcp": lookup.tcp,
                "elapsed_ms": lookup.elapsed.as_millis() as u64,
                "detail": (!found).then(|| lookup.describe()),
            });
            println!("{json}");
        }
        Format::Csv | Format::Table => {
            if !found {
                return Err(CliError::failed(lookup.describe()));
            }
            for name in &lookup.names {
                println!(
                    "{address}: {name} (host name {})",
                    host_name(name, settings.labels)
                );
            }
            if !lookup.aliases.is_empty() {
                println!("via CNAME {}", lookup.aliases.join(" -> "));
            }
        }
    }
    Ok(if found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
