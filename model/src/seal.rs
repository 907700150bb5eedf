//! Sealed submissions: what a terminal stores and sends instead of a plain
//! [`Submission`] (DESIGN §5).
//!
//! Each submission gets a fresh random data key. The manifest (the
//! submission's canonical JSON: identity, form, consent) and every attachment
//! are encrypted under it with an AEAD, one part each; the data key is wrapped
//! to the platform's public key. The terminal never holds the platform's
//! private key, so it cannot read back what it sealed.
//!
//! The algorithms sit behind [`Suite`] so a 国密 suite (SM2 key wrap, SM4-GCM
//! parts) can be added next to the default [`HpkeX25519ChaCha`]. The suite's
//! name travels in every envelope and key, so both kinds can coexist.
//!
//! This module is pure: callers pass the random number generator, so `model`
//! still does no I/O. It lives in `model` because both ends need it: the
//! terminal (`offline-cache`) seals, the hub opens, and the hub may depend on
//! `model` only.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hpke::{Deserializable as _, Serializable as _};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::catalog::ImplementCode;
use crate::submission::{sha256_hex, AttachmentRef, Submission, SubmissionId};

/// The envelope format this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;
/// Most attachments one envelope may carry.
pub const MAX_ATTACHMENTS: usize = 64;
/// Largest sealed manifest accepted: a form is a few kilobytes.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// Why sealing or opening failed. No variant carries plaintext.
#[derive(Debug, Error)]
pub enum SealError {
    /// An envelope or key names a suite this build does not know.
    #[error("unknown sealing suite {0:?}")]
    UnknownSuite(String),
    /// A key of one suite used with an envelope of another.
    #[error("the key is for suite {key}, the envelope for {envelope}")]
    SuiteMismatch {
        /// The key's suite.
        key: String,
        /// The envelope's suite.
        envelope: String,
    },
    /// A key's text or bytes are wrong; the text says how.
    #[error("the key is malformed: {0}")]
    BadKey(&'static str),
    /// Wrong private key, or the envelope or a part was altered.
    #[error("the sealed data cannot be opened: wrong key, or the data was altered")]
    CannotOpen,
    /// The envelope's JSON or its fields are wrong; the text says where.
    #[error("the envelope is malformed: {0}")]
    Malformed(String),
    /// The bytes given for an attachment are not the ones the envelope lists.
    #[error("attachment {index} does not match the envelope")]
    AttachmentMismatch {
        /// The attachment's position in the envelope, from 0.
        index: usize,
    },
    /// The AEAD or the key wrap refused to seal (should not happen with
    /// well-formed keys).
    #[error("encryption failed")]
    Encrypt,
}

/// A per-submission data key, zeroised when dropped.
pub struct DataKey(Zeroizing<Vec<u8>>);

impl DataKey {
    fn random(len: usize, rng: &mut dyn CryptoRng) -> DataKey {
        let mut k = Zeroizing::new(vec![0u8; len]);
        rng.fill_bytes(&mut k);
        DataKey(k)
    }

    /// The raw key, for the suite's AEAD.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// One family of algorithms for sealing. Object safe: suites are looked up by
/// the name written in envelopes and keys.
pub trait Suite: Send + Sync + 'static {
    /// Stable name, written into envelopes and key texts.
    fn id(&self) -> &'static str;
    /// Length of a data key in bytes.
    fn data_key_len(&self) -> usize;
    /// Length of a wrapped data key as stored in the envelope.
    fn wrapped_key_len(&self) -> usize;
    /// Bytes the AEAD adds to each part.
    fn tag_len(&self) -> usize;
    /// A new platform key pair: (secret, public).
    fn generate_keypair(&self, rng: &mut dyn CryptoRng) -> (Zeroizing<Vec<u8>>, Vec<u8>);
    /// The public key of a secret key; errors if the secret is malformed.
    fn public_from_secret(&self, secret: &[u8]) -> Result<Vec<u8>, SealError>;
    /// Refuses malformed public keys (and, where the suite has them, weak
    /// ones).
    fn check_public(&self, public: &[u8]) -> Result<(), SealError>;
    /// Wraps `key` to `public`, bound to `aad`.
    fn wrap_key(&self, public: &[u8], key: &DataKey, aad: &[u8], rng: &mut dyn CryptoRng) -> Result<Vec<u8>, SealError>;
    /// Unwraps a data key wrapped by [`Suite::wrap_key`] with the same `aad`;
    /// [`SealError::CannotOpen`] for a wrong key or altered bytes.
    fn unwrap_key(&self, secret: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<DataKey, SealError>;
    /// Encrypts part number `part` (each part of one envelope has its own number).
    fn encrypt(&self, key: &DataKey, part: u32, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError>;
    /// Decrypts what [`Suite::encrypt`] made with the same key, part number and
    /// `aad`; [`SealError::CannotOpen`] if anything differs.
    fn decrypt(&self, key: &DataKey, part: u32, aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError>;
}

/// The default suite: HPKE (RFC 9180, base mode) with DHKEM(X25519,
/// HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305 wraps the data key; parts
/// are ChaCha20-Poly1305 under the data key. See offline-cache/README.md for why.
#[derive(Debug, Clone, Copy, Default)]
pub struct HpkeX25519ChaCha;

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// HPKE `info`: separates our use of the platform key from any other.
const HPKE_INFO: &[u8] = b"cunban sealed submission v1: data key";
const X25519_LEN: usize = 32;
const CHACHA_TAG: usize = 16;

impl HpkeX25519ChaCha {
    /// The suite's [`Suite::id`].
    pub const ID: &'static str = "hpke-x25519-sha256-chacha20poly1305";

    fn secret(secret: &[u8]) -> Result<<Kem as hpke::Kem>::PrivateKey, SealError> {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(secret).map_err(|_| SealError::BadKey("not an X25519 secret key"))
    }

    fn public(public: &[u8]) -> Result<<Kem as hpke::Kem>::PublicKey, SealError> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(public).map_err(|_| SealError::BadKey("not an X25519 public key"))
    }

    /// 96-bit nonce from the part number. Safe because every envelope has
    /// its own fresh data key, so no (key, nonce) pair is ever used twice.
    fn nonce(part: u32) -> chacha20poly1305::Nonce {
        let mut n = [0u8; 12];
        n[8..].copy_from_slice(&part.to_be_bytes());
        chacha20poly1305::Nonce::from(n)
    }

    fn cipher(key: &DataKey) -> Result<chacha20poly1305::ChaCha20Poly1305, SealError> {
        use chacha20poly1305::KeyInit as _;
        chacha20poly1305::ChaCha20Poly1305::new_from_slice(key.as_bytes()).map_err(|_| SealError::BadKey("data key length"))
    }
}

impl Suite for HpkeX25519ChaCha {
    fn id(&self) -> &'static str {
        Self::ID
    }

    fn data_key_len(&self) -> usize {
        32
    }

    fn wrapped_key_len(&self) -> usize {
        // Encapsulated X25519 key, then the data key and its tag.
        X25519_LEN + 32 + CHACHA_TAG
    }

    fn tag_len(&self) -> usize {
        CHACHA_TAG
    }

    fn generate_keypair(&self, mut rng: &mut dyn CryptoRng) -> (Zeroizing<Vec<u8>>, Vec<u8>) {
        let (sk, pk) = <Kem as hpke::Kem>::gen_keypair_with_rng(&mut rng);
        (Zeroizing::new(sk.to_bytes().to_vec()), pk.to_bytes().to_vec())
    }

    fn public_from_secret(&self, secret: &[u8]) -> Result<Vec<u8>, SealError> {
        let sk = Self::secret(secret)?;
        Ok(<Kem as hpke::Kem>::sk_to_pk(&sk).to_bytes().to_vec())
    }

    fn check_public(&self, public: &[u8]) -> Result<(), SealError> {
        Self::public(public).map(|_| ())
    }

    fn wrap_key(&self, public: &[u8], key: &DataKey, aad: &[u8], mut rng: &mut dyn CryptoRng) -> Result<Vec<u8>, SealError> {
        let pk = Self::public(public)?;
        let (enc, ct) = hpke::single_shot_seal_with_rng::<HpkeAead, Kdf, Kem>(
            &hpke::OpModeS::Base,
            &pk,
            HPKE_INFO,
            key.as_bytes(),
            aad,
            &mut rng,
        )
        .map_err(|_| SealError::Encrypt)?;
        let mut out = enc.to_bytes().to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn unwrap_key(&self, secret: &[u8], wrapped: &[u8], aad: &[u8]) -> Result<DataKey, SealError> {
        if wrapped.len() != self.wrapped_key_len() {
            return Err(SealError::Malformed("wrapped key length".into()));
        }
        let sk = Self::secret(secret)?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&wrapped[..X25519_LEN]).map_err(|_| SealError::CannotOpen)?;
        let key = hpke::single_shot_open::<HpkeAead, Kdf, Kem>(&hpke::OpModeR::Base, &sk, &enc, HPKE_INFO, &wrapped[X25519_LEN..], aad)
            .map_err(|_| SealError::CannotOpen)?;
        Ok(DataKey(Zeroizing::new(key)))
    }

    fn encrypt(&self, key: &DataKey, part: u32, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        use chacha20poly1305::aead::{Aead as _, Payload};
        Self::cipher(key)?.encrypt(&Self::nonce(part), Payload { msg: plaintext, aad }).map_err(|_| SealError::Encrypt)
    }

    fn decrypt(&self, key: &DataKey, part: u32, aad: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        use chacha20poly1305::aead::{Aead as _, Payload};
        Self::cipher(key)?
            .decrypt(&Self::nonce(part), Payload { msg: ciphertext, aad })
            .map(Zeroizing::new)
            .map_err(|_| SealError::CannotOpen)
    }
}

static HPKE_X25519_CHACHA: HpkeX25519ChaCha = HpkeX25519ChaCha;

/// The suite new keys are made for.
pub fn default_suite() -> &'static dyn Suite {
    &HPKE_X25519_CHACHA
}

/// The suite an envelope or key names, if this build knows it.
pub fn suite_by_id(id: &str) -> Option<&'static dyn Suite> {
    match id {
        HpkeX25519ChaCha::ID => Some(&HPKE_X25519_CHACHA),
        _ => None,
    }
}

fn short_fingerprint(public: &[u8]) -> String {
    sha256_hex(public)[..16].to_owned()
}

/// The platform's public key, as a terminal is configured with it.
/// Text form: `<suite>:<base64>`.
#[derive(Clone)]
pub struct PlatformPublicKey {
    suite: &'static dyn Suite,
    bytes: Vec<u8>,
}

impl PartialEq for PlatformPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite.id() == other.suite.id() && self.bytes == other.bytes
    }
}
impl Eq for PlatformPublicKey {}

impl PlatformPublicKey {
    /// Reads `<suite>:<base64>`; errors for an unknown suite or a malformed
    /// key.
    pub fn parse(text: &str) -> Result<PlatformPublicKey, SealError> {
        let (suite_id, b64) = text.trim().split_once(':').ok_or(SealError::BadKey("expected <suite>:<base64>"))?;
        let suite = suite_by_id(suite_id).ok_or_else(|| SealError::UnknownSuite(suite_id.chars().take(64).collect()))?;
        let bytes = B64.decode(b64).map_err(|_| SealError::BadKey("not base64"))?;
        suite.check_public(&bytes)?;
        Ok(PlatformPublicKey { suite, bytes })
    }

    /// The suite the key belongs to.
    pub fn suite(&self) -> &'static dyn Suite {
        self.suite
    }

    /// The raw public key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// First 16 hex digits of the key's SHA-256, for logs and screens.
    pub fn fingerprint(&self) -> String {
        short_fingerprint(&self.bytes)
    }
}

impl fmt::Display for PlatformPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.suite.id(), B64.encode(&self.bytes))
    }
}

impl fmt::Debug for PlatformPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlatformPublicKey({} {})", self.suite.id(), self.fingerprint())
    }
}

/// The platform's private key: only the hub (and later the back office) has
/// it. Zeroised on drop; its Debug shows the public fingerprint only.
/// Text form: `<suite>:secret:<base64>`.
pub struct PlatformSecretKey {
    suite: &'static dyn Suite,
    bytes: Zeroizing<Vec<u8>>,
}

impl PlatformSecretKey {
    /// A new key pair of `suite`, from `rng` (which must be a CSPRNG).
    pub fn generate(suite: &'static dyn Suite, rng: &mut impl CryptoRng) -> PlatformSecretKey {
        let (bytes, _) = suite.generate_keypair(rng);
        PlatformSecretKey { suite, bytes }
    }

    /// Reads `<suite>:secret:<base64>` (a key file); errors for an unknown
    /// suite or a malformed key.
    pub fn parse(text: &str) -> Result<PlatformSecretKey, SealError> {
        let mut parts = text.trim().splitn(3, ':');
        let (Some(suite_id), Some("secret"), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::BadKey("expected <suite>:secret:<base64>"));
        };
        let suite = suite_by_id(suite_id).ok_or_else(|| SealError::UnknownSuite(suite_id.chars().take(64).collect()))?;
        let bytes = Zeroizing::new(B64.decode(b64).map_err(|_| SealError::BadKey("not base64"))?);
        suite.public_from_secret(&bytes)?;
        Ok(PlatformSecretKey { suite, bytes })
    }

    /// The text to store in the hub's key file.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}:secret:{}", self.suite.id(), B64.encode(&self.bytes[..])))
    }

    /// The matching public key, to configure terminals with.
    pub fn public_key(&self) -> PlatformPublicKey {
        // The bytes were checked when this key was made or parsed.
        let bytes = self.suite.public_from_secret(&self.bytes).unwrap_or_default();
        PlatformPublicKey { suite: self.suite, bytes }
    }

    /// The suite the key belongs to.
    pub fn suite(&self) -> &'static dyn Suite {
        self.suite
    }
}

impl fmt::Debug for PlatformSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlatformSecretKey({} for public {})", self.suite.id(), self.public_key().fingerprint())
    }
}

/// One sealed attachment as the envelope lists it: the hash and size of the
/// sealed bytes (the hub addresses attachments by this hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedPart {
    /// Lowercase hex SHA-256 of the sealed bytes.
    pub sha256: String,
    /// Bytes of the sealed attachment.
    pub size: u64,
}

/// The wire form of a sealed submission: the body of
/// `PUT /v1/submissions/{id}`. Only the id and the item code are in clear
/// (the hub routes and numbers cases by them); both are also authenticated.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedEnvelope {
    /// [`ENVELOPE_VERSION`].
    pub v: u32,
    /// [`Suite::id`] of the suite that sealed it.
    pub suite: String,
    /// The submission's id, also bound into every part.
    pub id: SubmissionId,
    /// 实施编码 of the item filed.
    pub item_code: ImplementCode,
    /// A bundle filing's parts (`item_code` is the bundle's code), in clear
    /// so a hub without the platform key can open a case per part; bound
    /// into the manifest's additional data. Empty for a single item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ImplementCode>,
    /// The data key, wrapped to the platform's public key.
    #[serde(with = "crate::b64")]
    pub wrapped_key: Vec<u8>,
    /// The submission's canonical JSON, encrypted (part 0).
    #[serde(with = "crate::b64")]
    pub manifest: Vec<u8>,
    /// Sealed attachments in the order of [`distinct_attachments`] (parts 1..).
    pub attachments: Vec<SealedPart>,
}

impl fmt::Debug for SealedEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedEnvelope")
            .field("v", &self.v)
            .field("suite", &self.suite)
            .field("id", &self.id)
            .field("item_code", &self.item_code)
            .field("parts", &self.parts)
            .field("manifest_bytes", &self.manifest.len())
            .field("attachments", &self.attachments)
            .finish()
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl SealedEnvelope {
    /// The exact bytes stored and sent. Replays send these same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain data (strings, numbers, arrays) always serialises.
        serde_json::to_vec(self).expect("envelope serialises")
    }

    /// Parses a body; the error says where, never what (bodies may be hostile).
    pub fn from_bytes(bytes: &[u8]) -> Result<SealedEnvelope, SealError> {
        serde_json::from_slice(bytes).map_err(|e| {
            SealError::Malformed(format!("not a sealed envelope ({:?} error at line {} column {})", e.classify(), e.line(), e.column()))
        })
    }

    /// What a receiver without the private key can check: version, suite,
    /// lengths, hashes. Messages name fields, never values.
    pub fn check_shape(&self) -> Result<&'static dyn Suite, SealError> {
        if self.v != ENVELOPE_VERSION {
            return Err(SealError::Malformed(format!("version {} (this build reads {ENVELOPE_VERSION})", self.v)));
        }
        let suite = suite_by_id(&self.suite).ok_or_else(|| SealError::UnknownSuite(self.suite.chars().take(64).collect()))?;
        if self.wrapped_key.len() != suite.wrapped_key_len() {
            return Err(SealError::Malformed("wrapped_key has the wrong length".into()));
        }
        if self.manifest.len() <= suite.tag_len() || self.manifest.len() > MAX_MANIFEST_BYTES {
            return Err(SealError::Malformed("manifest is empty or too large".into()));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(SealError::Malformed(format!("more than {MAX_ATTACHMENTS} attachments")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.attachments.iter().enumerate() {
            if !is_sha256_hex(&a.sha256) {
                return Err(SealError::Malformed(format!("attachment {i} has no lowercase hex SHA-256")));
            }
            if a.size < suite.tag_len() as u64 {
                return Err(SealError::Malformed(format!("attachment {i} is shorter than a tag")));
            }
            if !seen.insert(a.sha256.as_str()) {
                return Err(SealError::Malformed(format!("attachment {i} is listed twice")));
            }
        }
        Ok(suite)
    }

    /// Additional data of the manifest: binds the clear header, including
    /// the attachment list, to the sealed content.
    fn manifest_aad(&self) -> Vec<u8> {
        let mut aad = format!("cunban-sealed-v{}\n{}\n{}\n{}\n{}\n", self.v, self.suite, self.id, self.item_code, self.attachments.len());
        for a in &self.attachments {
            aad.push_str(&format!("{}:{}\n", a.sha256, a.size));
        }
        // Only when there are parts, so envelopes sealed before bundles open as they did.
        if !self.parts.is_empty() {
            let parts: Vec<&str> = self.parts.iter().map(ImplementCode::as_str).collect();
            aad.push_str(&format!("parts:{}\n", parts.join(",")));
        }
        aad.into_bytes()
    }
}

fn wrap_aad(suite: &str, id: SubmissionId) -> Vec<u8> {
    format!("cunban-sealed-v{ENVELOPE_VERSION}\n{suite}\n{id}\ndata-key").into_bytes()
}

fn attachment_aad(suite: &str, id: SubmissionId, index: usize) -> Vec<u8> {
    format!("cunban-sealed-v{ENVELOPE_VERSION}\n{suite}\n{id}\nattachment {index}").into_bytes()
}

/// The submission's attachments, each distinct hash once, in first-seen
/// order: the order of [`SealedEnvelope::attachments`].
pub fn distinct_attachments(sub: &Submission) -> Vec<&AttachmentRef> {
    let mut seen = std::collections::HashSet::new();
    sub.attachments.iter().filter(|a| seen.insert(a.sha256.as_str())).collect()
}

/// A sealed attachment's bytes, addressed by their own hash.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedAttachment {
    /// Lowercase hex SHA-256 of `bytes`, as the envelope lists it.
    pub sha256: String,
    /// The sealed bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for SealedAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedAttachment({} bytes, {})", self.bytes.len(), self.sha256)
    }
}

/// Everything a terminal keeps and sends for one submission.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The envelope, sent first.
    pub envelope: SealedEnvelope,
    /// In envelope order.
    pub attachments: Vec<SealedAttachment>,
}

/// Seals `sub` to `platform`. `attachments` holds the plain bytes of
/// [`distinct_attachments`]`(sub)`, in that order; the caller has checked
/// them against their references. Plain copies made here are zeroised.
pub fn seal_submission(
    platform: &PlatformPublicKey,
    sub: &Submission,
    attachments: &[&[u8]],
    rng: &mut impl CryptoRng,
) -> Result<Sealed, SealError> {
    let rng: &mut dyn CryptoRng = rng;
    let suite = platform.suite;
    let refs = distinct_attachments(sub);
    if refs.len() != attachments.len() {
        return Err(SealError::Malformed(format!("{} attachment(s) referenced, {} given", refs.len(), attachments.len())));
    }
    if refs.len() > MAX_ATTACHMENTS {
        return Err(SealError::Malformed(format!("more than {MAX_ATTACHMENTS} attachments")));
    }
    let key = DataKey::random(suite.data_key_len(), rng);
    let mut sealed_atts = Vec::with_capacity(attachments.len());
    for (i, bytes) in attachments.iter().enumerate() {
        let part = u32::try_from(i + 1).map_err(|_| SealError::Encrypt)?;
        let ct = suite.encrypt(&key, part, &attachment_aad(suite.id(), sub.id, i), bytes)?;
        sealed_atts.push(SealedAttachment { sha256: sha256_hex(&ct), bytes: ct });
    }
    let mut envelope = SealedEnvelope {
        v: ENVELOPE_VERSION,
        suite: suite.id().to_owned(),
        id: sub.id,
        item_code: sub.item_code.clone(),
        parts: sub.parts.clone(),
        wrapped_key: suite.wrap_key(&platform.bytes, &key, &wrap_aad(suite.id(), sub.id), rng)?,
        manifest: Vec::new(),
        attachments: sealed_atts.iter().map(|a| SealedPart { sha256: a.sha256.clone(), size: a.bytes.len() as u64 }).collect(),
    };
    let plain = sub.canonical_bytes_zeroizing();
    envelope.manifest = suite.encrypt(&key, 0, &envelope.manifest_aad(), &plain)?;
    Ok(Sealed { envelope, attachments: sealed_atts })
}

/// A submission opened with the platform's private key. Holds the data key
/// (zeroised on drop) to open the attachments.
pub struct OpenedSubmission {
    /// The opened submission: personal data, handle as such.
    pub submission: Submission,
    suite: &'static dyn Suite,
    key: DataKey,
    parts: Vec<SealedPart>,
}

impl fmt::Debug for OpenedSubmission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedSubmission").field("submission", &self.submission).finish_non_exhaustive()
    }
}

/// Opens an envelope: unwraps the data key, decrypts and parses the
/// manifest, and checks it against the clear header.
pub fn open_envelope(secret: &PlatformSecretKey, env: &SealedEnvelope) -> Result<OpenedSubmission, SealError> {
    let suite = env.check_shape()?;
    if suite.id() != secret.suite.id() {
        return Err(SealError::SuiteMismatch { key: secret.suite.id().to_owned(), envelope: env.suite.clone() });
    }
    let key = suite.unwrap_key(&secret.bytes, &env.wrapped_key, &wrap_aad(suite.id(), env.id))?;
    let plain = suite.decrypt(&key, 0, &env.manifest_aad(), &env.manifest)?;
    // serde's message could quote a value: say where only.
    let submission: Submission = serde_json::from_slice(&plain).map_err(|e| {
        SealError::Malformed(format!("the sealed manifest is not a submission ({:?} error at column {})", e.classify(), e.column()))
    })?;
    if submission.id != env.id || submission.item_code != env.item_code || submission.parts != env.parts {
        return Err(SealError::Malformed("the sealed manifest's id, item code or parts differ from the envelope's".into()));
    }
    if distinct_attachments(&submission).len() != env.attachments.len() {
        return Err(SealError::Malformed("the sealed manifest references other attachments than the envelope lists".into()));
    }
    Ok(OpenedSubmission { submission, suite, key, parts: env.attachments.clone() })
}

impl OpenedSubmission {
    /// The reference and plain bytes of attachment `index` (envelope order),
    /// from its sealed bytes. Checks both the sealed and the plain hash.
    pub fn open_attachment(&self, index: usize, sealed: &[u8]) -> Result<(AttachmentRef, Zeroizing<Vec<u8>>), SealError> {
        let part = self.parts.get(index).ok_or(SealError::AttachmentMismatch { index })?;
        if sha256_hex(sealed) != part.sha256 {
            return Err(SealError::AttachmentMismatch { index });
        }
        let r = distinct_attachments(&self.submission).get(index).map(|r| (*r).clone()).ok_or(SealError::AttachmentMismatch { index })?;
        let n = u32::try_from(index + 1).map_err(|_| SealError::AttachmentMismatch { index })?;
        let plain = self.suite.decrypt(&self.key, n, &attachment_aad(self.suite.id(), self.submission.id, index), sealed)?;
        if plain.len() as u64 != r.size || sha256_hex(&plain) != r.sha256 {
            return Err(SealError::AttachmentMismatch { index });
        }
        Ok((r, plain))
    }

    /// How many attachments the envelope carries.
    pub fn attachment_count(&self) -> usize {
        self.parts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator for tests only: a counter through SHA-256.
    struct TestRng(u64);
    impl rand_core::TryRng for TestRng {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            let mut b = [0u8; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            use sha2::Digest;
            for chunk in dst.chunks_mut(32) {
                self.0 += 1;
                let h = sha2::Sha256::digest(self.0.to_le_bytes());
                chunk.copy_from_slice(&h[..chunk.len()]);
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for TestRng {}

    fn sample(attachments: Vec<AttachmentRef>) -> Submission {
        let mut sub = crate::fixtures::sample_submission(attachments);
        sub.consent.given_at = time::OffsetDateTime::UNIX_EPOCH;
        sub.created_at = time::OffsetDateTime::UNIX_EPOCH;
        sub
    }

    #[test]
    fn seals_and_opens_with_the_platform_key_only() {
        let mut rng = TestRng(0);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let public = PlatformPublicKey::parse(&secret.public_key().to_string()).unwrap();
        let scan = b"%PDF household register".to_vec();
        let r = AttachmentRef::for_bytes("hukou", "application/pdf", &scan);
        let sub = sample(vec![r.clone(), r.clone()]);
        let sealed = seal_submission(&public, &sub, &[&scan], &mut rng).unwrap();

        let bytes = sealed.envelope.to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("张三") && !text.contains("19900307") && !text.contains("13800000000"), "{text}");
        assert_eq!(sealed.envelope.attachments.len(), 1, "one part per distinct attachment");

        let env = SealedEnvelope::from_bytes(&bytes).unwrap();
        let opened = open_envelope(&secret, &env).unwrap();
        assert_eq!(opened.submission, sub);
        let (got_ref, plain) = opened.open_attachment(0, &sealed.attachments[0].bytes).unwrap();
        assert_eq!((got_ref, plain.to_vec()), (r, scan));

        // Another platform key opens nothing.
        let other = PlatformSecretKey::generate(default_suite(), &mut rng);
        assert!(matches!(open_envelope(&other, &env), Err(SealError::CannotOpen)));
    }

    #[test]
    fn a_bundle_filings_parts_are_in_clear_and_bound_to_the_manifest() {
        let mut rng = TestRng(7);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let mut sub = sample(vec![]);
        sub.item_code = ImplementCode::parse("620000YJS004").unwrap();
        sub.bundle_code = Some(sub.item_code.clone());
        sub.parts = ["620000RS0013", "620000RS0016"].iter().map(|c| ImplementCode::parse(c).unwrap()).collect();
        let sealed = seal_submission(&secret.public_key(), &sub, &[], &mut rng).unwrap();
        let env = SealedEnvelope::from_bytes(&sealed.envelope.to_bytes()).unwrap();
        assert_eq!(env.parts, sub.parts, "a hub without the platform key sees the parts");
        assert_eq!(open_envelope(&secret, &env).unwrap().submission, sub);
        // Dropping or swapping a part in the clear header is caught.
        let mut env = sealed.envelope.clone();
        env.parts.pop();
        assert!(matches!(open_envelope(&secret, &env), Err(SealError::CannotOpen)));
    }

    #[test]
    fn any_change_to_the_envelope_or_a_part_is_refused() {
        let mut rng = TestRng(100);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let scan = b"scan".to_vec();
        let sub = sample(vec![AttachmentRef::for_bytes("hukou", "application/pdf", &scan)]);
        let sealed = seal_submission(&secret.public_key(), &sub, &[&scan], &mut rng).unwrap();

        let mut env = sealed.envelope.clone();
        env.item_code = ImplementCode::parse("620000RS0002").unwrap();
        assert!(matches!(open_envelope(&secret, &env), Err(SealError::CannotOpen)));
        let mut env = sealed.envelope.clone();
        env.manifest[3] ^= 1;
        assert!(matches!(open_envelope(&secret, &env), Err(SealError::CannotOpen)));
        let mut env = sealed.envelope.clone();
        env.id = SubmissionId::new();
        assert!(matches!(open_envelope(&secret, &env), Err(SealError::CannotOpen)));

        let opened = open_envelope(&secret, &sealed.envelope).unwrap();
        let mut part = sealed.attachments[0].bytes.clone();
        part[0] ^= 1;
        assert!(matches!(opened.open_attachment(0, &part), Err(SealError::AttachmentMismatch { index: 0 })));
    }

    #[test]
    fn the_zeroizing_serialisation_is_the_canonical_one() {
        // A form long enough that the buffer must grow several times.
        let mut sub = sample(vec![]);
        for i in 0..1000 {
            sub.form.insert(format!("field{i:04}"), "值".repeat(i % 17));
        }
        assert!(sub.canonical_bytes().len() > 4 * 4096);
        assert_eq!(sub.canonical_bytes_zeroizing().as_slice(), sub.canonical_bytes().as_slice());
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        // A fresh data key each time: equal filings are not linkable by their ciphertext.
        let mut rng = TestRng(7);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let sub = sample(vec![]);
        let a = seal_submission(&secret.public_key(), &sub, &[], &mut rng).unwrap();
        let b = seal_submission(&secret.public_key(), &sub, &[], &mut rng).unwrap();
        assert_ne!(a.envelope.manifest, b.envelope.manifest);
        assert_ne!(a.envelope.wrapped_key, b.envelope.wrapped_key);
    }

    #[test]
    fn keys_round_trip_as_text_and_refuse_junk() {
        let mut rng = TestRng(9);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let again = PlatformSecretKey::parse(&secret.to_text()).unwrap();
        assert_eq!(again.public_key(), secret.public_key());
        assert!(secret.public_key().to_string().starts_with("hpke-x25519-sha256-chacha20poly1305:"));
        assert!(!format!("{secret:?}").contains(&B64.encode(&secret.bytes[..])));
        assert!(matches!(PlatformPublicKey::parse("sm2:AAAA"), Err(SealError::UnknownSuite(_))));
        assert!(PlatformPublicKey::parse("hpke-x25519-sha256-chacha20poly1305:AAAA").is_err());
        assert!(PlatformSecretKey::parse(&secret.public_key().to_string()).is_err());
    }

    #[test]
    fn shape_check_catches_what_a_hub_without_the_key_can_see() {
        let mut rng = TestRng(11);
        let secret = PlatformSecretKey::generate(default_suite(), &mut rng);
        let sealed = seal_submission(&secret.public_key(), &sample(vec![]), &[], &mut rng).unwrap();
        assert!(sealed.envelope.check_shape().is_ok());
        let mut env = sealed.envelope.clone();
        env.v = 2;
        assert!(env.check_shape().is_err());
        let mut env = sealed.envelope.clone();
        env.wrapped_key.pop();
        assert!(env.check_shape().is_err());
        let mut env = sealed.envelope.clone();
        env.attachments.push(SealedPart { sha256: "ABC".into(), size: 100 });
        assert!(env.check_shape().is_err());
        let err = SealedEnvelope::from_bytes(r#"{"v":1,"suite":"x","id":"张三"}"#.as_bytes()).unwrap_err().to_string();
        assert!(!err.contains("张三"), "{err}");
    }
}
