//! Error types. Messages name submission ids, hashes, sizes and material
//! codes, never personal data.

use std::path::PathBuf;

use model::seal::SealError;
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
    /// A tool opened a file the kiosk has not migrated yet (tools never migrate).
    #[error("the outbox schema is version {found}; this build needs {current}: start the kiosk once to migrate it")]
    SchemaOutdated { found: i64, current: i64 },
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
    /// One attachment is over the configured limit.
    #[error("submission {id}: attachment {material_code} is {size} bytes, over the limit of {limit}")]
    AttachmentTooLarge { id: SubmissionId, material_code: String, size: u64, limit: u64 },
    /// Free space is below the reserve: new filings are refused before
    /// anything is written.
    #[error("free disk space ({free_bytes} bytes) is below the reserve ({reserve_bytes} bytes) kept for filings already accepted")]
    DiskReserve { free_bytes: u64, reserve_bytes: u64 },
    /// The disk filled up during a write; the transaction was rolled back.
    #[error("the disk is full; nothing was written")]
    DiskFull,
    /// The id is already queued with different content; submissions are immutable.
    #[error("submission {0} is already queued with different content")]
    Conflict(SubmissionId),
    #[error("submission {0} is not in the outbox")]
    UnknownSubmission(SubmissionId),
    /// A state change the record's current state doesn't allow.
    #[error("submission {id} is {state}, so it cannot be marked {wanted}")]
    WrongState { id: SubmissionId, state: &'static str, wanted: &'static str },
    /// The stored copy of one record fails its hash: that record is
    /// quarantined, the rest of the queue is fine.
    #[error("the stored copy of submission {id} is damaged: {what}")]
    RecordDamaged { id: SubmissionId, what: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A tool found the database damaged; the kiosk moves such a file aside
    /// at its next start, a tool never does.
    #[error("the outbox database fails its integrity check: {0}")]
    CorruptDatabase(String),
    /// This handle was opened with [`crate::Outbox::inspect`]: it reads only.
    #[error("this outbox was opened for inspection only")]
    InspectOnly,
    /// The file still holds unsealed filings from schema v1, and sealing
    /// them needs the platform key.
    #[error("the outbox holds unsealed filings from an older version; open it with the platform key to seal them")]
    NeedsPlatformKey,
    /// The kiosk was started with a platform key other than the pinned one:
    /// nothing is sealed to it until a technician confirms it.
    #[error("the platform key changed (pinned {pinned}, configured {configured}): new filings wait for a technician to run `kioskctl platform-key confirm`")]
    PlatformKeyChanged { pinned: String, configured: String },
    #[error("this outbox was never opened with a platform key, so there is none to confirm")]
    PlatformKeyUnknown,
    #[error("the fingerprint typed ({typed}) is not the configured platform key's ({configured}); nothing changed")]
    PlatformKeyFingerprintMismatch { typed: String, configured: String },
    #[error("sealing: {0}")]
    Seal(#[from] SealError),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
    /// The blocking task running an outbox call panicked or was cancelled.
    #[error("an outbox task failed: {0}")]
    TaskFailed(String),
}

impl StoreError {
    /// True when the refusal is about disk space: the kiosk tells the
    /// villager the terminal cannot take filings now, and a technician is needed.
    pub fn is_disk_space(&self) -> bool {
        matches!(self, StoreError::DiskReserve { .. } | StoreError::DiskFull)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull,
            _ => StoreError::Sqlite(e),
        }
    }
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the hub address {0:?} is not an http or https URL")]
    BadUrl(String),
    #[error("the hub address {0:?} is plain http to another machine: use https (plain http is for a hub on this machine only)")]
    PlainHttp(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}
