//! What the hub keeps, behind a trait so a PostgreSQL store can follow the
//! SQLite one without touching the HTTP layer.
//!
//! Methods are blocking; the HTTP layer calls them on tokio's blocking pool.
//! Idempotency lives in the store's uniqueness constraints, so several hub
//! instances over one database stay correct.

use model::protocol::{CaseView, PutOutcome};
use model::{CaseNumber, SubmissionId};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A different body is already stored under this submission id.
    #[error("submission {0} already holds a different body")]
    Conflict(SubmissionId),
    #[error("submission {0} is not on the hub")]
    UnknownSubmission(SubmissionId),
    /// The attachment's hash is not among the submission's references.
    #[error("submission {id} does not reference attachment {sha256}")]
    NotReferenced { id: SubmissionId, sha256: String },
    /// Commit before every referenced attachment arrived; lists the missing hashes.
    #[error("submission {id} is missing {} attachment(s)", missing.len())]
    MissingAttachments { id: SubmissionId, missing: Vec<String> },
    /// The database stayed locked past the busy timeout; worth retrying.
    #[error("the database is busy")]
    Busy,
    /// Stored data that doesn't read back (bad case number, unknown status).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database schema is version {found}, newer than this hub knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// A stored sealed submission does not open with the key given, or an
    /// attachment it lists is missing or does not match.
    #[error("submission {id} cannot be unsealed: {reason}")]
    Unseal { id: SubmissionId, reason: String },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

/// A manifest as received: the raw body is stored byte for byte, because
/// replay is judged on exactly those bytes.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub id: SubmissionId,
    pub item_code: &'a str,
    pub body: &'a [u8],
    pub body_sha256: &'a str,
    /// Hashes of the attachments the submission references.
    pub attachment_hashes: Vec<&'a str>,
}

pub trait Store: Send + Sync + 'static {
    /// Stores a manifest; `Replayed` when the identical body is already held,
    /// [`StoreError::Conflict`] when a different one is.
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError>;

    /// Stores attachment bytes (already checked against `sha256`) for a
    /// submission that references them. Attachments are content-addressed, so
    /// bytes shared by several submissions are kept once.
    fn put_attachment(&self, id: SubmissionId, sha256: &str, bytes: &[u8]) -> Result<PutOutcome, StoreError>;

    /// Opens the case for a submission, or returns the one already opened.
    fn commit(&self, id: SubmissionId) -> Result<CaseNumber, StoreError>;

    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError>;
}
