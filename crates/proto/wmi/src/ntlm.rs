//! NTLMv2 (MS-NLMP) for a client: the three messages, the keys, and message signing and sealing.
//!
//! Only NTLMv2 with extended session security is spoken: a server that offers no extended
//! session security (NTLMv1 only) is refused. [`NtlmClient`] builds the NEGOTIATE_MESSAGE, reads
//! the CHALLENGE_MESSAGE and builds the AUTHENTICATE_MESSAGE; the [`NtlmSession`] it returns
//! signs, seals, verifies and unseals messages (MS-NLMP 3.4.4 with extended session security,
//! connection-oriented: one RC4 stream per direction for the life of the session).

use crate::ndr::utf16le;
use hmac::{Hmac, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use std::fmt;

/// NTLMSSP_NEGOTIATE_UNICODE.
pub const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
/// NTLMSSP_REQUEST_TARGET.
pub const REQUEST_TARGET: u32 = 0x0000_0004;
/// NTLMSSP_NEGOTIATE_SIGN.
pub const NEGOTIATE_SIGN: u32 = 0x0000_0010;
/// NTLMSSP_NEGOTIATE_SEAL.
pub const NEGOTIATE_SEAL: u32 = 0x0000_0020;
/// NTLMSSP_NEGOTIATE_NTLM.
pub const NEGOTIATE_NTLM: u32 = 0x0000_0200;
/// NTLMSSP_NEGOTIATE_ALWAYS_SIGN.
pub const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
/// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY.
pub const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
/// NTLMSSP_NEGOTIATE_TARGET_INFO.
pub const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
/// NTLMSSP_NEGOTIATE_VERSION.
pub const NEGOTIATE_VERSION: u32 = 0x0200_0000;
/// NTLMSSP_NEGOTIATE_128.
pub const NEGOTIATE_128: u32 = 0x2000_0000;
/// NTLMSSP_NEGOTIATE_KEY_EXCH.
pub const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;
/// NTLMSSP_NEGOTIATE_56.
pub const NEGOTIATE_56: u32 = 0x8000_0000;

/// The flags this client asks for.
pub const CLIENT_FLAGS: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_SIGN
    | NEGOTIATE_SEAL
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_VERSION
    | NEGOTIATE_128
    | NEGOTIATE_KEY_EXCH
    | NEGOTIATE_56;

/// MsvAvEOL.
pub const AV_EOL: u16 = 0;
/// MsvAvFlags.
pub const AV_FLAGS: u16 = 6;
/// MsvAvTimestamp.
pub const AV_TIMESTAMP: u16 = 7;
/// MsvAvFlags bit: the AUTHENTICATE_MESSAGE carries a MIC.
pub const AV_FLAG_MIC_PRESENT: u32 = 0x2;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// The Version field this client sends: Windows 10 build 19041, NTLM revision 15.
const CLIENT_VERSION: [u8; 8] = [10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f];
/// Length of an NTLM message signature.
pub const SIGNATURE_LEN: usize = 16;

const CLIENT_SIGN_MAGIC: &[u8] = b"session key to client-to-server signing key magic constant\0";
const SERVER_SIGN_MAGIC: &[u8] = b"session key to server-to-client signing key magic constant\0";
const CLIENT_SEAL_MAGIC: &[u8] = b"session key to client-to-server sealing key magic constant\0";
const SERVER_SEAL_MAGIC: &[u8] = b"session key to server-to-client sealing key magic constant\0";

/// Why NTLM authentication could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtlmError {
    /// The CHALLENGE_MESSAGE is not one.
    #[error("bad NTLM CHALLENGE_MESSAGE: {0}")]
    BadChallenge(String),
    /// The server does not offer what NTLMv2 with signing and sealing needs.
    #[error(
        "the server does not offer NTLM extended session security (flags {flags:#010x}): only NTLMv1 is possible there, which otsensor refuses"
    )]
    NoExtendedSessionSecurity {
        /// The server's flags.
        flags: u32,
    },
    /// A message signature did not verify.
    #[error(
        "the server's NTLM signature of message {seq} does not verify (tampered reply, or a wrong session key)"
    )]
    BadSignature {
        /// The message's sequence number.
        seq: u32,
    },
    /// A signature has the wrong length or version.
    #[error("malformed NTLM signature ({len} bytes, version {version})")]
    MalformedSignature {
        /// Its length.
        len: usize,
        /// Its version field.
        version: u32,
    },
}

/// Account credentials. The password is never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Domain (may be empty: the account is local to the host).
    pub domain: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl Credentials {
    /// Credentials from a user written `DOMAIN\user`, `user@domain` or `user`, and a password.
    pub fn parse(user: &str, password: &str) -> Credentials {
        let (domain, user) = if let Some((d, u)) = user.split_once('\\') {
            (d.to_string(), u.to_string())
        } else if let Some((u, d)) = user.split_once('@') {
            (d.to_string(), u.to_string())
        } else {
            (String::new(), user.to_string())
        };
        Credentials {
            domain,
            user,
            password: password.to_string(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("domain", &self.domain)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC accepts keys of any length: this never fails
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// NTOWFv1: MD4 of the UTF-16LE password (the NT hash).
pub fn nt_hash(password: &str) -> [u8; 16] {
    Md4::digest(utf16le(password)).into()
}

/// NTOWFv2 (= LMOWFv2): HMAC_MD5(NT hash, UNICODE(Uppercase(user) + domain)).
pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let id = utf16le(&(user.to_uppercase() + domain));
    hmac_md5(&nt_hash(password), &[&id])
}

/// The NTLMv2 client blob `temp` of MS-NLMP 3.3.2 (after the server challenge).
pub fn ntlmv2_temp(time: &[u8; 8], client_challenge: &[u8; 8], target_info: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(28 + target_info.len() + 4);
    t.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    t.extend_from_slice(time);
    t.extend_from_slice(client_challenge);
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(target_info);
    t.extend_from_slice(&[0; 4]);
    t
}

/// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge + temp).
pub fn nt_proof_str(response_key: &[u8; 16], server_challenge: &[u8; 8], temp: &[u8]) -> [u8; 16] {
    hmac_md5(response_key, &[server_challenge, temp])
}

/// LMv2 response: HMAC_MD5(ResponseKeyLM, ServerChallenge + ClientChallenge) + ClientChallenge.
pub fn lmv2_response(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    let mac = hmac_md5(response_key, &[server_challenge, client_challenge]);
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&mac);
    out[16..].copy_from_slice(client_challenge);
    out
}

/// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is also the KeyExchangeKey.
pub fn session_base_key(response_key: &[u8; 16], nt_proof: &[u8; 16]) -> [u8; 16] {
    hmac_md5(response_key, &[nt_proof])
}

/// RC4K: one RC4 pass over `data` under a 16-byte key.
pub fn rc4k(key: &[u8; 16], data: &[u8; 16]) -> [u8; 16] {
    let mut out = *data;
    Rc4::<U16>::new(key.into()).apply_keystream(&mut out);
    out
}

/// SIGNKEY for the client-to-server (`client = true`) or server-to-client direction.
pub fn sign_key(exported_session_key: &[u8; 16], client: bool) -> [u8; 16] {
    let magic = if client {
        CLIENT_SIGN_MAGIC
    } else {
        SERVER_SIGN_MAGIC
    };
    md5(&[exported_session_key, magic])
}

/// SEALKEY for one direction, shortened as the negotiated key strength says.
pub fn seal_key(flags: u32, exported_session_key: &[u8; 16], client: bool) -> [u8; 16] {
    let base: &[u8] = if flags & NEGOTIATE_128 != 0 {
        exported_session_key
    } else if flags & NEGOTIATE_56 != 0 {
        &exported_session_key[..7]
    } else {
        &exported_session_key[..5]
    };
    let magic = if client {
        CLIENT_SEAL_MAGIC
    } else {
        SERVER_SEAL_MAGIC
    };
    md5(&[base, magic])
}

/// The NEGOTIATE_MESSAGE (no domain or workstation supplied).
pub fn negotiate_message(flags: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(40);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    for _ in 0..2 {
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&40u32.to_le_bytes());
    }
    m.extend_from_slice(&CLIENT_VERSION);
    m
}

/// One AV_PAIR of a TargetInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvPair {
    /// AvId.
    pub id: u16,
    /// Value.
    pub value: Vec<u8>,
}

/// Parses a TargetInfo into its AV pairs (up to MsvAvEOL).
pub fn parse_av_pairs(mut data: &[u8]) -> Result<Vec<AvPair>, NtlmError> {
    let mut out = Vec::new();
    loop {
        let [a, b, c, d, rest @ ..] = data else {
            return Err(NtlmError::BadChallenge(
                "TargetInfo ends without MsvAvEOL".into(),
            ));
        };
        let id = u16::from_le_bytes([*a, *b]);
        let len = u16::from_le_bytes([*c, *d]) as usize;
        if id == AV_EOL {
            return Ok(out);
        }
        let value = rest.get(..len).ok_or_else(|| {
            NtlmError::BadChallenge(format!("AV pair {id} runs past the TargetInfo"))
        })?;
        out.push(AvPair {
            id,
            value: value.to_vec(),
        });
        data = &rest[len..];
    }
}

/// Encodes AV pairs followed by MsvAvEOL.
pub fn encode_av_pairs(pairs: &[AvPair]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pairs {
        out.extend_from_slice(&p.id.to_le_bytes());
        out.extend_from_slice(&(p.value.len() as u16).to_le_bytes());
        out.extend_from_slice(&p.value);
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out
}

/// The fields of a CHALLENGE_MESSAGE this client uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// NegotiateFlags.
    pub flags: u32,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetName (UTF-16LE, as sent).
    pub target_name: Vec<u8>,
    /// TargetInfo (raw AV pairs, as sent).
    pub target_info: Vec<u8>,
}

fn payload<'a>(msg: &'a [u8], fields_at: usize, what: &str) -> Result<&'a [u8], NtlmError> {
    let f = msg
        .get(fields_at..fields_at + 8)
        .ok_or_else(|| NtlmError::BadChallenge(format!("too short for its {what} fields")))?;
    let len = u16::from_le_bytes([f[0], f[1]]) as usize;
    let off = u32::from_le_bytes([f[4], f[5], f[6], f[7]]) as usize;
    if len == 0 {
        return Ok(&[]);
    }
    msg.get(off..off.saturating_add(len))
        .ok_or_else(|| NtlmError::BadChallenge(format!("{what} points outside the message")))
}

impl Challenge {
    /// Parses a CHALLENGE_MESSAGE.
    pub fn parse(msg: &[u8]) -> Result<Challenge, NtlmError> {
        if msg.len() < 32 || &msg[..8] != SIGNATURE {
            return Err(NtlmError::BadChallenge(
                "no NTLMSSP signature (the server may not speak NTLM)".into(),
            ));
        }
        let kind = u32::from_le_bytes([msg[8], msg[9], msg[10], msg[11]]);
        if kind != 2 {
            return Err(NtlmError::BadChallenge(format!(
                "message type {kind}, expected 2"
            )));
        }
        let flags = u32::from_le_bytes([msg[20], msg[21], msg[22], msg[23]]);
        let mut server_challenge = [0u8; 8];
        server_challenge.copy_from_slice(&msg[24..32]);
        let target_name = payload(msg, 12, "TargetName")?.to_vec();
        let target_info = if msg.len() >= 48 {
            payload(msg, 40, "TargetInfo")?.to_vec()
        } else {
            Vec::new()
        };
        Ok(Challenge {
            flags,
            server_challenge,
            target_name,
            target_info,
        })
    }

    /// The server's MsvAvTimestamp, when it sent one.
    pub fn timestamp(&self) -> Option<[u8; 8]> {
        let pairs = parse_av_pairs(&self.target_info).ok()?;
        let ts = pairs.iter().find(|p| p.id == AV_TIMESTAMP)?;
        ts.value.as_slice().try_into().ok()
    }
}

/// The random inputs of one authentication (fixed in tests, random otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonces {
    /// ClientChallenge.
    pub client_challenge: [u8; 8],
    /// ExportedSessionKey sent under KEY_EXCH.
    pub session_key: [u8; 16],
    /// The client's time (FILETIME) when the server sends none.
    pub time: [u8; 8],
}

impl Nonces {
    /// Fresh random values and the current time.
    pub fn random() -> Nonces {
        let mut client_challenge = [0u8; 8];
        let mut session_key = [0u8; 16];
        crate::random_bytes(&mut client_challenge);
        crate::random_bytes(&mut session_key);
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let filetime = 116_444_736_000_000_000u64 + unix.as_nanos() as u64 / 100;
        Nonces {
            client_challenge,
            session_key,
            time: filetime.to_le_bytes(),
        }
    }
}

/// The client side of one NTLM authentication.
#[derive(Debug, Clone)]
pub struct NtlmClient {
    credentials: Credentials,
    workstation: String,
    negotiate: Vec<u8>,
}

impl NtlmClient {
    /// A client for `credentials`, naming itself `workstation`.
    pub fn new(credentials: Credentials, workstation: &str) -> NtlmClient {
        NtlmClient {
            credentials,
            workstation: workstation.to_string(),
            negotiate: negotiate_message(CLIENT_FLAGS),
        }
    }

    /// The NEGOTIATE_MESSAGE to send first.
    pub fn negotiate(&self) -> &[u8] {
        &self.negotiate
    }

    /// Answers a CHALLENGE_MESSAGE: the AUTHENTICATE_MESSAGE and the established session.
    pub fn authenticate(
        &self,
        challenge_msg: &[u8],
        nonces: Nonces,
    ) -> Result<(Vec<u8>, NtlmSession), NtlmError> {
        let ch = Challenge::parse(challenge_msg)?;
        if ch.flags & NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
            return Err(NtlmError::NoExtendedSessionSecurity { flags: ch.flags });
        }
        let flags = (ch.flags & CLIENT_FLAGS) | NEGOTIATE_UNICODE;
        let creds = &self.credentials;
        let key = ntowf_v2(&creds.password, &creds.user, &creds.domain);
        let server_time = ch.timestamp();
        let time = server_time.unwrap_or(nonces.time);
        // with the server's time, a MIC protects the three messages (MS-NLMP 3.1.5.1.2)
        let with_mic = server_time.is_some();
        let target_info = client_target_info(&ch.target_info, with_mic)?;
        let temp = ntlmv2_temp(&time, &nonces.client_challenge, &target_info);
        let proof = nt_proof_str(&key, &ch.server_challenge, &temp);
        let mut nt_response = proof.to_vec();
        nt_response.extend_from_slice(&temp);
        let lm_response = if with_mic {
            [0u8; 24]
        } else {
            lmv2_response(&key, &ch.server_challenge, &nonces.client_challenge)
        };
        let key_exchange_key = session_base_key(&key, &proof);
        let (exported, encrypted) = if flags & NEGOTIATE_KEY_EXCH != 0 {
            (
                nonces.session_key,
                Some(rc4k(&key_exchange_key, &nonces.session_key)),
            )
        } else {
            (key_exchange_key, None)
        };
        let mut msg = authenticate_message(&AuthenticateFields {
            flags,
            lm_response: &lm_response,
            nt_response: &nt_response,
            domain: &utf16le(&creds.domain),
            user: &utf16le(&creds.user),
            workstation: &utf16le(&self.workstation),
            encrypted_session_key: encrypted.as_ref().map(|k| k.as_slice()).unwrap_or(&[]),
            version: CLIENT_VERSION,
            mic_field: true,
        });
        if with_mic {
            let mic = hmac_md5(&exported, &[&self.negotiate, challenge_msg, &msg]);
            msg[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&mic);
        }
        Ok((msg, NtlmSession::new(flags, &exported)))
    }
}

/// The server's TargetInfo as the client returns it: MsvAvFlags says a MIC is present.
fn client_target_info(server: &[u8], with_mic: bool) -> Result<Vec<u8>, NtlmError> {
    if server.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs = parse_av_pairs(server)?;
    if with_mic {
        match pairs.iter_mut().find(|p| p.id == AV_FLAGS) {
            Some(p) if p.value.len() == 4 => {
                let v = u32::from_le_bytes([p.value[0], p.value[1], p.value[2], p.value[3]]);
                p.value = (v | AV_FLAG_MIC_PRESENT).to_le_bytes().to_vec();
            }
            Some(_) => {
                return Err(NtlmError::BadChallenge("MsvAvFlags is not 4 bytes".into()));
            }
            None => pairs.push(AvPair {
                id: AV_FLAGS,
                value: AV_FLAG_MIC_PRESENT.to_le_bytes().to_vec(),
            }),
        }
    }
    Ok(encode_av_pairs(&pairs))
}

/// Offset of the MIC in an AUTHENTICATE_MESSAGE with a Version field.
const MIC_OFFSET: usize = 72;
/// Fixed part of the AUTHENTICATE_MESSAGE: header, Version, MIC.
const AUTHENTICATE_FIXED_LEN: usize = 88;

/// What goes into an AUTHENTICATE_MESSAGE.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticateFields<'a> {
    /// NegotiateFlags.
    pub flags: u32,
    /// LmChallengeResponse.
    pub lm_response: &'a [u8],
    /// NtChallengeResponse.
    pub nt_response: &'a [u8],
    /// DomainName (UTF-16LE).
    pub domain: &'a [u8],
    /// UserName (UTF-16LE).
    pub user: &'a [u8],
    /// Workstation (UTF-16LE).
    pub workstation: &'a [u8],
    /// EncryptedRandomSessionKey (empty without KEY_EXCH).
    pub encrypted_session_key: &'a [u8],
    /// The Version field.
    pub version: [u8; 8],
    /// Whether the message has a (zero) MIC field after the Version.
    pub mic_field: bool,
}

/// Builds an AUTHENTICATE_MESSAGE with a Version and, if asked, a zero MIC field; payload in the
/// order of MS-NLMP 4.2.4.3 (domain, user, workstation, LM, NT, session key).
pub fn authenticate_message(f: &AuthenticateFields<'_>) -> Vec<u8> {
    let payloads: [&[u8]; 6] = [
        f.lm_response,
        f.nt_response,
        f.domain,
        f.user,
        f.workstation,
        f.encrypted_session_key,
    ];
    let mut offsets = [0usize; 6];
    let mut at = if f.mic_field {
        AUTHENTICATE_FIXED_LEN
    } else {
        MIC_OFFSET
    };
    for i in [2, 3, 4, 0, 1, 5] {
        offsets[i] = at;
        at += payloads[i].len();
    }
    let mut m = Vec::with_capacity(at);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&3u32.to_le_bytes());
    for (p, off) in payloads.iter().zip(offsets) {
        let len = p.len() as u16;
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&(off as u32).to_le_bytes());
    }
    m.extend_from_slice(&f.flags.to_le_bytes());
    m.extend_from_slice(&f.version);
    if f.mic_field {
        m.extend_from_slice(&[0u8; 16]);
    }
    for i in [2, 3, 4, 0, 1, 5] {
        m.extend_from_slice(payloads[i]);
    }
    m
}

/// An established NTLM session: signs and seals what the client sends, verifies and unseals what
/// the server sends. Sequence numbers count per direction from 0.
pub struct NtlmSession {
    flags: u32,
    client_sign: [u8; 16],
    server_sign: [u8; 16],
    client_seal: Rc4<U16>,
    server_seal: Rc4<U16>,
    send_seq: u32,
    recv_seq: u32,
}

impl fmt::Debug for NtlmSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmSession")
            .field("flags", &format_args!("{:#010x}", self.flags))
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .finish_non_exhaustive()
    }
}

impl NtlmSession {
    /// The session for negotiated `flags` and the ExportedSessionKey.
    pub fn new(flags: u32, exported_session_key: &[u8; 16]) -> NtlmSession {
        let cs = seal_key(flags, exported_session_key, true);
        let ss = seal_key(flags, exported_session_key, false);
        NtlmSession {
            flags,
            client_sign: sign_key(exported_session_key, true),
            server_sign: sign_key(exported_session_key, false),
            client_seal: Rc4::new((&cs).into()),
            server_seal: Rc4::new((&ss).into()),
            send_seq: 0,
            recv_seq: 0,
        }
    }

    /// The server's side of the same session (keys of the two directions swapped): it signs and
    /// seals as the server, and verifies and unseals what the client sent. For tests and scripted peers.
    pub fn new_server(flags: u32, exported_session_key: &[u8; 16]) -> NtlmSession {
        let mut s = NtlmSession::new(flags, exported_session_key);
        std::mem::swap(&mut s.client_sign, &mut s.server_sign);
        std::mem::swap(&mut s.client_seal, &mut s.server_seal);
        s
    }

    /// The negotiated flags.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    fn mac(key: &[u8; 16], seal: &mut Rc4<U16>, flags: u32, seq: u32, msg: &[&[u8]]) -> [u8; 16] {
        let seq_bytes = seq.to_le_bytes();
        let mut parts: Vec<&[u8]> = vec![&seq_bytes];
        parts.extend_from_slice(msg);
        let full = hmac_md5(key, &parts);
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&full[..8]);
        if flags & NEGOTIATE_KEY_EXCH != 0 {
            seal.apply_keystream(&mut checksum);
        }
        let mut sig = [0u8; 16];
        sig[..4].copy_from_slice(&1u32.to_le_bytes());
        sig[4..12].copy_from_slice(&checksum);
        sig[12..].copy_from_slice(&seq_bytes);
        sig
    }

    /// Signs the message made of `parts` (concatenated): the 16-byte signature.
    pub fn sign(&mut self, parts: &[&[u8]]) -> [u8; 16] {
        let sig = Self::mac(
            &self.client_sign,
            &mut self.client_seal,
            self.flags,
            self.send_seq,
            parts,
        );
        self.send_seq = self.send_seq.wrapping_add(1);
        sig
    }

    /// Seals `data` in place (RC4 under the client sealing key).
    pub fn seal(&mut self, data: &mut [u8]) {
        self.client_seal.apply_keystream(data);
    }

    /// Unseals what the server sealed, in place.
    pub fn unseal(&mut self, data: &mut [u8]) {
        self.server_seal.apply_keystream(data);
    }

    /// Verifies the server's signature of the message made of `parts`.
    pub fn verify(&mut self, parts: &[&[u8]], signature: &[u8]) -> Result<(), NtlmError> {
        let seq = self.recv_seq;
        let version = signature
            .get(..4)
            .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
            .unwrap_or(0);
        if signature.len() != SIGNATURE_LEN || version != 1 {
            return Err(NtlmError::MalformedSignature {
                len: signature.len(),
                version,
            });
        }
        let expected = Self::mac(
            &self.server_sign,
            &mut self.server_seal,
            self.flags,
            seq,
            parts,
        );
        self.recv_seq = self.recv_seq.wrapping_add(1);
        if constant_time_eq(&expected, signature) {
            Ok(())
        } else {
            Err(NtlmError::BadSignature { seq })
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    //! MS-NLMP section 4.2.4 (NTLMv2 authentication): the values of the specification's example.
    use super::*;
    use proptest::prelude::*;

    const USER: &str = "User";
    const DOMAIN: &str = "Domain";
    const PASSWORD: &str = "Password";
    const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];
    const TIME: [u8; 8] = [0; 8];
    const CLIENT_CHALLENGE: [u8; 8] = [0xaa; 8];
    const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// 4.2.4.3: the CHALLENGE_MESSAGE.
    fn challenge_message() -> Vec<u8> {
        hex(
            "4e544c4d53535000 02000000 0c000c00 38000000 33828ae2 0123456789abcdef
             0000000000000000 24002400 44000000 060070170000000f
             53006500720076006500720002000c0044006f006d00610069006e00
             01000c0053006500720076006500720000000000",
        )
    }

    fn target_info() -> Vec<u8> {
        hex("02000c0044006f006d00610069006e0001000c005300650072007600650072000000 0000")
    }

    #[test]
    fn ntowf_v2_is_4_2_4_1_1() {
        assert_eq!(
            ntowf_v2(PASSWORD, USER, DOMAIN).to_vec(),
            hex("0c868a403bfd7a93a3001ef22ef02e3f")
        );
    }

    #[test]
    fn the_challenge_message_of_4_2_4_3_parses() {
        let ch = Challenge::parse(&challenge_message()).unwrap();
        assert_eq!(ch.flags, 0xe28a_8233);
        assert_eq!(ch.server_challenge, SERVER_CHALLENGE);
        assert_eq!(ch.target_name, utf16le("Server"));
        assert_eq!(ch.target_info, target_info());
        assert_eq!(ch.timestamp(), None);
    }

    #[test]
    fn responses_and_keys_are_4_2_4_2() {
        let key = ntowf_v2(PASSWORD, USER, DOMAIN);
        let temp = ntlmv2_temp(&TIME, &CLIENT_CHALLENGE, &target_info());
        let proof = nt_proof_str(&key, &SERVER_CHALLENGE, &temp);
        assert_eq!(proof.to_vec(), hex("68cd0ab851e51c96aabc927bebef6a1c"));
        let sbk = session_base_key(&key, &proof);
        assert_eq!(sbk.to_vec(), hex("8de40ccadbc14a82f15cb0ad0de95ca3"));
        assert_eq!(
            lmv2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE).to_vec(),
            hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            rc4k(&sbk, &RANDOM_SESSION_KEY).to_vec(),
            hex("c5dad2544fc9799094ce1ce90bc9d03e")
        );
    }

    /// 4.2.4.3: the AUTHENTICATE_MESSAGE (no MIC field: its payload starts at 72).
    fn spec_authenticate_message() -> Vec<u8> {
        hex(
            "4e544c4d53535000 03000000 18001800 6c000000 54005400 84000000 0c000c00 48000000
             08000800 54000000 10001000 5c000000 10001000 d8000000 358288e2 0501280a0000000f
             44006f006d00610069006e00 5500730065007200 43004f004d0050005500540045005200
             86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa
             68cd0ab851e51c96aabc927bebef6a1c 0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa
             00000000 02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000
             00000000 c5dad2544fc9799094ce1ce90bc9d03e",
        )
    }

    #[test]
    fn the_authenticate_message_is_4_2_4_3_byte_for_byte() {
        let key = ntowf_v2(PASSWORD, USER, DOMAIN);
        let temp = ntlmv2_temp(&TIME, &CLIENT_CHALLENGE, &target_info());
        let proof = nt_proof_str(&key, &SERVER_CHALLENGE, &temp);
        let mut nt = proof.to_vec();
        nt.extend_from_slice(&temp);
        let lm = lmv2_response(&key, &SERVER_CHALLENGE, &CLIENT_CHALLENGE);
        let esk = rc4k(&session_base_key(&key, &proof), &RANDOM_SESSION_KEY);
        let msg = authenticate_message(&AuthenticateFields {
            flags: 0xe288_8235,
            lm_response: &lm,
            nt_response: &nt,
            domain: &utf16le(DOMAIN),
            user: &utf16le(USER),
            workstation: &utf16le("COMPUTER"),
            encrypted_session_key: &esk,
            version: [0x05, 0x01, 0x28, 0x0a, 0, 0, 0, 0x0f],
            mic_field: false,
        });
        assert_eq!(msg, spec_authenticate_message());
    }

    #[test]
    fn the_client_answers_4_2_4_3s_challenge_with_4_2_4_3s_payload() {
        // no MsvAvTimestamp in the spec's challenge: no MIC, and an LMv2 response
        let (msg, _) = NtlmClient::new(
            Credentials {
                domain: DOMAIN.into(),
                user: USER.into(),
                password: PASSWORD.into(),
            },
            "COMPUTER",
        )
        .authenticate(
            &challenge_message(),
            Nonces {
                client_challenge: CLIENT_CHALLENGE,
                session_key: RANDOM_SESSION_KEY,
                time: TIME,
            },
        )
        .unwrap();
        let spec = spec_authenticate_message();
        assert_eq!(&msg[AUTHENTICATE_FIXED_LEN..], &spec[72..], "payload");
        assert_eq!(&msg[MIC_OFFSET..MIC_OFFSET + 16], &[0u8; 16], "no MIC");
        let flags = u32::from_le_bytes(msg[60..64].try_into().unwrap());
        assert_eq!(flags, (0xe28a_8233 & CLIENT_FLAGS) | NEGOTIATE_UNICODE);
    }

    #[test]
    fn sealing_and_signing_are_4_2_4_4() {
        let flags = NEGOTIATE_KEY_EXCH
            | NEGOTIATE_56
            | NEGOTIATE_128
            | NEGOTIATE_VERSION
            | NEGOTIATE_TARGET_INFO
            | NEGOTIATE_EXTENDED_SESSIONSECURITY
            | NEGOTIATE_ALWAYS_SIGN
            | NEGOTIATE_NTLM
            | NEGOTIATE_SEAL
            | NEGOTIATE_SIGN
            | NEGOTIATE_UNICODE;
        assert_eq!(
            seal_key(flags, &RANDOM_SESSION_KEY, true).to_vec(),
            hex("59f600973cc4960a25480a7c196e4c58")
        );
        assert_eq!(
            sign_key(&RANDOM_SESSION_KEY, true).to_vec(),
            hex("4788dc861b4782f35d43fd98fe1a2d39")
        );
        let mut s = NtlmSession::new(flags, &RANDOM_SESSION_KEY);
        let plain = utf16le("Plaintext");
        let mut data = plain.clone();
        s.seal(&mut data);
        assert_eq!(data, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
        let sig = s.sign(&[&plain]);
        assert_eq!(sig.to_vec(), hex("010000007fb38ec5c55d497600000000"));
    }

    #[test]
    fn a_server_signature_verifies_and_a_tampered_one_does_not() {
        let flags = CLIENT_FLAGS;
        let key = [7u8; 16];
        // play the server: sign with the server-to-client keys
        let mut server = NtlmSession::new_server(flags, &key);
        let mut client = NtlmSession::new(flags, &key);
        let sig = server.sign(&[b"reply one"]);
        client.verify(&[b"reply one"], &sig).unwrap();
        let mut bad = server.sign(&[b"reply two"]);
        bad[5] ^= 1;
        assert_eq!(
            client.verify(&[b"reply two"], &bad),
            Err(NtlmError::BadSignature { seq: 1 })
        );
    }

    #[test]
    fn ntlmv1_only_servers_are_refused() {
        let mut msg = challenge_message();
        msg[20..24]
            .copy_from_slice(&(0xe28a_8233u32 & !NEGOTIATE_EXTENDED_SESSIONSECURITY).to_le_bytes());
        let client = NtlmClient::new(Credentials::parse("u", "p"), "X");
        assert!(matches!(
            client.authenticate(&msg, Nonces::random()),
            Err(NtlmError::NoExtendedSessionSecurity { .. })
        ));
    }

    #[test]
    fn user_names_split_into_domain_and_user() {
        let c = Credentials::parse("LAB\\alice", "x");
        assert_eq!((c.domain.as_str(), c.user.as_str()), ("LAB", "alice"));
        let c = Credentials::parse("alice@lab.example", "x");
        assert_eq!(
            (c.domain.as_str(), c.user.as_str()),
            ("lab.example", "alice")
        );
        assert!(!format!("{:?}", Credentials::parse("a", "s3cret")).contains("s3cret"));
    }

    proptest! {
        #[test]
        fn challenge_parsing_never_panics(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Challenge::parse(&data);
            let mut with_sig = b"NTLMSSP\0\x02\0\0\0".to_vec();
            with_sig.extend_from_slice(&data);
            if let Ok(ch) = Challenge::parse(&with_sig) {
                let _ = ch.timestamp();
                let _ = NtlmClient::new(Credentials::parse("u", "p"), "X").authenticate(&with_sig, Nonces::random());
            }
        }

        #[test]
        fn av_pair_parsing_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_av_pairs(&data);
        }
    }
}
