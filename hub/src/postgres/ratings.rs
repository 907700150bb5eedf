//! Ratings (好差评) with their follow-ups, and the SMS outbox, on PostgreSQL.

use model::evaluation::Rating;
use model::protocol::{EvaluationUpload, PutOutcome};
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::store::{FollowUp, RatingStore, RatingTally, SmsRow, SmsState, SmsStore, SmsUpdate, StoreError, FOLLOW_UP_WITHIN};

use super::rows::*;
use super::PgStore;

const FOLLOWUP_SELECT: &str = "SELECT f.evaluation_id, f.case_number, e.terminal_id, COALESCE(s.item_code, ''), e.body, f.opened_at, f.due_at,
        f.reply, f.replied_by, f.replied_at
    FROM rating_followups f
    JOIN evaluations e ON e.id = f.evaluation_id
    LEFT JOIN cases c ON c.case_number = f.case_number
    LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id";

fn followup(r: &Row) -> Result<FollowUp, StoreError> {
    let id: String = r.try_get(0)?;
    let ev: EvaluationUpload = serde_json::from_str(r.try_get(4)?).map_err(|_| StoreError::Corrupt(format!("evaluation {id} is malformed")))?;
    let mut reasons = ev.evaluation.reasons.clone();
    if !ev.evaluation.text.trim().is_empty() {
        reasons.push(ev.evaluation.text.clone());
    }
    let reply = match (r.try_get::<_, Option<String>>(7)?, r.try_get::<_, Option<String>>(8)?, r.try_get::<_, Option<OffsetDateTime>>(9)?) {
        (Some(text), Some(by), Some(at)) => Some((text, by, at)),
        _ => None,
    };
    Ok(FollowUp {
        evaluation_id: uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt(format!("evaluation id {id}")))?,
        case_number: r.try_get(1)?,
        terminal_id: r.try_get(2)?,
        item_code: r.try_get(3)?,
        rating: ev.evaluation.rating,
        reasons,
        opened_at: r.try_get(5)?,
        due_at: r.try_get(6)?,
        reply,
    })
}

const SMS_SELECT: &str = "SELECT key, case_number, status, reason, state, attempts, gateway_id, last_error, created_at FROM sms_outbox";

fn sms_row(r: &Row) -> Result<SmsRow, StoreError> {
    let state: &str = r.try_get(4)?;
    Ok(SmsRow {
        key: r.try_get(0)?,
        case_number: r.try_get(1)?,
        status: status_from_str(r.try_get(2)?)?,
        reason: r.try_get(3)?,
        state: SmsState::parse(state).ok_or_else(|| StoreError::Corrupt(format!("SMS outbox state {state:?}")))?,
        attempts: u32::try_from(r.try_get::<_, i32>(5)?).unwrap_or(0),
        gateway_id: r.try_get(6)?,
        last_error: r.try_get(7)?,
        created_at: r.try_get(8)?,
    })
}

impl PgStore {
    fn followups_where(&self, open_only: bool, case: Option<&str>) -> Result<Vec<FollowUp>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            &format!("{FOLLOWUP_SELECT} WHERE (NOT $1 OR f.reply IS NULL) AND ($2::TEXT IS NULL OR f.case_number = $2) ORDER BY f.due_at, f.evaluation_id"),
            &[&open_only, &case],
        ))?;
        rows.iter().map(followup).collect()
    }
}

impl RatingStore for PgStore {
    fn put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError> {
        let body = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rating = serde_json::to_value(ev.evaluation.rating).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let case = ev.evaluation.case_number.as_str();
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&format!("rating {case}")]).await?;
            if let Some(r) = tx.query_opt("SELECT body, terminal_id FROM evaluations WHERE id = $1", &[&ev.id.to_string()]).await? {
                let (stored, owner): (&str, &str) = (r.try_get(0)?, r.try_get(1)?);
                return if stored == body && owner == terminal { Ok(PutOutcome::Replayed) } else { Err(StoreError::EvaluationConflict(ev.id)) };
            }
            // Only the terminal that filed the case rates it, and once (UNIQUE case_number).
            if terminal.is_empty() || tx.query_opt("SELECT 1 FROM cases WHERE case_number = $1 AND terminal_id = $2", &[&case, &terminal]).await?.is_none() {
                return Err(StoreError::NotYourCase(case.to_owned()));
            }
            if tx.query_opt("SELECT 1 FROM evaluations WHERE case_number = $1", &[&case]).await?.is_some() {
                return Err(StoreError::AlreadyRated(case.to_owned()));
            }
            tx.execute(
                "INSERT INTO evaluations (id, terminal_id, case_number, rating, body, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&ev.id.to_string(), &terminal, &case, &rating, &body, &at],
            )
            .await?;
            // 差评整改: a bad rating opens a follow-up with its deadline, in the same transaction.
            if matches!(ev.evaluation.rating, Rating::Dissatisfied | Rating::VeryDissatisfied) {
                tx.execute(
                    "INSERT INTO rating_followups (evaluation_id, case_number, opened_at, due_at) VALUES ($1, $2, $3, $4)",
                    &[&ev.id.to_string(), &case, &at, &(at + FOLLOW_UP_WITHIN)],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(PutOutcome::Stored)
        })
    }

    fn followups(&self, open_only: bool) -> Result<Vec<FollowUp>, StoreError> {
        self.followups_where(open_only, None)
    }

    fn followups_of_case(&self, case_number: &str) -> Result<Vec<FollowUp>, StoreError> {
        self.followups_where(false, Some(case_number))
    }

    fn reply_followup(&self, id: uuid::Uuid, reply: &str, actor: &str, at: OffsetDateTime) -> Result<FollowUp, StoreError> {
        let client = self.pool.get()?;
        let n = self.pool.wait(client.execute(
            "UPDATE rating_followups SET reply = $2, replied_by = $3, replied_at = $4 WHERE evaluation_id = $1 AND reply IS NULL",
            &[&id.to_string(), &reply, &actor, &at],
        ))?;
        if n == 0 {
            return Err(StoreError::NoSuchFollowUp(id.to_string()));
        }
        let row = self.pool.wait(client.query_opt(&format!("{FOLLOWUP_SELECT} WHERE f.evaluation_id = $1"), &[&id.to_string()]))?;
        followup(&row.ok_or_else(|| StoreError::NoSuchFollowUp(id.to_string()))?)
    }

    fn ratings_report(&self) -> Result<Vec<RatingTally>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(
            "SELECT COALESCE(t.village_code, ''), COALESCE(s.item_code, ''), e.rating, COUNT(*),
                    SUM(CASE WHEN f.evaluation_id IS NOT NULL AND f.reply IS NULL THEN 1 ELSE 0 END)
             FROM evaluations e
             LEFT JOIN terminals t ON t.id = e.terminal_id
             LEFT JOIN cases c ON c.case_number = e.case_number
             LEFT JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
             LEFT JOIN rating_followups f ON f.evaluation_id = e.id
             GROUP BY 1, 2, 3 ORDER BY 1, 2",
            &[],
        ))?;
        let mut out: Vec<RatingTally> = Vec::new();
        for r in rows {
            let (village, item, rating): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let (n, open): (u64, u64) = (u64_of(r.try_get(3)?), u64_of(r.try_get(4)?));
            let grade: Rating = serde_json::from_value(serde_json::Value::String(rating.clone())).map_err(|_| StoreError::Corrupt(format!("rating {rating:?}")))?;
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

impl SmsStore for PgStore {
    fn sms_due(&self, limit: usize) -> Result<Vec<SmsRow>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(&format!("{SMS_SELECT} WHERE state IN ('pending', 'sent') ORDER BY created_at, key LIMIT $1"), &[&i64_of(limit as u64)]))?;
        rows.iter().map(sms_row).collect()
    }

    fn sms_record(&self, key: &str, update: &SmsUpdate<'_>, at: OffsetDateTime) -> Result<(), StoreError> {
        let client = self.pool.get()?;
        let n = match *update {
            SmsUpdate::Attempted { error } => self.pool.wait(client.execute(
                "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $2, updated_at = $3 WHERE key = $1 AND state = 'pending'",
                &[&key, &error, &at],
            ))?,
            SmsUpdate::Sent { gateway_id } => self.pool.wait(client.execute(
                "UPDATE sms_outbox SET attempts = attempts + 1, state = 'sent', gateway_id = $2, last_error = NULL, updated_at = $3
                 WHERE key = $1 AND state = 'pending'",
                &[&key, &gateway_id, &at],
            ))?,
            SmsUpdate::Closed { state, error } => self.pool.wait(client.execute(
                "UPDATE sms_outbox SET state = $2, last_error = COALESCE($3, last_error), updated_at = $4 WHERE key = $1 AND state IN ('pending', 'sent')",
                &[&key, &state.as_str(), &error, &at],
            ))?,
        };
        if n == 0 {
            return Err(StoreError::Corrupt(format!("no open SMS {key}")));
        }
        Ok(())
    }

    fn sms_of_case(&self, case_number: &str) -> Result<Vec<SmsRow>, StoreError> {
        let client = self.pool.get()?;
        let rows = self.pool.wait(client.query(&format!("{SMS_SELECT} WHERE case_number = $1 ORDER BY created_at, key"), &[&case_number]))?;
        rows.iter().map(sms_row).collect()
    }
}
