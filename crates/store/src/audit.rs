//! The audit log: who changed what and when, and every scan start and stop.
//!
//! Changes made through the store's service methods (users, tokens, scan definitions) write their
//! entry in the same transaction as the change, so a change is never saved without its entry.

use crate::Store;
use crate::codec::{from_json, parse_time, time_text, to_json};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};

/// An entry to record. `detail` must never hold a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When it happened.
    pub at: Timestamp,
    /// Who: a user name, or "scheduler", "system", "cli".
    pub actor: String,
    /// How: "session", "token", "scheduler", "system", "cli".
    pub via: String,
    /// What: "scan.create", "run.start", "user.update", ...
    pub action: String,
    /// On what: "scan:3", "run:12", "user:alice", ...
    pub target: Option<String>,
    /// The particulars, as JSON (the new settings, the reason, ...).
    pub detail: serde_json::Value,
    /// The client's address, for requests.
    pub client: Option<String>,
}

/// A recorded entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its number; later entries have larger numbers.
    pub id: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
}

/// Which entries to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries whose action starts with this ("scan." or "run.start").
    pub action_prefix: Option<String>,
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Entries to skip, newest first.
    pub offset: u64,
    /// Entries to return at most.
    pub limit: u64,
}

/// A page of the audit log, newest first, and how many entries match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// How many entries match the query.
    pub total: u64,
}

impl Store {
    /// Records one entry on its own (for events without a store change: a login, a run start).
    pub async fn record_audit(&self, entry: &NewAuditEntry) -> Result<i64, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| crate::error::Failure::from(e).context("recording an audit entry"))?;
        insert(&mut conn, entry)
            .await
            .map_err(|e| e.context(format!("recording audit entry {:?}", entry.action)))
    }

    /// A page of the log, newest first.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        select(&self.pool, query)
            .await
            .map_err(|e| e.context("reading the audit log"))
    }
}

/// Inserts `entry` on `conn` (inside the caller's transaction, if any); returns its number.
pub(crate) async fn insert(conn: &mut SqliteConnection, entry: &NewAuditEntry) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, via, action, target, detail, client) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(time_text(entry.at))
    .bind(&entry.actor)
    .bind(&entry.via)
    .bind(&entry.action)
    .bind(entry.target.as_deref())
    .bind(to_json(&entry.detail, "audit detail")?)
    .bind(entry.client.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    via: String,
    action: String,
    target: Option<String>,
    detail: String,
    client: Option<String>,
}

impl AuditRow {
    fn into_entry(self) -> Result<AuditEntry> {
        Ok(AuditEntry {
            id: self.id,
            entry: NewAuditEntry {
                at: parse_time(&self.at)?,
                actor: self.actor,
                via: self.via,
                action: self.action,
                target: self.target,
                detail: from_json(&self.detail, "audit detail")?,
                client: self.client,
            },
        })
    }
}

/// `LIKE` pattern for a prefix, with the wildcards of the prefix itself escaped (`\`).
pub(crate) fn like_prefix(prefix: &str) -> String {
    format!("{}%", escape_like(prefix))
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

async fn select(pool: &SqlitePool, query: &AuditQuery) -> Result<AuditPage> {
    let filter = "WHERE ($1 IS NULL OR action LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR actor = $2)";
    let prefix = query.action_prefix.as_deref().map(like_prefix);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log {filter}"))
        .bind(prefix.as_deref())
        .bind(query.actor.as_deref())
        .fetch_one(pool)
        .await?;
    let rows: Vec<AuditRow> = sqlx::query_as(&format!(
        "SELECT id, at, actor, via, action, target, detail, client FROM audit_log {filter} \
         ORDER BY id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(prefix.as_deref())
    .bind(query.actor.as_deref())
    .bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
    .bind(i64::try_from(query.offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok(AuditPage {
        entries: rows
            .into_iter()
            .map(AuditRow::into_entry)
            .collect::<Result<_>>()?,
        total: u64::try_from(total).unwrap_or(0),
    })
}
