//! Published updates and their rollouts (issue 19): the decisions are
//! `crate::rollout`'s, this keeps them. Rollout changes go to the hub's audit.

use model::update::{UpdateOutcome, UpdateReport, UpdateTarget};
use model::VillageCode;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::rollout::{Change, Member, Rollout, RolloutState};
use crate::store::StoreError;

use super::fleet_audit::append_hub_audit;
use super::rows::*;
use super::SqliteStore;

fn parse(body: &str) -> Result<Rollout, StoreError> {
    serde_json::from_str(body).map_err(|_| StoreError::Corrupt("a stored rollout is malformed".into()))
}

fn body(r: &Rollout) -> Result<String, StoreError> {
    serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn all(conn: &Connection) -> Result<Vec<Rollout>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT body FROM rollouts ORDER BY started_at DESC, version DESC")?;
    let rows: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    rows.iter().map(|b| parse(b)).collect()
}

fn village_of(conn: &Connection, terminal: &str) -> Result<Option<VillageCode>, StoreError> {
    let v: Option<Option<String>> = conn.query_row("SELECT village_code FROM terminals WHERE id = ?1", [terminal], |r| r.get(0)).optional()?;
    Ok(v.flatten().and_then(|v| VillageCode::parse(&v).ok()))
}

impl SqliteStore {
    pub(super) fn do_keep_update_bundle(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.updates.keep(sha256, bytes)
    }

    pub(super) fn do_update_bundle_range(&self, terminal: &str, version: &str, offset: u64, max: u64) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let Some(target) = self.do_update_target(terminal)? else { return Ok(None) };
        if target.version != version {
            return Ok(None);
        }
        self.updates.range(&target.sha256, target.size, offset, max)
    }

    pub(super) fn do_publish_update(&self, version: &str, sha256: &str, size: u64, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let held: Option<String> = tx.query_row("SELECT sha256 FROM update_bundles WHERE version = ?1", [version], |r| r.get(0)).optional()?;
        match held {
            Some(h) if h == sha256 => return Ok(()),
            Some(_) => return Err(StoreError::Update(format!("{version} is published already, with other bytes"))),
            None => {}
        }
        tx.execute(
            "INSERT INTO update_bundles (version, sha256, size, published_by, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![version, sha256, i64::try_from(size).unwrap_or(i64::MAX), by, ts(at)],
        )?;
        append_hub_audit(&tx, at, by, "update published", Some(version), &format!("{size} bytes, sha256 {sha256}"))?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn do_start_rollout(&self, r: &Rollout, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let published: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM update_bundles WHERE version = ?1)", [&r.version], |x| x.get(0))?;
        if !published {
            return Err(StoreError::Update(format!("{} is not published", r.version)));
        }
        if r.stages.is_empty() {
            return Err(StoreError::Update(format!("a rollout of {} needs at least one stage", r.version)));
        }
        let inserted = tx.execute(
            "INSERT INTO rollouts (version, body, started_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT DO NOTHING",
            params![r.version, body(r)?, ts(at)],
        )?;
        if inserted == 0 {
            return Err(StoreError::Update(format!("{} is rolling out already", r.version)));
        }
        append_hub_audit(&tx, at, by, "rollout started", Some(&r.version), &format!("{} stage(s), halts at {} failure(s)", r.stages.len(), r.max_failures))?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn do_set_rollout_state(&self, version: &str, state: RolloutState, by: &str, at: OffsetDateTime) -> Result<Rollout, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b: Option<String> = tx.query_row("SELECT body FROM rollouts WHERE version = ?1", [version], |r| r.get(0)).optional()?;
        let mut r = parse(&b.ok_or_else(|| StoreError::Update(format!("no rollout of {version}")))?)?;
        // Halted and done are final; pause and resume only move between running and paused.
        let allowed = matches!((&r.state, &state), (RolloutState::Running | RolloutState::Paused, RolloutState::Running | RolloutState::Paused | RolloutState::Halted(_)));
        if !allowed {
            return Err(StoreError::Update(format!("the rollout of {version} is {:?}; it cannot become {state:?}", r.state)));
        }
        r.state = state;
        tx.execute("UPDATE rollouts SET body = ?2, updated_at = ?3 WHERE version = ?1", params![version, body(&r)?, ts(at)])?;
        append_hub_audit(&tx, at, by, "rollout state", Some(version), &format!("{:?}", r.state))?;
        tx.commit()?;
        Ok(r)
    }

    pub(super) fn do_rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        let conn = self.pool.get()?;
        all(&conn)
    }

    pub(super) fn do_update_target(&self, terminal: &str) -> Result<Option<UpdateTarget>, StoreError> {
        let conn = self.pool.get()?;
        let village = village_of(&conn, terminal)?;
        for r in all(&conn)? {
            if !r.offers(terminal, village.as_ref()) {
                continue;
            }
            let failed: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM update_reports WHERE terminal_id = ?1 AND version = ?2 AND outcome = 'failed')",
                params![terminal, r.version],
                |x| x.get(0),
            )?;
            if failed {
                continue;
            }
            let (sha256, size): (String, i64) = conn.query_row("SELECT sha256, size FROM update_bundles WHERE version = ?1", [&r.version], |x| Ok((x.get(0)?, x.get(1)?)))?;
            return Ok(Some(UpdateTarget { version: r.version, sha256, size: u64::try_from(size).unwrap_or(0) }));
        }
        Ok(None)
    }

    pub(super) fn do_record_update_report(&self, terminal: &str, report: &UpdateReport, at: OffsetDateTime) -> Result<Change, StoreError> {
        let outcome = match report.outcome {
            UpdateOutcome::Installed => "installed",
            UpdateOutcome::Failed => "failed",
        };
        {
            // Heartbeats repeat the last report: only a new one moves anything.
            let conn = self.pool.get()?;
            let held: Option<String> = conn
                .query_row("SELECT outcome FROM update_reports WHERE terminal_id = ?1 AND version = ?2", params![terminal, report.version], |r| r.get(0))
                .optional()?;
            if held.as_deref() == Some(outcome) {
                return Ok(Change::None);
            }
        }
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO update_reports (terminal_id, version, outcome, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(terminal_id, version) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail, at = excluded.at",
            params![terminal, report.version, outcome, report.detail.as_deref().map(|d| d.chars().take(200).collect::<String>()), ts(at)],
        )?;
        append_hub_audit(&tx, at, terminal, "update reported", Some(&report.version), outcome)?;
        let b: Option<String> = tx.query_row("SELECT body FROM rollouts WHERE version = ?1", [&report.version], |r| r.get(0)).optional()?;
        let Some(b) = b else {
            tx.commit()?;
            return Ok(Change::None);
        };
        let change = advance(&tx, parse(&b)?, at)?;
        tx.commit()?;
        Ok(change)
    }

    /// Moves every running rollout on as time passes: a terminal that went
    /// offline stops holding its stage after [`crate::rollout::OFFLINE_AFTER`].
    pub(super) fn do_advance_rollouts(&self, now: OffsetDateTime) -> Result<Vec<(String, Change)>, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changes = Vec::new();
        for r in all(&tx)?.into_iter().filter(|r| r.state == RolloutState::Running) {
            let version = r.version.clone();
            let change = advance(&tx, r, now)?;
            if change != Change::None {
                changes.push((version, change));
            }
        }
        tx.commit()?;
        Ok(changes)
    }
}

/// Advances `r` against every active terminal's report and liveness at
/// `at`, keeping and auditing a change; inside the caller's write transaction.
fn advance(tx: &Connection, mut r: Rollout, at: OffsetDateTime) -> Result<Change, StoreError> {
    let since = ts(at - crate::rollout::OFFLINE_AFTER);
    let rows: Vec<(String, Option<String>, Option<String>, bool)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT t.id, t.village_code, u.outcome,
                    MAX(COALESCE(julianday(h.received_at), 0), COALESCE(julianday(t.last_seen_at), 0), COALESCE(julianday(t.added_at), 0)) >= julianday(?2)
             FROM terminals t
             LEFT JOIN update_reports u ON u.terminal_id = t.id AND u.version = ?1
             LEFT JOIN heartbeats h ON h.terminal_id = t.id
             WHERE t.status = 'active'",
        )?;
        let rows = stmt.query_map(params![r.version, since], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let villages: Vec<Option<VillageCode>> = rows.iter().map(|(_, v, _, _)| v.as_deref().and_then(|v| VillageCode::parse(v).ok())).collect();
    let members: Vec<Member<'_>> = rows
        .iter()
        .zip(&villages)
        .map(|((id, _, o, live), v)| Member { id, village: v.as_ref(), healthy: o.as_deref().map(|o| o == "installed"), live: *live })
        .collect();
    let steps = r.advance(&members);
    if !steps.is_empty() {
        tx.execute("UPDATE rollouts SET body = ?2, updated_at = ?3 WHERE version = ?1", params![r.version, body(&r)?, ts(at)])?;
    }
    // Every step its own audit entry: stages that open at once are each recorded.
    for step in &steps {
        let what = step.describe();
        append_hub_audit(tx, at, "hub", "rollout", Some(&r.version), &what)?;
        tracing::info!(version = %r.version, %what, "rollout");
    }
    Ok(steps.into_iter().last().map_or(Change::None, |s| s.change))
}
