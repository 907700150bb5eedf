//! Remote diagnostics (issue 19), the terminal's side: when a heartbeat's
//! answer carries a request, build the bundle (`model::diagnostics`) and
//! upload it with the attachments' resumable transfer. What the kiosk adds
//! (its self-test, its recent log lines) comes through a
//! [`DiagnosticsSource`] (`source.rs`); every log line is masked here
//! (`model::mask::mask_free_text`) whatever the source gave.

use bytes::Bytes;
use model::diagnostics::{DiagnosticsAnnounce, DiagnosticsBundle, BUNDLE_LIMIT};
use model::submission::sha256_hex;
use reqwest::{Method, StatusCode};

use crate::error::StoreError;
use crate::outbox::Outbox;

use super::outcome::*;
use super::source::DiagnosticsSource;
use super::{blocking, SyncClient};

/// Log lines a bundle carries at most.
const MAX_LOG_LINES: usize = 500;

impl SyncClient {
    /// Where the kiosk's self-test and logs come from (none: the bundle has
    /// the outbox's own checks and the device table only).
    pub fn set_diagnostics_source(&self, source: std::sync::Arc<dyn DiagnosticsSource>) {
        self.diagnostics.lock().unwrap_or_else(|e| e.into_inner()).source = Some(source);
    }

    /// The bundle for request `id`, as bytes (JSON).
    pub async fn diagnostics_bundle(&self, outbox: &Outbox, id: uuid::Uuid) -> Result<Vec<u8>, StoreError> {
        let hb = self.heartbeat(outbox).await?;
        let ob = outbox.clone();
        let (integrity, audit, head) = blocking(move || Ok((ob.integrity_check()?, ob.verify_audit()?, ob.audit_head()?))).await?;
        let source = self.diagnostics.lock().unwrap_or_else(|e| e.into_inner()).source.clone();
        let mut selftest = vec![
            if integrity.is_empty() { "outbox database: ok".to_owned() } else { format!("outbox database: {} problem(s)", integrity.len()) },
            match &audit.first_broken {
                None => format!("audit chain: intact, {} entries", audit.entries),
                Some(b) => format!("audit chain: broken: {b}"),
            },
        ];
        selftest.extend(hb.devices.iter().map(|d| format!("{}: {:?}{}", d.device, d.state, d.detail.as_deref().map(|x| format!(" ({x})")).unwrap_or_default())));
        let mut logs = Vec::new();
        if let Some(src) = &source {
            selftest.extend(src.selftest().iter().map(|l| model::mask::mask_free_text(l)));
            let all = src.recent_logs();
            let skip = all.len().saturating_sub(MAX_LOG_LINES);
            logs = all[skip..].iter().map(|l| model::mask::mask_free_text(l)).collect();
        }
        let mut bundle = DiagnosticsBundle {
            request_id: id,
            terminal_id: self.terminal_id().to_owned(),
            generated_at: hb.sent_at,
            app_version: hb.app_version,
            catalog_version: hb.catalog_version,
            config_version: hb.config_version,
            queue: hb.queue,
            free_disk_bytes: hb.free_disk_bytes,
            devices: hb.devices,
            alerts: hb.alerts,
            audit_head: Some(head),
            selftest,
            logs,
        };
        loop {
            let bytes = serde_json::to_vec_pretty(&bundle).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            // Over the hub's limit: the oldest log lines go first.
            if bytes.len() as u64 <= BUNDLE_LIMIT || bundle.logs.is_empty() {
                return Ok(bytes);
            }
            let drop = bundle.logs.len().div_ceil(4);
            bundle.logs.drain(..drop);
        }
    }

    /// Answers a request from a heartbeat: the bundle built once (kept for
    /// the next rounds, so a broken upload resumes), announced, uploaded.
    pub(super) async fn answer_diagnostics(&self, outbox: &Outbox, id: uuid::Uuid, report: &mut SyncReport) -> Result<(), Failure> {
        let held = self.diagnostics.lock().unwrap_or_else(|e| e.into_inner()).built.clone().filter(|(held, _, _)| *held == id);
        let (bytes, sha256) = match held {
            Some((_, b, s)) => (b, s),
            None => {
                let b = Bytes::from(self.diagnostics_bundle(outbox, id).await.map_err(Failure::from)?);
                let s = sha256_hex(&b);
                self.diagnostics.lock().unwrap_or_else(|e| e.into_inner()).built = Some((id, b.clone(), s.clone()));
                (b, s)
            }
        };
        let announce = DiagnosticsAnnounce { sha256: sha256.clone(), size: bytes.len() as u64 };
        let body = serde_json::to_vec(&announce).map_err(|e| Failure::Stop(StopReason::LocalStore(e.to_string())))?;
        let resp = self.request(Method::POST, &format!("/v1/diagnostics/{id}"), None, Some((body, "application/json"))).await?;
        if resp.status != StatusCode::NO_CONTENT {
            return match self.failure(&resp) {
                // The request is gone or the bundle refused: nothing to retry.
                Failure::Reject(r) | Failure::Defer(r) => {
                    tracing::warn!(request = %id, reason = %r, "diagnostics bundle not taken");
                    Ok(())
                }
                stop => Err(stop),
            };
        }
        self.upload_resumable(&format!("/v1/diagnostics/{id}/bundle/{sha256}"), &sha256, bytes, false, None, report).await?;
        tracing::info!(request = %id, "diagnostics bundle uploaded");
        report.diagnostics_uploaded = Some(id);
        Ok(())
    }
}
