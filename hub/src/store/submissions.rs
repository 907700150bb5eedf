//! Submissions and their attachments: manifests, resumable uploads, commit
//! (which opens the case), and the clean-up of what was never finished.

use model::protocol::{PutOutcome, UploadStatus};
use model::{CaseNumber, IdNumber, SubmissionId};
use time::OffsetDateTime;

use super::error::StoreError;

/// A manifest as received: the raw body is stored byte for byte, because
/// replay is judged on exactly those bytes.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub id: SubmissionId,
    /// The authenticated terminal that sent it; only it may add attachments,
    /// commit, and read the case's status.
    pub terminal_id: &'a str,
    pub item_code: &'a str,
    pub body: &'a [u8],
    pub body_sha256: &'a str,
    /// (hash, size) of each sealed attachment the envelope lists.
    pub attachments: Vec<(&'a str, u64)>,
    /// Refuse a new submission that would take the terminal past this
    /// (None: no limit, e.g. `hub import` by a technician).
    pub quota: Option<OpenQuota>,
    /// The applicant's ID number from the opened filing (None when the hub
    /// does not hold the platform key): only its keyed tag is kept, written
    /// in the manifest's own transaction (progress at any terminal, issue 16;
    /// a replayed manifest tags a row that has no tag yet).
    pub applicant: Option<&'a IdNumber>,
}

/// What one terminal may hold on the hub uncommitted: submissions without a
/// case, and the attachment bytes they announce (a bound on its partials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenQuota {
    pub max_open: u64,
    pub max_bytes: u64,
}

impl Default for OpenQuota {
    fn default() -> Self {
        // A van comes back from days offline with a few dozen filings; each
        // at most a handful of 16 MiB scans.
        OpenQuota { max_open: 100, max_bytes: 1024 * 1024 * 1024 }
    }
}

/// What a clean-up pass dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Uncommitted submissions past their age.
    pub submissions: u64,
    /// Partial uploads not written to for a while, or no longer referred to.
    pub partials: u64,
    /// Complete attachments only those submissions referred to.
    pub attachments: u64,
}

/// Manifests, resumable attachment uploads and commit.
pub trait SubmissionStore: Send + Sync {
    /// Stores a manifest; `Replayed` when the identical body is already held,
    /// [`StoreError::Conflict`] when a different one is.
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError>;

    /// How much of attachment `sha256` of submission `id` (sent by `terminal`) is held.
    fn upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError>;

    /// The size of the upload `terminal` may make of `sha256` under `id`
    /// (an attachment its submission references, or an announced
    /// diagnostics bundle), refused as [`Self::upload_status`] refuses, and
    /// whether it is complete already: the status without the bytes held
    /// of a partial (in a bucket, a HEAD and no LIST).
    fn upload_target(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<(u64, bool), StoreError>;

    /// Appends bytes at `offset` (≤ the bytes held; bytes already held are
    /// skipped, so a resent range is harmless) to an upload of `size`
    /// bytes, the size [`Self::upload_status`] or [`Self::upload_target`]
    /// answered for the terminal's request (which checked that the upload
    /// is the terminal's to make; a referenced size never changes): not
    /// looked up again per chunk. Returns the bytes held after.
    fn append_upload(&self, sha256: &str, size: u64, offset: u64, bytes: &[u8]) -> Result<u64, StoreError>;

    /// Drops held bytes from `offset` on (a request whose body turned out
    /// not to be what it signed).
    fn truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError>;

    /// When every byte is held: checks the hash, keeps the attachment (Stored,
    /// or Replayed if it was already kept) or drops the bytes ([`StoreError::HashMismatch`]).
    fn finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError>;

    /// Largest attachment the upload handler may gather whole in memory and
    /// hand to [`Self::put_whole_upload`] when it arrives in one request and
    /// none of it is held yet. 0 (the default): uploads are written chunk by
    /// chunk as they arrive, which suits files (appending and renaming cost
    /// nothing more); an object store, where every chunk is an object
    /// written and later read back, takes a whole attachment in one PUT.
    fn whole_upload_limit(&self) -> u64 {
        0
    }

    /// Keeps an attachment that arrived whole (`bytes` is all of it, of the
    /// size [`Self::upload_target`] answered for the terminal's request): like
    /// [`Self::append_upload`] from 0 then [`Self::finish_upload`], with the
    /// same check (the hash before the name: other bytes fail it), in one
    /// call so a store may write it once. Stored again if it was complete
    /// (the same bytes under the same name).
    fn put_whole_upload(&self, sha256: &str, bytes: Vec<u8>) -> Result<PutOutcome, StoreError> {
        self.append_upload(sha256, bytes.len() as u64, 0, &bytes)?;
        self.finish_upload(sha256)
    }

    /// Opens the case for a submission, or returns the one already opened;
    /// with the submission's item code when this call opened it (what the
    /// platform connector is told, without reading the case back).
    fn commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, Option<String>), StoreError>;

    /// The sealed manifest `terminal` sent under `id`, as stored (the hub
    /// opens it with the platform key to tell the platform what the filing
    /// asks of it, e.g. mailing the result).
    fn submission_body(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Drops uncommitted submissions received before `uncommitted_before`,
    /// partial uploads not written to since `partial_before`, and attachments
    /// nothing refers to any more.
    fn sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError>;
}
