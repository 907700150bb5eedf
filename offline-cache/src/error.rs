//! Error types. Messages name submission ids and hashes, never personal data.

use model::SubmissionId;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The database stayed locked past the busy timeout.
    #[error("the outbox database is busy")]
    Busy,
    #[error("the outbox schema is version {found}, newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("the database refused WAL journaling (journal_mode is {0})")]
    NotWal(String),
    /// Bytes given for an attachment don't match its reference's hash or size.
    #[error("submission {id}: the bytes given for attachment {sha256} do not match its hash or size")]
    AttachmentMismatch { id: SubmissionId, sha256: String },
    /// The submission references an attachment whose bytes were not given.
    #[error("submission {id} references attachment {sha256}, but its bytes were not given")]
    MissingAttachment { id: SubmissionId, sha256: String },
    /// Bytes were given for an attachment the submission doesn't reference.
    #[error("submission {id} does not reference attachment {sha256}")]
    UnreferencedAttachment { id: SubmissionId, sha256: String },
    /// The id is already queued with different content; submissions are immutable.
    #[error("submission {0} is already queued with different content")]
    Conflict(SubmissionId),
    #[error("submission {0} is not in the outbox")]
    UnknownSubmission(SubmissionId),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The blocking task running an outbox call panicked or was cancelled.
    #[error("an outbox task failed: {0}")]
    TaskFailed(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the hub address {0:?} is not an http or https URL")]
    BadUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
