//! Cases: status, history, results, and the ratings of them.

use model::protocol::{CaseStatusEntry, CaseView, EvaluationUpload, PutOutcome};
use model::submission::sha256_hex;
use model::{CaseStatus, SubmissionId};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{CaseSummary, StatusChange, StoreError};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        let conn = self.pool.get()?;
        let row: Option<(String, String, String, String)> = conn
            .query_row(
                "SELECT c.case_number, c.submission_id, s.item_code, c.status
                 FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id WHERE c.case_number = ?1",
                [case_number],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((number, sid, item_code, status)) = row else {
            return Ok(None);
        };
        Ok(Some(CaseView {
            parts: super::bundles::parts_of(&conn, &number)?,
            case_number: parse_case_number(&number)?,
            submission_id: parse_id(&sid)?,
            item_code,
            status: status_from_str(&status)?,
        }))
    }

    pub(super) fn do_case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT c.case_number, c.status, COALESCE(c.updated_at, c.created_at), c.reason, r.case_number IS NOT NULL
             FROM cases c LEFT JOIN case_results r ON r.case_number = c.case_number
             WHERE c.submission_id = ?1 AND c.terminal_id = ?2 AND ?2 <> ''",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let row: Option<(String, String, String, Option<String>, bool)> = stmt
                .query_row(params![id.to_string(), terminal], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()?;
            if let Some((number, status, updated, reason, result_available)) = row {
                out.push(CaseStatusEntry {
                    parts: super::bundles::parts_of(&conn, &number)?,
                    submission_id: *id,
                    case_number: parse_case_number(&number)?,
                    status: status_from_str(&status)?,
                    updated_at: parse_ts(&updated)?,
                    reason,
                    result_available,
                });
            }
        }
        Ok(out)
    }

    pub(super) fn do_list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE (?1 IS NULL OR c.status = ?1) ORDER BY c.created_at, c.case_number LIMIT ?2"
        ))?;
        let mut rows = stmt.query(params![status.map(status_to_str), i64_of(limit as u64)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(summary_from_row(row)?);
        }
        Ok(out)
    }

    pub(super) fn do_case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SUMMARY_SELECT} WHERE c.case_number = ?1"))?;
        let mut rows = stmt.query([case_number])?;
        match rows.next()? {
            Some(row) => Ok(Some(summary_from_row(row)?)),
            None => Ok(None),
        }
    }

    pub(super) fn do_set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<String> =
            tx.query_row("SELECT status FROM cases WHERE case_number = ?1", [case_number], |r| r.get(0)).optional()?;
        let Some(current) = current else { return Err(StoreError::UnknownCase(case_number.to_owned())) };
        let from = status_from_str(&current)?;
        if from != change.to {
            if !transition_allowed(from, change.to) {
                return Err(StoreError::WrongCaseStatus {
                    case: case_number.to_owned(),
                    from: status_to_str(from),
                    to: status_to_str(change.to),
                });
            }
            tx.execute(
                "UPDATE cases SET status = ?2, updated_at = ?3, reason = ?4 WHERE case_number = ?1",
                params![case_number, status_to_str(change.to), ts(at), change.reason],
            )?;
            tx.execute(
                "INSERT INTO case_events (case_number, status, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![case_number, status_to_str(change.to), change.reason, change.actor, ts(at)],
            )?;
            // The text that tells of it, keyed by the event: one per change.
            if matches!(change.to, CaseStatus::Accepted | CaseStatus::Rejected | CaseStatus::Done) {
                let key = format!("cunban-{case_number}-{}", tx.last_insert_rowid());
                tx.execute(
                    "INSERT INTO sms_outbox (key, case_number, status, reason, state, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
                    params![key, case_number, status_to_str(change.to), change.reason, ts(at)],
                )?;
            }
        }
        if let Some((media_type, bytes)) = change.result {
            tx.execute(
                "INSERT INTO case_results (case_number, media_type, bytes, sha256, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(case_number) DO UPDATE SET media_type = excluded.media_type, bytes = excluded.bytes,
                     sha256 = excluded.sha256, added_at = excluded.added_at",
                params![case_number, media_type, bytes, sha256_hex(bytes), ts(at)],
            )?;
        }
        let summary = {
            let mut stmt = tx.prepare_cached(&format!("{SUMMARY_SELECT} WHERE c.case_number = ?1"))?;
            let mut rows = stmt.query([case_number])?;
            let row = rows.next()?.ok_or_else(|| StoreError::UnknownCase(case_number.to_owned()))?;
            summary_from_row(row)?
        };
        tx.commit()?;
        Ok(summary)
    }

    pub(super) fn do_case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let conn = self.pool.get()?;
        Ok(conn
            .query_row(
                "SELECT r.media_type, r.bytes FROM case_results r JOIN cases c ON c.case_number = r.case_number
                 WHERE r.case_number = ?1 AND c.terminal_id = ?2 AND ?2 <> ''",
                params![case_number, terminal],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub(super) fn do_put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rating = serde_json::to_value(ev.evaluation.rating).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let case = ev.evaluation.case_number.as_str();
        let held: Option<(String, String)> = tx
            .query_row("SELECT body, terminal_id FROM evaluations WHERE id = ?1", [ev.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((stored, owner)) = held {
            return if stored == body && owner == terminal { Ok(PutOutcome::Replayed) } else { Err(StoreError::EvaluationConflict(ev.id)) };
        }
        // Only the terminal that filed the case rates it (the villager was
        // there), and once: the rating is the villager's, not a tally.
        let filed_here: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM cases WHERE case_number = ?1 AND terminal_id = ?2 AND ?2 <> '')",
            params![case, terminal],
            |r| r.get(0),
        )?;
        if !filed_here {
            return Err(StoreError::NotYourCase(case.to_owned()));
        }
        let rated: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM evaluations WHERE case_number = ?1)", [case], |r| r.get(0))?;
        if rated {
            return Err(StoreError::AlreadyRated(case.to_owned()));
        }
        tx.execute(
            "INSERT INTO evaluations (id, terminal_id, case_number, rating, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ev.id.to_string(), terminal, case, rating, body, ts(at)],
        )?;
        // On its way to the platform (rating_forward.rs), in the same transaction.
        tx.execute(
            "INSERT INTO rating_forwards (evaluation_id, state, created_at, updated_at) VALUES (?1, 'pending', ?2, ?2)",
            params![ev.id.to_string(), ts(at)],
        )?;
        // 差评整改: a bad rating opens a follow-up with its deadline, in the same transaction.
        if matches!(ev.evaluation.rating, model::evaluation::Rating::Dissatisfied | model::evaluation::Rating::VeryDissatisfied) {
            tx.execute(
                "INSERT INTO rating_followups (evaluation_id, case_number, opened_at, due_at) VALUES (?1, ?2, ?3, ?4)",
                params![ev.id.to_string(), case, ts(at), ts(at + crate::store::FOLLOW_UP_WITHIN)],
            )?;
        }
        tx.commit()?;
        Ok(PutOutcome::Stored)
    }
}
