//! Reading the index: one entry, lookups for the progress query, counts,
//! the pending batch, alerts, settings, the audit log.

use model::{CaseNumber, IdNumber, SubmissionId};
use time::OffsetDateTime;

use super::rows::{entry_from_row, opt_ts, std_to_time, stored_envelope, ENTRY_COLUMNS};
use super::types::{Alert, OutboxEntry, OutboxState, QueueCounts, SealedCopy, StoreSettings};
use model::seal::SealedAttachment;
use super::Outbox;
use crate::audit::{self, AuditEntry, AuditReport};
use crate::clock::{format_ts, parse_ts};
use crate::disk;
use crate::schema;
use model::submission::sha256_hex;
use crate::error::StoreError;

impl Outbox {
    pub fn entry(&self, id: SubmissionId) -> Result<Option<OutboxEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id = ?1"))?;
        let mut rows = stmt.query([id.to_string()])?;
        match rows.next()? {
            Some(row) => Ok(Some(entry_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// A villager's filings on this terminal, from their ID card (progress
    /// query), newest first. The number itself is not stored: see `index.rs`.
    pub fn find_by_id_number(&self, id_number: &IdNumber) -> Result<Vec<OutboxEntry>, StoreError> {
        let hash = self.inner.index_key.id_number_hash(id_number);
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE id_number_hash = ?1 ORDER BY created_at DESC, id"))?;
        let mut rows = stmt.query([hash])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(entry_from_row(row)?);
        }
        Ok(out)
    }

    /// The filing the platform numbered `case_number` (receipt QR or typed
    /// number), in any state the outbox still keeps (finished ones too, until
    /// they are purged). A terminal holds a few thousand rows at most, so
    /// this scans rather than keeping another index.
    pub fn find_by_case_number(&self, case_number: &CaseNumber) -> Result<Vec<OutboxEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE case_number = ?1 ORDER BY created_at DESC, id"))?;
        let mut rows = stmt.query([case_number.as_str()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(entry_from_row(row)?);
        }
        Ok(out)
    }

    /// How many filings this terminal holds per item code (常办): codes and
    /// counts only, nothing personal. Covers what the outbox still holds,
    /// i.e. the retention window, so it follows what the village files now.
    pub fn filed_counts(&self) -> Result<std::collections::HashMap<String, u32>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT item_code, COUNT(*) FROM outbox GROUP BY item_code")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (code, n) = row?;
            out.insert(code, u32::try_from(n).unwrap_or(u32::MAX));
        }
        Ok(out)
    }

    pub fn counts(&self) -> Result<QueueCounts, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
        let mut rows = stmt.query([])?;
        let mut counts = QueueCounts::default();
        while let Some(row) = rows.next()? {
            let state: String = row.get(0)?;
            let n: i64 = row.get(1)?;
            let n = u64::try_from(n).unwrap_or(0);
            match OutboxState::from_db(&state)? {
                OutboxState::Queued => counts.queued = n,
                OutboxState::Sending => counts.sending = n,
                OutboxState::Acknowledged => counts.acknowledged = n,
                OutboxState::Processed => counts.processed = n,
                OutboxState::Purged => counts.purged = n,
                OutboxState::Quarantined => counts.quarantined = n,
            }
        }
        Ok(counts)
    }

    /// When the hub last acknowledged a filing from here (the last sync
    /// that moved anything), for `kioskctl status`.
    pub fn last_acknowledged_at(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let conn = self.lock();
        let at: Option<String> = conn.query_row("SELECT MAX(acknowledged_at) FROM outbox", [], |r| r.get(0))?;
        opt_ts(at)
    }

    /// Up to `limit` submissions still to send, oldest first. Includes
    /// `Sending` (a crash mid-send leaves that state behind, and the hub's
    /// idempotent endpoints make resending safe); never `Quarantined`.
    pub fn pending(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY created_at, id LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query([limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(entry_from_row(row)?);
        }
        Ok(out)
    }

    /// What a technician should look at now: stale queue, quarantined
    /// records, low disk, a database moved aside. Staleness is judged at `now`.
    pub fn alerts(&self, now: OffsetDateTime) -> Result<Vec<Alert>, StoreError> {
        let mut out = Vec::new();
        let conn = self.lock();
        let cutoff = format_ts(now - std_to_time(self.inner.thresholds.stale_after));
        let (stale, oldest): (i64, Option<String>) = conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state IN ('queued', 'sending') AND created_at <= ?1",
            [cutoff],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let (true, Some(oldest)) = (stale > 0, oldest) {
            out.push(Alert::Stale { count: u64::try_from(stale).unwrap_or(0), oldest_saved_at: parse_ts(&oldest)? });
        }
        let quarantined: i64 = conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'quarantined'", [], |r| r.get(0))?;
        if quarantined > 0 {
            out.push(Alert::Quarantined { count: u64::try_from(quarantined).unwrap_or(0) });
        }
        let mut stmt = conn.prepare_cached("SELECT at, kind, detail FROM alerts ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (at, kind, detail): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if kind == "database_moved_aside" {
                let v: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
                out.push(Alert::DatabaseMovedAside {
                    moved_to: v["moved_to"].as_str().unwrap_or_default().to_owned(),
                    problem: v["problem"].as_str().unwrap_or_default().to_owned(),
                    at: parse_ts(&at)?,
                });
            }
        }
        drop(rows);
        drop(stmt);
        drop(conn);
        let keys = crate::platform_key::read_state(&self.lock())?;
        if let (true, Some(pinned), Some(configured)) = (keys.changed(), keys.pinned, keys.configured) {
            out.push(Alert::PlatformKeyChanged { pinned, configured });
        }
        let reserve = self.inner.thresholds.disk_reserve_bytes;
        if let Ok(free) = disk::free_bytes(&self.inner.dir) {
            if free < reserve {
                out.push(Alert::DiskLow { free_bytes: free, reserve_bytes: reserve });
            }
        }
        Ok(out)
    }

    /// The stored sealed copy of `id`, checked against its hashes (for
    /// export to removable media and for checks). None once purged.
    pub fn sealed_copy(&self, id: SubmissionId) -> Result<Option<SealedCopy>, StoreError> {
        let conn = self.lock();
        let sid = id.to_string();
        let Some(envelope) = stored_envelope(&conn, id)? else { return Ok(None) };
        let mut stmt = conn.prepare_cached("SELECT idx, sha256, bytes FROM sealed_attachments WHERE submission_id = ?1 ORDER BY idx")?;
        let rows = stmt.query_map([&sid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
        let mut attachments = Vec::new();
        for (n, row) in rows.enumerate() {
            let (idx, sha256, bytes) = row?;
            if idx != n as i64 || sha256_hex(&bytes) != sha256 {
                return Err(StoreError::RecordDamaged { id, what: format!("sealed attachment {n} does not match its hash") });
            }
            attachments.push(SealedAttachment { sha256, bytes });
        }
        Ok(Some(SealedCopy { envelope, attachments }))
    }

    /// The connection settings in force.
    pub fn settings(&self) -> Result<StoreSettings, StoreError> {
        let conn = self.lock();
        Ok(StoreSettings {
            journal_mode: conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
            synchronous: conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            foreign_keys: conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))? == 1,
            secure_delete: conn.query_row("PRAGMA secure_delete", [], |r| r.get::<_, i64>(0))? == 1,
            schema_version: schema::schema_version(&conn)?,
        })
    }

    /// `PRAGMA integrity_check`: `["ok"]` when sound.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        schema::integrity_check(&self.lock())
    }

    /// Walks the audit chain; names the first broken link if there is one.
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        audit::verify(&self.lock())
    }

    /// The audit head and the entries since the head the hub acknowledged,
    /// for the heartbeat.
    pub fn audit_proof(&self) -> Result<model::audit_chain::AuditProof, StoreError> {
        audit::proof(&self.lock())
    }

    /// The audit head alone (exports, diagnostics).
    pub fn audit_head(&self) -> Result<model::audit_chain::AuditHead, StoreError> {
        audit::head(&self.lock())
    }

    /// Remembers the head the hub now holds: the next heartbeat sends the entries after it.
    pub fn audit_acknowledged(&self, head: &model::audit_chain::AuditHead) -> Result<(), StoreError> {
        audit::set_anchor(&self.lock(), head)
    }

    /// The last `limit` audit entries, oldest first.
    pub fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        audit::tail(&self.lock(), limit)
    }

    // ---- steps of a sync, used by `SyncClient` ----

    /// The submission ids `sql` selects (one `?1` for the limit), in its order.
    pub(crate) fn ids(&self, sql: &str, limit: usize) -> Result<Vec<SubmissionId>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            let s = r?;
            out.push(SubmissionId::parse(&s).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?);
        }
        Ok(out)
    }
}
