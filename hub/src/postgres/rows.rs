//! Conversions shared by the PostgreSQL role modules.

use model::{CaseNumber, CaseStatus, SubmissionId};
use time::macros::{format_description, offset};
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::store::{CaseSummary, StoreError};

pub(super) fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
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

pub(super) fn status_from_str(s: &str) -> Result<CaseStatus, StoreError> {
    CaseStatus::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown case status {s:?}")))
}

pub(super) fn parse_id(s: &str) -> Result<SubmissionId, StoreError> {
    SubmissionId::parse(s).ok_or_else(|| StoreError::Corrupt("stored submission id is not a UUID".into()))
}

pub(super) fn parse_case_number(s: &str) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))
}

pub(super) fn unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Which decisions the back office may take from each status (as SQLite's store).
pub(super) fn transition_allowed(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (Received, Accepted) | (Received, Rejected) | (Accepted, Processing) | (Accepted, Done) | (Accepted, Rejected) | (Processing, Done) | (Processing, Rejected)
    )
}

pub(super) const SUMMARY_SELECT: &str = "SELECT c.case_number, c.submission_id, s.item_code, NULLIF(s.terminal_id, ''), c.status, c.created_at,
            c.updated_at, c.reason, r.case_number IS NOT NULL
     FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
     LEFT JOIN case_results r ON r.case_number = c.case_number";

pub(super) fn summary_from_row(r: &Row) -> Result<CaseSummary, StoreError> {
    let number: String = r.try_get(0)?;
    let sid: String = r.try_get(1)?;
    let status: String = r.try_get(4)?;
    Ok(CaseSummary {
        case_number: parse_case_number(&number)?,
        submission_id: parse_id(&sid)?,
        item_code: r.try_get(2)?,
        terminal_id: r.try_get(3)?,
        status: status_from_str(&status)?,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
        reason: r.try_get(7)?,
        has_result: r.try_get(8)?,
    })
}

/// A transaction-scoped advisory lock on `key` (two 32-bit halves of its
/// hash): the PostgreSQL stand-in for SQLite's single writer, per key.
pub(super) const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(hashtext($1))";
