//! Secrets the service makes: session and API-token secrets, CSRF tokens, one-time passwords;
//! and how it keeps them (a SHA-256, never the secret).

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// Why the system could not give random bytes.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system's random number generator failed")]
pub struct RandomError;

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| RandomError)?;
    Ok(out)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The prefix of every API token, so that leaked tokens are easy to find (secret scanners).
pub const TOKEN_PREFIX: &str = "otsensor_";

/// A new session secret (256 bits, hex).
pub fn session_secret() -> Result<String, RandomError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// A new API token (`otsensor_` and 256 bits in hex).
pub fn api_token() -> Result<String, RandomError> {
    Ok(format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?)))
}

/// What the store keeps of a secret: its SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    hex(digest(&SHA256, secret.as_bytes()).as_ref())
}

/// The CSRF token of a session: derived from the session's secret, so it needs no storage and
/// dies with the session.
pub fn csrf_token(session_secret: &str) -> String {
    let mut input = b"otsensor csrf\0".to_vec();
    input.extend_from_slice(session_secret.as_bytes());
    hex(digest(&SHA256, &input).as_ref())
}

/// Compares two strings in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A one-time password: 20 characters from an alphabet without look-alikes (about 100 bits).
pub fn one_time_password() -> Result<String, RandomError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<64>()?;
    // rejection sampling keeps every character equally likely
    let limit = 256 - 256 % ALPHABET.len();
    let out: String = bytes
        .iter()
        .map(|b| usize::from(*b))
        .filter(|b| *b < limit)
        .map(|b| char::from(ALPHABET[b % ALPHABET.len()]))
        .take(20)
        .collect();
    if out.len() < 20 {
        return Err(RandomError);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_hashes_stable() {
        let a = session_secret().unwrap();
        let b = session_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
        assert!(api_token().unwrap().starts_with(TOKEN_PREFIX));
        assert_eq!(one_time_password().unwrap().len(), 20);
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert_ne!(csrf_token("x"), csrf_token("y"));
    }
}
