//! 好差评 kept by item, village and terminal: follow-ups of bad ratings
//! (差评整改) and the per-village, per-item report.

use model::evaluation::Rating;
use model::protocol::EvaluationUpload;
use rusqlite::params;
use time::OffsetDateTime;

use crate::store::{FollowUp, RatingTally, StoreError};

use super::rows::*;
use super::SqliteStore;

const SELECT: &str = "SELECT f.evaluation_id, f.case_number, e.terminal_id, COALESCE(s.item_code, ''), e.body, f.opened_at, f.due_at,
        f.reply, f.replied_by, f.replied_at
    FROM rating_followups f
    JOIN evaluations e ON e.id = f.evaluation_id
    LEFT JOIN cases c ON c.case_number = f.case_number
    LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id";

fn followup(r: &rusqlite::Row<'_>) -> Result<FollowUp, StoreError> {
    let id: String = r.get(0)?;
    let body: String = r.get(4)?;
    let ev: EvaluationUpload = serde_json::from_str(&body).map_err(|_| StoreError::Corrupt(format!("evaluation {id} is malformed")))?;
    let mut reasons = ev.evaluation.reasons.clone();
    if !ev.evaluation.text.trim().is_empty() {
        reasons.push(ev.evaluation.text.clone());
    }
    let reply = match (r.get::<_, Option<String>>(7)?, r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?) {
        (Some(text), Some(by), Some(at)) => Some((text, by, parse_ts(&at)?)),
        _ => None,
    };
    Ok(FollowUp {
        evaluation_id: uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt(format!("evaluation id {id}")))?,
        case_number: r.get(1)?,
        terminal_id: r.get(2)?,
        item_code: r.get(3)?,
        rating: ev.evaluation.rating,
        reasons,
        opened_at: parse_ts(&r.get::<_, String>(5)?)?,
        due_at: parse_ts(&r.get::<_, String>(6)?)?,
        reply,
    })
}

impl SqliteStore {
    pub(super) fn do_followups(&self, open_only: bool, case: Option<&str>) -> Result<Vec<FollowUp>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE (?1 = 0 OR f.reply IS NULL) AND (?2 IS NULL OR f.case_number = ?2) ORDER BY f.due_at, f.evaluation_id"
        ))?;
        let mut rows = stmt.query(params![open_only as i64, case])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(followup(r)?);
        }
        Ok(out)
    }

    pub(super) fn do_reply_followup(&self, id: uuid::Uuid, reply: &str, actor: &str, at: OffsetDateTime) -> Result<FollowUp, StoreError> {
        {
            let _one = self.write_gate();
            let mut conn = self.pool.get()?;
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE rating_followups SET reply = ?2, replied_by = ?3, replied_at = ?4 WHERE evaluation_id = ?1 AND reply IS NULL",
                params![id.to_string(), reply, actor, ts(at)],
            )?;
            if n == 0 {
                return Err(StoreError::NoSuchFollowUp(id.to_string()));
            }
            // The villager is told by text too (sent where a gateway exists), keyed once per follow-up.
            tx.execute(
                "INSERT INTO sms_outbox (key, case_number, status, reason, state, created_at, updated_at, reply)
                 SELECT ?1, f.case_number, c.status, NULL, 'pending', ?2, ?2, ?3
                 FROM rating_followups f JOIN cases c ON c.case_number = f.case_number WHERE f.evaluation_id = ?4",
                params![format!("cunban-reply-{id}"), ts(at), reply, id.to_string()],
            )?;
            tx.commit()?;
        }
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE f.evaluation_id = ?1"))?;
        let mut rows = stmt.query([id.to_string()])?;
        let r = rows.next()?.ok_or_else(|| StoreError::NoSuchFollowUp(id.to_string()))?;
        followup(r)
    }

    pub(super) fn do_ratings_report(&self) -> Result<Vec<RatingTally>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(t.village_code, ''), COALESCE(s.item_code, ''), e.rating, COUNT(*),
                    SUM(CASE WHEN f.evaluation_id IS NOT NULL AND f.reply IS NULL THEN 1 ELSE 0 END)
             FROM evaluations e
             LEFT JOIN terminals t ON t.id = e.terminal_id
             LEFT JOIN cases c ON c.case_number = e.case_number
             LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
             LEFT JOIN rating_followups f ON f.evaluation_id = e.id
             GROUP BY 1, 2, 3 ORDER BY 1, 2",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Vec<RatingTally> = Vec::new();
        while let Some(r) = rows.next()? {
            let (village, item, rating): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let (n, open): (u64, u64) = (r.get(3)?, r.get(4)?);
            let grade: Rating = serde_json::from_value(serde_json::Value::String(rating.clone()))
                .map_err(|_| StoreError::Corrupt(format!("rating {rating:?}")))?;
            let i = Rating::ALL.iter().position(|g| *g == grade).unwrap_or(0);
            match out.last_mut() {
                Some(t) if t.village_code == village && t.item_code == item => {
                    t.counts[i] += n;
                    t.open_followups += open;
                }
                _ => {
                    let mut t = RatingTally { village_code: village, item_code: item, counts: [0; 5], open_followups: open };
                    t.counts[i] = n;
                    out.push(t);
                }
            }
        }
        Ok(out)
    }
}
