//! `otsensor serve`: the sensor service until Ctrl-C or SIGTERM.

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::error::CliError;
use otsensor_server::{ServiceError, SystemClock};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs the service; prints where it listens (and, on first start, the first admin's one-time
/// password) on standard output.
pub async fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let service_config = config.service(&args)?;
    let mut service = otsensor_server::start(service_config, Arc::new(SystemClock))
        .await
        .map_err(|e| match e {
            ServiceError::Config(_) => CliError::usage(e),
            other => CliError::failed(other),
        })?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "otsensor: listening on {}", service.url());
    if let Some(cert) = service.certificate.as_ref().filter(|c| c.generated) {
        let _ = writeln!(
            out,
            "otsensor: self-signed certificate {} (trust it in clients, or set server.tls_cert)",
            cert.cert.display()
        );
    }
    if let Some(password) = &service.first_admin_password {
        let _ = writeln!(
            out,
            "otsensor: first start: created user admin with the one-time password {password} (it must be changed at first login)"
        );
    }
    for run in &service.interrupted {
        let _ = writeln!(
            out,
            "otsensor: run {run} was cut off when the sensor last stopped: marked interrupted"
        );
    }
    let _ = writeln!(out, "otsensor: ready");
    let _ = out.flush();
    drop(out);
    tokio::select! {
        _ = stop_signal() => eprintln!("otsensor: stopping (runs under way are saved as cancelled)"),
        result = service.stopped() => {
            if let Err(e) = result {
                return Err(CliError::failed(format!("the server stopped: {e}")));
            }
        }
    }
    service.shutdown().await;
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
