//! Cases on PostgreSQL: what terminals ask about and the back office decides.

use model::protocol::{CasePart, CaseStatusEntry, CaseView};
use model::submission::sha256_hex;
use model::{CaseStatus, SubmissionId};
use time::OffsetDateTime;

use crate::store::{CaseStore, CaseSummary, StatusChange, StoreError};

use super::rows::*;
use super::PgStore;

impl CaseStore for PgStore {
    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt(
            "SELECT c.case_number, c.submission_id, s.item_code, c.status
             FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id WHERE c.case_number = $1",
            &[&case_number],
        ))?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(CaseView {
            parts: self.parts_of(case_number)?,
            case_number: parse_case_number(r.try_get(0)?)?,
            submission_id: parse_id(r.try_get(1)?)?,
            item_code: r.try_get(2)?,
            status: status_from_str(r.try_get(3)?)?,
        }))
    }

    fn case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError> {
        if terminal.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.pool.get()?;
        let wanted: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        // One query for the whole batch (up to 500 ids).
        let rows = self.pool.wait(client.query(
            "SELECT c.submission_id, c.case_number, c.status, c.updated_at, c.reason, r.case_number IS NOT NULL
             FROM cases c LEFT JOIN case_results r ON r.case_number = c.case_number
             WHERE c.terminal_id = $1 AND c.submission_id = ANY($2)",
            &[&terminal, &wanted],
        ))?;
        let mut by_id = std::collections::HashMap::new();
        for r in rows {
            let sid: String = r.try_get(0)?;
            by_id.insert(sid, r);
        }
        let mut out = Vec::new();
        for (id, text) in ids.iter().zip(&wanted) {
            if let Some(r) = by_id.get(text) {
                let number: &str = r.try_get(1)?;
                out.push(CaseStatusEntry {
                    parts: self.parts_of(number)?,
                    submission_id: *id,
                    case_number: parse_case_number(number)?,
                    status: status_from_str(r.try_get(2)?)?,
                    updated_at: r.try_get(3)?,
                    reason: r.try_get(4)?,
                    result_available: r.try_get(5)?,
                });
            }
        }
        Ok(out)
    }

    fn list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            &format!("{SUMMARY_SELECT} WHERE ($1::TEXT IS NULL OR c.status = $1) ORDER BY c.created_at, c.case_number LIMIT $2"),
            &[&status.map(|s| s.name()), &i64_of(limit as u64)],
        ))?;
        rows.iter().map(summary_from_row).collect()
    }

    fn case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt(&format!("{SUMMARY_SELECT} WHERE c.case_number = $1"), &[&case_number]))?;
        row.as_ref().map(summary_from_row).transpose()
    }

    fn set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError> {
        // The document goes to the object store first (content addressed:
        // if the transaction then fails, the object is an unreferenced
        // orphan, never a row without its bytes); the row keeps its hash.
        let result_sha = change.result.map(|(_, bytes)| sha256_hex(bytes));
        if let (Some((_, bytes)), Some(sha)) = (change.result, &result_sha) {
            self.blobs.put_verified(sha, bytes)?;
        }
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            let current = tx.query_opt("SELECT status FROM cases WHERE case_number = $1 FOR UPDATE", &[&case_number]).await?;
            let Some(current) = current else { return Err(StoreError::UnknownCase(case_number.to_owned())) };
            let from = status_from_str(current.try_get(0)?)?;
            if from != change.to {
                if !transition_allowed(from, change.to) {
                    return Err(StoreError::WrongCaseStatus { case: case_number.to_owned(), from: from.name(), to: change.to.name() });
                }
                tx.execute(
                    "UPDATE cases SET status = $2, updated_at = $3, reason = $4 WHERE case_number = $1",
                    &[&case_number, &change.to.name(), &at, &change.reason],
                )
                .await?;
                let event: i64 = tx
                    .query_one(
                        "INSERT INTO case_events (case_number, status, reason, actor, at) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
                        &[&case_number, &change.to.name(), &change.reason, &change.actor, &at],
                    )
                    .await?
                    .try_get(0)?;
                // The text that tells of it, keyed by the event: one per change.
                if matches!(change.to, CaseStatus::Accepted | CaseStatus::Rejected | CaseStatus::Done) {
                    tx.execute(
                        "INSERT INTO sms_outbox (key, case_number, status, reason, state, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
                        &[&format!("cunban-{case_number}-{event}"), &case_number, &change.to.name(), &change.reason, &at],
                    )
                    .await?;
                }
            }
            if let (Some((media_type, _)), Some(sha)) = (change.result, &result_sha) {
                // Empty bytes: the document is the object named `sha256`.
                let bytes: &[u8] = &[];
                tx.execute(
                    "INSERT INTO case_results (case_number, media_type, bytes, sha256, added_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (case_number) DO UPDATE SET media_type = excluded.media_type, bytes = excluded.bytes,
                         sha256 = excluded.sha256, added_at = excluded.added_at",
                    &[&case_number, &media_type, &bytes, sha, &at],
                )
                .await?;
            }
            let row = tx.query_one(&format!("{SUMMARY_SELECT} WHERE c.case_number = $1"), &[&case_number]).await?;
            let summary = summary_from_row(&row)?;
            tx.commit().await?;
            Ok(summary)
        })
    }

    fn case_part(&self, number: &str) -> Result<Option<(String, CasePart)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt(
            "SELECT bundle_case, item_code, status, reason FROM case_parts WHERE case_number = $1",
            &[&number],
        ))?;
        row.map(|r| {
            let part = CasePart {
                item_code: r.try_get(1)?,
                case_number: parse_case_number(number)?,
                status: status_from_str(r.try_get(2)?)?,
                reason: r.try_get(3)?,
            };
            Ok((r.try_get(0)?, part))
        })
        .transpose()
    }

    fn set_part_status(&self, number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CasePart, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            let current = tx.query_opt("SELECT status FROM case_parts WHERE case_number = $1 FOR UPDATE", &[&number]).await?;
            let Some(current) = current else { return Err(StoreError::UnknownCase(number.to_owned())) };
            let from = status_from_str(current.try_get(0)?)?;
            if from != change.to {
                if !transition_allowed(from, change.to) {
                    return Err(StoreError::WrongCaseStatus { case: number.to_owned(), from: from.name(), to: change.to.name() });
                }
                let reason = if change.to == CaseStatus::Rejected { change.reason } else { None };
                tx.execute(
                    "UPDATE case_parts SET status = $2, reason = $3, updated_at = $4 WHERE case_number = $1",
                    &[&number, &change.to.name(), &reason, &at],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })?;
        self.case_part(number)?.map(|(_, p)| p).ok_or_else(|| StoreError::UnknownCase(number.to_owned()))
    }

    fn case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt(
            "SELECT r.media_type, r.bytes, r.sha256 FROM case_results r JOIN cases c ON c.case_number = r.case_number
             WHERE r.case_number = $1 AND c.terminal_id = $2 AND $2 <> ''",
            &[&case_number, &terminal],
        ))?;
        row.map(|r| self.result_document(&r)).transpose()
    }
}

impl PgStore {
    /// A `case_results` row (media_type, bytes, sha256) as the document:
    /// its bytes, or, when they are empty (every result since objects
    /// moved out of the database), the object named by its hash.
    pub(super) fn result_document(&self, r: &tokio_postgres::Row) -> Result<(String, Vec<u8>), StoreError> {
        let (media_type, bytes, sha): (String, Vec<u8>, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        if !bytes.is_empty() {
            return Ok((media_type, bytes));
        }
        match self.blobs.read(&sha)? {
            Some(b) => Ok((media_type, b)),
            None => Err(StoreError::Corrupt(format!("the result document {sha} is missing from the object store"))),
        }
    }

    /// A bundle case's parts, in order (empty for a single item).
    fn parts_of(&self, bundle_case: &str) -> Result<Vec<CasePart>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT case_number, item_code, status, reason FROM case_parts WHERE bundle_case = $1 ORDER BY position",
            &[&bundle_case],
        ))?;
        rows.iter()
            .map(|r| {
                Ok(CasePart {
                    case_number: parse_case_number(r.try_get(0)?)?,
                    item_code: r.try_get(1)?,
                    status: status_from_str(r.try_get(2)?)?,
                    reason: r.try_get(3)?,
                })
            })
            .collect()
    }
}
