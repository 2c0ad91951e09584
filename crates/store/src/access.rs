//! Browser sessions and API tokens. The store keeps only a SHA-256 hash of each secret (the
//! server hashes it); looking one up returns the user it acts for.

use crate::Store;
use crate::audit::{self, NewAuditEntry};
use crate::codec::{parse_opt_time, parse_time, time_text};
use crate::error::{Failure, Result, StoreError};
use crate::users::{USER_COLUMNS, User, UserId, UserRow};
use jiff::Timestamp;
use sqlx::SqlitePool;

/// A session as stored, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its row id.
    pub id: i64,
    /// The user it acts for.
    pub user: User,
    /// When it was opened.
    pub created: Timestamp,
    /// When it was last used.
    pub last_used: Timestamp,
    /// When it ends whatever happens.
    pub expires: Timestamp,
}

/// An API token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its identity.
    pub id: i64,
    /// The user it acts for.
    pub user: UserId,
    /// That user's name.
    pub user_name: String,
    /// What it is for ("nightly export").
    pub name: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last used.
    pub last_used: Option<Timestamp>,
    /// When it stops working, if ever.
    pub expires: Option<Timestamp>,
    /// When it was revoked.
    pub revoked: Option<Timestamp>,
}

/// A token to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    /// The user it acts for.
    pub user: UserId,
    /// What it is for.
    pub name: String,
    /// When it stops working, if ever.
    pub expires: Option<Timestamp>,
}

impl Store {
    /// Opens a session for `user`, ending at `expires` at the latest.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        at: Timestamp,
        expires: Timestamp,
        client: Option<&str>,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_used_at, expires_at, client) \
             VALUES ($1, $2, $3, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(time_text(at))
        .bind(time_text(expires))
        .bind(client)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| Failure::from(e).context(format!("opening a session for user {user}")))
    }

    /// The session whose secret hashes to `token_hash`, with its user.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        select_session(&self.pool, token_hash)
            .await
            .map_err(|e| e.context("reading a session"))
    }

    /// Records that the session was used at `at`.
    pub async fn touch_session(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(time_text(at))
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| Failure::from(e).context(format!("using session {id}")))
    }

    /// Ends the session `id`.
    pub async fn delete_session(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| Failure::from(e).context(format!("ending session {id}")))
    }

    /// Ends sessions past their absolute end or idle since before `idle_since`.
    pub async fn delete_expired_sessions(
        &self,
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_used_at < $2")
            .bind(time_text(now))
            .bind(time_text(idle_since))
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| Failure::from(e).context("ending expired sessions"))
    }

    /// Creates a token, with its audit entry, in one transaction; returns its identity.
    pub async fn create_token(
        &self,
        token: &NewApiToken,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<i64, StoreError> {
        let context = || format!("creating token {:?}", token.name);
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&token.token_hash)
        .bind(token.user.0)
        .bind(&token.name)
        .bind(time_text(at))
        .bind(token.expires.map(time_text))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Failure::from(e).context(context()))?;
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(id)
    }

    /// The token whose secret hashes to `token_hash`, with its user (revoked or not).
    pub async fn token(&self, token_hash: &str) -> Result<Option<(ApiToken, User)>, StoreError> {
        select_token_by_hash(&self.pool, token_hash)
            .await
            .map_err(|e| e.context("reading a token"))
    }

    /// The tokens of `user`, or every token when `user` is `None`; newest first.
    pub async fn tokens(&self, user: Option<UserId>) -> Result<Vec<ApiToken>, StoreError> {
        select_tokens(&self.pool, user)
            .await
            .map_err(|e| e.context("reading tokens"))
    }

    /// Records that the token was used at `at`.
    pub async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(time_text(at))
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| Failure::from(e).context(format!("using token {id}")))
    }

    /// Revokes the token `id` (if `owner` is given, only a token of that user), with its
    /// audit entry, in one transaction. Returns whether a live token was revoked.
    pub async fn revoke_token(
        &self,
        id: i64,
        owner: Option<UserId>,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let context = || format!("revoking token {id}");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 \
             WHERE id = $1 AND revoked_at IS NULL AND ($3 IS NULL OR user_id = $3)",
        )
        .bind(id)
        .bind(time_text(at))
        .bind(owner.map(|u| u.0))
        .execute(&mut *tx)
        .await
        .map_err(|e| Failure::from(e).context(context()))?
        .rows_affected()
            > 0;
        if !revoked {
            return Ok(false);
        }
        audit::insert(&mut tx, audit)
            .await
            .map_err(|e| e.context(context()))?;
        tx.commit()
            .await
            .map_err(|e| Failure::from(e).context(context()))?;
        Ok(true)
    }
}

/// A session row joined with its user.
#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: i64,
    created: String,
    last_used: String,
    expires: String,
    #[sqlx(flatten)]
    user: UserRow,
}

async fn select_session(pool: &SqlitePool, token_hash: &str) -> Result<Option<Session>> {
    let sql = format!(
        "SELECT s.id AS session_id, s.created_at AS created, s.last_used_at AS last_used, \
                s.expires_at AS expires, {USER_COLUMNS} \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
    );
    let row: Option<SessionRow> = sqlx::query_as(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Session {
        id: row.session_id,
        created: parse_time(&row.created)?,
        last_used: parse_time(&row.last_used)?,
        expires: parse_time(&row.expires)?,
        user: row.user.into_credentials()?.user,
    }))
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_id: i64,
    token_user: i64,
    token_user_name: String,
    token_name: String,
    token_created: String,
    token_last_used: Option<String>,
    token_expires: Option<String>,
    token_revoked: Option<String>,
}

const TOKEN_COLUMNS: &str = "t.id AS token_id, t.user_id AS token_user, \
     u.name AS token_user_name, t.name AS token_name, t.created_at AS token_created, \
     t.last_used_at AS token_last_used, t.expires_at AS token_expires, \
     t.revoked_at AS token_revoked";

impl TokenRow {
    fn into_token(self) -> Result<ApiToken> {
        Ok(ApiToken {
            id: self.token_id,
            user: UserId(self.token_user),
            user_name: self.token_user_name,
            name: self.token_name,
            created: parse_time(&self.token_created)?,
            last_used: parse_opt_time(self.token_last_used.as_deref())?,
            expires: parse_opt_time(self.token_expires.as_deref())?,
            revoked: parse_opt_time(self.token_revoked.as_deref())?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenUserRow {
    #[sqlx(flatten)]
    token: TokenRow,
    #[sqlx(flatten)]
    user: UserRow,
}

async fn select_token_by_hash(pool: &SqlitePool, hash: &str) -> Result<Option<(ApiToken, User)>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1"
    );
    let row: Option<TokenUserRow> = sqlx::query_as(&sql).bind(hash).fetch_optional(pool).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((
        row.token.into_token()?,
        row.user.into_credentials()?.user,
    )))
}

async fn select_tokens(pool: &SqlitePool, user: Option<UserId>) -> Result<Vec<ApiToken>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE ($1 IS NULL OR t.user_id = $1) ORDER BY t.id DESC"
    );
    let rows: Vec<TokenRow> = sqlx::query_as(&sql)
        .bind(user.map(|u| u.0))
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(TokenRow::into_token).collect()
}
