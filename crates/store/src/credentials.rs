//! SNMP credentials, sealed: ChaCha20-Poly1305 under a 32-byte key kept in
//! `<data dir>/credentials.key` (created with mode 0600 on first use), a fresh random nonce per
//! value, the credential's name as associated data. Secrets leave this module only as
//! [`Secret`](otsensor_core::Secret)s; errors never contain them.

use crate::Store;
use crate::codec::time_text;
use crate::error::{Failure, Result, StoreError};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use jiff::Timestamp;
use otsensor_core::{Secret, SnmpCredentials};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "credentials.key";
const KEY_LEN: usize = 32;

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
        let key = load_or_create_key(&self.key_path()).map_err(|e| e.context(&context))?;
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
        let row: Option<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT nonce, sealed FROM snmp_credentials WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Failure::from(e).context(&context))?;
        let Some((nonce, sealed)) = row else {
            return Ok(None);
        };
        let key = load_or_create_key(&self.key_path()).map_err(|e| e.context(&context))?;
        open(&key, name, &nonce, &sealed)
            .map(Some)
            .map_err(|e| e.context(&context))
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

    fn key_path(&self) -> PathBuf {
        self.path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(KEY_FILE)
    }
}

async fn upsert(
    pool: &SqlitePool,
    key: &[u8; KEY_LEN],
    name: &str,
    credentials: &SnmpCredentials,
) -> Result<()> {
    let (nonce, sealed) = seal(key, name, credentials)?;
    let now = time_text(Timestamp::now());
    sqlx::query(
        "INSERT INTO snmp_credentials (name, summary, nonce, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (name) DO UPDATE SET summary = excluded.summary, nonce = excluded.nonce, \
             sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(credentials.describe())
    .bind(nonce)
    .bind(sealed)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

fn seal(
    key: &[u8; KEY_LEN],
    name: &str,
    credentials: &SnmpCredentials,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let plain = serde_json::to_vec(&Plain::from_credentials(credentials))
        .map_err(|_| Failure::Rejected("the credentials do not encode".into()))?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| Failure::Rejected("sealing failed".into()))?;
    Ok((nonce.to_vec(), sealed))
}

fn open(key: &[u8; KEY_LEN], name: &str, nonce: &[u8], sealed: &[u8]) -> Result<SnmpCredentials> {
    if nonce.len() != 12 {
        return Err(Failure::Corrupt(
            "a credential nonce is not 12 bytes".into(),
        ));
    }
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| {
            Failure::Corrupt(format!(
                "the sealed credentials do not open with {KEY_FILE} (another data directory's key, or a damaged file)"
            ))
        })?;
    let parsed: Plain = serde_json::from_slice(&plain)
        .map_err(|_| Failure::Corrupt("unsealed credentials do not decode".into()))?;
    Ok(parsed.into_credentials())
}

/// Reads the key file, or creates it (mode 0600, 32 random bytes) when there is none. A key
/// file that others may read is refused.
fn load_or_create_key(path: &Path) -> Result<[u8; KEY_LEN]> {
    match std::fs::read(path) {
        Ok(bytes) => {
            check_private(path)?;
            <[u8; KEY_LEN]>::try_from(bytes.as_slice())
                .map_err(|_| Failure::Corrupt(format!("{} is not {KEY_LEN} bytes", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(path),
        Err(e) => Err(Failure::Rejected(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

fn create_key(path: &Path) -> Result<[u8; KEY_LEN]> {
    let key: [u8; KEY_LEN] = ChaCha20Poly1305::generate_key(&mut OsRng).into();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(path).and_then(|mut f| {
        f.write_all(&key)?;
        f.sync_all()
    });
    match written {
        Ok(()) => Ok(key),
        // another process created it first: use theirs
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key(path),
        Err(e) => Err(Failure::Rejected(format!(
            "creating {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Failure::Rejected(format!("{}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Failure::Rejected(format!(
            "{} may be read by others (mode {:o}): run chmod 600 on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}
