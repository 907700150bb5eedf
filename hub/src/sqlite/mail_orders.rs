//! The `mail_orders` outbox on SQLite (see `store/mail_orders.rs`).

use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use crate::store::{MailCase, MailOutcome, StoreError};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_mail_cases_due(&self, since: OffsetDateTime, now: OffsetDateTime, limit: usize) -> Result<Vec<MailCase>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT c.case_number, c.terminal_id, c.submission_id, c.created_at, 0 FROM cases c
             -- From the newest case looked at (less a margin for commits racing on
             -- other instances), never before ?1.
             WHERE julianday(c.created_at) >= MAX(julianday(?1), COALESCE((SELECT MAX(julianday(case_created_at)) FROM mail_orders), 0) - 10.0 / 1440)
               AND NOT EXISTS (SELECT 1 FROM mail_orders m WHERE m.case_number = c.case_number)
             UNION ALL
             SELECT m.case_number, c.terminal_id, c.submission_id, c.created_at, m.attempts FROM mail_orders m JOIN cases c ON c.case_number = m.case_number
             WHERE m.state = 'pending' AND julianday(m.next_try_at) <= julianday(?2)
             ORDER BY 4 LIMIT ?3",
        )?;
        type Row = (String, String, String, String, i64);
        let rows: Vec<Row> = stmt
            .query_map(params![ts(since), ts(now), i64_of(limit as u64)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(case_number, terminal_id, id, created, attempts)| {
                Ok(MailCase { case_number, terminal_id, submission_id: parse_id(&id)?, case_created_at: parse_ts(&created)?, attempts: u32::try_from(attempts).unwrap_or(u32::MAX) })
            })
            .collect()
    }

    pub(super) fn do_mail_case_done(&self, case: &MailCase, outcome: &MailOutcome, at: OffsetDateTime) -> Result<(), StoreError> {
        let (state, error, next) = match outcome {
            MailOutcome::NotMail => ("not_mail", None, None),
            MailOutcome::Sent => ("sent", None, None),
            MailOutcome::Refused(why) => ("refused", Some(why.as_str()), None),
            MailOutcome::Retry { why, next_try_at } => ("pending", Some(why.as_str()), Some(ts(*next_try_at))),
        };
        let tried = i64::from(!matches!(outcome, MailOutcome::NotMail));
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        // A final state stays: another instance may have finished the case meanwhile.
        conn.execute(
            "INSERT INTO mail_orders (case_number, case_created_at, state, attempts, last_error, next_try_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(case_number) DO UPDATE SET state = excluded.state, attempts = mail_orders.attempts + excluded.attempts,
                 last_error = COALESCE(excluded.last_error, mail_orders.last_error), next_try_at = excluded.next_try_at, updated_at = excluded.updated_at
             WHERE mail_orders.state = 'pending'",
            params![case.case_number, ts(case.case_created_at), state, tried, error, next, ts(at)],
        )?;
        Ok(())
    }

    pub(super) fn do_mail_state(&self, case_number: &str) -> Result<Option<(String, u32, Option<String>)>, StoreError> {
        let conn = self.pool.get()?;
        let row: Option<(String, i64, Option<String>)> = conn
            .query_row("SELECT state, attempts, last_error FROM mail_orders WHERE case_number = ?1", [case_number], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        Ok(row.map(|(s, a, e)| (s, u32::try_from(a).unwrap_or(u32::MAX), e)))
    }
}
