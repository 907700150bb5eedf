//! A full round besides submissions: evaluations out, case status,
//! operator accounts, heartbeat, and the signed catalog and config in.

use std::time::{Duration, Instant};

use model::protocol::{CatalogUpdate, CaseStatusList, CaseStatusQuery, EvaluationAck, Heartbeat, HeartbeatAck, QueueSnapshot, TerminalConfig};
use model::document::{DocumentKind, SignedDocument};
use model::operator::OperatorList;
use reqwest::{Method, StatusCode};
use serde_json::de::from_slice;

use crate::error::StoreError;
use crate::pulled::CatalogChain;

/// Deltas kept on top of the stored full catalog before asking for a fresh
/// full copy (each load re-verifies the chain).
const MAX_STORED_DELTAS: usize = 32;
use crate::outbox::Outbox;

use super::outcome::*;
use super::{blocking, SyncClient};

impl SyncClient {
    /// Pulls the operator accounts assigned to this terminal and replaces
    /// the local list (revocations apply from here on). The kiosk calls it
    /// when a first login finds no accounts; rounds call it with the heartbeat.
    pub async fn pull_operators(&self, outbox: &Outbox) -> Result<(usize, usize), StopReason> {
        let doc = match self.pull_signed::<OperatorList>(outbox, DocumentKind::Operators, "/v1/operators", "operator accounts").await {
            Ok(Some(d)) => d,
            Ok(None) => return Err(StopReason::UnexpectedStatus { status: 422 }),
            Err(Failure::Stop(s)) => return Err(s),
            Err(Failure::Reject(r) | Failure::Defer(r)) => return Err(StopReason::UnexpectedStatus { status: if r.contains("404") { 404 } else { 422 } }),
        };
        let ob = outbox.clone();
        let counts = blocking(move || ob.apply_operators(&doc.0, doc.1)).await.map_err(|e| StopReason::LocalStore(e.to_string()))?;
        tracing::info!(accounts = counts.0, revoked = counts.1, "operator accounts pulled");
        Ok(counts)
    }

    /// Fetches a document the hub signs for this terminal and opens it with
    /// the pinned hub key. Ok(None): refused (no key pinned, not signed by
    /// it, for another terminal, older than what was applied): logged and
    /// audited, and what the terminal has stays in force.
    pub(super) async fn pull_signed<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        outbox: &Outbox,
        kind: DocumentKind,
        path: &str,
        what: &'static str,
    ) -> Result<Option<(T, i64)>, Failure> {
        let Some(key) = self.config.hub_key else {
            tracing::warn!("no hub key pinned (hub_public_key): {what} from the hub are not applied");
            return Ok(None);
        };
        let doc: SignedDocument = self.call_json(Method::GET, path, None, what).await?;
        let ob = outbox.clone();
        let applied = blocking(move || ob.document_applied_at(kind)).await.map_err(Failure::from)?;
        match doc.open::<T>(&key, kind, self.terminal_id(), applied) {
            Ok(v) => Ok(Some((v, doc.issued_at))),
            Err(e) => {
                tracing::error!(error = %e, "refused {what} from the hub");
                let (ob, outcome) = (outbox.clone(), format!("refused: {e}"));
                blocking(move || ob.audit_hub_document(kind, &outcome)).await.map_err(Failure::from)?;
                Ok(None)
            }
        }
    }

    /// One full round with the hub: submissions (a batch), evaluations, and
    /// when the heartbeat is due the case status of acknowledged filings,
    /// the heartbeat, and the catalog and config when the hub has newer ones. Stops at the first
    /// failure that says the link or hub is not usable.
    pub async fn sync_all(&self, outbox: &Outbox) -> SyncReport {
        let report = self.sync_all_inner(outbox).await;
        self.after_stop(&report);
        report
    }

    pub(super) async fn sync_all_inner(&self, outbox: &Outbox) -> SyncReport {
        let mut report = SyncReport::default();
        let Some(pending) = self.pending_batch(outbox, &mut report).await else { return report };
        if let Err(stop) = self.check_health_if_stale().await {
            if let Some(head) = pending.first() {
                self.unreachable(outbox, head.id, &stop, pending.len()).await;
            }
            report.stopped = Some(stop);
            return report;
        }
        let Some(pending) = self.reconcile_then_pending(outbox, pending, &mut report).await else { return report };
        self.send_batch(outbox, pending, &mut report).await;
        if report.stopped.is_some() {
            return report;
        }
        let steps = async {
            self.push_evaluations(outbox, &mut report).await?;
            self.heartbeat_if_due(outbox, &mut report).await
        };
        if let Err(f) = steps.await {
            report.stopped = Some(match f {
                Failure::Stop(s) => s,
                Failure::Reject(r) | Failure::Defer(r) => StopReason::UnexpectedStatus { status: if r.contains("409") { 409 } else { 422 } },
            });
        }
        report
    }

    pub(super) async fn push_evaluations(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let pending = blocking(move || ob.pending_evaluations(50)).await.map_err(Failure::from)?;
        for ev in pending {
            let id = ev.upload.id;
            let body = serde_json::to_vec(&ev.upload).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
            let ob = outbox.clone();
            let _ = blocking(move || ob.evaluation_attempted(id)).await;
            let resp = self.request(Method::PUT, &format!("/v1/evaluations/{id}"), None, Some((body, "application/json"))).await?;
            let ob = outbox.clone();
            if resp.status.is_success() {
                let _: EvaluationAck = Self::expect_json(&resp.body, "evaluation upload")?;
                blocking(move || ob.evaluation_sent(id)).await.map_err(Failure::from)?;
                report.evaluations_sent += 1;
                continue;
            }
            match self.failure(&resp) {
                Failure::Reject(reason) | Failure::Defer(reason) => {
                    tracing::warn!(evaluation = %id, %reason, "evaluation refused; kept aside");
                    blocking(move || ob.evaluation_rejected(id, &reason)).await.map_err(Failure::from)?;
                }
                stop => return Err(stop),
            }
        }
        Ok(())
    }

    pub(super) async fn pull_case_status(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let ids = blocking(move || ob.awaiting_status(CaseStatusQuery::MAX)).await.map_err(Failure::from)?;
        if ids.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&CaseStatusQuery { submission_ids: ids }).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let list: CaseStatusList = self.call_json(Method::POST, "/v1/case-status", Some(body), "case status").await?;
        for c in list.cases {
            let ob = outbox.clone();
            let (id, status, reason, result, at, parts) = (c.submission_id, c.status, c.reason, c.result_available, c.updated_at, c.parts);
            let changed = blocking(move || {
                let changed = ob.record_case_status(id, status, reason.as_deref(), result, at)?;
                Ok(ob.record_case_parts(id, &parts)? || changed)
            })
            .await
            .map_err(Failure::from)?;
            if changed {
                tracing::info!(%id, case = %c.case_number, ?status, "case status");
                report.case_updates.push((id, status));
            }
        }
        Ok(())
    }

    pub(super) fn heartbeat_due(&self, interval: Duration) -> bool {
        let last = self.last_heartbeat.lock().unwrap_or_else(|e| e.into_inner());
        last.is_none_or(|t| t.elapsed() >= interval)
    }

    /// Sends a heartbeat now (the kiosk's round calls it when due).
    pub(super) async fn heartbeat_if_due(&self, outbox: &Outbox, report: &mut SyncReport) -> Result<(), Failure> {
        let ob = outbox.clone();
        let local_config = blocking(move || ob.terminal_config()).await.map_err(Failure::from)?;
        // Version 0 is the hub's built-in default: ours stands until the hub sets one.
        let interval = local_config
            .as_ref()
            .filter(|c| c.version > 0)
            .map_or(self.config.heartbeat_interval, |c| Duration::from_secs(c.heartbeat_interval_secs.max(10)));
        if !self.heartbeat_due(interval) {
            return Ok(());
        }
        // Case status rides on the heartbeat's cadence: processing takes
        // days, and 20,000 terminals asking every round would be most of the hub's load.
        self.pull_case_status(outbox, report).await?;
        // Accounts ride on the same cadence: a revocation reaches the van at its next round.
        match self.pull_operators(outbox).await {
            Ok(counts) => report.operators_updated = Some(counts),
            Err(StopReason::UnexpectedStatus { .. }) => tracing::info!("the hub has no operator accounts for this terminal"),
            Err(stop) => return Err(Failure::Stop(stop)),
        }
        let ack = self.send_heartbeat(outbox).await?;
        report.heartbeat_sent = true;
        if let Some(req) = &ack.diagnostics {
            self.answer_diagnostics(outbox, req.id, report).await?;
        }
        let ob = outbox.clone();
        let local_catalog = blocking(move || ob.catalog_version()).await.map_err(Failure::from)?;
        if self.config.catalog_key.is_some() && ack.catalog_version.is_some_and(|v| Some(v) > local_catalog) {
            self.pull_catalog(outbox, local_catalog, report).await?;
        }
        if local_config.as_ref().is_none_or(|c| ack.config_version > c.version) {
            let pulled = self.pull_signed::<TerminalConfig>(outbox, DocumentKind::TerminalConfig, "/v1/terminal/config", "terminal config").await?;
            if let Some((config, issued_at)) = pulled.filter(|(config, _)| local_config.as_ref().is_none_or(|c| config.version > c.version)) {
                let (ob, v) = (outbox.clone(), config.version);
                blocking(move || ob.store_terminal_config(&config, issued_at)).await.map_err(Failure::from)?;
                tracing::info!(version = v, "terminal config updated");
                report.config_updated = Some(v);
            }
        }
        self.follow_update(ack.update.as_ref(), report).await?;
        Ok(())
    }

    /// What the hub hears about this terminal.
    pub async fn heartbeat(&self, outbox: &Outbox) -> Result<Heartbeat, StoreError> {
        let ob = outbox.clone();
        let now = self.now();
        let (counts, oldest, evaluations_unsent, catalog_version, config, alerts, free, audit) = blocking(move || {
            let alerts: Vec<String> = ob.alerts(now)?.iter().map(|a| a.code().to_owned()).collect();
            Ok((
                ob.counts()?,
                ob.oldest_unsent_at()?,
                ob.evaluations_unsent()?,
                ob.catalog_version()?,
                ob.terminal_config()?,
                alerts,
                crate::disk::free_bytes(ob.dir()).ok(),
                ob.audit_proof()?,
            ))
        })
        .await?;
        let mut alerts = alerts;
        let offset = self.clock_offset();
        if offset.unsigned_abs() > self.config.max_clock_skew.as_secs() {
            alerts.push("clock_skew".into());
        }
        if self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            alerts.push("catalog_refused".into());
        }
        Ok(Heartbeat {
            sent_at: now,
            app_version: self.config.app_version.clone(),
            catalog_version,
            config_version: config.map(|c| c.version),
            queue: QueueSnapshot {
                unsent: counts.unsent(),
                quarantined: counts.quarantined,
                acknowledged: counts.acknowledged,
                oldest_unsent_secs: oldest.map(|t| u64::try_from((now - t).whole_seconds()).unwrap_or(0)),
                evaluations_unsent,
            },
            free_disk_bytes: free,
            devices: self.devices.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect(),
            alerts,
            clock_offset_secs: offset,
            audit: Some(audit),
            update: self.updates_dir().and_then(|d| super::update_files::update_report(d)),
        })
    }

    pub(super) async fn send_heartbeat(&self, outbox: &Outbox) -> Result<HeartbeatAck, Failure> {
        let hb = self.heartbeat(outbox).await.map_err(Failure::from)?;
        let body = serde_json::to_vec(&hb).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let ack: HeartbeatAck = self.call_json(Method::POST, "/v1/heartbeat", Some(body), "heartbeat").await?;
        *self.last_heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        if let Some(anchor) = ack.audit_anchor.clone() {
            let ob = outbox.clone();
            blocking(move || ob.audit_acknowledged(&anchor)).await.map_err(Failure::from)?;
        }
        Ok(ack)
    }

    /// Fetches a newer catalog: the signed deltas from ours when the hub
    /// has a short chain of them, else the full copy. Keeps the result only
    /// if every signature verifies under our catalog key and each delta
    /// applies exactly; otherwise the catalog in use is kept.
    pub(super) async fn pull_catalog(&self, outbox: &Outbox, local: Option<u64>, report: &mut SyncReport) -> Result<(), Failure> {
        let Some(key) = self.config.catalog_key else { return Ok(()) };
        let ob = outbox.clone();
        let held = blocking(move || ob.catalog_chain()).await.map_err(Failure::from)?;
        // A long stored chain is traded for a fresh full copy (since=0).
        let since = match &held {
            Some(chain) if chain.deltas.len() < MAX_STORED_DELTAS => local.unwrap_or(0),
            _ => 0,
        };
        let resp = self.request(Method::GET, &format!("/v1/catalog?since={since}&deltas=1"), None, None).await?;
        match resp.status {
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => return Ok(()),
            s if s.is_success() => {}
            _ => return Err(self.failure(&resp)),
        }
        let refuse = |why: String, report: &mut SyncReport| {
            tracing::warn!(reason = %why, "catalog refused; the one in use is kept");
            *self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
            report.catalog_refused = Some(why);
        };
        let update: CatalogUpdate = match from_slice(&resp.body) {
            Ok(u) => u,
            Err(_) => {
                refuse("the hub's catalog answer is not a signed catalog update".into(), report);
                return Ok(());
            }
        };
        let chain = match update {
            CatalogUpdate::Full { catalog } => {
                if local.is_some_and(|l| catalog.version <= l) {
                    return Ok(());
                }
                if let Err(e) = catalog.verify(&key) {
                    refuse(format!("catalog version {} (key {}): {e}", catalog.version, catalog.key_fingerprint), report);
                    return Ok(());
                }
                CatalogChain { base: catalog, deltas: Vec::new() }
            }
            CatalogUpdate::Deltas { deltas } => {
                let Some(mut chain) = held else {
                    refuse("the hub sent deltas but this terminal holds no catalog to apply them to".into(), report);
                    return Ok(());
                };
                let mut current = match chain.verify(&key) {
                    Ok(c) => c,
                    Err(e) => {
                        refuse(format!("the stored catalog no longer verifies: {e}"), report);
                        return Ok(());
                    }
                };
                for d in deltas {
                    match d.apply(&key, &current) {
                        Ok(next) => current = next,
                        Err(e) => {
                            refuse(format!("catalog delta {} → {} (key {}): {e}", d.from_version, d.to_version, d.key_fingerprint), report);
                            return Ok(());
                        }
                    }
                    chain.deltas.push(d);
                }
                if chain.deltas.is_empty() {
                    return Ok(());
                }
                chain
            }
        };
        let v = chain.deltas.last().map_or(chain.base.version, |d| d.to_version);
        let ob = outbox.clone();
        blocking(move || ob.store_catalog(&chain)).await.map_err(Failure::from)?;
        *self.catalog_problem.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!(version = v, "catalog updated");
        report.catalog_updated = Some(v);
        Ok(())
    }
}
