//! Submissions, resumable uploads, commit and the clean-up of what was never finished.

use std::time::Duration;

use model::protocol::{PutOutcome, UploadStatus};
use model::{CaseNumber, CaseStatus, SubmissionId};
use rusqlite::{params, TransactionBehavior};
use time::OffsetDateTime;

use crate::progress::applicant_tag;
use crate::store::{NewSubmission, StoreError, SweepReport};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError> {
        // The applicant's keyed tag is written in this transaction (its key read before the write lock).
        let tag = sub.applicant.map(|n| self.applicant_secret().map(|key| applicant_tag(&key, n))).transpose()?;
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = sub.id.to_string();
        if sub.terminal_id.is_empty() {
            return Err(StoreError::UnknownTerminal(String::new()));
        }
        // The primary key (terminal, id) decides, not a prior SELECT: two
        // racing PUTs cannot both insert, and another terminal's row under
        // the same id is simply another submission.
        let inserted = tx.execute(
            "INSERT INTO submissions (terminal_id, id, body, body_sha256, item_code, received_at, applicant_tag)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(terminal_id, id) DO NOTHING",
            params![sub.terminal_id, id, sub.body, sub.body_sha256, sub.item_code, now_rfc3339(), tag],
        )?;
        if inserted == 0 {
            let stored: String = tx.query_row(
                "SELECT body_sha256 FROM submissions WHERE terminal_id = ?1 AND id = ?2",
                params![sub.terminal_id, id],
                |r| r.get(0),
            )?;
            if stored != sub.body_sha256 {
                return Err(StoreError::Conflict(sub.id));
            }
            if tag.is_some() {
                // A replay tags a row an older hub left untagged.
                tx.execute(
                    "UPDATE submissions SET applicant_tag = ?3 WHERE terminal_id = ?1 AND id = ?2 AND applicant_tag IS NULL",
                    params![sub.terminal_id, id, tag],
                )?;
                tx.commit()?;
            }
            return Ok(PutOutcome::Replayed);
        }
        for (sha, size) in &sub.attachments {
            tx.execute(
                "INSERT INTO submission_attachments (terminal_id, submission_id, sha256, size) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![sub.terminal_id, id, sha, i64_of(*size)],
            )?;
        }
        if let Some(quota) = sub.quota {
            // Counted with the new one in: over the limit, nothing is kept (the
            // transaction is dropped) and the terminal is told to wait.
            let (open, bytes): (i64, i64) = tx.query_row(
                "SELECT COUNT(*), COALESCE(SUM((SELECT COALESCE(SUM(a.size), 0) FROM submission_attachments a
                                                 WHERE a.terminal_id = s.terminal_id AND a.submission_id = s.id)), 0)
                 FROM submissions s
                 WHERE s.terminal_id = ?1 AND s.committed = 0",
                [sub.terminal_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let what = if u64::try_from(open).unwrap_or(0) > quota.max_open {
                Some(format!("{} uncommitted submissions", quota.max_open))
            } else if u64::try_from(bytes).unwrap_or(0) > quota.max_bytes {
                Some(format!("{} attachment bytes in flight", quota.max_bytes))
            } else {
                None
            };
            if let Some(what) = what {
                return Err(StoreError::QuotaExceeded { terminal: sub.terminal_id.to_owned(), what });
            }
        }
        tx.commit()?;
        Ok(PutOutcome::Stored)
    }

    pub(super) fn do_upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError> {
        let (size, complete) = self.do_upload_target(terminal, id, sha256)?;
        let received = if complete { size } else { self.blobs.partial_len(sha256)?.min(size) };
        Ok(UploadStatus { sha256: sha256.to_owned(), size, received, complete })
    }

    pub(super) fn do_upload_target(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<(u64, bool), StoreError> {
        let conn = self.pool.get()?;
        let size = super::diagnostics::upload_size(&conn, terminal, id, sha256)?;
        Ok((size, self.kept(&conn, sha256)?))
    }

    pub(super) fn do_append_upload(&self, sha256: &str, size: u64, offset: u64, bytes: &[u8]) -> Result<u64, StoreError> {
        if self.kept(&*self.pool.get()?, sha256)? {
            return Ok(size);
        }
        self.blobs.append(sha256, offset, bytes, size)
    }

    pub(super) fn do_truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.blobs.truncate(sha256, offset)
    }

    pub(super) fn do_finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        {
            let conn = self.pool.get()?;
            if legacy_attachment(&conn, sha256)? {
                return Ok(PutOutcome::Replayed);
            }
        }
        self.blobs.finish(sha256)
    }

    pub(super) fn do_commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, Option<String>), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sid = id.to_string();
        owned_submission(&tx, terminal, id)?;
        let referenced = {
            let mut stmt =
                tx.prepare_cached("SELECT sha256 FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2 ORDER BY sha256")?;
            let rows = stmt.query_map(params![terminal, sid], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut missing = Vec::new();
        for sha in referenced {
            if !self.kept(&tx, &sha)? {
                missing.push(sha);
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::MissingAttachments { id, missing });
        }
        // Both inserts are guarded by UNIQUE(submission_id): a replayed or
        // racing commit reads back the case the first one opened.
        tx.execute(
            "INSERT INTO case_numbers (terminal_id, submission_id, day) VALUES (?1, ?2, ?3) ON CONFLICT(terminal_id, submission_id) DO NOTHING",
            params![terminal, sid, today_cst()],
        )?;
        let (seq, day): (i64, String) = tx.query_row(
            "SELECT seq, day FROM case_numbers WHERE terminal_id = ?1 AND submission_id = ?2",
            params![terminal, sid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let fresh = case_number_for(&day, seq)?;
        let now = now_rfc3339();
        let opened = tx.execute(
            "INSERT INTO cases (case_number, terminal_id, submission_id, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT(terminal_id, submission_id) DO NOTHING",
            params![fresh.as_str(), terminal, sid, status_to_str(CaseStatus::Received), now],
        )?;
        let mut item_code = None;
        if opened == 1 {
            tx.execute(
                "INSERT INTO case_events (case_number, status, actor, at) VALUES (?1, 'received', ?2, ?3)",
                params![fresh.as_str(), format!("terminal {terminal}"), now],
            )?;
            tx.execute("UPDATE submissions SET committed = 1 WHERE terminal_id = ?1 AND id = ?2", params![terminal, sid])?;
            let (body, item): (Vec<u8>, String) =
                tx.query_row("SELECT body, item_code FROM submissions WHERE terminal_id = ?1 AND id = ?2", params![terminal, sid], |r| Ok((r.get(0)?, r.get(1)?)))?;
            super::bundles::open_parts(&tx, fresh.as_str(), &body, &now)?;
            item_code = Some(item);
        }
        let stored: String =
            tx.query_row("SELECT case_number FROM cases WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, sid], |r| r.get(0))?;
        tx.commit()?;
        Ok((parse_case_number(&stored)?, item_code))
    }

    pub(super) fn do_sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        {
            // Held until the files are gone: no new reference can appear meanwhile.
            let _one = self.write_gate();
            let mut conn = self.pool.get()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stale: Vec<(String, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT s.terminal_id, s.id FROM submissions s
                     WHERE s.committed = 0 AND s.received_at < ?1
                       AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.terminal_id = s.terminal_id AND c.submission_id = s.id)
                       AND NOT EXISTS (SELECT 1 FROM case_numbers n WHERE n.terminal_id = s.terminal_id AND n.submission_id = s.id)",
                )?;
                let rows = stmt.query_map([ts(uncommitted_before)], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut shas = std::collections::BTreeSet::new();
            for (terminal, id) in &stale {
                {
                    let mut stmt = tx.prepare_cached("SELECT sha256 FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2")?;
                    for sha in stmt.query_map(params![terminal, id], |r| r.get::<_, String>(0))? {
                        shas.insert(sha?);
                    }
                }
                tx.execute("DELETE FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, id])?;
                tx.execute("DELETE FROM submissions WHERE terminal_id = ?1 AND id = ?2", params![terminal, id])?;
                report.submissions += 1;
            }
            let mut orphans = Vec::new();
            for sha in shas {
                let referenced: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM submission_attachments WHERE sha256 = ?1)", [&sha], |r| r.get(0))?;
                if !referenced && !legacy_attachment(&tx, &sha)? {
                    orphans.push(sha);
                }
            }
            tx.commit()?;
            for sha in orphans {
                if self.blobs.exists(&sha)? {
                    report.attachments += 1;
                } else if self.blobs.partial_len(&sha)? > 0 {
                    report.partials += 1;
                }
                self.blobs.remove(&sha)?;
            }
        }
        let before = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(partial_before.unix_timestamp()).unwrap_or(0));
        for sha in self.blobs.partials()? {
            if self.blobs.drop_stale_partial(&sha, before)? {
                report.partials += 1;
            }
        }
        if report != SweepReport::default() {
            tracing::info!(?report, "clean-up dropped abandoned uploads");
        }
        Ok(report)
    }
}
