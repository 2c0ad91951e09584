//! `otsensor sim`: the simulated plant in the foreground.
//!
//! # The ready line (a contract: benchmark scripts wait for it)
//!
//! Once every device answers, `otsensor sim` prints exactly one line to standard output, a JSON
//! object, then nothing more until Ctrl-C (SIGINT) or SIGTERM, when it stops every server and exits 0:
//!
//! ```text
//! {"ready":true,"net":"127.10.0.0/16","devices":24,"dns":"127.10.0.1:53","domain":"plant.example",
//!  "modbus":{"port":502,"addresses":["127.10.0.4",...]},"s7":{"port":102,"addresses":[...]},
//!  "enip":{"port":44818,"addresses":[...]},"bacnet":{"port":47808,"addresses":[...]},
//!  "snmp":{"port":161,"community":"public","addresses":[...]}}
//! ```
//!
//! (one line on the wire). `devices` counts every addressed device, switches included; each
//! kind's `addresses` lists the devices that speak it on `port`; `dns` answers PTR queries for
//! every address of the plant with `<host>.<domain>`. Errors (bad arguments, an address in use)
//! go to standard error with exit code 2 or 1, and no ready line.

use std::process::ExitCode;

use otsensor_sim::{Plant, PlantConfig};

use crate::cli::SimArgs;
use crate::error::CliError;

/// Generates the plant, serves it, prints the ready line, waits for Ctrl-C.
pub async fn run(args: SimArgs) -> Result<ExitCode, CliError> {
    let plant = Plant::generate(&PlantConfig {
        devices: args.devices,
        net: args.net,
        seed: args.seed,
    })
    .map_err(CliError::usage)?;
    let running = otsensor_sim::start(plant, args.dns)
        .await
        .map_err(CliError::failed)?;
    let line = serde_json::to_string(&running.ready())
        .map_err(|e| CliError::failed(format!("writing the ready line: {e}")))?;
    println!("{line}");
    stop_signal().await;
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
