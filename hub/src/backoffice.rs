//! The back office: what the default connector's staff do with cases. The
//! CLI (`hub cases list`, `hub case open|accept|reject|complete`) and tests
//! call these; terminals see each decision on their next case-status sync.

use std::sync::Arc;

use model::seal::PlatformSecretKey;
use model::{CaseStatus, Submission};
use thiserror::Error;
use time::OffsetDateTime;

use crate::sqlite::{HubDb, OpenedFiling};
use crate::store::{CaseSummary, StatusChange, Store, StoreError};

#[derive(Debug, Error)]
pub enum BackOfficeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no case {0}")]
    NoSuchCase(String),
    #[error("a rejection needs a reason the villager can read")]
    ReasonNeeded,
    #[error("a result document must be a PDF (it starts with %PDF-)")]
    NotPdf,
    #[error("a result document goes with the bundle's case, not with one of its parts")]
    ResultOnPart,
}

/// A decision on a case.
#[derive(Debug, Clone)]
pub enum Decision {
    /// 受理
    Accept,
    /// 办理中
    Process,
    /// 不予受理 / 退回, with the reason the villager is told.
    Reject { reason: String },
    /// 办结, with the result document if there is one (a PDF).
    Complete { result_pdf: Option<Vec<u8>> },
}

/// Cases, oldest first, optionally of one status.
pub fn list_cases(store: &dyn Store, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, BackOfficeError> {
    Ok(store.list_cases(status, limit)?)
}

/// Opens a case's sealed submission with the platform key.
pub fn open_case(db: &HubDb, store: &dyn Store, case_number: &str, key: &PlatformSecretKey) -> Result<(CaseSummary, OpenedFiling), BackOfficeError> {
    let summary = store.case_summary(case_number)?.ok_or_else(|| BackOfficeError::NoSuchCase(case_number.to_owned()))?;
    // The submission that terminal sent under the id ('' for rows from before terminal ids).
    let terminal = summary.terminal_id.clone().unwrap_or_default();
    let filing = db
        .open_submission_of(&terminal, summary.submission_id, key)?
        .ok_or_else(|| BackOfficeError::NoSuchCase(case_number.to_owned()))?;
    Ok((summary, filing))
}

/// Terminal-supplied text made safe for a clerk's terminal: control
/// characters (escape sequences could retitle the window, rewrite the
/// screen or worse) and bidirectional overrides (which reorder what is
/// shown) are printed as `\u{..}` escapes; everything else, Chinese
/// included, as it is.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The file name `hub case open --out` gives attachment `index`: the
/// material code reduced to letters, digits, '-' and '_' (no separators,
/// no dots, no control characters: it cannot leave the directory or hide),
/// at most 48 characters, and an extension from the media type.
pub fn attachment_file_name(index: usize, material_code: &str, media_type: &str) -> String {
    let mut name: String = material_code
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    if name.chars().all(|c| c == '_') {
        name = "material".into();
    }
    let ext = match media_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "bin",
    };
    format!("{index:02}-{name}.{ext}")
}

/// The licenses the e-license library gave for this filing, one line each,
/// for the clerk who opened the case (stdout, never the log): the platform
/// fetches these instead of a scan. The license number is shown whole here,
/// as the ID number is; terminal-supplied text goes through [`printable`].
pub fn e_license_lines(sub: &Submission) -> Vec<String> {
    sub.e_licenses
        .iter()
        .map(|r| {
            format!(
                "e-license for {}: {} no. {} issued by {} on {} (from the e-license library, not scanned)",
                printable(&r.material_code),
                printable(&r.kind),
                printable(&r.number),
                printable(&r.issuer),
                r.issued_on.as_deref().map_or_else(|| "-".to_owned(), printable)
            )
        })
        .collect()
}

/// The number the villager left for progress messages, if any: the form's
/// `phone` field, when it is a mainland mobile number.
pub fn notification_phone(sub: &Submission) -> Option<String> {
    let p = sub.form.get("phone")?.trim();
    (p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.to_owned())
}

/// Applies a decision. A change the villager is told of by text (accepted,
/// rejected, done) leaves a row in the SMS outbox in the same transaction;
/// `crate::sms::dispatch` sends it.
/// Decides a part of a bundle filing (一件事一次办), by the rules of a
/// case. A result document belongs to the bundle's case, not to a part.
pub async fn decide_part(store: Arc<dyn Store>, number: &str, decision: Decision, actor: &str) -> Result<model::protocol::CasePart, BackOfficeError> {
    if matches!(&decision, Decision::Complete { result_pdf: Some(_) }) {
        return Err(BackOfficeError::ResultOnPart);
    }
    let (to, reason, _) = checked(decision)?;
    let (n, who) = (number.to_owned(), actor.to_owned());
    let part = tokio::task::spawn_blocking(move || {
        let change = StatusChange { to, reason: reason.as_deref(), result: None, actor: &who };
        store.set_part_status(&n, &change, OffsetDateTime::now_utc())
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("back office task failed: {e}")))??;
    tracing::info!(case = %part.case_number, status = ?part.status, actor, "part decided");
    Ok(part)
}

/// The status, reason and result a decision stands for, once checked.
fn checked(decision: Decision) -> Result<(CaseStatus, Option<String>, Option<Vec<u8>>), BackOfficeError> {
    Ok(match decision {
        Decision::Accept => (CaseStatus::Accepted, None, None),
        Decision::Process => (CaseStatus::Processing, None, None),
        Decision::Reject { reason } => {
            if reason.trim().is_empty() {
                return Err(BackOfficeError::ReasonNeeded);
            }
            (CaseStatus::Rejected, Some(reason), None)
        }
        Decision::Complete { result_pdf } => {
            if result_pdf.as_ref().is_some_and(|b| !b.starts_with(b"%PDF-")) {
                return Err(BackOfficeError::NotPdf);
            }
            (CaseStatus::Done, None, result_pdf)
        }
    })
}

pub async fn decide(store: Arc<dyn Store>, case_number: &str, decision: Decision, actor: &str) -> Result<CaseSummary, BackOfficeError> {
    let (to, reason, result) = checked(decision)?;
    let (cn, who) = (case_number.to_owned(), actor.to_owned());
    let summary = tokio::task::spawn_blocking(move || {
        let change = StatusChange {
            to,
            reason: reason.as_deref(),
            result: result.as_deref().map(|b| ("application/pdf", b)),
            actor: &who,
        };
        store.set_case_status(&cn, &change, OffsetDateTime::now_utc())
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("back office task failed: {e}")))??;
    tracing::info!(case = %summary.case_number, status = ?summary.status, actor, "case decided");
    Ok(summary)
}
