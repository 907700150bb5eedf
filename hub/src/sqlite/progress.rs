//! Progress at any terminal (issue 16): the applicant's keyed tag beside
//! each filing, and lookups that answer only when the card matches.

use model::protocol::{ProgressCase, ProgressStep};
use model::{IdNumber, SubmissionId};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::progress::{applicant_tag, ProgressLookup, Receipt};
use crate::store::StoreError;

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn applicant_secret(&self) -> Result<Vec<u8>, StoreError> {
        let conn = self.pool.get()?;
        Ok(conn.query_row("SELECT value FROM hub_secrets WHERE name = 'applicant_tag'", [], |r| r.get(0))?)
    }

    pub(super) fn do_tag_applicant(&self, terminal: &str, id: SubmissionId, id_number: &IdNumber) -> Result<(), StoreError> {
        let tag = applicant_tag(&self.applicant_secret()?, id_number);
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute(
            "UPDATE submissions SET applicant_tag = ?3 WHERE terminal_id = ?1 AND id = ?2 AND applicant_tag IS NULL",
            params![terminal, id.to_string(), tag],
        )?;
        Ok(())
    }

    pub(super) fn do_progress(&self, l: &ProgressLookup<'_>, at: OffsetDateTime) -> Result<Option<Vec<ProgressCase>>, StoreError> {
        let day = at.date().to_string();
        {
            let conn = self.pool.get()?;
            let misses: i64 = conn.query_row(
                "SELECT COUNT(*) FROM progress_misses WHERE terminal_id = ?1 AND day = ?2",
                params![l.terminal, day],
                |r| r.get(0),
            )?;
            if u64::try_from(misses).unwrap_or(0) >= l.max_misses_per_day {
                return Err(StoreError::QuotaExceeded {
                    terminal: l.terminal.to_owned(),
                    what: format!("{} progress lookups that found nothing a day", l.max_misses_per_day),
                });
            }
        }
        let tag = applicant_tag(&self.applicant_secret()?, l.id_number);
        let found = self.matching_cases(l, &tag)?;
        if found.is_empty() {
            let _one = self.write_gate();
            let mut conn = self.pool.get()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("INSERT INTO progress_misses (terminal_id, day, at) VALUES (?1, ?2, ?3)", params![l.terminal, day, ts(at)])?;
            tx.commit()?;
            return Ok(None);
        }
        Ok(Some(found))
    }

    pub(super) fn do_any_case_result(&self, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let conn = self.pool.get()?;
        Ok(conn
            .query_row("SELECT media_type, bytes FROM case_results WHERE case_number = ?1", [case_number], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn matching_cases(&self, l: &ProgressLookup<'_>, tag: &str) -> Result<Vec<ProgressCase>, StoreError> {
        let conn = self.pool.get()?;
        let (by_case, by_submission) = match l.receipt {
            Receipt::Case(c) => (Some(c.as_str().to_owned()), None),
            Receipt::Submission(id) => (None, Some(id.to_string())),
        };
        // The tag is part of the WHERE: a case filed with another number is
        // never read, so it cannot leak through a later mistake.
        let mut stmt = conn.prepare_cached(
            "SELECT c.case_number, c.submission_id, s.item_code, c.status, c.created_at, c.reason,
                    r.case_number IS NOT NULL, c.terminal_id
             FROM cases c
             JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
             LEFT JOIN case_results r ON r.case_number = c.case_number
             WHERE s.applicant_tag = ?1 AND (c.case_number = ?2 OR c.submission_id = ?3)
             ORDER BY c.created_at DESC LIMIT 8",
        )?;
        type Row = (String, String, String, String, String, Option<String>, bool, String);
        let rows: Vec<Row> = stmt
            .query_map(params![tag, by_case, by_submission], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut events = conn.prepare_cached("SELECT status, at FROM case_events WHERE case_number = ?1 ORDER BY seq")?;
        let mut reply = conn.prepare_cached(
            "SELECT reply FROM rating_followups WHERE case_number = ?1 AND reply IS NOT NULL ORDER BY replied_at DESC LIMIT 1",
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (number, sid, item_code, status, created, reason, result_available, filer) in rows {
            let filed_at = parse_ts(&created)?;
            let mut history = Vec::new();
            for step in events.query_map([&number], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
                let (s, at) = step?;
                history.push(ProgressStep { status: status_from_str(&s)?, at: parse_ts(&at)? });
            }
            // Cases opened before commits wrote their own event start bare.
            if history.first().is_none_or(|s| s.status != model::CaseStatus::Received) {
                history.insert(0, ProgressStep { status: model::CaseStatus::Received, at: filed_at });
            }
            let followup_reply: Option<String> = reply.query_row([&number], |r| r.get(0)).optional()?;
            out.push(ProgressCase {
                case_number: parse_case_number(&number)?,
                submission_id: parse_id(&sid)?,
                item_code,
                status: status_from_str(&status)?,
                filed_at,
                history,
                reason,
                result_available,
                filed_here: filer == l.terminal,
                followup_reply,
                parts: super::bundles::parts_of(&conn, &number)?,
            });
        }
        Ok(out)
    }
}
