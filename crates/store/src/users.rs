//! Users of the service and their roles. Passwords arrive already hashed (argon2, by the
//! server); the store never sees a password.

use crate::Store;
use crate::audit::{self, NewAuditEntry};
use crate::codec::{parse_time, time_text};
use crate::error::{Failure, Result, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};
use std::fmt;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees: devices, scans, runs, logs.
    ReadOnly,
    /// Sees everything; runs and stops existing scans.
    Analyst,
    /// Everything: scans, users, tokens of others.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 3] = [Role::ReadOnly, Role::Analyst, Role::Admin];

    /// The name used in the store, the API and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::ReadOnly => "readonly",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// Parses [`Role::name`].
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The identity of a user in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its identity.
    pub id: UserId,
    /// The login name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The password is a one-time password that must be changed at first login.
    pub must_change_password: bool,
    /// The user may not log in, and its sessions and tokens do not work.
    pub disabled: bool,
    /// When it was created.
    pub created: Timestamp,
    /// When it last changed.
    pub updated: Timestamp,
}

/// A user with the hash to check a password against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// The argon2 PHC string.
    pub password_hash: String,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The login name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The argon2 PHC string of the password.
    pub password_hash: String,
    /// Whether the password must be changed at first login.
    pub must_change_password: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// A new role.
    pub role: Option<Role>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// A new password hash, and whether it must be changed at next login.
    pub password: Option<(String, bool)>,
}

impl Store {
    /// Creates a user, with its audit entry, in one transaction. Refused when the name is taken.
    pub async fn create_user(
        &self,
        user: &NewUser,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<UserId, StoreError> {
        let context = || format!("creating user {:?}", user.name);
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let id = insert_user(&mut tx, user, at)
            .await
            .map_err(|e| e.context(context()))?;
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(id)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        select_users(&self.pool)
            .await
            .map_err(|e| e.context("reading users"))
    }

    /// How many users there are.
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        let n: std::result::Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await;
        n.map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| Failure::from(e).context("counting users"))
    }

    /// The user `id`.
    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        select_user(&self.pool, Lookup::Id(id.0))
            .await
            .map(|c| c.map(|c| c.user))
            .map_err(|e| e.context(format!("reading user {id}")))
    }

    /// The user called `name`, with its password hash (for a login).
    pub async fn user_credentials(
        &self,
        name: &str,
    ) -> Result<Option<UserCredentials>, StoreError> {
        select_user(&self.pool, Lookup::Name(name))
            .await
            .map_err(|e| e.context(format!("reading user {name:?}")))
    }

    /// The user `id` with its password hash (to check the current password).
    pub async fn user_credentials_by_id(
        &self,
        id: UserId,
    ) -> Result<Option<UserCredentials>, StoreError> {
        select_user(&self.pool, Lookup::Id(id.0))
            .await
            .map_err(|e| e.context(format!("reading user {id}")))
    }

    /// Changes a user, with its audit entry, in one transaction. A new password or disabling
    /// ends the user's sessions. Refused when it would leave no enabled admin. Returns the
    /// user as it is now, or `None` when there is no such user.
    pub async fn update_user(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<Option<User>, StoreError> {
        let context = || format!("updating user {id}");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let changed = apply_update(&mut tx, id, update, at)
            .await
            .map_err(|e| e.context(context()))?;
        if !changed {
            return Ok(None);
        }
        ensure_an_admin(&mut tx)
            .await
            .map_err(|e| e.context(context()))?;
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        self.user(id).await
    }

    /// Deletes a user with its sessions and tokens, with its audit entry, in one transaction.
    /// Refused when it would leave no enabled admin. Returns whether there was such a user.
    pub async fn delete_user(&self, id: UserId, audit: &NewAuditEntry) -> Result<bool, StoreError> {
        let context = || format!("deleting user {id}");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| Failure::from(e).context(context()))?
            .rows_affected()
            > 0;
        if !deleted {
            return Ok(false);
        }
        ensure_an_admin(&mut tx)
            .await
            .map_err(|e| e.context(context()))?;
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(true)
    }
}

async fn insert_user(conn: &mut SqliteConnection, user: &NewUser, at: Timestamp) -> Result<UserId> {
    let inserted = sqlx::query_scalar(
        "INSERT INTO users (name, role, password_hash, must_change_password, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(&user.name)
    .bind(user.role.name())
    .bind(&user.password_hash)
    .bind(user.must_change_password)
    .bind(time_text(at))
    .fetch_one(conn)
    .await;
    match inserted {
        Ok(id) => Ok(UserId(id)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Failure::Rejected(
            format!("a user called {:?} already exists", user.name),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Applies `update`; returns whether the user exists.
async fn apply_update(
    conn: &mut SqliteConnection,
    id: UserId,
    update: &UserUpdate,
    at: Timestamp,
) -> Result<bool> {
    let (hash, must_change) = match &update.password {
        Some((hash, must)) => (Some(hash.as_str()), Some(*must)),
        None => (None, None),
    };
    let found = sqlx::query(
        "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), \
             password_hash = COALESCE($4, password_hash), \
             must_change_password = COALESCE($5, must_change_password), updated_at = $6 \
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(update.role.map(Role::name))
    .bind(update.disabled)
    .bind(hash)
    .bind(must_change)
    .bind(time_text(at))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if found && (update.password.is_some() || update.disabled == Some(true)) {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(found)
}

/// Fails unless at least one enabled admin remains.
async fn ensure_an_admin(conn: &mut SqliteConnection) -> Result<()> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(conn)
            .await?;
    if admins == 0 {
        return Err(Failure::Rejected(
            "the sensor must keep at least one enabled admin".into(),
        ));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    name: String,
    role: String,
    password_hash: String,
    must_change_password: bool,
    disabled: bool,
    created_at: String,
    updated_at: String,
}

/// The columns a [`UserRow`] reads, from `users` aliased `u`.
pub(crate) const USER_COLUMNS: &str = "u.id, u.name, u.role, u.password_hash, \
     u.must_change_password, u.disabled, u.created_at, u.updated_at";

impl UserRow {
    pub(crate) fn into_credentials(self) -> Result<UserCredentials> {
        Ok(UserCredentials {
            user: User {
                id: UserId(self.id),
                name: self.name,
                role: Role::from_name(&self.role)
                    .ok_or_else(|| Failure::Corrupt(format!("role {:?}", self.role)))?,
                must_change_password: self.must_change_password,
                disabled: self.disabled,
                created: parse_time(&self.created_at)?,
                updated: parse_time(&self.updated_at)?,
            },
            password_hash: self.password_hash,
        })
    }
}

/// How a user is looked up.
enum Lookup<'a> {
    Id(i64),
    Name(&'a str),
}

async fn select_user(pool: &SqlitePool, lookup: Lookup<'_>) -> Result<Option<UserCredentials>> {
    let row: Option<UserRow> = match lookup {
        Lookup::Id(id) => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }
        Lookup::Name(name) => {
            let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1");
            sqlx::query_as(&sql).bind(name).fetch_optional(pool).await?
        }
    };
    row.map(UserRow::into_credentials).transpose()
}

async fn select_users(pool: &SqlitePool) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name");
    let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.into_iter()
        .map(|r| r.into_credentials().map(|c| c.user))
        .collect()
}
