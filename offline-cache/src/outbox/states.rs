//! A record's way to the platform: sent, failed, acknowledged (case
//! number), quarantined, processed, purged after its retention.

use model::{CaseNumber, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use super::rows::{std_to_time, stored_envelope, truncate};
use super::types::{OutboxState, PurgeReport, SendItem};
use super::Outbox;
use crate::audit;
use crate::clock::{format_ts, now};
use crate::error::StoreError;

impl Outbox {
    /// Records that the platform has processed the case (issue 4's case
    /// status sync calls this). Starts the retention window. Idempotent.
    pub fn mark_processed(&self, id: SubmissionId, at: OffsetDateTime) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = state_of(&tx, id)?;
        match state {
            OutboxState::Processed | OutboxState::Purged => return Ok(()),
            OutboxState::Acknowledged => {}
            other => return Err(StoreError::WrongState { id, state: other.as_str(), wanted: "processed" }),
        }
        tx.execute(
            "UPDATE outbox SET state = 'processed', processed_at = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.to_string(), format_ts(at), format_ts(now())],
        )?;
        audit::append(
            &tx,
            now(),
            &audit::Record { terminal: &terminal, operator: None, action: "platform processed", subject: Some(id), outcome: "processed" },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes the sealed payloads of submissions processed at least the
    /// retention window before `now`; their index rows stay, as `Purged`.
    /// Nothing else is ever purged.
    pub fn purge_expired(&self, now_at: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        let cfg = self.config()?;
        let cutoff = format_ts(now_at - std_to_time(cfg.retention));
        let mut report = PurgeReport::default();
        loop {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ids: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM outbox WHERE state = 'processed' AND processed_at <= ?1 ORDER BY processed_at, id LIMIT 100",
                )?;
                let rows = stmt.query_map([&cutoff], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            for sid in &ids {
                let id = SubmissionId::parse(sid).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?;
                tx.execute("DELETE FROM sealed_attachments WHERE submission_id = ?1", [sid])?;
                tx.execute("DELETE FROM sealed_payloads WHERE submission_id = ?1", [sid])?;
                tx.execute(
                    "UPDATE outbox SET state = 'purged', purged_at = ?2, updated_at = ?2 WHERE id = ?1",
                    params![sid, format_ts(now_at)],
                )?;
                audit::append(
                    &tx,
                    now_at,
                    &audit::Record {
                        terminal: &cfg.terminal_id,
                        operator: None,
                        action: "purge sealed payload",
                        subject: Some(id),
                        outcome: "purged after the retention window",
                    },
                )?;
                report.purged.push(id);
            }
            tx.commit()?;
            if ids.len() < 100 {
                break;
            }
        }
        if !report.purged.is_empty() {
            tracing::info!(count = report.purged.len(), "sealed payloads purged after retention");
        }
        Ok(report)
    }

    /// The sealed envelope and attachment list of a pending submission,
    /// checked against the stored hash (a damaged copy is
    /// [`StoreError::RecordDamaged`], which quarantines just that record).
    pub(crate) fn load_for_send(&self, id: SubmissionId) -> Result<SendItem, StoreError> {
        let conn = self.lock();
        let sid = id.to_string();
        let Some(envelope) = stored_envelope(&conn, id)? else {
            return Err(StoreError::RecordDamaged { id, what: "the sealed envelope is missing".into() });
        };
        let mut stmt = conn.prepare_cached("SELECT idx, sha256 FROM sealed_attachments WHERE submission_id = ?1 ORDER BY idx")?;
        let attachments = stmt
            .query_map([&sid], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SendItem { id, envelope, attachments })
    }

    /// Sealed attachment `idx` of `id`, checked against its stored hash.
    pub(crate) fn attachment_bytes(&self, id: SubmissionId, idx: u32) -> Result<Vec<u8>, StoreError> {
        let (sha, bytes) = self.attachment_unchecked(id, idx)?;
        crate::sealed_row::check_attachment(id, idx, &sha, &bytes)?;
        Ok(bytes)
    }

    /// Sealed attachment `idx` of `id` and its stored hash, NOT yet checked
    /// against each other: the sync checks while it sends (see
    /// `sync::send`), and `sealed_row::check_attachment` must pass before it counts.
    pub(crate) fn attachment_unchecked(&self, id: SubmissionId, idx: u32) -> Result<(String, Vec<u8>), StoreError> {
        let conn = self.lock();
        let row: Option<(String, Vec<u8>)> = conn
            .query_row(
                "SELECT sha256, bytes FROM sealed_attachments WHERE submission_id = ?1 AND idx = ?2",
                params![id.to_string(), idx],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.ok_or_else(|| StoreError::RecordDamaged { id, what: format!("sealed attachment {idx} is missing") })
    }

    /// Marks an attempt as started (counts it).
    pub(crate) fn mark_sending(&self, id: SubmissionId) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            None,
        )
    }

    /// Back to the queue after a failed attempt, with the reason.
    pub(crate) fn mark_failed(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'queued', last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(truncate(reason)),
        )
    }

    /// A sync that could not reach the hub counts against the submission it
    /// would have sent first, so the queue shows why it waits.
    pub(crate) fn record_unreachable(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(truncate(reason)),
        )
    }

    pub(crate) fn mark_acknowledged(&self, id: SubmissionId, case_number: &CaseNumber) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ts = format_ts(now());
        let changed = tx.execute(
            "UPDATE outbox SET state = 'acknowledged', case_number = ?3, last_error = NULL, updated_at = ?2,
                    acknowledged_at = COALESCE(acknowledged_at, ?2)
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), ts, case_number.as_str()],
        )?;
        if changed == 0 {
            let state = state_of(&tx, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "acknowledged" });
        }
        audit::append(
            &tx,
            now(),
            &audit::Record {
                terminal: &terminal,
                operator: None,
                action: "hub acknowledged",
                subject: Some(id),
                outcome: &format!("case {}", case_number.as_str()),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Takes a record out of the queue for a reason of its own (the hub
    /// refused it, or its stored copy is damaged). The rest goes on.
    pub(crate) fn mark_quarantined(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let reason = truncate(reason);
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE outbox SET state = 'quarantined', quarantine_reason = ?3, last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), format_ts(now()), reason],
        )?;
        if changed == 0 {
            let state = state_of(&tx, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "quarantined" });
        }
        audit::append(
            &tx,
            now(),
            &audit::Record { terminal: &terminal, operator: None, action: "quarantine", subject: Some(id), outcome: reason },
        )?;
        tx.commit()?;
        tracing::warn!(%id, %reason, "quarantined");
        Ok(())
    }

    /// Runs one state change; `?1` is the id, `?2` the time, `?3` the text if any.
    fn update(&self, id: SubmissionId, sql: &str, text: Option<&str>) -> Result<(), StoreError> {
        let conn = self.lock();
        let (sid, ts) = (id.to_string(), format_ts(now()));
        let changed = match text {
            Some(text) => conn.execute(sql, params![sid, ts, text])?,
            None => conn.execute(sql, params![sid, ts])?,
        };
        if changed == 0 {
            let state = state_of(&conn, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "sending or queued" });
        }
        Ok(())
    }
}

fn state_of(conn: &Connection, id: SubmissionId) -> Result<OutboxState, StoreError> {
    let state: Option<String> =
        conn.query_row("SELECT state FROM outbox WHERE id = ?1", [id.to_string()], |r| r.get(0)).optional()?;
    match state {
        Some(s) => OutboxState::from_db(&s),
        None => Err(StoreError::UnknownSubmission(id)),
    }
}
