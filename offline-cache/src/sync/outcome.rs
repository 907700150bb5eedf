//! How a request, a record and a batch end: the stop reasons, the report,
//! and the classification of transport errors and hub answers. A leaf.

use std::fmt;
use std::time::Duration;

use model::protocol::{ErrorBody, ErrorCode};
use model::{CaseNumber, CaseStatus, SubmissionId};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::de::from_slice;

use crate::error::StoreError;

/// Why a batch stopped early. Each means: try again later, the records are fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// No connection (refused, unreachable, DNS, reset mid-request).
    LinkDown(String),
    /// The hub or the link did not answer in time.
    Timeout,
    /// Something answered that is not our hub (a captive portal, a proxy's page).
    CaptivePortal(String),
    /// The hub is overloaded or failing (5xx, 429), with its Retry-After if it gave one.
    ServerBusy { status: u16, retry_after: Option<Duration> },
    /// Our clock and the hub's differ by `offset_secs` (hub minus ours).
    /// Requests are signed with the hub's time from now on.
    ClockSkew { offset_secs: i64 },
    /// The hub refused this terminal: not registered, revoked, or a bad
    /// signature. Nothing goes through until a technician looks.
    AuthRejected { status: u16, code: String },
    /// A status that is neither success nor a record rejection (e.g. 404).
    UnexpectedStatus { status: u16 },
    /// The local outbox failed.
    LocalStore(String),
}

impl StopReason {
    /// The wait the hub asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StopReason::ServerBusy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::LinkDown(d) => write!(f, "link down: {d}"),
            StopReason::Timeout => f.write_str("timed out"),
            StopReason::CaptivePortal(d) => write!(f, "not the hub (captive portal?): {d}"),
            StopReason::ServerBusy { status, retry_after: Some(r) } => write!(f, "hub busy (HTTP {status}, retry after {} s)", r.as_secs()),
            StopReason::ServerBusy { status, retry_after: None } => write!(f, "hub busy (HTTP {status})"),
            StopReason::ClockSkew { offset_secs } => write!(f, "clock differs from the hub's by {offset_secs} s"),
            StopReason::AuthRejected { status, code } => write!(f, "the hub refused this terminal (HTTP {status}: {code})"),
            StopReason::UnexpectedStatus { status } => write!(f, "unexpected HTTP {status}"),
            StopReason::LocalStore(d) => write!(f, "local store: {d}"),
        }
    }
}

/// What one `sync_once` / `sync_all` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Committed by the hub, now `Acknowledged` locally.
    pub acknowledged: Vec<(SubmissionId, CaseNumber)>,
    /// Refused by the hub for reasons of their own (or damaged locally):
    /// now `Quarantined` with the reason, never sent again by themselves.
    pub quarantined: Vec<(SubmissionId, String)>,
    /// Set when the round stopped before its end.
    pub stopped: Option<StopReason>,
    /// Attachment bytes sent in this round.
    pub bytes_sent: u64,
    /// Attachment bytes not sent again because the hub held them from an
    /// earlier, broken upload (resume).
    pub bytes_resumed: u64,
    /// Case statuses that changed (sync_all).
    pub case_updates: Vec<(SubmissionId, CaseStatus)>,
    pub evaluations_sent: usize,
    pub heartbeat_sent: bool,
    /// A newer catalog verified and stored (its version).
    pub catalog_updated: Option<u64>,
    /// A catalog the hub offered was refused (bad signature, malformed); the old one is kept.
    pub catalog_refused: Option<String>,
    /// A newer terminal config stored (its version).
    pub config_updated: Option<u64>,
    /// Of `acknowledged`: records the hub already held from an imported
    /// export (`hub import`), acknowledged without being sent again.
    pub acknowledged_from_import: usize,
    /// Operator accounts pulled: (accounts, revoked).
    pub operators_updated: Option<(usize, usize)>,
    /// Refused for a reason that may not be the record's (a 409 that does
    /// not say this terminal caused it): kept queued with the reason, tried
    /// again in a later round; the batch went on.
    pub deferred: Vec<(SubmissionId, String)>,
    /// A diagnostics bundle staff asked for went up (its request id).
    pub diagnostics_uploaded: Option<uuid::Uuid>,
    /// An update bundle finished downloading (its version).
    pub update_fetched: Option<String>,
}

/// How one request or one record ended, when not in success.
pub(crate) enum Failure {
    Stop(StopReason),
    Reject(String),
    /// Not this record's fault as far as we can tell: keep it, go on.
    Defer(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            // This record's bytes are bad; the store and the rest of the queue are fine.
            e @ StoreError::RecordDamaged { .. } => Failure::Reject(format!("local copy damaged: {e}")),
            e => Failure::Stop(StopReason::LocalStore(e.to_string())),
        }
    }
}

/// Longest `last_error` kept: enough to diagnose, not a place for bodies.
pub(crate) const MAX_ERROR_LEN: usize = 300;

pub(crate) fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR_LEN {
        let mut cut = MAX_ERROR_LEN;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// The innermost cause of a transport error, e.g. "Connection refused (os error 111)".
pub(crate) fn root_cause(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

pub(crate) fn classify_transport(e: &reqwest::Error) -> StopReason {
    if e.is_timeout() {
        StopReason::Timeout
    } else {
        StopReason::LinkDown(truncate(root_cause(e)))
    }
}

/// A record-specific rejection's text, from the hub's `ErrorBody` when there is one.
pub(crate) fn rejection_text(status: StatusCode, body: &[u8]) -> String {
    match from_slice::<ErrorBody>(body) {
        Ok(eb) => truncate(format!("HTTP {}: {:?}: {}", status.as_u16(), eb.code, eb.message)),
        Err(_) => format!("HTTP {}", status.as_u16()),
    }
}

pub(crate) fn error_code(body: &[u8]) -> Option<ErrorCode> {
    from_slice::<ErrorBody>(body).ok().map(|b| b.code)
}

/// Retry-After as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// A response, read whole.
pub(crate) struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}
