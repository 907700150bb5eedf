//! Reading index rows and the settings a tool reads back.

use std::time::Duration;

use model::catalog::ImplementCode;
use model::submission::sha256_hex;
use model::{CaseNumber, SubmissionId};
use rusqlite::{Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use super::types::{OutboxConfig, OutboxEntry, OutboxState, Thresholds};
use crate::clock::parse_ts;
use crate::error::StoreError;

pub(super) const ENTRY_COLUMNS: &str = "id, item_code, masked_name, state, case_number, attempts, last_error, quarantine_reason,
     created_at, updated_at, acknowledged_at, processed_at, purged_at";

pub(super) fn opt_ts(s: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}

pub(super) fn entry_from_row(row: &Row<'_>) -> Result<OutboxEntry, StoreError> {
    let id: String = row.get(0)?;
    let id = SubmissionId::parse(&id).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?;
    let item_code: String = row.get(1)?;
    let state: String = row.get(3)?;
    let case_number: Option<String> = row.get(4)?;
    let attempts: i64 = row.get(5)?;
    let created_at: String = row.get(8)?;
    let updated_at: String = row.get(9)?;
    Ok(OutboxEntry {
        id,
        item_code: ImplementCode::parse(&item_code).map_err(|_| StoreError::Corrupt(format!("item code of {id} is malformed")))?,
        masked_name: row.get(2)?,
        state: OutboxState::from_db(&state)?,
        case_number: case_number
            .map(|c| CaseNumber::parse(&c).map_err(|_| StoreError::Corrupt(format!("case number of {id} is malformed"))))
            .transpose()?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.get(6)?,
        quarantine_reason: row.get(7)?,
        created_at: parse_ts(&created_at)?,
        updated_at: parse_ts(&updated_at)?,
        acknowledged_at: opt_ts(row.get(10)?)?,
        processed_at: opt_ts(row.get(11)?)?,
        purged_at: opt_ts(row.get(12)?)?,
    })
}

/// Longest reason kept in the index and the audit log.
const MAX_REASON: usize = 300;

pub(super) fn truncate(s: &str) -> &str {
    let mut cut = s.len().min(MAX_REASON);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

pub(super) fn std_to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

pub(super) fn read_thresholds(conn: &Connection) -> Result<Thresholds, StoreError> {
    let get = |key: &str| -> Result<Option<i64>, StoreError> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, i64>(0)).optional()?)
    };
    Ok(Thresholds {
        stale_after: get("stale_after_secs")?
            .and_then(|s| u64::try_from(s).ok())
            .map_or(OutboxConfig::DEFAULT_STALE_AFTER, Duration::from_secs),
        disk_reserve_bytes: get("disk_reserve_bytes")?
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(OutboxConfig::DEFAULT_DISK_RESERVE),
    })
}

/// The sealed envelope of `id`, checked against its stored hash; None once
/// purged. A mismatch is [`StoreError::RecordDamaged`] (that record only).
pub(super) fn stored_envelope(conn: &Connection, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT o.sealed_sha256, p.envelope FROM outbox o LEFT JOIN sealed_payloads p ON p.submission_id = o.id WHERE o.id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((digest, envelope)) = row else { return Err(StoreError::UnknownSubmission(id)) };
    let Some(envelope) = envelope else { return Ok(None) };
    if sha256_hex(&envelope) != digest {
        return Err(StoreError::RecordDamaged { id, what: "the sealed envelope does not match its hash".into() });
    }
    Ok(Some(envelope))
}
