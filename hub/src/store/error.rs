//! What every store method can fail with.

use model::SubmissionId;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// This terminal already stored a different body under this submission
    /// id (ids are per terminal: another terminal's claim is no conflict).
    #[error("submission {0} already holds a different body")]
    Conflict(SubmissionId),
    /// The terminal is over one of its quotas (open submissions, bytes in
    /// flight, distinct e-license lookups a day); nothing was stored.
    #[error("terminal {terminal} is over its quota of {what}")]
    QuotaExceeded { terminal: String, what: String },
    /// An evaluation of a case the calling terminal did not file (or no such case).
    #[error("no case {0} filed by this terminal")]
    NotYourCase(String),
    /// The case was rated already (once per case).
    #[error("case {0} was rated already")]
    AlreadyRated(String),
    #[error("submission {0} is not on the hub")]
    UnknownSubmission(SubmissionId),
    /// The attachment's hash is not among the submission's references.
    #[error("submission {id} does not reference attachment {sha256}")]
    NotReferenced { id: SubmissionId, sha256: String },
    /// Commit before every referenced attachment arrived; lists the missing hashes.
    #[error("submission {id} is missing {} attachment(s)", missing.len())]
    MissingAttachments { id: SubmissionId, missing: Vec<String> },
    /// A resumed upload starts past the bytes held.
    #[error("attachment {sha256}: upload starts at {offset}, but {received} bytes are held")]
    RangeMismatch { sha256: String, offset: u64, received: u64 },
    /// All bytes of an upload arrived and they do not hash to its name; they were dropped.
    #[error("the bytes received for attachment {sha256} do not hash to it; the upload starts over")]
    HashMismatch { sha256: String },
    /// More bytes than the envelope says the attachment has.
    #[error("attachment {sha256} has {size} bytes; the upload goes past that")]
    TooLong { sha256: String, size: u64 },
    /// A terminal id that is already registered with another key, or a key
    /// already registered under another id.
    #[error("terminal {0} is already registered with another key, or its key under another id")]
    TerminalConflict(String),
    #[error("no terminal {0} is registered")]
    UnknownTerminal(String),
    #[error("no open follow-up {0}")]
    NoSuchFollowUp(String),
    #[error("no operator {0}")]
    UnknownOperator(String),
    /// Revoked accounts stay revoked; an assistant who returns gets a new staff number.
    #[error("operator {0} is revoked")]
    OperatorRevoked(String),
    #[error("no case {0}")]
    UnknownCase(String),
    /// An update version published again with other bytes, or a rollout
    /// for a version never published / already rolling out.
    #[error("update {0}")]
    Update(String),
    /// No diagnostics request under this id for this terminal.
    #[error("no diagnostics request {0} for this terminal")]
    UnknownDiagnostics(uuid::Uuid),
    /// A status change the case's current status does not allow.
    #[error("case {case} is {from}; it cannot become {to}")]
    WrongCaseStatus { case: String, from: &'static str, to: &'static str },
    /// An evaluation id already used with another body.
    #[error("evaluation {0} already holds a different body")]
    EvaluationConflict(uuid::Uuid),
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
    #[error("database error: {0}")]
    Postgres(tokio_postgres::Error),
    /// A store that does not keep this yet (PostgreSQL: see hub/README.md).
    #[error("this store does not support {0} yet")]
    Unsupported(&'static str),
    /// A group commit (nonces, heartbeats) failed.
    #[error("batched write: {0}")]
    Batch(String),
    /// Attachment files could not be read or written.
    #[error("attachment storage: {0}")]
    Blob(String),
    /// A stored sealed submission does not open with the key given, or an
    /// attachment it lists is missing or does not match.
    #[error("submission {id} cannot be unsealed: {reason}")]
    Unseal { id: SubmissionId, reason: String },
    /// No terminal presented this enrollment code (mistyped, or the terminal
    /// has not reached the hub yet).
    #[error("no terminal has presented this enrollment code (check it, and that the terminal is online)")]
    UnknownEnrollCode,
    /// The code was used already, or presented by another key.
    #[error("this enrollment code was already used")]
    EnrollCodeUsed,
    #[error("this enrollment code has expired; the terminal shows a new one when enrollment is restarted")]
    EnrollCodeExpired,
    /// The key that presented the code is not the one the technician saw on the terminal.
    #[error("the terminal that presented this code has key {found}, not {expected}: do not bind it")]
    EnrollFingerprintMismatch { expected: String, found: String },
    /// Binding needs the fingerprint the technician read off the terminal.
    #[error("give the key fingerprint shown on the terminal's screen (--fingerprint); the presenter's key is {found}")]
    EnrollFingerprintRequired { found: String },
    /// More than one key presented this code: someone else read it off the
    /// screen. It is not bound; the terminal must start enrollment again.
    #[error("more than one key presented this enrollment code (someone else read it off the screen); restart enrollment on the terminal for a new code")]
    EnrollCodeContested,
    /// The key belongs to a revoked terminal: it does not come back by enrolling again.
    #[error("terminal {0} was revoked; a revoked terminal cannot enroll again with the same key")]
    TerminalRevoked(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        // A database restarting or out of reach: terminals back off and retry (503).
        if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
            return StoreError::Busy;
        }
        // Lost races between instances are worth a retry, like SQLite's busy.
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::LOCK_NOT_AVAILABLE => StoreError::Busy,
            _ => StoreError::Postgres(e),
        }
    }
}
