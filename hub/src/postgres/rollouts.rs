//! Published updates and their rollouts on PostgreSQL: the decisions are
//! `crate::rollout`'s; every change is in the hub's audit.

use model::update::{UpdateOutcome, UpdateReport, UpdateTarget};
use model::VillageCode;
use time::OffsetDateTime;
use tokio_postgres::GenericClient;

use crate::rollout::{Change, Member, Rollout, RolloutState};
use crate::store::{RolloutStore, StoreError};

use super::audit::append_hub_audit;
use super::rows::*;
use super::PgStore;

/// Every rollout decision takes this lock: stages open once, across instances.
const ROLLOUT_LOCK: &str = "cunban-rollouts";

pub(super) fn parse(body: &str) -> Result<Rollout, StoreError> {
    serde_json::from_str(body).map_err(|_| StoreError::Corrupt("a stored rollout is malformed".into()))
}

fn body(r: &Rollout) -> Result<String, StoreError> {
    serde_json::to_string(r).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn all(c: &impl GenericClient) -> Result<Vec<Rollout>, StoreError> {
    // Read on every heartbeat: no parameters to type, one round trip.
    let rows = c.query_typed("SELECT body FROM rollouts ORDER BY started_at DESC, version DESC", &[]).await?;
    rows.iter().map(|r| parse(r.try_get(0)?)).collect()
}

impl RolloutStore for PgStore {
    fn publish_update(&self, version: &str, sha256: &str, size: u64, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&ROLLOUT_LOCK]).await?;
            match tx.query_opt("SELECT sha256 FROM update_bundles WHERE version = $1", &[&version]).await? {
                Some(r) if r.try_get::<_, &str>(0)? == sha256 => return Ok(()),
                Some(_) => return Err(StoreError::Update(format!("{version} is published already, with other bytes"))),
                None => {}
            }
            tx.execute(
                "INSERT INTO update_bundles (version, sha256, size, published_by, published_at) VALUES ($1, $2, $3, $4, $5)",
                &[&version, &sha256, &i64_of(size), &by, &at],
            )
            .await?;
            append_hub_audit(&tx, at, by, "update published", Some(version), &format!("{size} bytes, sha256 {sha256}")).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn start_rollout(&self, r: &Rollout, by: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&ROLLOUT_LOCK]).await?;
            if tx.query_opt("SELECT 1 FROM update_bundles WHERE version = $1", &[&r.version]).await?.is_none() {
                return Err(StoreError::Update(format!("{} is not published", r.version)));
            }
            if r.stages.is_empty() {
                return Err(StoreError::Update(format!("a rollout of {} needs at least one stage", r.version)));
            }
            let inserted = tx
                .execute("INSERT INTO rollouts (version, body, started_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING", &[&r.version, &body(r)?, &at])
                .await?;
            if inserted == 0 {
                return Err(StoreError::Update(format!("{} is rolling out already", r.version)));
            }
            append_hub_audit(&tx, at, by, "rollout started", Some(&r.version), &format!("{} stage(s), halts at {} failure(s)", r.stages.len(), r.max_failures)).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_rollout_state(&self, version: &str, state: RolloutState, by: &str, at: OffsetDateTime) -> Result<Rollout, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&ROLLOUT_LOCK]).await?;
            let row = tx.query_opt("SELECT body FROM rollouts WHERE version = $1", &[&version]).await?;
            let mut r = parse(row.ok_or_else(|| StoreError::Update(format!("no rollout of {version}")))?.try_get(0)?)?;
            // Halted and done are final; pause and resume only move between running and paused.
            let allowed = matches!((&r.state, &state), (RolloutState::Running | RolloutState::Paused, RolloutState::Running | RolloutState::Paused | RolloutState::Halted(_)));
            if !allowed {
                return Err(StoreError::Update(format!("the rollout of {version} is {:?}; it cannot become {state:?}", r.state)));
            }
            r.state = state;
            tx.execute("UPDATE rollouts SET body = $2, updated_at = $3 WHERE version = $1", &[&version, &body(&r)?, &at]).await?;
            append_hub_audit(&tx, at, by, "rollout state", Some(version), &format!("{:?}", r.state)).await?;
            tx.commit().await?;
            Ok(r)
        })
    }

    fn rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(all(&*client))
    }

    fn keep_update_bundle(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.updates.keep(sha256, bytes)
    }

    fn update_bundle_range(&self, terminal: &str, version: &str, offset: u64, max: u64) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let Some(target) = self.update_target(terminal)? else { return Ok(None) };
        if target.version != version {
            return Ok(None);
        }
        self.updates.range(&target.sha256, target.size, offset, max)
    }

    fn update_target(&self, terminal: &str) -> Result<Option<UpdateTarget>, StoreError> {
        let client = self.pool.get()?;
        self.pool.wait(async {
            let rollouts = all(&*client).await?;
            if rollouts.is_empty() {
                return Ok(None);
            }
            let village = client
                .query_opt("SELECT village_code FROM terminals WHERE id = $1", &[&terminal])
                .await?
                .map(|r| r.try_get::<_, Option<String>>(0))
                .transpose()?
                .flatten()
                .and_then(|v| VillageCode::parse(&v).ok());
            for r in rollouts {
                if !r.offers(terminal, village.as_ref()) {
                    continue;
                }
                let failed = client
                    .query_opt("SELECT 1 FROM update_reports WHERE terminal_id = $1 AND version = $2 AND outcome = 'failed'", &[&terminal, &r.version])
                    .await?
                    .is_some();
                if failed {
                    continue;
                }
                let b = client.query_one("SELECT sha256, size FROM update_bundles WHERE version = $1", &[&r.version]).await?;
                return Ok(Some(UpdateTarget { version: r.version, sha256: b.try_get(0)?, size: u64_of(b.try_get(1)?) }));
            }
            Ok(None)
        })
    }

    fn record_update_report(&self, terminal: &str, report: &UpdateReport, at: OffsetDateTime) -> Result<Change, StoreError> {
        let outcome = match report.outcome {
            UpdateOutcome::Installed => "installed",
            UpdateOutcome::Failed => "failed",
        };
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            // Heartbeats repeat the last report: only a new one moves anything.
            let held = client.query_opt("SELECT outcome FROM update_reports WHERE terminal_id = $1 AND version = $2", &[&terminal, &report.version]).await?;
            if held.map(|r| r.try_get::<_, String>(0)).transpose()?.as_deref() == Some(outcome) {
                return Ok(Change::None);
            }
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&ROLLOUT_LOCK]).await?;
            let detail = report.detail.as_deref().map(|d| d.chars().take(200).collect::<String>());
            tx.execute(
                "INSERT INTO update_reports (terminal_id, version, outcome, detail, at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (terminal_id, version) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail, at = excluded.at",
                &[&terminal, &report.version, &outcome, &detail, &at],
            )
            .await?;
            append_hub_audit(&tx, at, terminal, "update reported", Some(&report.version), outcome).await?;
            let Some(row) = tx.query_opt("SELECT body FROM rollouts WHERE version = $1", &[&report.version]).await? else {
                tx.commit().await?;
                return Ok(Change::None);
            };
            let change = advance(&tx, parse(row.try_get(0)?)?, at).await?;
            tx.commit().await?;
            Ok(change)
        })
    }

    fn advance_rollouts(&self, now: OffsetDateTime) -> Result<Vec<(String, Change)>, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            tx.execute(LOCK_SQL, &[&ROLLOUT_LOCK]).await?;
            let mut changes = Vec::new();
            for r in all(&tx).await?.into_iter().filter(|r| r.state == RolloutState::Running) {
                let version = r.version.clone();
                let change = advance(&tx, r, now).await?;
                if change != Change::None {
                    changes.push((version, change));
                }
            }
            tx.commit().await?;
            Ok(changes)
        })
    }
}

/// Advances `r` against every active terminal's report and liveness at
/// `at`, keeping and auditing a change; under the caller's rollout lock.
async fn advance(tx: &impl GenericClient, mut r: Rollout, at: OffsetDateTime) -> Result<Change, StoreError> {
    let since = at - crate::rollout::OFFLINE_AFTER;
    let rows = tx
        .query(
            "SELECT t.id, t.village_code, u.outcome, COALESCE(GREATEST(h.received_at, t.last_seen_at, t.added_at) >= $2, false)
             FROM terminals t
             LEFT JOIN update_reports u ON u.terminal_id = t.id AND u.version = $1
             LEFT JOIN heartbeats h ON h.terminal_id = t.id
             WHERE t.status = 'active'",
            &[&r.version, &since],
        )
        .await?;
    let mut fleet: Vec<(String, Option<VillageCode>, Option<bool>, bool)> = Vec::with_capacity(rows.len());
    for x in rows {
        let village = x.try_get::<_, Option<&str>>(1)?.and_then(|v| VillageCode::parse(v).ok());
        let healthy = x.try_get::<_, Option<&str>>(2)?.map(|o| o == "installed");
        fleet.push((x.try_get(0)?, village, healthy, x.try_get(3)?));
    }
    let members: Vec<Member<'_>> = fleet.iter().map(|(id, v, h, live)| Member { id, village: v.as_ref(), healthy: *h, live: *live }).collect();
    let steps = r.advance(&members);
    if !steps.is_empty() {
        tx.execute("UPDATE rollouts SET body = $2, updated_at = $3 WHERE version = $1", &[&r.version, &body(&r)?, &at]).await?;
    }
    // Every step its own audit entry: stages that open at once are each recorded.
    for step in &steps {
        let what = step.describe();
        append_hub_audit(tx, at, "hub", "rollout", Some(&r.version), &what).await?;
        tracing::info!(version = %r.version, %what, "rollout");
    }
    Ok(steps.into_iter().last().map_or(Change::None, |s| s.change))
}
