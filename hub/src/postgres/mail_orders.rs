//! The `mail_orders` outbox on PostgreSQL (see `store/mail_orders.rs`).

use time::OffsetDateTime;

use crate::store::{MailCase, MailOrderStore, MailOutcome, StoreError};

use super::rows::*;
use super::PgStore;

impl MailOrderStore for PgStore {
    fn mail_cases_due(&self, since: OffsetDateTime, now: OffsetDateTime, limit: usize) -> Result<Vec<MailCase>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT c.case_number, c.terminal_id, c.submission_id, c.created_at, 0 FROM cases c
             -- From the newest case looked at (less a margin for commits racing on
             -- other instances), never before $1.
             WHERE c.created_at >= GREATEST($1, (SELECT MAX(case_created_at) FROM mail_orders) - interval '10 minutes')
               AND NOT EXISTS (SELECT 1 FROM mail_orders m WHERE m.case_number = c.case_number)
             UNION ALL
             SELECT m.case_number, c.terminal_id, c.submission_id, c.created_at, m.attempts FROM mail_orders m JOIN cases c ON c.case_number = m.case_number
             WHERE m.state = 'pending' AND m.next_try_at <= $2
             ORDER BY 4 LIMIT $3",
            &[&since, &now, &i64_of(limit as u64)],
        ))?;
        rows.iter()
            .map(|r| {
                Ok(MailCase {
                    case_number: r.try_get(0)?,
                    terminal_id: r.try_get(1)?,
                    submission_id: parse_id(r.try_get(2)?)?,
                    case_created_at: r.try_get(3)?,
                    attempts: u32::try_from(r.try_get::<_, i32>(4)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    fn mail_case_done(&self, case: &MailCase, outcome: &MailOutcome, at: OffsetDateTime) -> Result<(), StoreError> {
        let (state, error, next) = match outcome {
            MailOutcome::NotMail => ("not_mail", None, None),
            MailOutcome::Sent => ("sent", None, None),
            MailOutcome::Refused(why) => ("refused", Some(why.as_str()), None),
            MailOutcome::Retry { why, next_try_at } => ("pending", Some(why.as_str()), Some(*next_try_at)),
        };
        let tried = i32::from(!matches!(outcome, MailOutcome::NotMail));
        let client = self.pool.get()?;
        // A final state stays: another instance may have finished the case meanwhile.
        self.pool.wait(client.execute(
            "INSERT INTO mail_orders (case_number, case_created_at, state, attempts, last_error, next_try_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (case_number) DO UPDATE SET state = excluded.state, attempts = mail_orders.attempts + excluded.attempts,
                 last_error = COALESCE(excluded.last_error, mail_orders.last_error), next_try_at = excluded.next_try_at, updated_at = excluded.updated_at
             WHERE mail_orders.state = 'pending'",
            &[&case.case_number, &case.case_created_at, &state, &tried, &error, &next, &at],
        ))?;
        Ok(())
    }

    fn mail_state(&self, case_number: &str) -> Result<Option<(String, u32, Option<String>)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt("SELECT state, attempts, last_error FROM mail_orders WHERE case_number = $1", &[&case_number]))?;
        row.map(|r| Ok((r.try_get(0)?, u32::try_from(r.try_get::<_, i32>(1)?).unwrap_or(u32::MAX), r.try_get(2)?))).transpose()
    }
}
