//! The SMS outbox: progress texts written with the status change they tell
//! of, then sent, retried and followed to delivery by `crate::sms`.

use rusqlite::{params, Row};
use time::OffsetDateTime;

use crate::store::{SmsRow, SmsState, SmsUpdate, StoreError};

use super::rows::*;
use super::SqliteStore;

const SELECT: &str = "SELECT key, case_number, status, reason, state, attempts, gateway_id, last_error, created_at, reply FROM sms_outbox";

fn row(r: &Row<'_>) -> Result<SmsRow, StoreError> {
    let state: String = r.get(4)?;
    let created: String = r.get(8)?;
    Ok(SmsRow {
        key: r.get(0)?,
        case_number: r.get(1)?,
        status: status_from_str(&r.get::<_, String>(2)?)?,
        reason: r.get(3)?,
        state: SmsState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("SMS outbox state {state:?}")))?,
        attempts: r.get(5)?,
        gateway_id: r.get(6)?,
        last_error: r.get(7)?,
        reply: r.get(9)?,
        created_at: parse_ts(&created)?,
    })
}

impl SqliteStore {
    pub(super) fn do_sms_due(&self, limit: usize) -> Result<Vec<SmsRow>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE state IN ('pending', 'sent') ORDER BY created_at, key LIMIT ?1"))?;
        let mut rows = stmt.query([limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    }

    pub(super) fn do_sms_of_case(&self, case_number: &str) -> Result<Vec<SmsRow>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE case_number = ?1 ORDER BY created_at, key"))?;
        let mut rows = stmt.query([case_number])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    }

    pub(super) fn do_sms_record(&self, key: &str, update: &SmsUpdate<'_>, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let n = match *update {
            SmsUpdate::Attempted { error } => conn.execute(
                "UPDATE sms_outbox SET attempts = attempts + 1, last_error = ?2, updated_at = ?3 WHERE key = ?1 AND state = 'pending'",
                params![key, error, ts(at)],
            )?,
            SmsUpdate::Sent { gateway_id } => conn.execute(
                "UPDATE sms_outbox SET attempts = attempts + 1, state = 'sent', gateway_id = ?2, last_error = NULL, updated_at = ?3
                 WHERE key = ?1 AND state = 'pending'",
                params![key, gateway_id, ts(at)],
            )?,
            SmsUpdate::Closed { state, error } => conn.execute(
                "UPDATE sms_outbox SET state = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE key = ?1 AND state IN ('pending', 'sent')",
                params![key, state.as_str(), error, ts(at)],
            )?,
        };
        if n == 0 {
            return Err(StoreError::Corrupt(format!("no open SMS {key}")));
        }
        Ok(())
    }
}
