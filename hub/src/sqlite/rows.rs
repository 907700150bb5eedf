//! Small conversions between rows and the model, shared by the role modules.

use model::{CaseNumber, CaseStatus, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension};
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::OffsetDateTime;

use crate::store::{CaseSummary, StoreError};

pub(super) fn now_rfc3339() -> String {
    // Formatting the current time as RFC 3339 cannot fail for years 0..9999.
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

/// Case numbers carry the date in China Standard Time, the date the villager sees.
pub(super) fn today_cst() -> String {
    let fmt = format_description!("[year][month][day]");
    OffsetDateTime::now_utc().to_offset(offset!(+8)).format(&fmt).unwrap_or_default()
}

/// "62" (Gansu) + YYYYMMDD + an 8-digit hub-wide sequence (wider past 10^8).
pub(super) fn case_number_for(day: &str, seq: i64) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(&format!("62{day}{seq:08}")).map_err(|_| StoreError::Corrupt(format!("case number from day {day:?}, seq {seq}")))
}

pub(crate) fn status_to_str(s: CaseStatus) -> &'static str {
    s.name()
}

/// A stored status; an unknown name is a damaged row.
pub(crate) fn status_from_str(s: &str) -> Result<CaseStatus, StoreError> {
    CaseStatus::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown case status {s:?}")))
}

pub(super) fn parse_id(s: &str) -> Result<SubmissionId, StoreError> {
    SubmissionId::parse(s).ok_or_else(|| StoreError::Corrupt("stored submission id is not a UUID".into()))
}

pub(super) fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub(super) fn unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(super) fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| StoreError::Corrupt(format!("stored time {s:?} is malformed")))
}

pub(super) fn parse_case_number(s: &str) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))
}

/// Submission `id` of `terminal`, or UnknownSubmission. Ownership is part
/// of the key: another terminal's row under the same id is not this one, and
/// rows from before terminal ids (owner '') belong to no terminal.
pub(super) fn owned_submission(tx: &Connection, terminal: &str, id: SubmissionId) -> Result<(), StoreError> {
    let found: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM submissions WHERE terminal_id = ?1 AND id = ?2)")?
        .query_row(params![terminal, id.to_string()], |r| r.get(0))?;
    if terminal.is_empty() || !found {
        return Err(StoreError::UnknownSubmission(id));
    }
    Ok(())
}

/// Size of a referenced attachment, from the envelope.
pub(super) fn referenced_size(tx: &Connection, terminal: &str, id: SubmissionId, sha256: &str) -> Result<u64, StoreError> {
    let size: Option<Option<i64>> = tx
        .query_row(
            "SELECT size FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2 AND sha256 = ?3",
            params![terminal, id.to_string(), sha256],
            |r| r.get(0),
        )
        .optional()?;
    match size {
        None => Err(StoreError::NotReferenced { id, sha256: sha256.to_owned() }),
        Some(None) => Err(StoreError::Corrupt(format!("attachment {sha256} has no recorded size"))),
        Some(Some(n)) => u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("attachment {sha256} has a negative size"))),
    }
}

/// An attachment stored as a row (hubs before v3).
pub(super) fn legacy_attachment(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")?.query_row([sha256], |r| r.get(0))?)
}

pub(super) fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Which decisions the back office may take from each status.
pub(super) fn transition_allowed(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (Received, Accepted) | (Received, Rejected) | (Accepted, Processing) | (Accepted, Done) | (Accepted, Rejected) | (Processing, Done) | (Processing, Rejected)
    )
}

pub(super) const SUMMARY_SELECT: &str = "SELECT c.case_number, c.submission_id, s.item_code, NULLIF(s.terminal_id, ''), c.status, c.created_at,
            COALESCE(c.updated_at, c.created_at), c.reason, r.case_number IS NOT NULL
     FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
     LEFT JOIN case_results r ON r.case_number = c.case_number";

pub(super) fn summary_from_row(r: &rusqlite::Row<'_>) -> Result<CaseSummary, StoreError> {
    let number: String = r.get(0)?;
    let sid: String = r.get(1)?;
    let status: String = r.get(4)?;
    let created: String = r.get(5)?;
    let updated: String = r.get(6)?;
    Ok(CaseSummary {
        case_number: parse_case_number(&number)?,
        submission_id: parse_id(&sid)?,
        item_code: r.get(2)?,
        terminal_id: r.get(3)?,
        status: status_from_str(&status)?,
        created_at: parse_ts(&created)?,
        updated_at: parse_ts(&updated)?,
        reason: r.get(7)?,
        has_result: r.get(8)?,
    })
}
