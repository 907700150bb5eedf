//! The terminal ↔ hub wire contract (HTTP/JSON).
//!
//! - `GET  /v1/health` → [`Health`]; lets a terminal tell its hub from a captive portal.
//! - `PUT  /v1/submissions/{id}` body: a [`crate::seal::SealedEnvelope`] as JSON.
//!   Submissions travel sealed (DESIGN §5): the hub can check the envelope's
//!   shape and id without the platform key, and open it only with that key.
//!   201 stored, 200 identical replay (the same bytes: a terminal seals once
//!   and resends what it stored), 409 different bytes under the same id,
//!   422 not a well-formed envelope, or (on a hub holding the platform key)
//!   one that key cannot open.
//! - `PUT  /v1/submissions/{id}/attachments/{sha256}` body: the sealed bytes
//!   of one attachment; `sha256` is the hash of those sealed bytes, as listed
//!   in the envelope. 201 stored, 200 already held, 422 hash mismatch or not listed.
//! - `POST /v1/submissions/{id}/commit` → [`CommitResponse`]; idempotent,
//!   422 while an attachment is missing.
//! - `GET  /v1/cases/{case_number}` → [`CaseView`].
//! - `GET  /v1/catalog` → [`crate::Catalog`].
//!
//! Errors carry an [`ErrorBody`]. A terminal quarantines a record on 409,
//! 413 or 422 and goes on with the rest of its queue.

use serde::{Deserialize, Serialize};

use crate::case::{CaseNumber, CaseStatus};
use crate::submission::SubmissionId;

/// Identifies the hub service itself.
pub const SERVICE_NAME: &str = "cunban-hub";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub service: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    Stored,
    Replayed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutResponse {
    pub id: SubmissionId,
    pub outcome: PutOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResponse {
    pub id: SubmissionId,
    pub case_number: CaseNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    pub case_number: CaseNumber,
    pub submission_id: SubmissionId,
    pub item_code: String,
    pub status: CaseStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A different body was already stored under this id.
    Conflict,
    /// The body is not a valid sealed submission; quarantine, don't retry.
    Invalid,
    /// Attachment bytes do not match the hash in the path.
    HashMismatch,
    /// Commit before every referenced attachment arrived.
    MissingAttachments,
    NotFound,
    /// Transient: try again later.
    Busy,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}
