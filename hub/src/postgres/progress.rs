//! Progress at any terminal and ratings on their way to the platform, on
//! PostgreSQL (the SQLite twins are `sqlite/progress.rs` and
//! `sqlite/rating_forward.rs`; the contracts are the role traits').

use model::protocol::{CasePart, ProgressCase, ProgressStep};
use model::{IdNumber, SubmissionId};
use time::OffsetDateTime;

use crate::progress::{applicant_tag, ProgressLookup, Receipt};
use crate::store::{ProgressStore, RatingForwardStore, RatingToForward, StoreError};

use super::rows::*;
use super::PgStore;

impl PgStore {
    fn applicant_secret(&self) -> Result<Vec<u8>, StoreError> {
        let client = self.pool.get()?;
        Ok(self.pool.wait(client.query_one("SELECT value FROM hub_secrets WHERE name = 'applicant_tag'", &[]))?.try_get(0)?)
    }

    fn matching_cases(&self, l: &ProgressLookup<'_>, tag: &str) -> Result<Vec<ProgressCase>, StoreError> {
        let client = self.pool.get()?;
        let (by_case, by_submission) = match l.receipt {
            Receipt::Case(c) => (Some(c.as_str().to_owned()), None),
            Receipt::Submission(id) => (None, Some(id.to_string())),
        };
        self.pool.wait(async {
            // The tag is part of the WHERE: a case filed with another number is never read.
            let rows = client
                .query(
                    "SELECT c.case_number, c.submission_id, s.item_code, c.status, c.created_at, c.reason,
                            r.case_number IS NOT NULL, c.terminal_id
                     FROM cases c
                     JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
                     LEFT JOIN case_results r ON r.case_number = c.case_number
                     WHERE s.applicant_tag = $1 AND (c.case_number = $2 OR c.submission_id = $3)
                     ORDER BY c.created_at DESC LIMIT 8",
                    &[&tag, &by_case, &by_submission],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let number: String = r.try_get(0)?;
                let filed_at: OffsetDateTime = r.try_get(4)?;
                let mut history = Vec::new();
                for e in client.query("SELECT status, at FROM case_events WHERE case_number = $1 ORDER BY seq", &[&number]).await? {
                    history.push(ProgressStep { status: status_from_str(e.try_get(0)?)?, at: e.try_get(1)? });
                }
                // Cases opened before commits wrote their own event start bare.
                if history.first().is_none_or(|s| s.status != model::CaseStatus::Received) {
                    history.insert(0, ProgressStep { status: model::CaseStatus::Received, at: filed_at });
                }
                let followup_reply: Option<String> = client
                    .query_opt(
                        "SELECT reply FROM rating_followups WHERE case_number = $1 AND reply IS NOT NULL ORDER BY replied_at DESC LIMIT 1",
                        &[&number],
                    )
                    .await?
                    .map(|f| f.try_get(0))
                    .transpose()?;
                let filer: String = r.try_get(7)?;
                let mut parts = Vec::new();
                for p in client
                    .query("SELECT case_number, item_code, status, reason FROM case_parts WHERE bundle_case = $1 ORDER BY position", &[&number])
                    .await?
                {
                    parts.push(CasePart {
                        case_number: parse_case_number(p.try_get(0)?)?,
                        item_code: p.try_get(1)?,
                        status: status_from_str(p.try_get(2)?)?,
                        reason: p.try_get(3)?,
                    });
                }
                out.push(ProgressCase {
                    case_number: parse_case_number(&number)?,
                    submission_id: parse_id(r.try_get(1)?)?,
                    item_code: r.try_get(2)?,
                    status: status_from_str(r.try_get(3)?)?,
                    filed_at,
                    history,
                    reason: r.try_get(5)?,
                    result_available: r.try_get(6)?,
                    filed_here: filer == l.terminal,
                    followup_reply,
                    parts,
                });
            }
            Ok(out)
        })
    }
}

impl ProgressStore for PgStore {
    fn tag_applicant(&self, terminal: &str, id: SubmissionId, id_number: &IdNumber) -> Result<(), StoreError> {
        let tag = applicant_tag(&self.applicant_secret()?, id_number);
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "UPDATE submissions SET applicant_tag = $3 WHERE terminal_id = $1 AND id = $2 AND applicant_tag IS NULL",
            &[&terminal, &id.to_string(), &tag],
        ))?;
        Ok(())
    }

    fn progress(&self, l: &ProgressLookup<'_>, at: OffsetDateTime) -> Result<Option<Vec<ProgressCase>>, StoreError> {
        let day = at.date().to_string();
        let client = self.pool.get()?;
        let misses: i64 = self
            .pool
            .wait(client.query_one("SELECT COUNT(*) FROM progress_misses WHERE terminal_id = $1 AND day = $2", &[&l.terminal, &day]))?
            .try_get(0)?;
        if u64::try_from(misses).unwrap_or(0) >= l.max_misses_per_day {
            return Err(StoreError::QuotaExceeded {
                terminal: l.terminal.to_owned(),
                what: format!("{} progress lookups that found nothing a day", l.max_misses_per_day),
            });
        }
        let tag = applicant_tag(&self.applicant_secret()?, l.id_number);
        let found = self.matching_cases(l, &tag)?;
        if found.is_empty() {
            self.pool.wait(client.execute("INSERT INTO progress_misses (terminal_id, day, at) VALUES ($1, $2, $3)", &[&l.terminal, &day, &at]))?;
            return Ok(None);
        }
        Ok(Some(found))
    }

    fn any_case_result(&self, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let client = self.pool.get()?;
        let row = self.pool.wait(client.query_opt("SELECT media_type, bytes, sha256 FROM case_results WHERE case_number = $1", &[&case_number]))?;
        row.map(|r| self.result_document(&r)).transpose()
    }
}

impl RatingForwardStore for PgStore {
    fn ratings_to_forward(&self, limit: usize) -> Result<Vec<RatingToForward>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT e.id, e.case_number, COALESCE(s.item_code, ''), COALESCE(t.village_code, ''), e.terminal_id, e.body, f.attempts
             FROM rating_forwards f JOIN evaluations e ON e.id = f.evaluation_id
             LEFT JOIN cases c ON c.case_number = e.case_number
             LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
             LEFT JOIN terminals t ON t.id = e.terminal_id
             WHERE f.state = 'pending' ORDER BY f.created_at, f.evaluation_id LIMIT $1",
            &[&i64_of(limit as u64)],
        ))?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let ev: model::protocol::EvaluationUpload =
                    serde_json::from_str(r.try_get(5)?).map_err(|_| StoreError::Corrupt(format!("stored evaluation {id} is malformed")))?;
                Ok(RatingToForward {
                    evaluation_id: ev.id,
                    case_number: r.try_get(1)?,
                    item_code: r.try_get(2)?,
                    village_code: r.try_get(3)?,
                    terminal_id: r.try_get(4)?,
                    rating: ev.evaluation.rating,
                    reasons: ev.evaluation.reasons,
                    text: ev.evaluation.text,
                    rated_at: ev.rated_at,
                    attempts: u32::try_from(r.try_get::<_, i32>(6)?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    fn rating_forwarded(&self, id: uuid::Uuid, outcome: Result<(), &str>, at: OffsetDateTime) -> Result<(), StoreError> {
        let (state, error) = match outcome {
            Ok(()) => ("sent", None),
            Err(reason) => ("refused", Some(reason)),
        };
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "UPDATE rating_forwards SET state = $2, last_error = COALESCE($3, last_error), attempts = attempts + 1, updated_at = $4
             WHERE evaluation_id = $1 AND state = 'pending'",
            &[&id.to_string(), &state, &error, &at],
        ))?;
        Ok(())
    }

    fn rating_forward_failed(&self, id: uuid::Uuid, why: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(client.execute(
            "UPDATE rating_forwards SET attempts = attempts + 1, last_error = $2, updated_at = $3 WHERE evaluation_id = $1 AND state = 'pending'",
            &[&id.to_string(), &why, &at],
        ))?;
        Ok(())
    }
}
