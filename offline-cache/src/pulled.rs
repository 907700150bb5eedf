//! What the terminal keeps besides sealed submissions, for sync: case status
//! of its acknowledged filings, evaluations waiting to be sent, and the
//! documents pulled from the hub (signed catalog, terminal config).

use model::auth::{PublicKey, SignedCatalog, SignedCatalogDelta};
use serde::{Deserialize, Serialize};
use model::document::DocumentKind;
use model::evaluation::Evaluation;
use model::protocol::{CasePart, EvaluationUpload, TerminalConfig};
use model::{CaseStatus, Catalog, SubmissionId};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::{format_ts, now, parse_ts};
use crate::error::StoreError;
use crate::outbox::Outbox;

/// The latest case status the hub reported (for the progress query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCaseStatus {
    pub status: CaseStatus,
    /// Why it was rejected, as the back office wrote it for the villager.
    pub reason: Option<String>,
    pub result_available: bool,
    pub updated_at: OffsetDateTime,
    /// A bundle filing's parts, each with its own case and status.
    pub parts: Vec<CasePart>,
}

fn status_str(s: CaseStatus) -> &'static str {
    s.name()
}

fn status_from(s: &str) -> Result<CaseStatus, StoreError> {
    CaseStatus::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("unknown case status {s:?}")))
}

/// An evaluation waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvaluation {
    pub upload: EvaluationUpload,
    pub attempts: u32,
}

impl Outbox {
    /// Acknowledged submissions (the platform has not reported them
    /// processed yet), oldest first: what a case-status pull asks about.
    pub fn awaiting_status(&self, limit: usize) -> Result<Vec<SubmissionId>, StoreError> {
        self.ids("SELECT id FROM outbox WHERE state = 'acknowledged' ORDER BY acknowledged_at, id LIMIT ?1", limit)
    }

    /// Records a case status from the hub. Returns true when it changed.
    /// Done and rejected cases are processed as far as the terminal is
    /// concerned: the record becomes `Processed` and its retention starts.
    pub fn record_case_status(
        &self,
        id: SubmissionId,
        status: CaseStatus,
        reason: Option<&str>,
        result_available: bool,
        updated_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let changed = {
            let conn = self.lock();
            let before: Option<(String, Option<String>, bool)> = conn
                .query_row("SELECT status, reason, result_available FROM case_status WHERE submission_id = ?1", [id.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let reason = reason.map(|r| truncate(r, 300));
            let same = before.as_ref().is_some_and(|(s, r, a)| s == status_str(status) && r.as_deref() == reason && *a == result_available);
            if !same {
                conn.execute(
                    "INSERT INTO case_status (submission_id, status, reason, result_available, updated_at, fetched_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(submission_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
                         result_available = excluded.result_available, updated_at = excluded.updated_at, fetched_at = excluded.fetched_at",
                    params![id.to_string(), status_str(status), reason, result_available, format_ts(updated_at), format_ts(now())],
                )?;
            }
            !same
        };
        if matches!(status, CaseStatus::Done | CaseStatus::Rejected) {
            self.mark_processed(id, updated_at)?;
        }
        Ok(changed)
    }

    /// Records the parts of a bundle filing as the hub reported them
    /// (after [`Outbox::record_case_status`]). Returns true when they changed.
    pub fn record_case_parts(&self, id: SubmissionId, parts: &[CasePart]) -> Result<bool, StoreError> {
        if parts.is_empty() {
            return Ok(false);
        }
        let json = serde_json::to_string(parts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.lock();
        let n = conn.execute(
            "UPDATE case_status SET parts = ?2 WHERE submission_id = ?1 AND parts IS NOT ?2",
            params![id.to_string(), json],
        )?;
        Ok(n > 0)
    }

    /// The case status last pulled for `id`, if any.
    pub fn case_status(&self, id: SubmissionId) -> Result<Option<LocalCaseStatus>, StoreError> {
        let conn = self.lock();
        let row: Option<(String, Option<String>, bool, String, Option<String>)> = conn
            .query_row(
                "SELECT status, reason, result_available, updated_at, parts FROM case_status WHERE submission_id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        row.map(|(s, reason, result_available, at, parts)| {
            let parts = match parts {
                Some(json) => serde_json::from_str(&json).map_err(|_| StoreError::Corrupt(format!("the parts of {id} are malformed")))?,
                None => Vec::new(),
            };
            Ok(LocalCaseStatus { status: status_from(&s)?, reason, result_available, updated_at: parse_ts(&at)?, parts })
        })
        .transpose()
    }

    /// Queues a 好差评 for the hub; returns its id. Durable when this returns.
    pub fn enqueue_evaluation(&self, evaluation: &Evaluation) -> Result<Uuid, StoreError> {
        let upload = EvaluationUpload { id: Uuid::now_v7(), evaluation: evaluation.clone(), rated_at: now() };
        let body = serde_json::to_string(&upload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.lock();
        conn.execute(
            "INSERT INTO evaluations (id, body, state, created_at) VALUES (?1, ?2, 'queued', ?3)",
            params![upload.id.to_string(), body, format_ts(upload.rated_at)],
        )?;
        Ok(upload.id)
    }

    pub fn pending_evaluations(&self, limit: usize) -> Result<Vec<PendingEvaluation>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached("SELECT body, attempts FROM evaluations WHERE state = 'queued' ORDER BY created_at, id LIMIT ?1")?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for r in rows {
            let (body, attempts) = r?;
            let upload: EvaluationUpload = serde_json::from_str(&body).map_err(|_| StoreError::Corrupt("a stored evaluation is malformed".into()))?;
            out.push(PendingEvaluation { upload, attempts: u32::try_from(attempts).unwrap_or(u32::MAX) });
        }
        Ok(out)
    }

    /// Evaluations not yet sent (queued), for heartbeats.
    pub fn evaluations_unsent(&self) -> Result<u64, StoreError> {
        let n: i64 = self.lock().query_row("SELECT COUNT(*) FROM evaluations WHERE state = 'queued'", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The hub has it: nothing of it is kept.
    pub(crate) fn evaluation_sent(&self, id: Uuid) -> Result<(), StoreError> {
        self.lock().execute("DELETE FROM evaluations WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    pub(crate) fn evaluation_attempted(&self, id: Uuid) -> Result<(), StoreError> {
        self.lock().execute("UPDATE evaluations SET attempts = attempts + 1 WHERE id = ?1", [id.to_string()])?;
        Ok(())
    }

    /// The hub refused it for a reason of its own; kept for a technician, not resent.
    pub(crate) fn evaluation_rejected(&self, id: Uuid, reason: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE evaluations SET state = 'rejected', reason = ?2 WHERE id = ?1",
            params![id.to_string(), truncate(reason, 300)],
        )?;
        Ok(())
    }

    /// When the oldest submission still to send was saved.
    pub fn oldest_unsent_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let oldest: Option<String> =
            self.lock().query_row("SELECT MIN(created_at) FROM outbox WHERE state IN ('queued', 'sending')", [], |r| r.get(0))?;
        oldest.as_deref().map(parse_ts).transpose()
    }

    fn pulled(&self, kind: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        // Read as bytes whatever the stored type: a hand-edited row must not break sync.
        let row: Option<(i64, Vec<u8>)> = self
            .lock()
            .query_row("SELECT version, CAST(body AS BLOB) FROM pulled WHERE kind = ?1", [kind], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|(v, b)| (u64::try_from(v).unwrap_or(0), b)))
    }

    fn store_pulled(&self, kind: &str, version: u64, body: &[u8]) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO pulled (kind, version, body, fetched_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(kind) DO UPDATE SET version = excluded.version, body = excluded.body, fetched_at = excluded.fetched_at",
            params![kind, i64::try_from(version).unwrap_or(i64::MAX), body, format_ts(now())],
        )?;
        Ok(())
    }

    /// Version of the catalog pulled last, if any.
    pub fn catalog_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.pulled("catalog")?.map(|(v, _)| v))
    }

    /// Keeps a signed catalog that verified, and the signed deltas applied
    /// on top of it since. The signed forms are kept, so they are checked
    /// again whenever they are loaded.
    pub(crate) fn store_catalog(&self, chain: &CatalogChain) -> Result<(), StoreError> {
        let body = serde_json::to_vec(chain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let version = chain.deltas.last().map_or(chain.base.version, |d| d.to_version);
        self.store_pulled("catalog", version, &body)
    }

    /// The stored chain, as stored (not verified). Rows written before
    /// deltas hold a bare signed catalog: read as a chain without deltas.
    pub(crate) fn catalog_chain(&self) -> Result<Option<CatalogChain>, StoreError> {
        let Some((_, body)) = self.pulled("catalog")? else { return Ok(None) };
        if let Ok(chain) = serde_json::from_slice::<CatalogChain>(&body) {
            return Ok(Some(chain));
        }
        Ok(serde_json::from_slice::<SignedCatalog>(&body).ok().map(|base| CatalogChain { base, deltas: Vec::new() }))
    }

    /// How many deltas sit on top of the stored full catalog (0 when the
    /// last pull was a full copy, or there is none).
    pub fn catalog_deltas_held(&self) -> Result<usize, StoreError> {
        Ok(self.catalog_chain()?.map_or(0, |c| c.deltas.len()))
    }

    /// The catalog pulled last, verified again under `key` (the full copy,
    /// then each delta). None when there is none or it no longer verifies
    /// (the kiosk then uses its built-in one).
    pub fn cached_catalog(&self, key: &PublicKey) -> Result<Option<Catalog>, StoreError> {
        let Some(chain) = self.catalog_chain()? else { return Ok(None) };
        match chain.verify(key) {
            Ok(catalog) => Ok(Some(catalog)),
            Err(e) => {
                tracing::warn!(error = %e, "the stored catalog does not verify; ignored");
                Ok(None)
            }
        }
    }

    /// The terminal config pulled last.
    pub fn terminal_config(&self) -> Result<Option<TerminalConfig>, StoreError> {
        let Some((_, body)) = self.pulled("config")? else { return Ok(None) };
        Ok(serde_json::from_slice(&body).ok())
    }

    /// Keeps a config the hub signed at `issued_at` (see [`Self::document_applied_at`]).
    pub(crate) fn store_terminal_config(&self, config: &TerminalConfig, issued_at: i64) -> Result<(), StoreError> {
        let body = serde_json::to_vec(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store_pulled("config", config.version, &body)?;
        set_document_applied_at(&self.lock(), DocumentKind::TerminalConfig, issued_at)
    }

    /// When the hub issued the document of `kind` applied last: an older
    /// one (a replay) is refused.
    pub fn document_applied_at(&self, kind: DocumentKind) -> Result<Option<i64>, StoreError> {
        let key = format!("applied_{}", kind.as_str());
        Ok(self.lock().query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// An audit entry about a document from the hub (e.g. refused: bad signature).
    pub(crate) fn audit_hub_document(&self, kind: DocumentKind, outcome: &str) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let conn = self.lock();
        let action = format!("hub {}", kind.as_str());
        crate::audit::append(&conn, now(), &crate::audit::Record { terminal: &terminal, operator: None, action: &action, subject: None, outcome })
    }
}

/// Records `issued_at` for `kind` (inside the caller's transaction where it has one).
pub(crate) fn set_document_applied_at(conn: &rusqlite::Connection, kind: DocumentKind, issued_at: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![format!("applied_{}", kind.as_str()), issued_at],
    )?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    let mut cut = s.len().min(max);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// A signed full catalog and the signed deltas applied on top of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogChain {
    pub base: SignedCatalog,
    #[serde(default)]
    pub deltas: Vec<SignedCatalogDelta>,
}

impl CatalogChain {
    pub(crate) fn verify(&self, key: &PublicKey) -> Result<Catalog, model::auth::AuthError> {
        let (mut catalog, _) = self.base.verify(key)?;
        for d in &self.deltas {
            catalog = d.apply(key, &catalog)?;
        }
        Ok(catalog)
    }
}
