//! The heartbeat's round on PostgreSQL: one prepared statement, one round
//! trip (it was eight: key, nonce, heartbeat, config, catalog version,
//! diagnostics, rollouts, each with its own pool checkout).
//!
//! Telemetry (the nonce, the heartbeat) is committed without waiting for
//! the WAL flush, as before: the statement sets `synchronous_commit = off`
//! for its own implicit transaction (`set_config(…, true)` lasts until that
//! transaction's commit). Being one implicit transaction, it needs no
//! connection of its own: the handler awaits it on a shared, pipelined
//! connection ([`HeartbeatStore::read_round_async`], `pool.rs`).
//!
//! A heartbeat does not write `terminals.last_seen_at`: its own row's
//! `received_at` says when the terminal was last heard, and every reader
//! takes the later of the two (fleet page, stale-first order, rollout
//! offline check, terminal list). One row updated per heartbeat, not two.

use std::sync::atomic::Ordering;

use model::audit_chain::{check_extends, AnchorCheck, AuditHead};
use model::auth::PublicKey;
use model::protocol::{Heartbeat, TerminalConfig};
use model::update::{UpdateOutcome, UpdateTarget};
use model::VillageCode;
use time::OffsetDateTime;

use crate::store::{heartbeat_to_keep, BoxFuture, HeartbeatRound, HeartbeatStore, NonceSpend, RoundRead, SpendNonce, StoreError, Unsettled};

use super::rows::*;
use super::terminals::NONCE_SWEEP_EVERY;
use super::PgStore;

/// $1 terminal, $2 the key the caller verified the signature with, $3 the
/// nonce (NULL: spent already), $4 now (unix s), $5 received at, $6 the
/// heartbeat, $7 the version of its update report. The nonce is
/// kept only if the terminal is active and holds $2; the heartbeat only if
/// the nonce was new (or NULL). The reads after it are what the answer
/// needs, with the audit anchor and the update report held (most
/// heartbeats repeat both: then nothing else is written); the caller
/// ignores them when nothing was kept.
const HEARTBEAT_SQL: &str = "WITH t AS (
    SELECT public_key, status, village_code FROM terminals WHERE id = $1
), ok AS (
    SELECT 1 FROM t WHERE $3::TEXT IS NULL OR (t.public_key = $2::TEXT AND t.status = 'active')
), ins AS (
    INSERT INTO seen_nonces (terminal_id, nonce, at) SELECT $1::TEXT, $3::TEXT, $4::BIGINT FROM ok WHERE $3::TEXT IS NOT NULL
    ON CONFLICT DO NOTHING RETURNING 1
), go AS (
    SELECT 1 FROM ok WHERE $3::TEXT IS NULL OR EXISTS (SELECT 1 FROM ins)
), kept AS (
    INSERT INTO heartbeats (terminal_id, received_at, body) SELECT $1::TEXT, $5::TIMESTAMPTZ, $6::TEXT FROM go
    ON CONFLICT (terminal_id) DO UPDATE SET received_at = excluded.received_at, body = excluded.body RETURNING 1
)
SELECT set_config('synchronous_commit', 'off', true),
    (SELECT public_key FROM t), (SELECT status FROM t), (SELECT village_code FROM t), EXISTS (SELECT 1 FROM go),
    (SELECT body FROM terminal_configs WHERE terminal_id IN ($1, '*') ORDER BY terminal_id = '*' LIMIT 1),
    (SELECT MAX(version) FROM catalogs),
    d.ids, d.shas, r.bodies, r.shas, r.sizes,
    ARRAY(SELECT version FROM update_reports WHERE terminal_id = $1 AND outcome = 'failed' AND r.bodies IS NOT NULL),
    a.seq, a.hash, (SELECT outcome FROM update_reports WHERE terminal_id = $1 AND version = $7::TEXT)
FROM (SELECT 1) one LEFT JOIN audit_anchors a ON a.terminal_id = $1,
     (SELECT array_agg(id ORDER BY requested_at, id) AS ids, array_agg(sha256 ORDER BY requested_at, id) AS shas
      FROM diagnostics_requests WHERE terminal_id = $1) d,
     (SELECT array_agg(r.body ORDER BY r.started_at DESC, r.version DESC) AS bodies,
             array_agg(b.sha256 ORDER BY r.started_at DESC, r.version DESC) AS shas,
             array_agg(b.size ORDER BY r.started_at DESC, r.version DESC) AS sizes
      FROM rollouts r JOIN update_bundles b ON b.version = r.version) r";

/// A nonce alone (every signed route but the heartbeat): the same rules.
const SPEND_SQL: &str = "WITH t AS (
    SELECT public_key, status FROM terminals WHERE id = $1::TEXT
), ins AS (
    INSERT INTO seen_nonces (terminal_id, nonce, at) SELECT $1::TEXT, $3::TEXT, $4::BIGINT FROM t WHERE t.public_key = $2::TEXT AND t.status = 'active'
    ON CONFLICT DO NOTHING RETURNING 1
), seen AS (
    UPDATE terminals SET last_seen_at = $5::TIMESTAMPTZ WHERE id = $1 AND EXISTS (SELECT 1 FROM ins) RETURNING 1
)
SELECT set_config('synchronous_commit', 'off', true), (SELECT public_key FROM t), (SELECT status FROM t), EXISTS (SELECT 1 FROM ins)";

/// The verdict from what the database holds for the terminal.
fn verdict(held_key: Option<&str>, status: Option<&str>, key: &str, fresh: bool) -> NonceSpend {
    match (held_key, status) {
        (Some(k), Some(s)) if k == key => match (s, fresh) {
            ("active", true) => NonceSpend::Fresh,
            ("active", false) => NonceSpend::Replayed,
            _ => NonceSpend::Revoked,
        },
        (Some(_), _) => NonceSpend::OtherKey,
        _ => NonceSpend::Unknown,
    }
}

impl PgStore {
    /// Forgets old nonces once every [`NONCE_SWEEP_EVERY`] spends (per instance).
    async fn maybe_sweep_nonces(&self, client: &tokio_postgres::Client, forget_before: i64) -> Result<(), StoreError> {
        if self.nonce_sweep.fetch_add(1, Ordering::Relaxed) % NONCE_SWEEP_EVERY == 0 {
            client.execute("DELETE FROM seen_nonces WHERE at < $1", &[&forget_before]).await?;
        }
        Ok(())
    }

    /// [`SPEND_SQL`] (prepared on `client` as `stmt`) and its verdict.
    #[allow(clippy::too_many_arguments)]
    async fn spend_with(&self, client: &tokio_postgres::Client, stmt: &tokio_postgres::Statement, terminal: &str, key: &PublicKey, nonce: &str, now_unix: i64, forget_before: i64) -> Result<NonceSpend, StoreError> {
        let key = key.to_string();
        let row = client.query_one(stmt, &[&terminal, &key, &nonce, &now_unix, &unix(now_unix)]).await?;
        let spend = verdict(row.try_get(1)?, row.try_get(2)?, &key, row.try_get(3)?);
        if spend == NonceSpend::Fresh {
            self.maybe_sweep_nonces(client, forget_before).await?;
        }
        Ok(spend)
    }

    /// The heartbeat's statement and what its row settles by itself.
    async fn read_round(&self, client: &tokio_postgres::Client, stmt: &tokio_postgres::Statement, terminal: &str, spend: Option<SpendNonce<'_>>, hb: &Heartbeat, at: OffsetDateTime) -> Result<RoundRead, StoreError> {
        let body = serde_json::to_string(&heartbeat_to_keep(hb)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let report_version = hb.update.as_ref().map(|u| u.version.as_str());
        let key = spend.map(|s| s.key.to_string());
        let nonce = spend.map(|s| s.nonce);
        let now_unix = spend.map_or(at.unix_timestamp(), |s| s.now_unix);
        let row = client.query_one(stmt, &[&terminal, &key, &nonce, &now_unix, &at, &body, &report_version]).await?;
        let kept: bool = row.try_get(4)?;
        let spent = match (spend, &key) {
            (Some(s), Some(k)) => {
                let v = verdict(row.try_get(1)?, row.try_get(2)?, k, kept);
                if v == NonceSpend::Fresh {
                    self.maybe_sweep_nonces(client, s.forget_before).await?;
                }
                v
            }
            // Spent by the caller: the terminal is known (it signed), and the heartbeat kept.
            _ if kept => NonceSpend::Fresh,
            _ => return Err(StoreError::UnknownTerminal(terminal.to_owned())),
        };
        let mut unsettled = Unsettled::default();
        if spent != NonceSpend::Fresh {
            return Ok(RoundRead { round: HeartbeatRound::refused(spent), unsettled });
        }
        let config_version = match row.try_get::<_, Option<&str>>(5)? {
            Some(b) => serde_json::from_str::<TerminalConfig>(b).map_err(|_| StoreError::Corrupt(format!("the config of terminal {terminal} is malformed")))?.version,
            None => TerminalConfig::default().version,
        };
        let catalog_version = row.try_get::<_, Option<i64>>(6)?.map(u64_of);
        // The oldest request not announced is pending; one announced needs
        // the object store to say whether its bundle is all there.
        let mut diagnostics = None;
        if let (Some(ids), Some(shas)) = (row.try_get::<_, Option<Vec<String>>>(7)?, row.try_get::<_, Option<Vec<Option<String>>>>(8)?) {
            match ids.into_iter().zip(shas).next() {
                Some((_, Some(_))) => unsettled.diagnostics = true,
                Some((id, None)) => {
                    diagnostics = Some(uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt("a diagnostics request id is not a UUID".into()))?);
                }
                None => {}
            }
        }
        let mut update = None;
        if let Some(bodies) = row.try_get::<_, Option<Vec<String>>>(9)? {
            let shas: Vec<String> = row.try_get::<_, Option<Vec<String>>>(10)?.unwrap_or_default();
            let sizes: Vec<i64> = row.try_get::<_, Option<Vec<i64>>>(11)?.unwrap_or_default();
            let failed: Vec<String> = row.try_get(12)?;
            let village = row.try_get::<_, Option<&str>>(3)?.and_then(|v| VillageCode::parse(v).ok());
            // As `update_target`: the newest running rollout that offers it, unless it failed that version.
            for ((b, sha), size) in bodies.iter().zip(shas).zip(sizes) {
                let r = super::rollouts::parse(b)?;
                if r.offers(terminal, village.as_ref()) && !failed.contains(&r.version) {
                    update = Some(UpdateTarget { version: r.version, sha256: sha, size: u64_of(size) });
                    break;
                }
            }
        }
        // A repeated head is answered from the read; anything else is
        // anchor_audit's (settle), in its own transaction under the
        // terminal's lock, which reads the anchor again. The heartbeat is
        // kept already: a break is still written before the answer goes,
        // and outside the telemetry's unflushed commit.
        let anchor = match (row.try_get::<_, Option<i64>>(13)?, row.try_get::<_, Option<String>>(14)?) {
            (Some(seq), Some(hash)) => Some(AuditHead { seq: u64_of(seq), hash }),
            _ => None,
        };
        let mut audit = None;
        if let Some(proof) = &hb.audit {
            match (check_extends(anchor.as_ref(), proof), anchor) {
                (check @ (AnchorCheck::Same | AnchorCheck::Unproven), Some(held)) => audit = Some((check, held)),
                _ => unsettled.audit = true,
            }
        }
        // Heartbeats repeat the last report: only a new one moves anything.
        if let Some(report) = &hb.update {
            let outcome = match report.outcome {
                UpdateOutcome::Installed => "installed",
                UpdateOutcome::Failed => "failed",
            };
            unsettled.report = row.try_get::<_, Option<&str>>(15)? != Some(outcome);
        }
        Ok(RoundRead { round: HeartbeatRound { spend: NonceSpend::Fresh, audit, config_version, catalog_version, diagnostics, update }, unsettled })
    }
}

impl HeartbeatStore for PgStore {
    fn spend_nonce(&self, terminal: &str, key: &PublicKey, nonce: &str, now_unix: i64, forget_before: i64) -> Result<NonceSpend, StoreError> {
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let stmt = client.prepared(SPEND_SQL).await?;
            self.spend_with(&client, &stmt, terminal, key, nonce, now_unix, forget_before).await
        })
    }

    fn spend_nonce_async<'a>(&'a self, terminal: &'a str, key: &'a PublicKey, nonce: &'a str, now_unix: i64, forget_before: i64) -> Option<BoxFuture<'a, Result<NonceSpend, StoreError>>> {
        Some(Box::pin(async move {
            let shared = self.pool.shared().await?;
            let stmt = shared.prepared(SPEND_SQL).await?;
            self.spend_with(&shared.client, &stmt, terminal, key, nonce, now_unix, forget_before).await
        }))
    }

    fn heartbeat_round(&self, terminal: &str, spend: Option<SpendNonce<'_>>, hb: &Heartbeat, at: OffsetDateTime) -> Result<HeartbeatRound, StoreError> {
        let read = {
            let mut client = self.pool.get()?;
            self.pool.wait(async {
                let stmt = client.prepared(HEARTBEAT_SQL).await?;
                self.read_round(&client, &stmt, terminal, spend, hb, at).await
            })?
        };
        // The connection is back in the pool: settling may take its own.
        self.settle(terminal, hb, at, read)
    }

    fn read_round_async<'a>(&'a self, terminal: &'a str, spend: Option<SpendNonce<'a>>, hb: &'a Heartbeat, at: OffsetDateTime) -> Option<BoxFuture<'a, Result<RoundRead, StoreError>>> {
        Some(Box::pin(async move {
            let shared = self.pool.shared().await?;
            let stmt = shared.prepared(HEARTBEAT_SQL).await?;
            self.read_round(&shared.client, &stmt, terminal, spend, hb, at).await
        }))
    }
}
