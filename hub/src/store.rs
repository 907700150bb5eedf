//! What the hub keeps, behind a trait so a PostgreSQL store can follow the
//! SQLite one without touching the HTTP layer.
//!
//! Methods are blocking; the HTTP layer calls them on tokio's blocking pool.
//! Idempotency lives in the store's uniqueness constraints, so several hub
//! instances over one database stay correct.

use model::audit_chain::{AnchorCheck, AuditHead, AuditProof};
use model::auth::{PublicKey, SignedCatalog, SignedCatalogDelta};
use model::protocol::{CaseStatusEntry, CaseView, EvaluationUpload, Heartbeat, PutOutcome, TerminalConfig, UploadStatus};
use model::enroll::Profile;
use model::operator::{OperatorAccount, StaffNumber};
use model::{CaseNumber, CaseStatus, SubmissionId, VillageCode};
use thiserror::Error;
use time::OffsetDateTime;

/// More deltas than this and a terminal gets the full catalog: applying a
/// long chain on a kiosk costs more than one download.
pub const MAX_DELTA_CHAIN: usize = 16;

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

/// One e-license lookup, as audited (never the ID number itself).
#[derive(Debug, Clone)]
pub struct LookupAudit<'a> {
    pub terminal: &'a str,
    pub material_code: &'a str,
    /// e.g. `620102********1234`.
    pub id_masked: &'a str,
    /// The ID number: the store keeps only a keyed hash of it (under a
    /// secret of its own), to count distinct people per terminal and day.
    pub id_number: &'a str,
}

/// Whether a terminal may talk to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalStatus {
    Active,
    Revoked,
}

impl TerminalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TerminalStatus::Active => "active",
            TerminalStatus::Revoked => "revoked",
        }
    }
}

/// A terminal to trust: the registry that enrollment (issue 8) writes into.
#[derive(Debug, Clone)]
pub struct NewTerminal {
    pub id: String,
    pub public_key: PublicKey,
    pub village_code: Option<VillageCode>,
    pub label: Option<String>,
}

/// An assistant's account as the back office writes it.
#[derive(Clone)]
pub struct NewOperator {
    pub staff_number: StaffNumber,
    pub name: String,
    /// Argon2id PHC string ([`model::operator::hash_pin`]); never the PIN.
    pub pin_hash: String,
    /// Terminals (vans) the assistant may log in on.
    pub terminals: Vec<String>,
    /// Villages the van visits: the trip screen offers these.
    pub villages: Vec<VillageCode>,
    pub valid_until: Option<OffsetDateTime>,
}

impl std::fmt::Debug for NewOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOperator").field("staff_number", &self.staff_number).field("terminals", &self.terminals).finish_non_exhaustive()
    }
}

/// A registered terminal and what it last reported.
#[derive(Debug, Clone)]
pub struct TerminalRecord {
    pub id: String,
    pub public_key: PublicKey,
    pub status: TerminalStatus,
    pub village_code: Option<VillageCode>,
    pub label: Option<String>,
    pub added_at: OffsetDateTime,
    /// Last authenticated request of any kind.
    pub last_seen_at: Option<OffsetDateTime>,
    pub last_heartbeat: Option<(OffsetDateTime, Heartbeat)>,
    /// The terminal's audit head the hub holds (issue 19), and when it got it.
    pub audit_anchor: Option<(AuditHead, OffsetDateTime)>,
    /// Every time a reported head did not extend the anchored one, newest first.
    pub audit_breaks: Vec<AuditBreak>,
}

/// A terminal's audit chain that stopped extending what the hub anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    pub at: OffsetDateTime,
    /// [`model::audit_chain::AnchorCheck::code`]: `went_back` or `rewritten`.
    pub kind: String,
    /// The entry from which the chain differs (`rewritten`).
    pub from_seq: Option<u64>,
    pub anchored: AuditHead,
    pub reported: AuditHead,
}

/// A staff request for a terminal's diagnostics bundle, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsRecord {
    pub id: uuid::Uuid,
    pub terminal_id: String,
    pub requested_by: String,
    pub requested_at: OffsetDateTime,
    /// SHA-256 and size the terminal announced, once it did.
    pub announced: Option<(String, u64)>,
    /// The whole bundle is on the hub, hash checked.
    pub complete: bool,
}

/// One entry of the hub's own audit: who (a staff name, a terminal, `hub`),
/// what, about what, how it ended. Never personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAuditEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub outcome: String,
}

/// A terminal presenting an enrollment code (hash only: codes are not stored).
#[derive(Debug, Clone)]
pub struct EnrollPresentation<'a> {
    pub code_hash: &'a str,
    pub serial: &'a str,
    pub public_key: &'a PublicKey,
}

/// Where a presented code stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollState {
    /// Waiting for a technician, until `expires_at`.
    Pending { expires_at: OffsetDateTime },
    /// Bound: the terminal is registered and receives this (once).
    Bound { terminal_id: String, village_code: VillageCode, profile: Profile },
}

/// A technician's decision on a presented code.
#[derive(Debug, Clone)]
pub struct EnrollBinding {
    /// The id to register; by default `T-` and the serial.
    pub terminal_id: Option<String>,
    pub village_code: VillageCode,
    pub profile: Profile,
    /// The key fingerprint read off the terminal's screen or QR: required
    /// (None is refused), and binding fails if the presenter's key differs.
    pub expected_fingerprint: Option<String>,
    /// Who bound it (audit).
    pub actor: String,
}

/// A presented code as the hub lists it.
#[derive(Debug, Clone)]
pub struct EnrollRecord {
    pub serial: String,
    pub public_key: PublicKey,
    pub presented_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// pending, contested (a second key presented it: it cannot be bound), bound or delivered.
    pub status: String,
    pub terminal_id: Option<String>,
    pub village_code: Option<String>,
    pub profile: Option<Profile>,
}

/// The id a terminal gets by default: `T-` and its serial, upper case,
/// other characters as '-', cut to 32.
pub fn terminal_id_for_serial(serial: &str) -> String {
    let mut id = String::from("T-");
    id.extend(serial.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '-' }));
    id.truncate(32);
    id
}

/// One case as the back office lists it (no personal data: that is sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub case_number: CaseNumber,
    pub submission_id: SubmissionId,
    pub item_code: String,
    pub terminal_id: Option<String>,
    pub status: CaseStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reason: Option<String>,
    pub has_result: bool,
}

/// A back-office decision on a case.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    pub to: CaseStatus,
    /// Why (shown to the villager on rejection).
    pub reason: Option<&'a str>,
    /// A result document: media type and bytes.
    pub result: Option<(&'a str, &'a [u8])>,
    /// Who decided: an operator name or "connector".
    pub actor: &'a str,
}

pub trait Store: Send + Sync + 'static {
    /// Stores a manifest; `Replayed` when the identical body is already held,
    /// [`StoreError::Conflict`] when a different one is.
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError>;

    /// How much of attachment `sha256` of submission `id` (sent by `terminal`) is held.
    fn upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError>;

    /// Appends bytes at `offset` (≤ the bytes held; bytes already held are
    /// skipped, so a resent range is harmless). Returns the bytes held after.
    fn append_upload(&self, terminal: &str, id: SubmissionId, sha256: &str, offset: u64, bytes: &[u8]) -> Result<u64, StoreError>;

    /// Drops held bytes from `offset` on (a request whose body turned out
    /// not to be what it signed).
    fn truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError>;

    /// When every byte is held: checks the hash, keeps the attachment (Stored,
    /// or Replayed if it was already kept) or drops the bytes ([`StoreError::HashMismatch`]).
    fn finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError>;

    /// Opens the case for a submission, or returns the one already opened;
    /// true when this call opened it.
    fn commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, bool), StoreError>;

    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError>;

    /// Cases of `ids` that `terminal` sent; others are left out.
    fn case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError>;

    fn list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError>;

    fn case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError>;

    /// Moves a case on (received → accepted → processing → done, or → rejected).
    fn set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError>;

    /// A part of a bundle filing (一件事一次办) by its own number: the
    /// bundle's case number and the part.
    fn case_part(&self, number: &str) -> Result<Option<(String, model::protocol::CasePart)>, StoreError>;

    /// Moves a part of a bundle filing on, by the rules of a case.
    fn set_part_status(&self, number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<model::protocol::CasePart, StoreError>;

    /// The result document of a case sent by `terminal`: (media type, bytes).
    fn case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;

    // ---- terminals ----

    /// Registers a terminal. Registering the same id with the same key again is fine.
    fn add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError>;

    fn revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The key and status of a terminal, for checking a request.
    fn terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError>;

    /// Records a request's nonce; false if `terminal` used it before.
    /// Forgets nonces older than `forget_before` (unix seconds).
    fn remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError>;

    fn terminals(&self) -> Result<Vec<TerminalRecord>, StoreError>;

    // ---- operators (assisted mode) ----

    /// Adds an assistant, or updates name, PIN, assignment and expiry of
    /// an active one; a revoked one is refused.
    fn add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError>;

    fn revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Accounts assigned to `terminal`, revoked ones included (so the
    /// terminal drops them at its next pull).
    fn operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError>;

    /// Keeps a terminal's latest heartbeat. May be written behind (telemetry),
    /// but [`Store::terminals`] sees it.
    fn record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The config for `terminal`: its own, else the default, else built-in defaults.
    fn terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError>;

    /// Sets the config of one terminal, or with `None` the default for all.
    fn set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError>;

    // ---- enrollment ----

    /// A terminal presents a one-time code, first to announce itself, then
    /// polling: Pending until bound, then Bound exactly once (the code is
    /// spent); [`StoreError::EnrollCodeUsed`] for a spent code or another
    /// key, [`StoreError::EnrollCodeExpired`] past its life,
    /// [`StoreError::TerminalRevoked`] for a revoked terminal's key.
    fn present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError>;

    /// Binds a presented, live code: registers the terminal with the key
    /// that presented it. Single-use: a second bind is `EnrollCodeUsed`.
    fn bind_enrollment(&self, code_hash: &str, binding: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError>;

    /// Codes presented and not yet expired or delivered, newest first.
    fn pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError>;

    // ---- evaluations, catalog ----

    /// An evaluation of a case `terminal` filed, once per case
    /// ([`StoreError::NotYourCase`], [`StoreError::AlreadyRated`]).
    fn put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError>;

    /// Records an e-license lookup and says whether it is within the
    /// terminal's allowance of distinct people per day (`max_people`); a
    /// refused one is recorded too. Errors with [`StoreError::QuotaExceeded`].
    /// Returns the audit record's number, for [`Store::audit_e_license_outcome`].
    fn audit_e_license(&self, lookup: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError>;

    /// Records how an allowed lookup ended (`found`, `not_found`, `unavailable`).
    fn audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError>;

    /// Drops uncommitted submissions received before `uncommitted_before`,
    /// partial uploads not written to since `partial_before`, and attachments
    /// nothing refers to any more.
    fn sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let _ = (uncommitted_before, partial_before);
        Ok(SweepReport::default())
    }

    /// The registry as last committed, for readers that must not write (the
    /// fleet page): heartbeats written behind may be a moment late.
    fn terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.terminals()
    }

    /// True if `name` is a staff member and `password` is theirs.
    fn check_staff(&self, _name: &str, _password: &str) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Adds a staff member (or sets a new password); `password_hash` is an Argon2id PHC string.
    fn set_staff(&self, _name: &str, _password_hash: &str, _at: OffsetDateTime) -> Result<(), StoreError> {
        Err(StoreError::Corrupt("this store keeps no staff".into()))
    }

    /// Keeps a signed catalog, with the signed delta from the version
    /// published before it when there is one; the newest version is what
    /// terminals get.
    fn publish_catalog(&self, signed: &SignedCatalog, delta: Option<&SignedCatalogDelta>, at: OffsetDateTime) -> Result<(), StoreError>;

    /// What a terminal holding version `since` needs: None when it is up to
    /// date (or the hub has no catalog); the chain of deltas when there is
    /// an unbroken one of at most [`MAX_DELTA_CHAIN`] steps that weighs less
    /// than the full catalog; the full catalog otherwise.
    fn catalog_update(&self, since: u64) -> Result<Option<model::protocol::CatalogUpdate>, StoreError> {
        Ok(self.latest_catalog()?.filter(|c| c.version > since).map(|catalog| model::protocol::CatalogUpdate::Full { catalog }))
    }
    /// Checks a terminal's reported audit chain against the head the hub
    /// holds and moves the anchor on; a head that does not extend it is
    /// kept as an [`AuditBreak`] and in the hub's audit, and the new head
    /// becomes the anchor (so the next break is caught too). Returns the
    /// check and the anchor now held.
    fn anchor_audit(&self, terminal: &str, proof: &AuditProof, at: OffsetDateTime) -> Result<(AnchorCheck, AuditHead), StoreError>;

    /// Appends to the hub's own audit.
    fn hub_audit(&self, actor: &str, action: &str, subject: Option<&str>, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The last `limit` entries of the hub's own audit, oldest first.
    fn hub_audit_tail(&self, limit: usize) -> Result<Vec<HubAuditEntry>, StoreError>;

    /// Staff ask `terminal` for a diagnostics bundle (audited); its id.
    fn request_diagnostics(&self, terminal: &str, staff: &str, at: OffsetDateTime) -> Result<uuid::Uuid, StoreError>;

    /// The oldest request of `terminal` whose bundle is not complete yet.
    fn pending_diagnostics(&self, terminal: &str) -> Result<Option<uuid::Uuid>, StoreError>;

    /// The terminal announces the bundle it will upload under `id`.
    fn announce_diagnostics(&self, terminal: &str, id: uuid::Uuid, sha256: &str, size: u64, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Every request, newest first (the fleet page).
    fn diagnostics_requests(&self) -> Result<Vec<DiagnosticsRecord>, StoreError>;

    /// A complete bundle for staff (the download is audited): the
    /// terminal it came from and its bytes; None while incomplete.
    fn download_diagnostics(&self, id: uuid::Uuid, staff: &str, at: OffsetDateTime) -> Result<Option<(String, Vec<u8>)>, StoreError>;

    /// Publishes an update bundle (already verified by the caller) under its version.
    fn publish_update(&self, version: &str, sha256: &str, size: u64, by: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Starts the staged rollout of a published version (audited).
    fn start_rollout(&self, rollout: &crate::rollout::Rollout, by: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Pause (`paused`), resume (`running`) or halt (`halted`) a rollout by hand (audited).
    fn set_rollout_state(&self, version: &str, state: crate::rollout::RolloutState, by: &str, at: OffsetDateTime) -> Result<crate::rollout::Rollout, StoreError>;

    /// Every rollout, newest first.
    fn rollouts(&self) -> Result<Vec<crate::rollout::Rollout>, StoreError>;

    /// The update `terminal` is offered now: the newest running rollout
    /// whose open stages include it, unless it failed that version.
    fn update_target(&self, terminal: &str) -> Result<Option<model::update::UpdateTarget>, StoreError>;

    /// Keeps a terminal's install report and moves its rollout on (next
    /// stage, done, or halted past the failure threshold; audited).
    fn record_update_report(&self, terminal: &str, report: &model::update::UpdateReport, at: OffsetDateTime) -> Result<crate::rollout::Change, StoreError>;

    /// Progress texts due: waiting to be sent, or sent and not yet known
    /// delivered or failed; oldest first.
    fn sms_due(&self, _limit: usize) -> Result<Vec<SmsRow>, StoreError> {
        Ok(Vec::new())
    }

    /// Records what happened to one progress text.
    fn sms_record(&self, _key: &str, _update: &SmsUpdate<'_>, _at: OffsetDateTime) -> Result<(), StoreError> {
        Err(StoreError::Corrupt("this store keeps no SMS outbox".into()))
    }

    /// The progress texts of one case, oldest first.
    fn sms_of_case(&self, _case_number: &str) -> Result<Vec<SmsRow>, StoreError> {
        Ok(Vec::new())
    }

    /// 差评 follow-ups, oldest deadline first; only those without a reply when `open_only`.
    fn followups(&self, _open_only: bool) -> Result<Vec<FollowUp>, StoreError> {
        Ok(Vec::new())
    }

    /// The follow-ups of one case's ratings (what the villager may be shown).
    fn followups_of_case(&self, _case_number: &str) -> Result<Vec<FollowUp>, StoreError> {
        Ok(Vec::new())
    }

    /// The back office answers a follow-up (once; a second reply is refused).
    fn reply_followup(&self, _evaluation_id: uuid::Uuid, _reply: &str, _actor: &str, _at: OffsetDateTime) -> Result<FollowUp, StoreError> {
        Err(StoreError::Corrupt("this store keeps no follow-ups".into()))
    }

    /// Ratings counted per village and item (the operations centre's report).
    fn ratings_report(&self) -> Result<Vec<RatingTally>, StoreError> {
        Ok(Vec::new())
    }


    fn latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError>;

    /// The newest catalog's version (heartbeat answers carry it).
    fn latest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.latest_catalog()?.map(|c| c.version))
    }
}

/// Where one progress text stands (the hub's SMS outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsState {
    /// Not yet accepted by the gateway (never tried, or every try failed).
    Pending,
    /// The gateway accepted it; delivery not yet known.
    Sent,
    /// The gateway reports it delivered to the handset.
    Delivered,
    /// The gateway refused it or reports it undeliverable; a person looks.
    Failed,
    /// The villager left no mobile number: nothing to send.
    NoNumber,
    /// Still unsent days after the change (see the sms module): old news, not sent.
    Expired,
}

impl SmsState {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsState::Pending => "pending",
            SmsState::Sent => "sent",
            SmsState::Delivered => "delivered",
            SmsState::Failed => "failed",
            SmsState::NoNumber => "no_number",
            SmsState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<SmsState> {
        Some(match s {
            "pending" => SmsState::Pending,
            "sent" => SmsState::Sent,
            "delivered" => SmsState::Delivered,
            "failed" => SmsState::Failed,
            "no_number" => SmsState::NoNumber,
            "expired" => SmsState::Expired,
            _ => return None,
        })
    }
}

/// One progress text, written with the status change it tells of (same
/// transaction). The number is not kept here: it stays in the sealed filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRow {
    /// The idempotency key the gateway sees on every try.
    pub key: String,
    pub case_number: String,
    pub status: CaseStatus,
    pub reason: Option<String>,
    pub state: SmsState,
    pub attempts: u32,
    pub gateway_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What happened to a progress text.
#[derive(Debug, Clone, Copy)]
pub enum SmsUpdate<'a> {
    /// A try failed (the gateway down or busy); stays pending.
    Attempted { error: &'a str },
    /// The gateway accepted it under this id.
    Sent { gateway_id: &'a str },
    /// Delivered, failed (with why), no number, expired.
    Closed { state: SmsState, error: Option<&'a str> },
}

/// How long the back office has to answer a 不满意/非常不满意 rating. The
/// 好差评 rule gives 15 working days for 整改 and reply; counting calendar
/// days keeps the hub inside it.
pub const FOLLOW_UP_WITHIN: time::Duration = time::Duration::days(15);

/// A bad rating's follow-up task (差评整改).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub evaluation_id: uuid::Uuid,
    pub case_number: String,
    pub terminal_id: String,
    pub item_code: String,
    pub rating: model::evaluation::Rating,
    /// The reasons the villager chose (Chinese labels) and any words.
    pub reasons: Vec<String>,
    pub opened_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    /// The answer, who gave it and when.
    pub reply: Option<(String, String, OffsetDateTime)>,
}

/// Ratings of one item in one village, per grade (非常满意 … 非常不满意,
/// in [`model::evaluation::Rating::ALL`] order), and follow-ups still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingTally {
    /// '' for terminals registered without a village.
    pub village_code: String,
    pub item_code: String,
    pub counts: [u64; 5],
    pub open_followups: u64,
}
