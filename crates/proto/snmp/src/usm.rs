//! The User-based Security Model (RFC 3414, RFC 3826, RFC 7860): password-to-key, key
//! localization, HMAC authentication and DES / AES privacy, with pure-Rust primitives.
//!
//! | protocol | spec | MAC or key |
//! |---|---|---|
//! | HMAC-MD5-96 | RFC 3414 6 | 12-byte MAC |
//! | HMAC-SHA-96 | RFC 3414 7 | 12-byte MAC |
//! | HMAC-SHA-224/256/384/512 | RFC 7860 | 16 / 24 / 32 / 48-byte MAC |
//! | CBC-DES | RFC 3414 8 | key and pre-IV from the first 16 bytes of the localized key |
//! | CFB128-AES-128 | RFC 3826 | first 16 bytes of the localized key |
//! | CFB128-AES-192/256 | draft-blumenthal-aes-usm-04 (net-snmp `AES-192`/`AES-256`) | key extended by hashing |
//! | CFB128-AES-192/256 "Cisco" | draft-reeder-snmpv3-usm-3desede (net-snmp `AES-192-C`/`AES-256-C`) | key extended by re-localizing |
//!
//! Secrets (passwords and keys) never appear in `Debug` output or errors.

use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use cfb_mode::cipher::AsyncStreamCipher;
use hmac::{Mac, SimpleHmac};
use sha2::Digest;
use std::fmt;
use std::str::FromStr;

/// Bytes hashed by the password-to-key algorithm (RFC 3414 A.2): one megabyte.
const PASSWORD_EXPANSION: usize = 1_048_576;
/// Shortest password the USM accepts (RFC 3414 11.2 recommends 8, net-snmp enforces it).
pub const MIN_PASSWORD_LEN: usize = 8;

/// An authentication protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    /// usmHMACMD5AuthProtocol.
    Md5,
    /// usmHMACSHAAuthProtocol (SHA-1).
    Sha1,
    /// usmHMAC128SHA224AuthProtocol.
    Sha224,
    /// usmHMAC192SHA256AuthProtocol.
    Sha256,
    /// usmHMAC256SHA384AuthProtocol.
    Sha384,
    /// usmHMAC384SHA512AuthProtocol.
    Sha512,
}

impl AuthProtocol {
    /// Every protocol.
    pub const ALL: [AuthProtocol; 6] = [
        AuthProtocol::Md5,
        AuthProtocol::Sha1,
        AuthProtocol::Sha224,
        AuthProtocol::Sha256,
        AuthProtocol::Sha384,
        AuthProtocol::Sha512,
    ];

    /// The name used on the command line (as net-snmp's `-a`).
    pub fn name(self) -> &'static str {
        match self {
            AuthProtocol::Md5 => "MD5",
            AuthProtocol::Sha1 => "SHA",
            AuthProtocol::Sha224 => "SHA-224",
            AuthProtocol::Sha256 => "SHA-256",
            AuthProtocol::Sha384 => "SHA-384",
            AuthProtocol::Sha512 => "SHA-512",
        }
    }

    /// Length of msgAuthenticationParameters.
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// The hash of `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            AuthProtocol::Md5 => md5::Md5::digest(data).to_vec(),
            AuthProtocol::Sha1 => sha1::Sha1::digest(data).to_vec(),
            AuthProtocol::Sha224 => sha2::Sha224::digest(data).to_vec(),
            AuthProtocol::Sha256 => sha2::Sha256::digest(data).to_vec(),
            AuthProtocol::Sha384 => sha2::Sha384::digest(data).to_vec(),
            AuthProtocol::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Ku: the password-to-key algorithm (RFC 3414 A.2, RFC 7860 9.3).
    pub fn password_to_key(self, password: &[u8]) -> Vec<u8> {
        match self {
            AuthProtocol::Md5 => expand::<md5::Md5>(password),
            AuthProtocol::Sha1 => expand::<sha1::Sha1>(password),
            AuthProtocol::Sha224 => expand::<sha2::Sha224>(password),
            AuthProtocol::Sha256 => expand::<sha2::Sha256>(password),
            AuthProtocol::Sha384 => expand::<sha2::Sha384>(password),
            AuthProtocol::Sha512 => expand::<sha2::Sha512>(password),
        }
    }

    /// Kul: Ku localized to an engine, H(Ku || engineID || Ku) (RFC 3414 2.6).
    pub fn localize(self, ku: &[u8], engine_id: &[u8]) -> Vec<u8> {
        self.hash(&[ku, engine_id, ku].concat())
    }

    /// The truncated HMAC of `message` under `key`.
    pub fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let full = match self {
            AuthProtocol::Md5 => hmac_of::<md5::Md5>(key, message),
            AuthProtocol::Sha1 => hmac_of::<sha1::Sha1>(key, message),
            AuthProtocol::Sha224 => hmac_of::<sha2::Sha224>(key, message),
            AuthProtocol::Sha256 => hmac_of::<sha2::Sha256>(key, message),
            AuthProtocol::Sha384 => hmac_of::<sha2::Sha384>(key, message),
            AuthProtocol::Sha512 => hmac_of::<sha2::Sha512>(key, message),
        };
        full.get(..self.mac_len()).unwrap_or_default().to_vec()
    }

    /// Whether `mac` is the right MAC of `message` (whose MAC field holds zeros), compared in
    /// constant time.
    pub fn verify(self, key: &[u8], message: &[u8], mac: &[u8]) -> bool {
        if mac.len() != self.mac_len() {
            return false;
        }
        let expected = self.mac(key, message);
        // constant-time comparison
        expected
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AuthProtocol {
    type Err = String;

    /// MD5, SHA (or SHA1, SHA-1), SHA-224, SHA-256, SHA-384, SHA-512 (any case, dash optional).
    fn from_str(s: &str) -> Result<AuthProtocol, String> {
        let norm = s.to_ascii_uppercase().replace(['-', '_'], "");
        Ok(match norm.as_str() {
            "MD5" => AuthProtocol::Md5,
            "SHA" | "SHA1" => AuthProtocol::Sha1,
            "SHA224" => AuthProtocol::Sha224,
            "SHA256" => AuthProtocol::Sha256,
            "SHA384" => AuthProtocol::Sha384,
            "SHA512" => AuthProtocol::Sha512,
            _ => {
                return Err(format!(
                    "{s}: not an authentication protocol (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512)"
                ));
            }
        })
    }
}

fn expand<D: Digest>(password: &[u8]) -> Vec<u8> {
    let mut hasher = D::new();
    if password.is_empty() {
        return hasher.finalize().to_vec();
    }
    let mut block = [0u8; 64];
    let mut index = 0usize;
    for _ in 0..PASSWORD_EXPANSION / block.len() {
        for b in block.iter_mut() {
            *b = password
                .get(index % password.len())
                .copied()
                .unwrap_or_default();
            index += 1;
        }
        hasher.update(block);
    }
    hasher.finalize().to_vec()
}

fn hmac_of<D>(key: &[u8], message: &[u8]) -> Vec<u8>
where
    D: Digest + hmac::digest::core_api::BlockSizeUser,
{
    match <SimpleHmac<D> as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            Mac::update(&mut mac, message);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length, so this is never reached
        Err(_) => Vec::new(),
    }
}

/// A privacy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    /// usmDESPrivProtocol (CBC-DES).
    Des,
    /// usmAesCfb128Protocol.
    Aes128,
    /// AES-192 in CFB128 with the Blumenthal key extension (net-snmp `AES-192`).
    Aes192,
    /// AES-256 in CFB128 with the Blumenthal key extension (net-snmp `AES-256`).
    Aes256,
    /// AES-192 in CFB128 with the Reeder key extension (Cisco; net-snmp `AES-192-C`).
    Aes192Cisco,
    /// AES-256 in CFB128 with the Reeder key extension (Cisco; net-snmp `AES-256-C`).
    Aes256Cisco,
}

impl PrivProtocol {
    /// Every protocol.
    pub const ALL: [PrivProtocol; 6] = [
        PrivProtocol::Des,
        PrivProtocol::Aes128,
        PrivProtocol::Aes192,
        PrivProtocol::Aes256,
        PrivProtocol::Aes192Cisco,
        PrivProtocol::Aes256Cisco,
    ];

    /// The name used on the command line (as net-snmp's `-x`).
    pub fn name(self) -> &'static str {
        match self {
            PrivProtocol::Des => "DES",
            PrivProtocol::Aes128 => "AES",
            PrivProtocol::Aes192 => "AES-192",
            PrivProtocol::Aes256 => "AES-256",
            PrivProtocol::Aes192Cisco => "AES-192-C",
            PrivProtocol::Aes256Cisco => "AES-256-C",
        }
    }

    /// Bytes of localized key the cipher uses (DES: 8 key + 8 pre-IV).
    pub fn key_len(self) -> usize {
        match self {
            PrivProtocol::Des | PrivProtocol::Aes128 => 16,
            PrivProtocol::Aes192 | PrivProtocol::Aes192Cisco => 24,
            PrivProtocol::Aes256 | PrivProtocol::Aes256Cisco => 32,
        }
    }

    /// The localized privacy key for `engine_id`, from Ku of the privacy password (computed
    /// with the user's authentication hash), extended as the protocol says when the hash is
    /// shorter than the key.
    pub fn localize(self, auth: AuthProtocol, ku: &[u8], engine_id: &[u8]) -> Vec<u8> {
        let mut key = auth.localize(ku, engine_id);
        let need = self.key_len();
        match self {
            PrivProtocol::Aes192 | PrivProtocol::Aes256 => {
                // Blumenthal: Kul = Kul || H(Kul), until long enough
                while key.len() < need {
                    let more = auth.hash(&key);
                    let take = (need - key.len()).min(more.len());
                    key.extend_from_slice(more.get(..take).unwrap_or_default());
                }
            }
            PrivProtocol::Aes192Cisco | PrivProtocol::Aes256Cisco => {
                // Reeder: Kul = Kul || localize(password_to_key(Kul)), until long enough
                while key.len() < need {
                    let ku2 = auth.password_to_key(&key);
                    let more = auth.localize(&ku2, engine_id);
                    let take = (need - key.len()).min(more.len());
                    key.extend_from_slice(more.get(..take).unwrap_or_default());
                }
            }
            PrivProtocol::Des | PrivProtocol::Aes128 => {}
        }
        key.truncate(need);
        key
    }

    /// Encrypts a ScopedPDU. `salt` is this message's unique number; returns the ciphertext
    /// and msgPrivacyParameters.
    pub fn encrypt(
        self,
        key: &[u8],
        boots: u32,
        time: u32,
        salt: u64,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>), PrivacyError> {
        match self {
            PrivProtocol::Des => {
                let (des_key, pre_iv) = des_parts(key)?;
                let mut params = boots.to_be_bytes().to_vec();
                params.extend_from_slice(&(salt as u32).to_be_bytes());
                let iv: Vec<u8> = pre_iv.iter().zip(&params).map(|(a, b)| a ^ b).collect();
                let mut buf = plaintext.to_vec();
                let padded = buf.len().div_ceil(8) * 8;
                buf.resize(padded, 0);
                let cipher = cbc::Encryptor::<des::Des>::new_from_slices(des_key, &iv)
                    .map_err(|_| PrivacyError::KeyLength(self))?;
                let out = cipher
                    .encrypt_padded_mut::<NoPadding>(&mut buf, padded)
                    .map_err(|_| PrivacyError::Length(self))?
                    .to_vec();
                Ok((out, params))
            }
            _ => {
                let params = salt.to_be_bytes().to_vec();
                let iv = aes_iv(boots, time, &params);
                let mut buf = plaintext.to_vec();
                aes_cfb(self, key, &iv, &mut buf, true)?;
                Ok((buf, params))
            }
        }
    }

    /// Decrypts an encryptedPDU with msgPrivacyParameters `params`.
    pub fn decrypt(
        self,
        key: &[u8],
        boots: u32,
        time: u32,
        params: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, PrivacyError> {
        if params.len() != 8 {
            return Err(PrivacyError::Salt(params.len()));
        }
        match self {
            PrivProtocol::Des => {
                if !ciphertext.len().is_multiple_of(8) {
                    return Err(PrivacyError::Length(self));
                }
                let (des_key, pre_iv) = des_parts(key)?;
                let iv: Vec<u8> = pre_iv.iter().zip(params).map(|(a, b)| a ^ b).collect();
                let mut buf = ciphertext.to_vec();
                let cipher = cbc::Decryptor::<des::Des>::new_from_slices(des_key, &iv)
                    .map_err(|_| PrivacyError::KeyLength(self))?;
                let out = cipher
                    .decrypt_padded_mut::<NoPadding>(&mut buf)
                    .map_err(|_| PrivacyError::Length(self))?
                    .to_vec();
                Ok(out)
            }
            _ => {
                let iv = aes_iv(boots, time, params);
                let mut buf = ciphertext.to_vec();
                aes_cfb(self, key, &iv, &mut buf, false)?;
                Ok(buf)
            }
        }
    }
}

impl fmt::Display for PrivProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PrivProtocol {
    type Err = String;

    /// DES, AES (or AES-128), AES-192, AES-256, AES-192-C, AES-256-C (any case, dashes optional).
    fn from_str(s: &str) -> Result<PrivProtocol, String> {
        let norm = s.to_ascii_uppercase().replace(['-', '_'], "");
        Ok(match norm.as_str() {
            "DES" => PrivProtocol::Des,
            "AES" | "AES128" => PrivProtocol::Aes128,
            "AES192" => PrivProtocol::Aes192,
            "AES256" => PrivProtocol::Aes256,
            "AES192C" => PrivProtocol::Aes192Cisco,
            "AES256C" => PrivProtocol::Aes256Cisco,
            _ => {
                return Err(format!(
                    "{s}: not a privacy protocol (DES, AES, AES-192, AES-256, AES-192-C, AES-256-C)"
                ));
            }
        })
    }
}

/// Why encryption or decryption failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivacyError {
    /// The key is too short for the cipher.
    #[error("{0}: the localized privacy key is too short")]
    KeyLength(PrivProtocol),
    /// The ciphertext is not a whole number of blocks.
    #[error("{0}: the encrypted PDU is not a whole number of cipher blocks")]
    Length(PrivProtocol),
    /// msgPrivacyParameters is not 8 bytes.
    #[error("msgPrivacyParameters is {0} bytes, not 8")]
    Salt(usize),
}

fn des_parts(key: &[u8]) -> Result<(&[u8], &[u8]), PrivacyError> {
    match (key.get(..8), key.get(8..16)) {
        (Some(k), Some(iv)) => Ok((k, iv)),
        _ => Err(PrivacyError::KeyLength(PrivProtocol::Des)),
    }
}

fn aes_iv(boots: u32, time: u32, salt: &[u8]) -> Vec<u8> {
    let mut iv = boots.to_be_bytes().to_vec();
    iv.extend_from_slice(&time.to_be_bytes());
    iv.extend_from_slice(salt);
    iv
}

fn aes_cfb(
    protocol: PrivProtocol,
    key: &[u8],
    iv: &[u8],
    buf: &mut [u8],
    encrypt: bool,
) -> Result<(), PrivacyError> {
    let bad = |_| PrivacyError::KeyLength(protocol);
    let key = key
        .get(..protocol.key_len())
        .ok_or(PrivacyError::KeyLength(protocol))?;
    match protocol.key_len() {
        16 => run_cfb::<aes::Aes128>(key, iv, buf, encrypt).map_err(bad),
        24 => run_cfb::<aes::Aes192>(key, iv, buf, encrypt).map_err(bad),
        _ => run_cfb::<aes::Aes256>(key, iv, buf, encrypt).map_err(bad),
    }
}

fn run_cfb<C>(
    key: &[u8],
    iv: &[u8],
    buf: &mut [u8],
    encrypt: bool,
) -> Result<(), cfb_mode::cipher::InvalidLength>
where
    C: cfb_mode::cipher::BlockEncryptMut
        + cfb_mode::cipher::BlockCipher
        + cfb_mode::cipher::KeyInit,
{
    if encrypt {
        cfb_mode::Encryptor::<C>::new_from_slices(key, iv)?.encrypt(buf);
    } else {
        cfb_mode::Decryptor::<C>::new_from_slices(key, iv)?.decrypt(buf);
    }
    Ok(())
}

pub use otsensor_core::Secret;

/// An SNMPv3 user as configured: name, and the protocols and passwords of its security level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsmUser {
    /// The user (security) name.
    pub name: String,
    /// Authentication protocol and password (authNoPriv and authPriv).
    pub auth: Option<(AuthProtocol, Secret)>,
    /// Privacy protocol and password (authPriv; needs `auth`).
    pub privacy: Option<(PrivProtocol, Secret)>,
}

/// The v3 security level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityLevel {
    /// noAuthNoPriv.
    NoAuthNoPriv,
    /// authNoPriv.
    AuthNoPriv,
    /// authPriv.
    AuthPriv,
}

impl SecurityLevel {
    /// The name as the RFCs write it.
    pub fn name(self) -> &'static str {
        match self {
            SecurityLevel::NoAuthNoPriv => "noAuthNoPriv",
            SecurityLevel::AuthNoPriv => "authNoPriv",
            SecurityLevel::AuthPriv => "authPriv",
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl UsmUser {
    /// The security level the user's settings give.
    pub fn level(&self) -> SecurityLevel {
        match (&self.auth, &self.privacy) {
            (None, _) => SecurityLevel::NoAuthNoPriv,
            (Some(_), None) => SecurityLevel::AuthNoPriv,
            (Some(_), Some(_)) => SecurityLevel::AuthPriv,
        }
    }

    /// Checks the settings: privacy needs authentication, passwords at least 8 characters.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("the SNMPv3 user name is empty".into());
        }
        if self.privacy.is_some() && self.auth.is_none() {
            return Err("SNMPv3 privacy needs authentication too (authPriv)".into());
        }
        for (what, secret) in [
            ("authentication", self.auth.as_ref().map(|a| &a.1)),
            ("privacy", self.privacy.as_ref().map(|p| &p.1)),
        ] {
            if let Some(s) = secret
                && s.expose().len() < MIN_PASSWORD_LEN
            {
                return Err(format!(
                    "the SNMPv3 {what} password must be at least {MIN_PASSWORD_LEN} characters (RFC 3414)"
                ));
            }
        }
        Ok(())
    }

    /// Ku of each password (the slow part: a megabyte hashed per password), computed once.
    pub fn master_keys(&self) -> MasterKeys {
        let auth = self
            .auth
            .as_ref()
            .map(|(p, s)| (*p, p.password_to_key(s.expose().as_bytes())));
        let privacy = match (&self.auth, &self.privacy) {
            (Some((a, _)), Some((p, s))) => Some((*p, a.password_to_key(s.expose().as_bytes()))),
            _ => None,
        };
        MasterKeys { auth, privacy }
    }
}

/// Ku of the user's passwords, ready to be localized to any engine.
#[derive(Clone)]
pub struct MasterKeys {
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeys")
            .field("auth", &self.auth.as_ref().map(|a| a.0))
            .field("privacy", &self.privacy.as_ref().map(|p| p.0))
            .finish()
    }
}

impl MasterKeys {
    /// The keys localized to `engine_id`.
    pub fn localize(&self, engine_id: &[u8]) -> LocalizedKeys {
        let auth = self
            .auth
            .as_ref()
            .map(|(p, ku)| (*p, p.localize(ku, engine_id)));
        let privacy = match (&self.auth, &self.privacy) {
            (Some((a, _)), Some((p, ku))) => Some((*p, p.localize(*a, ku, engine_id))),
            _ => None,
        };
        LocalizedKeys { auth, privacy }
    }
}

/// Keys localized to one engine.
#[derive(Clone)]
pub struct LocalizedKeys {
    /// Authentication protocol and key.
    pub auth: Option<(AuthProtocol, Vec<u8>)>,
    /// Privacy protocol and key.
    pub privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl fmt::Debug for LocalizedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalizedKeys")
            .field("auth", &self.auth.as_ref().map(|a| a.0))
            .field("privacy", &self.privacy.as_ref().map(|p| p.0))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const ENGINE: &str = "000000000000000000000002";

    #[test]
    fn md5_key_localization_matches_rfc_3414_a_3_1() {
        let ku = AuthProtocol::Md5.password_to_key(b"maplesyrup");
        assert_eq!(ku, hex("9faf3283884e92834ebc9847d8edd963"));
        let kul = AuthProtocol::Md5.localize(&ku, &hex(ENGINE));
        assert_eq!(kul, hex("526f5eed9fcce26f8964c2930787d82b"));
    }

    #[test]
    fn sha1_key_localization_matches_rfc_3414_a_3_2() {
        let ku = AuthProtocol::Sha1.password_to_key(b"maplesyrup");
        assert_eq!(ku, hex("9fb5cc0381497b3793528939ff788d5d79145211"));
        let kul = AuthProtocol::Sha1.localize(&ku, &hex(ENGINE));
        assert_eq!(kul, hex("6695febc9288e36282235fc7151f128497b38f3f"));
    }

    #[test]
    fn privacy_keys_have_the_length_of_their_cipher() {
        let engine = hex(ENGINE);
        for auth in AuthProtocol::ALL {
            let ku = auth.password_to_key(b"privpass123");
            for p in PrivProtocol::ALL {
                let key = p.localize(auth, &ku, &engine);
                assert_eq!(key.len(), p.key_len(), "{auth} {p}");
                // the extension keeps the localized key as its prefix
                let kul = auth.localize(&ku, &engine);
                let common = kul.len().min(key.len());
                assert_eq!(key[..common], kul[..common]);
            }
        }
    }

    #[test]
    fn blumenthal_and_reeder_extensions_differ_past_the_hash() {
        let engine = hex(ENGINE);
        let ku = AuthProtocol::Md5.password_to_key(b"privpass123");
        let b = PrivProtocol::Aes256.localize(AuthProtocol::Md5, &ku, &engine);
        let r = PrivProtocol::Aes256Cisco.localize(AuthProtocol::Md5, &ku, &engine);
        assert_eq!(b[..16], r[..16]);
        assert_ne!(b[16..], r[16..]);
        assert_eq!(b[16..], AuthProtocol::Md5.hash(&b[..16])[..]);
    }

    #[test]
    fn macs_verify_and_tampering_fails() {
        for auth in AuthProtocol::ALL {
            let key = auth.localize(&auth.password_to_key(b"authpass123"), b"engine-1");
            let msg = b"a message with a zeroed mac";
            let mac = auth.mac(&key, msg);
            assert_eq!(mac.len(), auth.mac_len());
            assert!(auth.verify(&key, msg, &mac));
            assert!(!auth.verify(&key, b"another message", &mac));
            assert!(!auth.verify(&key, msg, &mac[1..]));
        }
    }

    #[test]
    fn protocol_names_parse_as_net_snmp_writes_them() {
        assert_eq!("sha".parse::<AuthProtocol>().unwrap(), AuthProtocol::Sha1);
        assert_eq!(
            "SHA-512".parse::<AuthProtocol>().unwrap(),
            AuthProtocol::Sha512
        );
        assert_eq!("aes".parse::<PrivProtocol>().unwrap(), PrivProtocol::Aes128);
        assert_eq!(
            "AES-256-C".parse::<PrivProtocol>().unwrap(),
            PrivProtocol::Aes256Cisco
        );
        assert!("rot13".parse::<PrivProtocol>().is_err());
        for p in PrivProtocol::ALL {
            assert_eq!(p.name().parse::<PrivProtocol>().unwrap(), p);
        }
        for a in AuthProtocol::ALL {
            assert_eq!(a.name().parse::<AuthProtocol>().unwrap(), a);
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let user = UsmUser {
            name: "ops".into(),
            auth: Some((AuthProtocol::Sha1, Secret::new("authpass123"))),
            privacy: Some((PrivProtocol::Aes128, Secret::new("privpass123"))),
        };
        let text = format!("{user:?} {:?}", user.master_keys().localize(b"e"));
        assert!(
            !text.contains("authpass123") && !text.contains("privpass123"),
            "{text}"
        );
    }

    proptest! {
        #[test]
        fn every_cipher_round_trips(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            boots in any::<u32>(),
            time in any::<u32>(),
            salt in any::<u64>(),
            key in proptest::collection::vec(any::<u8>(), 32),
        ) {
            for p in PrivProtocol::ALL {
                let (ct, params) = p.encrypt(&key, boots, time, salt, &data).unwrap();
                let pt = p.decrypt(&key, boots, time, &params, &ct).unwrap();
                prop_assert_eq!(&pt[..data.len()], &data[..]);
                prop_assert!(pt[data.len()..].iter().all(|b| *b == 0));
            }
        }

        #[test]
        fn decrypting_garbage_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..100),
            params in proptest::collection::vec(any::<u8>(), 0..12),
            key in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            for p in PrivProtocol::ALL {
                let _ = p.decrypt(&key, 1, 2, &params, &data);
            }
        }
    }
}
