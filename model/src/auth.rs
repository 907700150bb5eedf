//! Device authentication and catalog signatures (Ed25519), for both ends.
//!
//! Every terminal request carries its terminal id, a timestamp, a nonce, the
//! SHA-256 of its body and an Ed25519 signature over all of them plus the
//! method and path ([`RequestToSign`]). The hub knows each terminal's public
//! key and refuses unknown, revoked, stale and replayed requests.
//!
//! The catalog the hub publishes is signed with a separate catalog key; a
//! terminal refuses a catalog whose signature does not verify and keeps the
//! one it has ([`SignedCatalog`]).
//!
//! Pure: keys are made from seed bytes the caller draws, so `model` still
//! does no I/O.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::submission::sha256_hex;
use crate::Catalog;

/// The terminal id, as enrolled (`GS-0001`).
pub const HEADER_TERMINAL: &str = "x-cunban-terminal";
/// Unix seconds, decimal.
pub const HEADER_TIMESTAMP: &str = "x-cunban-timestamp";
/// 16..64 characters of `[A-Za-z0-9_-]`, fresh per request.
pub const HEADER_NONCE: &str = "x-cunban-nonce";
/// Lowercase hex SHA-256 of the request body (of the empty string when there is none).
pub const HEADER_CONTENT_SHA256: &str = "x-cunban-content-sha256";
/// Base64 Ed25519 signature over [`RequestToSign::canonical`].
pub const HEADER_SIGNATURE: &str = "x-cunban-signature";

/// How far a request's timestamp may be from the hub's clock. The hub
/// remembers nonces for twice this long, so a replay is caught either way.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// SHA-256 of no bytes: the body hash of a GET.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const KEY_PREFIX: &str = "ed25519";

/// Why a key, a signature or a signed request was refused. The hub answers 401
/// without saying which; the variants are for logs and tests.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    /// A key's text form is wrong; the text says how.
    #[error("the key is malformed: {0}")]
    BadKey(&'static str),
    /// The signature is not base64 or not 64 bytes, or a signed field is
    /// malformed.
    #[error("the signature is malformed")]
    BadSignature,
    /// Well-formed, but not made by this key over these bytes.
    #[error("the signature does not verify")]
    SignatureMismatch,
    /// The terminal id breaks [`valid_terminal_id`].
    #[error("a terminal id is 1..32 letters, digits or '-'")]
    BadTerminalId,
    /// The nonce breaks [`valid_nonce`].
    #[error("a nonce is 16..64 characters of A-Z a-z 0-9 _ -")]
    BadNonce,
    /// A signed catalog's body does not parse as a catalog.
    #[error("a catalog body is not a valid catalog: {0}")]
    BadCatalog(String),
    /// The version outside the signature disagrees with the catalog's own.
    #[error("the signed catalog says version {signed}, its body version {body}")]
    CatalogVersionMismatch {
        /// The version the signature covers.
        signed: u64,
        /// The version inside the catalog body.
        body: u64,
    },
}

/// Terminal ids as configured and enrolled: `GS-0001`.
pub fn valid_terminal_id(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `s` is a nonce [`HEADER_NONCE`] allows: 16..64 characters of
/// `[A-Za-z0-9_-]`.
pub fn valid_nonce(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An Ed25519 private key: a terminal's device key or the hub's catalog key.
/// Zeroised on drop; Debug shows the public fingerprint only.
/// Text form: `ed25519:secret:<base64 of the 32-byte seed>`.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// From 32 random bytes the caller drew from a CSPRNG.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// Reads the key file's text form; errors with [`AuthError::BadKey`] if it
    /// is not `ed25519:secret:<base64 of 32 bytes>`.
    pub fn parse(text: &str) -> Result<SigningKey, AuthError> {
        let mut parts = text.trim().splitn(3, ':');
        let (Some(KEY_PREFIX), Some("secret"), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(AuthError::BadKey("expected ed25519:secret:<base64>"));
        };
        let bytes = Zeroizing::new(B64.decode(b64).map_err(|_| AuthError::BadKey("not base64"))?);
        let seed: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| AuthError::BadKey("an Ed25519 seed is 32 bytes"))?;
        Ok(SigningKey::from_seed(seed))
    }

    /// The text to store in a key file.
    pub fn to_text(&self) -> Zeroizing<String> {
        let seed = Zeroizing::new(self.0.to_bytes());
        Zeroizing::new(format!("{KEY_PREFIX}:secret:{}", B64.encode(&seed[..])))
    }

    /// The matching public key, to register or pin.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (plain Ed25519, no hashing first).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(for public {})", self.public_key().fingerprint())
    }
}

/// An Ed25519 public key. Text form: `ed25519:<base64 of 32 bytes>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl PublicKey {
    /// Reads `ed25519:<base64 of 32 bytes>`; refuses malformed and weak
    /// (small-order) keys with [`AuthError::BadKey`].
    pub fn parse(text: &str) -> Result<PublicKey, AuthError> {
        let (prefix, b64) = text.trim().split_once(':').ok_or(AuthError::BadKey("expected ed25519:<base64>"))?;
        if prefix != KEY_PREFIX {
            return Err(AuthError::BadKey("not an ed25519 key"));
        }
        let bytes = B64.decode(b64).map_err(|_| AuthError::BadKey("not base64"))?;
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| AuthError::BadKey("an Ed25519 public key is 32 bytes"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| AuthError::BadKey("not a point on the curve"))?;
        // A small-order key would "verify" forged signatures.
        if key.is_weak() {
            return Err(AuthError::BadKey("a weak (small-order) key"));
        }
        Ok(PublicKey(key))
    }

    /// First 16 hex digits of the SHA-256 of the key bytes: what a
    /// technician compares on screen (enrollment QR, hub CLI, fleet page).
    pub fn fingerprint(&self) -> String {
        sha256_hex(self.0.as_bytes())[..16].to_owned()
    }

    /// Strict verification (no malleable or small-order signatures).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), AuthError> {
        let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| AuthError::BadSignature)?;
        self.0.verify_strict(message, &sig).map_err(|_| AuthError::SignatureMismatch)
    }

    /// [`PublicKey::verify`] for a base64 signature, as carried in headers and
    /// JSON.
    pub fn verify_b64(&self, message: &[u8], signature_b64: &str) -> Result<(), AuthError> {
        let sig = B64.decode(signature_b64.trim()).map_err(|_| AuthError::BadSignature)?;
        self.verify(message, &sig)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{KEY_PREFIX}:{}", B64.encode(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PublicKey::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a terminal signs for one request. Both ends build it from the
/// request as sent / received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestToSign<'a> {
    /// Upper case: `PUT`.
    pub method: &'a str,
    /// Path and query exactly as on the request line: `/v1/catalog?since=3`.
    pub path_and_query: &'a str,
    /// The `Content-Range` header, or "" without one (resumed uploads).
    pub content_range: &'a str,
    /// Lowercase hex SHA-256 of the body as sent ([`EMPTY_SHA256`] for none).
    pub body_sha256: &'a str,
    /// Unix seconds, as in [`HEADER_TIMESTAMP`].
    pub timestamp: i64,
    /// As in [`HEADER_NONCE`].
    pub nonce: &'a str,
    /// As in [`HEADER_TERMINAL`].
    pub terminal_id: &'a str,
}

impl RequestToSign<'_> {
    /// The signed bytes: one field a line, after a domain-separating tag.
    /// No field can hold a newline (each is checked), so the split is unambiguous.
    pub fn canonical(&self) -> Result<Vec<u8>, AuthError> {
        if !valid_terminal_id(self.terminal_id) {
            return Err(AuthError::BadTerminalId);
        }
        if !valid_nonce(self.nonce) {
            return Err(AuthError::BadNonce);
        }
        if !is_sha256_hex(self.body_sha256)
            || [self.method, self.path_and_query, self.content_range].iter().any(|f| f.contains(['\n', '\r']))
        {
            return Err(AuthError::BadSignature);
        }
        Ok(format!(
            "cunban-request-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method, self.path_and_query, self.content_range, self.body_sha256, self.timestamp, self.nonce, self.terminal_id
        )
        .into_bytes())
    }

    /// Base64 signature for [`HEADER_SIGNATURE`].
    pub fn sign(&self, key: &SigningKey) -> Result<String, AuthError> {
        Ok(B64.encode(key.sign(&self.canonical()?)))
    }

    /// Checks a [`HEADER_SIGNATURE`] value against `key`; errors if a field is
    /// malformed or the signature does not verify. Freshness and replay are the
    /// hub's to check.
    pub fn verify(&self, key: &PublicKey, signature_b64: &str) -> Result<(), AuthError> {
        key.verify_b64(&self.canonical()?, signature_b64)
    }
}

/// The catalog as the hub publishes it: the exact JSON bytes, base64, and
/// an Ed25519 signature over the version and their SHA-256. The bytes are
/// carried as they were signed, so no re-serialisation can break the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCatalog {
    /// The catalog's version; signed, and must equal the body's.
    pub version: u64,
    /// Base64 of the catalog's JSON.
    pub body: String,
    /// Base64 Ed25519 signature over [`SignedCatalog::message`].
    pub signature: String,
    /// [`PublicKey::fingerprint`] of the catalog key, to tell keys apart in logs.
    pub key_fingerprint: String,
}

impl SignedCatalog {
    fn message(version: u64, body: &[u8]) -> Vec<u8> {
        format!("cunban-catalog-v1\n{version}\n{}", sha256_hex(body)).into_bytes()
    }

    /// Signs `catalog_json` (checked to be a valid catalog first).
    pub fn sign(key: &SigningKey, catalog_json: &[u8]) -> Result<SignedCatalog, AuthError> {
        let text = std::str::from_utf8(catalog_json).map_err(|_| AuthError::BadCatalog("not UTF-8".into()))?;
        let catalog = Catalog::from_json(text).map_err(|e| AuthError::BadCatalog(e.to_string()))?;
        Ok(SignedCatalog {
            version: catalog.version,
            body: B64.encode(catalog_json),
            signature: B64.encode(key.sign(&Self::message(catalog.version, catalog_json))),
            key_fingerprint: key.public_key().fingerprint(),
        })
    }

    /// The catalog, if the signature verifies under `key` and the body is a
    /// valid catalog of the signed version. Returns the JSON bytes too, for
    /// storing exactly what was verified.
    pub fn verify(&self, key: &PublicKey) -> Result<(Catalog, Vec<u8>), AuthError> {
        let body = B64.decode(&self.body).map_err(|_| AuthError::BadCatalog("body is not base64".into()))?;
        key.verify_b64(&Self::message(self.version, &body), &self.signature)?;
        let text = std::str::from_utf8(&body).map_err(|_| AuthError::BadCatalog("not UTF-8".into()))?;
        let catalog = Catalog::from_json(text).map_err(|e| AuthError::BadCatalog(e.to_string()))?;
        if catalog.version != self.version {
            return Err(AuthError::CatalogVersionMismatch { signed: self.version, body: catalog.version });
        }
        Ok((catalog, body))
    }
}

/// A catalog delta as the hub publishes it, signed with the catalog key like
/// [`SignedCatalog`]. The message binds both versions and the body's hash;
/// the body binds the hash of the catalog it produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCatalogDelta {
    /// Catalog version the delta applies to; signed.
    pub from_version: u64,
    /// Catalog version the delta produces; signed.
    pub to_version: u64,
    /// Base64 of the delta's JSON ([`crate::catalog::CatalogDelta`]).
    pub body: String,
    /// Base64 Ed25519 signature by the catalog key over both versions and the body's SHA-256.
    pub signature: String,
    /// [`PublicKey::fingerprint`] of the catalog key, to tell keys apart in logs.
    pub key_fingerprint: String,
}

impl SignedCatalogDelta {
    fn message(from: u64, to: u64, body: &[u8]) -> Vec<u8> {
        format!("cunban-catalog-delta-v1\n{from}\n{to}\n{}", sha256_hex(body)).into_bytes()
    }

    /// Signs `delta` with the catalog key, binding its from and to versions.
    pub fn sign(key: &SigningKey, delta: &crate::catalog::CatalogDelta) -> Result<SignedCatalogDelta, AuthError> {
        let body = serde_json::to_vec(delta).map_err(|e| AuthError::BadCatalog(e.to_string()))?;
        Ok(SignedCatalogDelta {
            from_version: delta.from_version,
            to_version: delta.to_version,
            signature: B64.encode(key.sign(&Self::message(delta.from_version, delta.to_version, &body))),
            body: B64.encode(&body),
            key_fingerprint: key.public_key().fingerprint(),
        })
    }

    /// The catalog this delta makes of `base`, if the signature verifies
    /// under `key` and the delta applies exactly (see
    /// [`crate::catalog::CatalogDelta::apply`]). On any error `base` stays
    /// what the caller uses.
    pub fn apply(&self, key: &PublicKey, base: &Catalog) -> Result<Catalog, AuthError> {
        let body = B64.decode(&self.body).map_err(|_| AuthError::BadCatalog("delta body is not base64".into()))?;
        key.verify_b64(&Self::message(self.from_version, self.to_version, &body), &self.signature)?;
        let delta: crate::catalog::CatalogDelta = serde_json::from_slice(&body).map_err(|e| AuthError::BadCatalog(e.to_string()))?;
        if delta.from_version != self.from_version || delta.to_version != self.to_version {
            return Err(AuthError::CatalogVersionMismatch { signed: self.to_version, body: delta.to_version });
        }
        delta.apply(base).map_err(|e| AuthError::BadCatalog(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_seed(&[n; 32])
    }

    fn req<'a>(nonce: &'a str) -> RequestToSign<'a> {
        RequestToSign {
            method: "PUT",
            path_and_query: "/v1/submissions/0190",
            content_range: "",
            body_sha256: EMPTY_SHA256,
            timestamp: 1_700_000_000,
            nonce,
            terminal_id: "GS-0001",
        }
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let k = key(1);
        let r = req("abcdefghijklmnop");
        let sig = r.sign(&k).unwrap();
        r.verify(&k.public_key(), &sig).unwrap();
        for changed in [
            RequestToSign { method: "POST", ..r },
            RequestToSign { path_and_query: "/v1/submissions/0191", ..r },
            RequestToSign { content_range: "bytes 0-9/10", ..r },
            RequestToSign { body_sha256: &"0".repeat(64), ..r },
            RequestToSign { timestamp: r.timestamp + 1, ..r },
            RequestToSign { nonce: "abcdefghijklmnoq", ..r },
            RequestToSign { terminal_id: "GS-0002", ..r },
        ] {
            assert_eq!(changed.verify(&k.public_key(), &sig), Err(AuthError::SignatureMismatch), "{changed:?}");
        }
        assert_eq!(r.verify(&key(2).public_key(), &sig), Err(AuthError::SignatureMismatch));
        assert_eq!(r.verify(&k.public_key(), "junk!"), Err(AuthError::BadSignature));
    }

    #[test]
    fn fields_that_could_forge_the_line_structure_are_refused() {
        let k = key(1);
        assert_eq!(req("short").sign(&k), Err(AuthError::BadNonce));
        assert_eq!(RequestToSign { terminal_id: "GS 1", ..req("abcdefghijklmnop") }.sign(&k), Err(AuthError::BadTerminalId));
        assert!(RequestToSign { path_and_query: "/a\n/b", ..req("abcdefghijklmnop") }.sign(&k).is_err());
    }

    #[test]
    fn keys_round_trip_as_text_and_hide_the_secret() {
        let k = key(7);
        let again = SigningKey::parse(&k.to_text()).unwrap();
        assert_eq!(again.public_key(), k.public_key());
        let public = PublicKey::parse(&k.public_key().to_string()).unwrap();
        assert_eq!(public, k.public_key());
        assert!(!format!("{k:?}").contains(&k.to_text()[15..]));
        assert!(PublicKey::parse("ed25519:AAAA").is_err());
        assert!(PublicKey::parse("x25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_err());
        // The identity point is a small-order key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::parse(&format!("ed25519:{}", B64.encode(identity))).is_err());
        assert!(SigningKey::parse(&k.public_key().to_string()).is_err());
    }

    #[test]
    fn a_catalog_verifies_only_untouched_and_under_its_key() {
        let k = key(3);
        let json = Catalog::starter_json().as_bytes();
        let signed = SignedCatalog::sign(&k, json).unwrap();
        let (catalog, bytes) = signed.verify(&k.public_key()).unwrap();
        assert_eq!(catalog, Catalog::starter());
        assert_eq!(bytes, json);
        assert_eq!(signed.verify(&key(4).public_key()).unwrap_err(), AuthError::SignatureMismatch);
        let mut newer = signed.clone();
        newer.version += 1;
        assert_eq!(newer.verify(&k.public_key()).unwrap_err(), AuthError::SignatureMismatch);
        let mut edited = signed.clone();
        let text = String::from_utf8(B64.decode(&edited.body).unwrap()).unwrap().replacen("社会保障卡", "社会保障卡X", 1);
        edited.body = B64.encode(text);
        assert_eq!(edited.verify(&k.public_key()).unwrap_err(), AuthError::SignatureMismatch);
        assert!(SignedCatalog::sign(&k, b"{}").is_err());
    }
}
