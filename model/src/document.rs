//! Documents the hub makes for one terminal (its operator accounts, its
//! config), signed with the hub's own key so a terminal applies only what
//! its hub said, for it, and nothing older than what it already has.
//!
//! TLS alone is not enough: a terminal may be pointed at a loopback relay
//! (export/import, tests) or a proxy, and an operator list decides who may
//! file on a villager's behalf. The hub's public key reaches the terminal at
//! enrollment and is pinned in its configuration.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::auth::{AuthError, PublicKey, SigningKey};
use crate::submission::sha256_hex;

/// What a signed document holds. The kind is signed, so an operator list
/// can never be taken for a config or the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// `GET /v1/operators`: a [`crate::operator::OperatorList`].
    Operators,
    /// `GET /v1/terminal/config`: a [`crate::protocol::TerminalConfig`].
    TerminalConfig,
}

impl DocumentKind {
    /// The kind's name in the signed message.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Operators => "operators",
            DocumentKind::TerminalConfig => "terminal_config",
        }
    }
}

/// Why a signed document is refused. None of these carry the body.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DocumentError {
    /// A document of another kind than the caller asked for.
    #[error("the document is a {got}, expected a {expected}")]
    WrongKind {
        /// The kind asked for.
        expected: &'static str,
        /// The kind received.
        got: &'static str,
    },
    /// The document names another terminal.
    #[error("the document was made for another terminal")]
    WrongTerminal,
    /// The document is older than the one applied last: a replay, refused.
    #[error("the document was issued at {issued_at}, before the one already applied ({applied})")]
    Older {
        /// When this document was issued (Unix seconds).
        issued_at: i64,
        /// When the applied one was issued.
        applied: i64,
    },
    /// The signature does not verify under the pinned key; the text is that
    /// key's fingerprint and the verification error.
    #[error("the document is not signed by the pinned hub key (fingerprint {0})")]
    Signature(String),
    /// The body or its base64 does not parse.
    #[error("the document body is malformed: {0}")]
    Malformed(String),
}

/// A JSON body with the hub's Ed25519 signature over its kind, the
/// terminal it was made for, when it was issued and the body's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDocument {
    /// What the body holds; signed.
    pub kind: DocumentKind,
    /// The terminal it was made for; signed.
    pub terminal_id: String,
    /// Unix seconds (hub clock). Terminals refuse a document older than the
    /// last one they applied, so a replayed old list cannot restore a
    /// revoked operator.
    pub issued_at: i64,
    /// Base64 of the JSON body.
    pub body: String,
    /// Base64 Ed25519 signature over [`SignedDocument::message`].
    pub signature: String,
    /// Fingerprint of the signing key, to tell keys apart in logs.
    pub key_fingerprint: String,
}

impl SignedDocument {
    fn message(kind: DocumentKind, terminal_id: &str, issued_at: i64, body: &[u8]) -> Vec<u8> {
        format!("cunban-document-v1\n{}\n{terminal_id}\n{issued_at}\n{}", kind.as_str(), sha256_hex(body)).into_bytes()
    }

    /// Signs `value` (serialised to JSON) for `terminal_id`.
    pub fn sign<T: Serialize>(key: &SigningKey, kind: DocumentKind, terminal_id: &str, issued_at: i64, value: &T) -> Result<SignedDocument, DocumentError> {
        let body = serde_json::to_vec(value).map_err(|e| DocumentError::Malformed(e.to_string()))?;
        Ok(SignedDocument {
            kind,
            terminal_id: terminal_id.to_owned(),
            issued_at,
            signature: B64.encode(key.sign(&Self::message(kind, terminal_id, issued_at, &body))),
            body: B64.encode(&body),
            key_fingerprint: key.public_key().fingerprint(),
        })
    }

    /// The body, if this is a `kind` document for `terminal_id`, signed by
    /// `key`, and not older than `applied` (the `issued_at` of the document
    /// of this kind the terminal applied last).
    pub fn open<T: serde::de::DeserializeOwned>(
        &self,
        key: &PublicKey,
        kind: DocumentKind,
        terminal_id: &str,
        applied: Option<i64>,
    ) -> Result<T, DocumentError> {
        if self.kind != kind {
            return Err(DocumentError::WrongKind { expected: kind.as_str(), got: self.kind.as_str() });
        }
        let body = B64.decode(&self.body).map_err(|_| DocumentError::Malformed("body is not base64".into()))?;
        key.verify_b64(&Self::message(self.kind, &self.terminal_id, self.issued_at, &body), &self.signature)
            .map_err(|e: AuthError| DocumentError::Signature(format!("{}: {e}", key.fingerprint())))?;
        // Checked after the signature, so an unsigned document learns nothing.
        if self.terminal_id != terminal_id {
            return Err(DocumentError::WrongTerminal);
        }
        if let Some(applied) = applied {
            if self.issued_at < applied {
                return Err(DocumentError::Older { issued_at: self.issued_at, applied });
            }
        }
        serde_json::from_slice(&body).map_err(|e| DocumentError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TerminalConfig;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_seed(&[n; 32])
    }

    #[test]
    fn a_document_opens_only_for_its_kind_terminal_key_and_order() {
        let config = TerminalConfig { version: 3, ..TerminalConfig::default() };
        let doc = SignedDocument::sign(&key(1), DocumentKind::TerminalConfig, "GS-0001", 1_000, &config).unwrap();
        let pk = key(1).public_key();
        assert_eq!(doc.open::<TerminalConfig>(&pk, DocumentKind::TerminalConfig, "GS-0001", Some(1_000)).unwrap(), config);
        assert!(matches!(
            doc.open::<TerminalConfig>(&key(2).public_key(), DocumentKind::TerminalConfig, "GS-0001", None),
            Err(DocumentError::Signature(_))
        ));
        assert_eq!(doc.open::<TerminalConfig>(&pk, DocumentKind::TerminalConfig, "GS-0002", None), Err(DocumentError::WrongTerminal));
        assert!(matches!(doc.open::<TerminalConfig>(&pk, DocumentKind::Operators, "GS-0001", None), Err(DocumentError::WrongKind { .. })));
        assert_eq!(
            doc.open::<TerminalConfig>(&pk, DocumentKind::TerminalConfig, "GS-0001", Some(1_001)),
            Err(DocumentError::Older { issued_at: 1_000, applied: 1_001 })
        );
        // Any field changed after signing breaks the signature.
        for tamper in [
            SignedDocument { terminal_id: "GS-0002".into(), ..doc.clone() },
            SignedDocument { issued_at: 9_999, ..doc.clone() },
            SignedDocument { kind: DocumentKind::Operators, ..doc.clone() },
            SignedDocument { body: B64.encode(br#"{"version":9,"sync_interval_secs":1,"heartbeat_interval_secs":1}"#), ..doc.clone() },
        ] {
            let kind = tamper.kind;
            let t = tamper.terminal_id.clone();
            assert!(matches!(tamper.open::<TerminalConfig>(&pk, kind, &t, None), Err(DocumentError::Signature(_))), "{tamper:?}");
        }
    }
}
