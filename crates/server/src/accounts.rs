//! Accounts outside the API: the first admin on first start, `otsensor user add`, and the
//! rules every user name and password meets.

use crate::auth::password::{PasswordError, check_new_password, hash_password};
use crate::auth::secret::one_time_password;
use crate::error::ApiError;
use jiff::Timestamp;
use otsensor_store::{NewAuditEntry, NewUser, Role, Store, StoreError, UserId};

/// The first admin's name.
pub const FIRST_ADMIN: &str = "admin";

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The name breaks the rules.
    #[error("user name {name:?}: {detail}")]
    Name {
        /// The name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The password breaks the rules.
    #[error("password: {0}")]
    Password(String),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] PasswordError),
    /// The store refused (the name is taken) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a user name: 1 to 64 characters, letters, digits, `.`, `_`, `-`, `@`.
pub fn check_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("must be 1 to 64 characters long".into());
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err("may hold letters, digits and . _ - @ only".into());
    }
    Ok(())
}

/// Hashes a password on a blocking thread (argon2 is slow on purpose).
pub async fn hash_off_thread(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(format!("hashing the password: {e}")))?
        .map_err(ApiError::internal)
}

/// Adds a user from the command line (`otsensor user add`); audited as done by `cli`.
pub async fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    at: Timestamp,
) -> Result<UserId, AccountError> {
    check_user_name(name).map_err(|detail| AccountError::Name {
        name: name.to_string(),
        detail,
    })?;
    check_new_password(password).map_err(AccountError::Password)?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Password(format!("hashing: {e}")))??;
    let audit = NewAuditEntry {
        at,
        actor: "cli".into(),
        via: "cli".into(),
        action: "user.create".into(),
        target: Some(format!("user:{name}")),
        detail: serde_json::json!({ "role": role }),
        client: None,
    };
    let user = NewUser {
        name: name.to_string(),
        role,
        password_hash: hash,
        must_change_password: false,
    };
    Ok(store.create_user(&user, at, &audit).await?)
}

/// On a store without users, creates `admin` with a one-time password (to be changed at first
/// login) and returns the password, to be shown to the operator once.
pub async fn ensure_first_admin(
    store: &Store,
    at: Timestamp,
) -> Result<Option<String>, AccountError> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let password = one_time_password().map_err(PasswordError::from)?;
    let for_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&for_hash))
        .await
        .map_err(|e| AccountError::Password(format!("hashing: {e}")))??;
    let audit = NewAuditEntry {
        at,
        actor: "system".into(),
        via: "system".into(),
        action: "user.create".into(),
        target: Some(format!("user:{FIRST_ADMIN}")),
        detail: serde_json::json!({ "role": Role::Admin, "one_time_password": true }),
        client: None,
    };
    let user = NewUser {
        name: FIRST_ADMIN.into(),
        role: Role::Admin,
        password_hash: hash,
        must_change_password: true,
    };
    store.create_user(&user, at, &audit).await?;
    Ok(Some(password))
}
