//! `otsensor log`: the probe log of a run, one line per probed target.

use crate::cli::{Format, LogArgs};
use crate::config::Config;
use crate::error::CliError;
use otsensor_core::ProbeLogEntry;
use otsensor_store::{RunId, Store};
use std::io::Write;
use std::process::ExitCode;

/// Prints the probe log of `--run` or of the latest run.
pub async fn show(args: LogArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let result = read_log(&store, args.run).await;
    store.close().await;
    let (run, entries) = result?;
    let mut out = std::io::stdout().lock();
    write_log(&mut out, &entries, args.format)
        .map_err(|e| CliError::failed(format!("writing output: {e}")))?;
    eprintln!("run {run}: {} entries", entries.len());
    Ok(ExitCode::SUCCESS)
}

async fn read_log(
    store: &Store,
    run: Option<i64>,
) -> Result<(RunId, Vec<ProbeLogEntry>), CliError> {
    let run = match run {
        Some(n) => {
            let id = RunId(n);
            store
                .run(id)
                .await
                .map_err(CliError::failed)?
                .ok_or_else(|| CliError::usage(format!("--run {n}: no such run")))?;
            id
        }
        None => {
            let runs = store.runs().await.map_err(CliError::failed)?;
            runs.first()
                .map(|r| r.id)
                .ok_or_else(|| CliError::usage("no runs yet: run a scan first"))?
        }
    };
    let entries = store.probe_log(run).await.map_err(CliError::failed)?;
    Ok((run, entries))
}

fn write_log(
    out: &mut dyn Write,
    entries: &[ProbeLogEntry],
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            for e in entries {
                serde_json::to_writer(&mut *out, e)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "address",
                "protocol",
                "outcome",
                "error",
                "started",
                "duration_ms",
            ])?;
            for e in entries {
                w.write_record([
                    e.address.to_string(),
                    e.protocol.to_string(),
                    e.outcome.to_string(),
                    e.error.clone().unwrap_or_default(),
                    e.started.to_string(),
                    e.duration_ms.to_string(),
                ])?;
            }
            w.flush()
        }
        Format::Table => {
            for e in entries {
                writeln!(
                    out,
                    "{:<16} {:<7} {:<11} {:>6} ms  {}",
                    e.address,
                    e.protocol,
                    e.outcome,
                    e.duration_ms,
                    e.error.as_deref().unwrap_or("")
                )?;
            }
            Ok(())
        }
    }
}
