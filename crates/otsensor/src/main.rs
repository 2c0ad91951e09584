//! `otsensor`: the command line over the otsensor crates.

mod cli;
mod config;
mod demo_cmd;
mod devices_cmd;
mod error;
mod log_cmd;
mod output;
mod rdns_cmd;
mod scan_cmd;
mod serve_cmd;
mod sim_cmd;
mod switch_cmd;
mod user_cmd;
mod wem_cmd;

use clap::Parser;
use cli::{Cli, Command, ScanCommand, UserCommand, WemCommand};
use error::CliError;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    // reverse DNS runs on the thread that waits for the socket: a multi-thread runtime's
    // block_on would cost a cross-thread wake-up per answer (half the lookup rate)
    let mut builder = match cli.command {
        Command::Rdns(_) => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&CliError::failed(format!("starting the runtime: {e}"))),
    };
    let result = runtime.block_on(run(cli));
    // no lingering task may hold a socket open past exit
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Scan(ScanCommand::Plc(args)) => scan_cmd::scan_plc(*args).await,
        Command::Scan(ScanCommand::Switch(args)) => switch_cmd::scan_switch(*args).await,
        Command::Devices(args) => devices_cmd::list(args).await,
        Command::Log(args) => log_cmd::show(args).await,
        Command::Wem(WemCommand::Scan(args)) => wem_cmd::scan(args).await,
        Command::Wem(WemCommand::Import(args)) => wem_cmd::import(args).await,
        Command::Wem(WemCommand::Export(args)) => wem_cmd::export(args).await,
        Command::Wem(WemCommand::Schedule(args)) => wem_cmd::schedule(args).await,
        Command::Rdns(args) => rdns_cmd::run(args).await,
        Command::Serve(args) => serve_cmd::serve(args).await,
        Command::Sim(args) => sim_cmd::run(args).await,
        Command::User(UserCommand::Add(args)) => user_cmd::add(args).await,
        Command::Demo(args) => demo_cmd::run(args).await,
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("otsensor: {e}");
    ExitCode::from(e.code)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OTSENSOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
