//! `otsensor user add NAME --role ROLE`: adds a user to the store (the first admin, typically).

use crate::cli::{RoleArg, UserAddArgs};
use crate::config::Config;
use crate::error::CliError;
use otsensor_server::accounts::{AccountError, add_user};
use otsensor_store::{Role, Store, StoreError};
use std::process::ExitCode;

/// The environment variable a password may come from (for scripts).
pub const PASSWORD_VAR: &str = "OTSENSOR_PASSWORD";

/// Adds the user; the password comes from `OTSENSOR_PASSWORD`, else from a prompt (twice).
pub async fn add(args: UserAddArgs) -> Result<ExitCode, CliError> {
    let config = Config::load(&args.common)?;
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Analyst => Role::Analyst,
        RoleArg::Readonly => Role::ReadOnly,
    };
    let password = password_for(&args.name)?;
    let store = Store::open(&config.data_dir(&args.common))
        .await
        .map_err(CliError::failed)?;
    let added = add_user(&store, &args.name, role, &password, jiff::Timestamp::now()).await;
    store.close().await;
    match added {
        Ok(id) => {
            println!("otsensor: added user {} ({role}, id {id})", args.name);
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (AccountError::Name { .. } | AccountError::Password(_))) => Err(CliError::usage(e)),
        Err(AccountError::Store(e @ StoreError::Rejected { .. })) => Err(CliError::usage(e)),
        Err(e) => Err(CliError::failed(e)),
    }
}

fn password_for(name: &str) -> Result<String, CliError> {
    if let Ok(password) = std::env::var(PASSWORD_VAR) {
        return Ok(password);
    }
    let first = rpassword::prompt_password(format!("password for {name}: ")).map_err(|e| {
        CliError::usage(format!(
            "reading the password: {e} (set {PASSWORD_VAR} when there is no terminal)"
        ))
    })?;
    let again = rpassword::prompt_password("again: ")
        .map_err(|e| CliError::usage(format!("reading the password: {e}")))?;
    if first != again {
        return Err(CliError::usage("the two passwords differ"));
    }
    Ok(first)
}
