//! The sealed queue on removable media (`kioskctl export` → `hub import`),
//! for places with no network at all.
//!
//! The records are the outbox's sealed envelopes and sealed attachments
//! byte for byte: nothing is opened or sealed again, so the file is as
//! unreadable without the platform key as the terminal's database. The
//! terminal signs the list of (submission id, SHA-256 of the envelope) with
//! its device key; each envelope names the hashes and sizes of its sealed
//! attachments, so the one signature covers every byte. The hub checks it
//! against its terminal registry before applying anything.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::OffsetDateTime;

use crate::auth::{AuthError, PublicKey, SigningKey};
use crate::seal::SealedEnvelope;
use crate::submission::sha256_hex;
use crate::SubmissionId;

/// The format version this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// Why an export file was refused. Nothing in an error reveals a record's
/// content.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ExportError {
    /// Another format version.
    #[error("export format version {0} (this build reads {EXPORT_VERSION})")]
    Version(u32),
    /// The file's signature does not verify under the terminal's registered
    /// key.
    #[error("the export's signature does not verify under terminal {terminal}'s key: {source}")]
    Signature {
        /// The terminal the file claims to be from.
        terminal: String,
        /// The verification error.
        source: AuthError,
    },
    /// A record is malformed or does not match its envelope.
    #[error("record {index} is malformed: {reason}")]
    Record {
        /// The record's position in the file, from 0.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The same submission appears twice.
    #[error("submission {0} is in the export twice")]
    Duplicate(SubmissionId),
    /// The file is not an export's JSON; the text says where.
    #[error("not an export file ({0})")]
    Malformed(String),
}

/// One sealed submission as stored in the outbox.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRecord {
    /// The submission's id; must equal the envelope's.
    pub id: SubmissionId,
    /// The envelope's exact bytes (what `PUT /v1/submissions/{id}` carries).
    #[serde(with = "crate::b64")]
    pub envelope: Vec<u8>,
    /// Sealed attachments in envelope order.
    #[serde(with = "crate::b64::list")]
    pub attachments: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ExportRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExportRecord({}, {} attachment(s))", self.id, self.attachments.len())
    }
}

/// An export file: the sealed records of one terminal, signed with its device
/// key. Made by [`ExportFile::sign`], checked by [`ExportFile::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFile {
    /// Format version, [`EXPORT_VERSION`].
    pub v: u32,
    /// The exporting terminal; its registered key must verify the file.
    pub terminal_id: String,
    /// When the export was made, whole seconds.
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The sealed submissions, in outbox order.
    pub records: Vec<ExportRecord>,
    /// The terminal's audit chain head when the export was made (issue 19;
    /// the export's own audit entry follows it). Signed when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<crate::audit_chain::AuditHead>,
    /// [`crate::auth::PublicKey::fingerprint`] of the signing key.
    pub key_fingerprint: String,
    /// Base64 Ed25519 over [`ExportFile::message`].
    pub signature: String,
}

/// A record whose envelope parsed and whose attachments match it.
pub struct CheckedRecord<'a> {
    /// The parsed envelope.
    pub envelope: SealedEnvelope,
    /// The record it came from, with the sealed bytes.
    pub record: &'a ExportRecord,
}

impl ExportFile {
    fn message(terminal_id: &str, exported_at: OffsetDateTime, records: &[ExportRecord], audit_head: Option<&crate::audit_chain::AuditHead>) -> Vec<u8> {
        let mut m = format!("cunban-export-v{EXPORT_VERSION}\n{terminal_id}\n{}\n{}\n", exported_at.unix_timestamp(), records.len());
        for r in records {
            m.push_str(&format!("{} {}\n", r.id, sha256_hex(&r.envelope)));
        }
        // Only when present, so files from before still verify; removing it
        // from a file that had it breaks the signature.
        if let Some(h) = audit_head {
            m.push_str(&format!("audit {} {}\n", h.seq, h.hash));
        }
        m.into_bytes()
    }

    /// Signs `records` as exported by `terminal_id` now.
    pub fn sign(key: &SigningKey, terminal_id: &str, exported_at: OffsetDateTime, records: Vec<ExportRecord>) -> ExportFile {
        Self::sign_with_head(key, terminal_id, exported_at, records, None)
    }

    /// [`ExportFile::sign`], carrying the terminal's audit head.
    pub fn sign_with_head(
        key: &SigningKey,
        terminal_id: &str,
        exported_at: OffsetDateTime,
        records: Vec<ExportRecord>,
        audit_head: Option<crate::audit_chain::AuditHead>,
    ) -> ExportFile {
        // Whole seconds: the signed time must survive RFC 3339 round trips.
        let exported_at = exported_at.replace_nanosecond(0).unwrap_or(exported_at);
        let signature = B64.encode(key.sign(&Self::message(terminal_id, exported_at, &records, audit_head.as_ref())));
        ExportFile {
            v: EXPORT_VERSION,
            terminal_id: terminal_id.to_owned(),
            exported_at,
            records,
            audit_head,
            key_fingerprint: key.public_key().fingerprint(),
            signature,
        }
    }

    /// The file's bytes (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain data always serialises.
        serde_json::to_vec(self).expect("export serialises")
    }

    /// Parses a file; the error says where, never what.
    pub fn from_bytes(bytes: &[u8]) -> Result<ExportFile, ExportError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ExportError::Malformed(format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column())))
    }

    /// Checks the signature under the terminal's registered key, then each
    /// record: its envelope parses and has its id, and each sealed
    /// attachment has the hash and size the envelope lists.
    pub fn verify(&self, key: &PublicKey) -> Result<Vec<CheckedRecord<'_>>, ExportError> {
        if self.v != EXPORT_VERSION {
            return Err(ExportError::Version(self.v));
        }
        key.verify_b64(&Self::message(&self.terminal_id, self.exported_at, &self.records, self.audit_head.as_ref()), &self.signature)
            .map_err(|source| ExportError::Signature { terminal: self.terminal_id.clone(), source })?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(self.records.len());
        for (index, r) in self.records.iter().enumerate() {
            if !seen.insert(r.id) {
                return Err(ExportError::Duplicate(r.id));
            }
            let bad = |reason: String| ExportError::Record { index, reason };
            let envelope = SealedEnvelope::from_bytes(&r.envelope).map_err(|e| bad(e.to_string()))?;
            envelope.check_shape().map_err(|e| bad(e.to_string()))?;
            if envelope.id != r.id {
                return Err(bad("the envelope's id is not the record's".into()));
            }
            if envelope.attachments.len() != r.attachments.len() {
                return Err(bad(format!("the envelope lists {} attachment(s), the record has {}", envelope.attachments.len(), r.attachments.len())));
            }
            for (i, (part, bytes)) in envelope.attachments.iter().zip(&r.attachments).enumerate() {
                if part.size != bytes.len() as u64 || part.sha256 != sha256_hex(bytes) {
                    return Err(bad(format!("attachment {i} does not match the envelope")));
                }
            }
            out.push(CheckedRecord { envelope, record: r });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(id: SubmissionId, att: &[u8]) -> Vec<u8> {
        let env = SealedEnvelope {
            v: crate::seal::ENVELOPE_VERSION,
            suite: crate::seal::default_suite().id().to_owned(),
            id,
            item_code: crate::ImplementCode::parse("620000RS0001").unwrap(),
            parts: Vec::new(),
            wrapped_key: vec![0; crate::seal::default_suite().wrapped_key_len()],
            manifest: vec![1; 64],
            attachments: vec![crate::seal::SealedPart { sha256: sha256_hex(att), size: att.len() as u64 }],
        };
        env.to_bytes()
    }

    #[test]
    fn a_signed_export_verifies_and_tampering_is_caught() {
        let key = SigningKey::from_seed(&[5; 32]);
        let id = SubmissionId::new();
        let att = vec![9u8; 40];
        let rec = ExportRecord { id, envelope: envelope(id, &att), attachments: vec![att.clone()] };
        let file = ExportFile::sign(&key, "GS-VAN-01", OffsetDateTime::now_utc(), vec![rec]);
        let again = ExportFile::from_bytes(&file.to_bytes()).unwrap();
        assert_eq!(again.verify(&key.public_key()).unwrap().len(), 1);

        assert!(matches!(again.verify(&SigningKey::from_seed(&[6; 32]).public_key()), Err(ExportError::Signature { .. })));
        let mut other_terminal = again.clone();
        other_terminal.terminal_id = "GS-VAN-02".into();
        assert!(matches!(other_terminal.verify(&key.public_key()), Err(ExportError::Signature { .. })));
        let mut dropped = again.clone();
        dropped.records.clear();
        assert!(matches!(dropped.verify(&key.public_key()), Err(ExportError::Signature { .. })));
        let mut bad_att = again.clone();
        bad_att.records[0].attachments[0][0] ^= 1;
        assert!(matches!(bad_att.verify(&key.public_key()), Err(ExportError::Record { index: 0, .. })));
        assert!(ExportFile::from_bytes(b"{\"v\":1}").is_err());
    }
}
