//! The `rating_forwards` outbox: one row per stored rating, in the same
//! transaction as the rating (`cases.rs`), until the platform takes it.

use rusqlite::params;
use time::OffsetDateTime;

use crate::store::{RatingToForward, StoreError};

use super::rows::*;
use super::SqliteStore;

impl SqliteStore {
    pub(super) fn do_ratings_to_forward(&self, limit: usize) -> Result<Vec<RatingToForward>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT e.id, e.case_number, COALESCE(s.item_code, ''), COALESCE(t.village_code, ''), e.terminal_id, e.body, f.attempts
             FROM rating_forwards f JOIN evaluations e ON e.id = f.evaluation_id
             LEFT JOIN cases c ON c.case_number = e.case_number
             LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
             LEFT JOIN terminals t ON t.id = e.terminal_id
             WHERE f.state = 'pending' ORDER BY f.created_at, f.evaluation_id LIMIT ?1",
        )?;
        type Row = (String, String, String, String, String, String, i64);
        let rows: Vec<Row> = stmt
            .query_map([i64_of(limit as u64)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(id, case_number, item_code, village_code, terminal_id, body, attempts)| {
                let ev: model::protocol::EvaluationUpload =
                    serde_json::from_str(&body).map_err(|_| StoreError::Corrupt(format!("stored evaluation {id} is malformed")))?;
                Ok(RatingToForward {
                    evaluation_id: ev.id,
                    case_number,
                    item_code,
                    village_code,
                    terminal_id,
                    rating: ev.evaluation.rating,
                    reasons: ev.evaluation.reasons,
                    text: ev.evaluation.text,
                    rated_at: ev.rated_at,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    pub(super) fn do_rating_forwarded(&self, id: uuid::Uuid, outcome: Result<(), &str>, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let (state, error) = match outcome {
            Ok(()) => ("sent", None),
            Err(reason) => ("refused", Some(reason)),
        };
        conn.execute(
            "UPDATE rating_forwards SET state = ?2, last_error = COALESCE(?3, last_error), attempts = attempts + 1, updated_at = ?4
             WHERE evaluation_id = ?1 AND state = 'pending'",
            params![id.to_string(), state, error, ts(at)],
        )?;
        Ok(())
    }

    pub(super) fn do_rating_forward_failed(&self, id: uuid::Uuid, why: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute(
            "UPDATE rating_forwards SET attempts = attempts + 1, last_error = ?2, updated_at = ?3 WHERE evaluation_id = ?1 AND state = 'pending'",
            params![id.to_string(), why, ts(at)],
        )?;
        Ok(())
    }
}
