//! The terminal ↔ hub wire contract (HTTP/JSON). Every `/v1` request except
//! `GET /v1/health`, `GET /v1/openapi.json` and `GET /v1/catalog` is signed
//! with the terminal's device key (headers in [`crate::auth`]); the hub
//! answers 401 (`unauthenticated`, `unknown_terminal`, `clock_skew`,
//! `replayed`) or 403 (`revoked`) otherwise. The hub serves the full list as
//! OpenAPI at `GET /v1/openapi.json`.
//!
//! Submissions (manifest first, then attachments, then commit):
//! - `PUT  /v1/submissions/{id}` body: a [`crate::seal::SealedEnvelope`] as JSON.
//!   201 stored, 200 identical replay (the same bytes), 409 different bytes
//!   under the same id, 422 not a well-formed envelope, or (on a hub holding
//!   the platform key) one that key cannot open.
//! - `GET  /v1/submissions/{id}/attachments/{sha256}` → [`UploadStatus`]: how
//!   many bytes of that sealed attachment the hub holds.
//! - `PUT  /v1/submissions/{id}/attachments/{sha256}` body: sealed bytes,
//!   either all of them or, with `Content-Range: bytes START-END/SIZE`, a
//!   range from START (≤ the bytes held). The hub keeps what arrives even if
//!   the connection breaks, so an upload resumes where it stopped. When all
//!   SIZE bytes are there the hub checks their SHA-256 against the path and
//!   keeps them (201), or drops them (422 `hash_mismatch`). 202 partial,
//!   200 already complete, 416 `range_mismatch` when START is past the bytes held.
//! - `POST /v1/submissions/{id}/commit` → [`CommitResponse`]; idempotent,
//!   422 while an attachment is missing.
//!
//! Pulled and pushed beside submissions:
//! - `POST /v1/case-status` [`CaseStatusQuery`] → [`CaseStatusList`]: cases of
//!   this terminal's own submissions.
//! - `GET  /v1/cases/{case_number}` → [`CaseView`].
//! - `GET  /v1/catalog?since=V` → [`crate::auth::SignedCatalog`], or 204 when
//!   the hub's catalog is not newer than V (404 if the hub has none).
//!   With `&deltas=1` → [`CatalogUpdate`]: the signed deltas from V to the
//!   newest version, or the signed full catalog when V is too far behind
//!   (or unknown, or the deltas would weigh more than the full copy).
//! - `GET  /v1/terminal/config` → [`TerminalConfig`].
//! - `PUT  /v1/evaluations/{id}` [`EvaluationUpload`] → [`EvaluationAck`]; idempotent.
//! - `POST /v1/heartbeat` [`Heartbeat`] → [`HeartbeatAck`].
//! - `POST /v1/e-license/lookup` [`ELicenseQuery`] → [`ELicenseAnswer`].
//! - `POST /v1/progress` [`ProgressQuery`] → [`ProgressAnswer`]: progress
//!   at any terminal, for a receipt together with the card of the person who
//!   filed it (404 `not_found` for every miss, 429 `quota_exceeded` past the
//!   misses a terminal may make a day).
//! - `GET  /v1/operators` → [`crate::operator::OperatorList`]: the assistants
//!   who may log in on this terminal (assisted mode), revoked ones flagged.
//!
//! Errors carry an [`ErrorBody`]. A terminal quarantines a record on 413
//! or 422, and on a 409 `conflict` for its manifest (submission ids are per
//! terminal, so that conflict is of the terminal's own making), and goes on
//! with the rest of its queue; 429 (`rate_limited`, `quota_exceeded`) and
//! 5xx (with `Retry-After`), 401 and 403 stop the batch.

use serde::{Deserialize, Serialize};

use crate::case::{CaseNumber, CaseStatus};
use crate::evaluation::Evaluation;
use crate::identity::IdNumber;
use crate::submission::SubmissionId;

/// The answer to `GET /v1/catalog?since=V&deltas=1`: either deltas, in
/// order, from V to the newest version, or a full catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CatalogUpdate {
    /// The terminal's version is one the hub still has deltas from.
    Deltas {
        /// Signed deltas to apply in order, each from the previous one's
        /// `to_version`; the last reaches the newest catalog.
        deltas: Vec<crate::auth::SignedCatalogDelta>,
    },
    /// No usable delta chain (unknown or too old a version): the whole catalog.
    Full {
        /// The newest signed catalog.
        catalog: crate::auth::SignedCatalog,
    },
}

/// Identifies the hub service itself.
pub const SERVICE_NAME: &str = "cunban-hub";

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always [`SERVICE_NAME`].
    pub service: String,
    /// The hub's version.
    pub version: String,
}

/// What a PUT did with an idempotent upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    /// First time: stored (201).
    Stored,
    /// The same bytes were stored before (200).
    Replayed,
}

/// `PUT /v1/submissions/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutResponse {
    /// The submission's id.
    pub id: SubmissionId,
    /// Stored or replayed.
    pub outcome: PutOutcome,
}

/// `POST /v1/submissions/{id}/commit` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResponse {
    /// The submission's id.
    pub id: SubmissionId,
    /// The 办件编号 the platform gave it; the same on every retry.
    pub case_number: CaseNumber,
}

/// `GET /v1/cases/{case_number}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    /// The case.
    pub case_number: CaseNumber,
    /// The submission it came from.
    pub submission_id: SubmissionId,
    /// The catalog's item code of the service filed for.
    pub item_code: String,
    /// Where the case is.
    pub status: CaseStatus,
    /// A bundle filing's (一件事一次办) items, each its own case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<CasePart>,
}

/// One item of a bundle filing: a case of its own (numbered after the
/// bundle's: `<bundle case>P<n>`), handled by its department on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePart {
    /// 实施编码 of the item.
    pub item_code: String,
    /// Its 办件编号.
    pub case_number: CaseNumber,
    /// Where it is.
    pub status: CaseStatus,
    /// Why it was rejected, in words for the villager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The `code` of an [`ErrorBody`]: what a terminal does next depends on it
/// (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A different body was already stored under this id (evaluations), or
    /// the case was rated already.
    Conflict,
    /// This terminal itself already stored a different body under this
    /// submission id (409). Submission ids are per terminal on the hub, so
    /// this one is of the terminal's own making: quarantine the record.
    DifferentBody,
    /// The body is not a valid sealed submission; quarantine, don't retry.
    Invalid,
    /// Attachment bytes do not match the hash in the path.
    HashMismatch,
    /// Commit before every referenced attachment arrived.
    MissingAttachments,
    /// No such submission, case or attachment (404).
    NotFound,
    /// Transient: try again later.
    Busy,
    /// The hub failed (500); retried later.
    Internal,
    /// A resumed upload starts past the bytes the hub holds; ask again.
    RangeMismatch,
    /// Missing or malformed authentication headers, or a bad signature.
    Unauthenticated,
    /// No terminal with this id is registered.
    UnknownTerminal,
    /// The terminal was revoked (403).
    Revoked,
    /// The request's timestamp is too far from the hub's clock.
    ClockSkew,
    /// This nonce was seen before.
    Replayed,
    /// The hub has no such document (catalog, result) to give.
    NotAvailable,
    /// An enrollment code that was already used, or presented by another key (410).
    EnrollCodeUsed,
    /// An enrollment code past its life (410): the terminal must show a new one.
    EnrollCodeExpired,
    /// Too many requests from this address (429, with Retry-After).
    RateLimited,
    /// This terminal is over one of its quotas on the hub (429, with
    /// Retry-After): too many uncommitted submissions or attachment bytes
    /// in flight, or too many people looked up today. Nothing is wrong with
    /// the record: back off and send again later, never quarantine.
    QuotaExceeded,
    /// The body is larger than this endpoint takes (413).
    TooLarge,
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for the terminal to act on.
    pub code: ErrorCode,
    /// For logs and technicians; never personal data.
    pub message: String,
}

/// `GET`/`PUT /v1/submissions/{id}/attachments/{sha256}`: how far an upload got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStatus {
    /// Lowercase hex SHA-256 of the sealed attachment, as in the path.
    pub sha256: String,
    /// Size of the sealed attachment, from the envelope.
    pub size: u64,
    /// Bytes held so far, from offset 0.
    pub received: u64,
    /// All bytes are held and their hash checked.
    pub complete: bool,
}

/// `POST /v1/case-status`: the terminal's acknowledged submissions whose
/// cases it wants news of. At most [`CaseStatusQuery::MAX`] ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseStatusQuery {
    /// Submissions to ask about; at most [`CaseStatusQuery::MAX`].
    pub submission_ids: Vec<SubmissionId>,
}

impl CaseStatusQuery {
    /// Most ids one query may carry.
    pub const MAX: usize = 500;
}

/// One case in [`CaseStatusList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatusEntry {
    /// The terminal's submission.
    pub submission_id: SubmissionId,
    /// Its 办件编号.
    pub case_number: CaseNumber,
    /// Where the case is.
    pub status: CaseStatus,
    /// When the status last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    /// Why a case was rejected, in words for the villager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A result document (e.g. a PDF) can be printed at the terminal.
    pub result_available: bool,
    /// A bundle filing's items, each with its own case and status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<CasePart>,
}

/// Cases of the asked submissions that this terminal sent; unknown ids are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatusList {
    /// The cases found.
    pub cases: Vec<CaseStatusEntry>,
}

/// What the hub tells a terminal about how to run. Versioned: a terminal
/// stores the newest it received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalConfig {
    /// Increases with every change; a terminal keeps the highest.
    pub version: u64,
    /// Seconds between sync attempts while something waits to be sent.
    pub sync_interval_secs: u64,
    /// Seconds between heartbeats.
    pub heartbeat_interval_secs: u64,
    /// A notice for the home screen banner (e.g. planned maintenance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The paths behind the screen's promises. The hub fills these from
    /// what it has (a configured SMS gateway, an e-license library), not
    /// from an operator's word; a terminal promises only what is true here.
    /// Missing (an older hub) means none of them.
    #[serde(default)]
    pub paths: Paths,
}

impl Default for TerminalConfig {
    fn default() -> Self {
        TerminalConfig { version: 0, sync_interval_secs: 15, heartbeat_interval_secs: 300, notice: None, paths: Paths::default() }
    }
}

/// What exists behind a terminal, so the screen may speak of it. Every
/// sentence mentioning 短信, 电子证照 or 邮寄 is shown only when its path is here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paths {
    /// An SMS gateway sends progress texts (短信).
    #[serde(default)]
    pub sms: bool,
    /// The platform connector answers e-license lookups (电子证照库).
    #[serde(default)]
    pub e_license: bool,
    /// Results can be mailed (邮寄, 结果物流快递).
    #[serde(default)]
    pub mail: bool,
}

/// `PUT /v1/evaluations/{id}`: one 好差评, idempotent by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationUpload {
    /// The evaluation's own id, chosen by the terminal.
    pub id: uuid::Uuid,
    /// The rating.
    pub evaluation: Evaluation,
    /// When the villager rated.
    #[serde(with = "time::serde::rfc3339")]
    pub rated_at: time::OffsetDateTime,
}

/// `PUT /v1/evaluations/{id}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationAck {
    /// The evaluation's id.
    pub id: uuid::Uuid,
    /// Stored or replayed.
    pub outcome: PutOutcome,
}

/// A device's health as its worker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Works.
    Ok,
    /// Works, but needs attention.
    Degraded,
    /// Missing or unusable.
    Absent,
}

/// One device's state in a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// `id_card`, `receipt_printer`, `camera`, ...
    pub device: String,
    /// Ok, degraded or absent.
    pub state: DeviceState,
    /// A reason for technicians; never personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outbox as a heartbeat reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// Saved, not yet acknowledged (queued + sending).
    pub unsent: u64,
    /// Refused by the hub (413, 422), kept aside for a technician.
    pub quarantined: u64,
    /// Acknowledged, waiting for the platform to process.
    pub acknowledged: u64,
    /// Age of the oldest unsent submission, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsent_secs: Option<u64>,
    /// Evaluations waiting to be sent.
    #[serde(default)]
    pub evaluations_unsent: u64,
}

/// `POST /v1/heartbeat`: how a terminal is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Terminal clock at sending.
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: time::OffsetDateTime,
    /// The kiosk's version.
    pub app_version: String,
    /// The catalog version the terminal holds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<u64>,
    /// The [`TerminalConfig::version`] the terminal runs, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
    /// The outbox's counts.
    pub queue: QueueSnapshot,
    /// Free space on the data partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_disk_bytes: Option<u64>,
    /// Every configured device's health.
    #[serde(default)]
    pub devices: Vec<DeviceHealth>,
    /// Alert codes (`stale_queue`, `quarantined`, `disk_low`, ...).
    #[serde(default)]
    pub alerts: Vec<String>,
    /// Hub clock minus terminal clock, as the terminal last measured it.
    #[serde(default)]
    pub clock_offset_secs: i64,
    /// The audit chain's head and the entries since the head the hub last
    /// acknowledged (issue 19); absent from terminals before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit_chain::AuditProof>,
    /// The last install of an update from the hub, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<crate::update::UpdateReport>,
}

/// In a heartbeat's answer: staff want a diagnostics bundle under this id
/// (issue 19; the upload is described in `crate::diagnostics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsRequest {
    /// The request's id; the upload goes under it.
    pub id: uuid::Uuid,
}

/// `POST /v1/heartbeat` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// The hub's clock, so the terminal can tell its own is off.
    #[serde(with = "time::serde::rfc3339")]
    pub server_time: time::OffsetDateTime,
    /// The hub's catalog version, so the terminal knows whether to pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_version: Option<u64>,
    /// The hub's [`TerminalConfig::version`] for this terminal; pull when
    /// newer.
    pub config_version: u64,
    /// The audit head the hub holds for this terminal after this heartbeat:
    /// the next heartbeat sends the entries after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_anchor: Option<crate::audit_chain::AuditHead>,
    /// Staff asked for a diagnostics bundle (see `crate::diagnostics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<DiagnosticsRequest>,
    /// The update this terminal's rollout stage offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<crate::update::UpdateTarget>,
}

/// `POST /v1/e-license/lookup`: is this material in the e-license library
/// (电子证照库) for this person? Only asked online; offline the kiosk scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ELicenseQuery {
    /// The catalog's material code.
    pub material_code: String,
    /// The person's ID number (sent only online, over TLS).
    pub id_number: IdNumber,
}

/// A document the e-license library holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ELicenseDocument {
    /// 证照名称
    pub name: String,
    /// 发证机关
    pub issuer: String,
    /// 证照编号 in the library (not the person's ID number).
    pub license_id: String,
    /// 发证日期 (YYYY-MM-DD), when the library says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
}

/// `POST /v1/e-license/lookup` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ELicenseAnswer {
    /// Whether the library holds the material for the person.
    pub available: bool,
    /// The document, when available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<ELicenseDocument>,
}

/// `POST /v1/progress`: where does the filing on this receipt stand? Asked
/// at any terminal, not only the one that filed. The card read at the
/// terminal is the proof that the filing is the asker's: the hub answers
/// only when the ID number matches the applicant's (compared as keyed
/// hashes), so a receipt number alone, or a terminal walking numbers,
/// learns nothing. Sent only online, over TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressQuery {
    /// The receipt's code: a case number (办件编号) or a submission id.
    pub receipt: String,
    /// The ID number read from the card at the terminal.
    pub id_number: IdNumber,
}

/// One status a case went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressStep {
    /// The status reached.
    pub status: CaseStatus,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// One case in a [`ProgressAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressCase {
    /// 办件编号.
    pub case_number: CaseNumber,
    /// The submission (the receipt's local reference).
    pub submission_id: SubmissionId,
    /// The catalog's item code.
    pub item_code: String,
    /// Where the case is now.
    pub status: CaseStatus,
    /// When it was filed (committed on the hub).
    #[serde(with = "time::serde::rfc3339")]
    pub filed_at: time::OffsetDateTime,
    /// Every status, oldest first, starting with `received`.
    pub history: Vec<ProgressStep>,
    /// Why it was rejected, in words for the villager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The platform holds a result document for it.
    pub result_available: bool,
    /// The asking terminal is the one that filed it.
    pub filed_here: bool,
    /// The back office's answer to the villager's bad rating of it (差评整改).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup_reply: Option<String>,
    /// A bundle filing's items, each its own case with its status and, when
    /// rejected, the back office's reason (empty for a single item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<CasePart>,
}

/// `POST /v1/progress` answer: the cases the receipt names that were filed
/// with the asker's ID number (usually one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressAnswer {
    /// The matching cases.
    pub cases: Vec<ProgressCase>,
}
