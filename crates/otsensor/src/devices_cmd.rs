//! `otsensor devices`: the inventory as table, JSON Lines or CSV.

use crate::cli::DevicesArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::write_devices;
use otsensor_store::Store;
use std::process::ExitCode;

/// Prints every device of the store.
pub async fn list(args: DevicesArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let devices = store.devices().await.map_err(CliError::failed)?;
    store.close().await;
    let mut out = std::io::stdout().lock();
    write_devices(&mut out, &devices, args.format)
        .map_err(|e| CliError::failed(format!("writing output: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
