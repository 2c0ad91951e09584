//! Encryption at rest of stored credentials: ChaCha20-Poly1305 under a key file of the data
//! directory (`secret.key`, 32 random bytes, readable by its owner only), created on first use.

use crate::error::{Failure, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::fmt;
use std::path::{Path, PathBuf};

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "secret.key";
const NONCE_LEN: usize = 12;

/// The key that seals stored secrets.
pub(crate) struct SecretKey {
    cipher: ChaCha20Poly1305,
    path: PathBuf,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Reads the key file of `data_dir`, creating it (mode 0600) when there is none.
    pub(crate) fn load_or_create(data_dir: &Path) -> Result<SecretKey> {
        let path = data_dir.join(KEY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&path)?,
            Err(e) => {
                return Err(Failure::Rejected(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        };
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Failure::Corrupt(format!("{} is not a 32-byte key", path.display())))?;
        Ok(SecretKey {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
            path,
        })
    }

    /// Encrypts `clear`, bound to `context` (what it is the secret of).
    pub(crate) fn seal(&self, clear: &str, context: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce)
            .map_err(|e| Failure::Rejected(format!("no random numbers for a nonce: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Failure::Rejected("encrypting a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`SecretKey::seal`] made for the same `context`.
    pub(crate) fn open(&self, sealed: &[u8], context: &str) -> Result<String> {
        let bad = || {
            Failure::Corrupt(format!(
                "the stored secret of {context} does not decrypt with {} (was the key file replaced?)",
                self.path.display()
            ))
        };
        if sealed.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let clear = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(clear).map_err(|_| bad())
    }
}

fn create_key_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)
        .map_err(|e| Failure::Rejected(format!("no random numbers for a key: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Failure::Rejected(format!("creating {}: {e}", path.display())))?;
    file.write_all(&key)
        .and_then(|_| file.sync_all())
        .map_err(|e| Failure::Rejected(format!("writing {}: {e}", path.display())))?;
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_and_are_bound_to_their_context() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(dir.path()).unwrap();
        let sealed = key.seal("Passw0rd!", "range 10.0.0.1-10.0.0.9").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"Passw0rd!"));
        assert_eq!(
            key.open(&sealed, "range 10.0.0.1-10.0.0.9").unwrap(),
            "Passw0rd!"
        );
        assert!(key.open(&sealed, "range 10.0.0.2-10.0.0.9").is_err());
        // the same key file opens it again; another one does not
        let again = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(
            again.open(&sealed, "range 10.0.0.1-10.0.0.9").unwrap(),
            "Passw0rd!"
        );
        let other = tempfile::tempdir().unwrap();
        let other = SecretKey::load_or_create(other.path()).unwrap();
        assert!(other.open(&sealed, "range 10.0.0.1-10.0.0.9").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
