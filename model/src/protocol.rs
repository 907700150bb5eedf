//! The terminal ↔ hub wire contract (HTTP/JSON).
//!
//! - `GET  /v1/health` → [`Health`]; lets a terminal tell its hub from a captive portal.
//! - `PUT  /v1/submissions/{id}` body: [`crate::Submission`] JSON.
//!   201 stored, 200 identical replay, 409 a different body under the same id.
//! - `PUT  /v1/submissions/{id}/attachments/{sha256}` body: the bytes.
//!   201 stored, 200 already held, 422 hash mismatch.
//! - `POST /v1/submissions/{id}/commit` → [`CommitResponse`]; idempotent,
//!   422 while an attachment is missing.
//! - `GET  /v1/cases/{case_number}` → [`CaseView`].
//! - `GET  /v1/catalog` → [`crate::Catalog`].
//! Errors carry an [`ErrorBody`].

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
    /// The body is not a valid submission; quarantine, don't retry.
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
