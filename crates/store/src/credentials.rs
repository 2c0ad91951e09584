//! SNMP credentials, sealed: ChaCha20-Poly1305 under the data directory's key file (`secret.key`,
//! the store's one key for secrets at rest, see `secret`), the credential's name as associated
//! data. Secrets leave this module only as [`Secret`](otsensor_core::Secret)s; errors never
//! contain them.

use crate::Store;
use crate::codec::time_text;
use crate::error::{Failure, Result, StoreError};
use crate::secret::SecretKey;
use jiff::Timestamp;
use otsensor_core::{Secret, SnmpCredentials};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use std::path::Path;

/// A stored credential's name and its summary (no secret in either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    /// The name.
    pub name: String,
    /// Version, user and protocols.
    pub summary: String,
}

/// The plaintext form that is sealed (never written anywhere unsealed).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Plain {
    Community {
        version: String,
        community: String,
    },
    User {
        user: String,
        auth: Option<(String, String)>,
        privacy: Option<(String, String)>,
        context: String,
    },
}

impl Plain {
    fn from_credentials(c: &SnmpCredentials) -> Plain {
        let pair = |p: &Option<(String, Secret)>| {
            p.as_ref()
                .map(|(proto, s)| (proto.clone(), s.expose().to_string()))
        };
        match c {
            SnmpCredentials::Community { version, community } => Plain::Community {
                version: version.clone(),
                community: community.expose().to_string(),
            },
            SnmpCredentials::User {
                user,
                auth,
                privacy,
                context,
            } => Plain::User {
                user: user.clone(),
                auth: pair(auth),
                privacy: pair(privacy),
                context: context.clone(),
            },
        }
    }

    fn into_credentials(self) -> SnmpCredentials {
        let pair = |p: Option<(String, String)>| p.map(|(proto, s)| (proto, Secret::new(s)));
        match self {
            Plain::Community { version, community } => SnmpCredentials::Community {
                version,
                community: Secret::new(community),
            },
            Plain::User {
                user,
                auth,
                privacy,
                context,
            } => SnmpCredentials::User {
                user,
                auth: pair(auth),
                privacy: pair(privacy),
                context,
            },
        }
    }
}

impl Store {
    /// Seals and saves `credentials` under `name` (replacing what was there).
    pub async fn save_snmp_credentials(
        &self,
        name: &str,
        credentials: &SnmpCredentials,
    ) -> Result<(), StoreError> {
        let context = format!("saving SNMP credentials {name:?}");
        let key = self.secret_key().map_err(|e| e.context(&context))?;
        upsert(&self.pool, &key, name, credentials)
            .await
            .map_err(|e| e.context(&context))
    }

    /// The credentials saved under `name`, unsealed, if there are any.
    pub async fn snmp_credentials(
        &self,
        name: &str,
    ) -> Result<Option<SnmpCredentials>, StoreError> {
        let context = format!("reading SNMP credentials {name:?}");
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT sealed FROM snmp_credentials WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context(&context))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let key = self.secret_key().map_err(|e| e.context(&context))?;
        open(&key, name, &sealed)
            .map(Some)
            .map_err(|e| e.context(&context))
    }

    /// Deletes the credentials saved under `name`; whether there were any.
    pub async fn delete_snmp_credentials(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM snmp_credentials WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| Failure::from(e).context(format!("deleting SNMP credentials {name:?}")))?;
        Ok(done.rows_affected() > 0)
    }

    /// Names and summaries of every saved credential (no secrets).
    pub async fn snmp_credential_summaries(&self) -> Result<Vec<CredentialSummary>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, summary FROM snmp_credentials ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context("reading SNMP credential names"))?;
        Ok(rows
            .into_iter()
            .map(|(name, summary)| CredentialSummary { name, summary })
            .collect())
    }

    fn secret_key(&self) -> Result<SecretKey> {
        SecretKey::load_or_create(self.path.parent().unwrap_or_else(|| Path::new(".")))
    }
}

/// What a sealed credential is bound to.
fn sealing_context(name: &str) -> String {
    format!("SNMP credentials {name:?}")
}

async fn upsert(
    pool: &SqlitePool,
    key: &SecretKey,
    name: &str,
    credentials: &SnmpCredentials,
) -> Result<()> {
    let plain = serde_json::to_string(&Plain::from_credentials(credentials))
        .map_err(|_| Failure::Rejected("the credentials do not encode".into()))?;
    let sealed = key.seal(&plain, &sealing_context(name))?;
    let now = time_text(Timestamp::now());
    sqlx::query(
        "INSERT INTO snmp_credentials (name, summary, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (name) DO UPDATE SET summary = excluded.summary, \
             sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(credentials.describe())
    .bind(sealed)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

fn open(key: &SecretKey, name: &str, sealed: &[u8]) -> Result<SnmpCredentials> {
    let plain = key.open(sealed, &sealing_context(name))?;
    let parsed: Plain = serde_json::from_str(&plain)
        .map_err(|_| Failure::Corrupt("unsealed credentials do not decode".into()))?;
    Ok(parsed.into_credentials())
}
