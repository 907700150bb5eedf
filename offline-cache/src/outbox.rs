//! The outbox: submissions a villager was told are saved, until the hub has them.
//!
//! Payloads are stored as plain canonical JSON for now; sealing (a per-record
//! data key wrapped to the platform's key) is a later change.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use model::catalog::ImplementCode;
use model::submission::{sha256_hex, AttachmentRef};
use model::{CaseNumber, Submission, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::StoreError;
use crate::schema;

/// Fixed-width UTC timestamps, so text order is time order.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Where a submission is on its way to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Saved, waiting for a link.
    Queued,
    /// A sync is (or was, before a crash) sending it; retried like `Queued`.
    Sending,
    /// The hub committed it and gave a case number.
    Acknowledged,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Acknowledged => "acknowledged",
        }
    }

    fn from_db(s: &str) -> Result<OutboxState, StoreError> {
        match s {
            "queued" => Ok(OutboxState::Queued),
            "sending" => Ok(OutboxState::Sending),
            "acknowledged" => Ok(OutboxState::Acknowledged),
            other => Err(StoreError::Corrupt(format!("unknown outbox state {other:?}"))),
        }
    }
}

/// What the terminal may show about a queued submission (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: SubmissionId,
    pub item_code: ImplementCode,
    pub state: OutboxState,
    pub case_number: Option<CaseNumber>,
    /// Sync attempts so far, failed or not.
    pub attempts: u32,
    /// Why the latest attempt failed, if it did.
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub queued: u64,
    pub sending: u64,
    pub acknowledged: u64,
}

impl QueueCounts {
    /// Submissions not yet acknowledged by the hub.
    pub fn unsent(&self) -> u64 {
        self.queued + self.sending
    }
}

/// The connection settings in force, for the self-test and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    /// `wal` when healthy.
    pub journal_mode: String,
    /// SQLite's number: 2 is FULL.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub schema_version: i64,
}

/// A submission as the sync client sends it.
pub(crate) struct SendItem {
    pub id: SubmissionId,
    pub payload: Vec<u8>,
    /// (sha256, media type) of each attachment.
    pub attachments: Vec<(String, String)>,
}

/// The durable outbox. Cheap to clone; clones share one connection, so the
/// UI session and the sync worker can each hold one.
#[derive(Clone)]
pub struct Outbox {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn format_ts(t: OffsetDateTime) -> String {
    // Formatting a UTC time with this description cannot fail for years 0..9999.
    t.format(TIMESTAMP).unwrap_or_default()
}

fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    PrimitiveDateTime::parse(s, TIMESTAMP)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| StoreError::Corrupt(format!("timestamp {s:?} is malformed")))
}

const ENTRY_COLUMNS: &str = "id, item_code, state, case_number, attempts, last_error, created_at, updated_at";

fn entry_from_row(row: &Row<'_>) -> Result<OutboxEntry, StoreError> {
    let id: String = row.get(0)?;
    let id = SubmissionId::parse(&id).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?;
    let item_code: String = row.get(1)?;
    let state: String = row.get(2)?;
    let case_number: Option<String> = row.get(3)?;
    let attempts: i64 = row.get(4)?;
    let created_at: String = row.get(6)?;
    let updated_at: String = row.get(7)?;
    Ok(OutboxEntry {
        id,
        item_code: ImplementCode::parse(&item_code).map_err(|_| StoreError::Corrupt(format!("item code of {id} is malformed")))?,
        state: OutboxState::from_db(&state)?,
        case_number: case_number
            .map(|c| CaseNumber::parse(&c).map_err(|_| StoreError::Corrupt(format!("case number of {id} is malformed"))))
            .transpose()?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.get(5)?,
        created_at: parse_ts(&created_at)?,
        updated_at: parse_ts(&updated_at)?,
    })
}

impl Outbox {
    /// Opens (creating and migrating if needed) the outbox at `path`.
    pub fn open(path: &Path) -> Result<Outbox, StoreError> {
        let mut conn = schema::open_connection(path)?;
        schema::migrate(&mut conn)?;
        Ok(Outbox { conn: Arc::new(Mutex::new(conn)) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled that transaction back while unwinding;
        // the connection itself is still sound.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Durably queues `sub` with the bytes of every attachment it references,
    /// in one transaction: when this returns Ok, the villager may be told it is
    /// saved. Queueing the same submission again is Ok and changes nothing;
    /// the same id with different content is [`StoreError::Conflict`].
    pub fn enqueue(&self, sub: &Submission, attachments: &[(AttachmentRef, Vec<u8>)]) -> Result<(), StoreError> {
        let id = sub.id;
        // Hash before taking the lock: scans run to megabytes and the sync
        // worker shouldn't wait on that.
        let mut given: HashMap<&str, &[u8]> = HashMap::new();
        let referenced: HashSet<&str> = sub.attachments.iter().map(|a| a.sha256.as_str()).collect();
        for (r, bytes) in attachments {
            if bytes.len() as u64 != r.size || sha256_hex(bytes) != r.sha256 {
                return Err(StoreError::AttachmentMismatch { id, sha256: r.sha256.clone() });
            }
            if !referenced.contains(r.sha256.as_str()) {
                return Err(StoreError::UnreferencedAttachment { id, sha256: r.sha256.clone() });
            }
            given.insert(r.sha256.as_str(), bytes.as_slice());
        }
        // The submission's own references decide what is stored, with their media types.
        let mut rows: Vec<(&str, &str, &[u8])> = Vec::new();
        let mut seen = HashSet::new();
        for r in &sub.attachments {
            let Some(bytes) = given.get(r.sha256.as_str()) else {
                return Err(StoreError::MissingAttachment { id, sha256: r.sha256.clone() });
            };
            if bytes.len() as u64 != r.size {
                return Err(StoreError::AttachmentMismatch { id, sha256: r.sha256.clone() });
            }
            if seen.insert(r.sha256.as_str()) {
                rows.push((r.sha256.as_str(), r.media_type.as_str(), bytes));
            }
        }
        let payload = sub.canonical_bytes();
        let digest = sha256_hex(&payload);
        let ts = format_ts(now());
        let sid = id.to_string();

        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT INTO submissions (id, item_code, payload, payload_sha256, state, attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', 0, ?5, ?5) ON CONFLICT(id) DO NOTHING",
            params![sid, sub.item_code.as_str(), payload, digest, ts],
        )?;
        if inserted == 0 {
            // Already queued: a replay is fine, a different body under the id is not.
            let stored: String = tx.query_row("SELECT payload_sha256 FROM submissions WHERE id = ?1", [&sid], |r| r.get(0))?;
            return if stored == digest { Ok(()) } else { Err(StoreError::Conflict(id)) };
        }
        for (sha, media_type, bytes) in rows {
            tx.execute(
                "INSERT INTO attachments (submission_id, sha256, media_type, bytes) VALUES (?1, ?2, ?3, ?4)",
                params![sid, sha, media_type, bytes],
            )?;
        }
        tx.commit()?;
        tracing::info!(%id, item = %sub.item_code, attachments = sub.attachments.len(), "queued");
        Ok(())
    }

    pub fn entry(&self, id: SubmissionId) -> Result<Option<OutboxEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM submissions WHERE id = ?1"))?;
        let mut rows = stmt.query([id.to_string()])?;
        match rows.next()? {
            Some(row) => Ok(Some(entry_from_row(row)?)),
            None => Ok(None),
        }
    }

    pub fn counts(&self) -> Result<QueueCounts, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM submissions GROUP BY state")?;
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
            }
        }
        Ok(counts)
    }

    /// Up to `limit` submissions not yet acknowledged, oldest first. Includes
    /// `Sending`: a crash mid-send leaves that state behind, and the hub's
    /// idempotent endpoints make resending safe.
    pub fn pending(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM submissions WHERE state IN ('queued', 'sending')
             ORDER BY created_at, id LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = stmt.query([limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(entry_from_row(row)?);
        }
        Ok(out)
    }

    /// The connection settings in force.
    pub fn settings(&self) -> Result<StoreSettings, StoreError> {
        let conn = self.lock();
        Ok(StoreSettings {
            journal_mode: conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
            synchronous: conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            foreign_keys: conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))? == 1,
            schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        })
    }

    // ---- steps of a sync, used by `SyncClient` ----

    /// The stored payload and attachment list of a pending submission.
    pub(crate) fn load_for_send(&self, id: SubmissionId) -> Result<SendItem, StoreError> {
        let conn = self.lock();
        let sid = id.to_string();
        let payload: Vec<u8> = conn
            .query_row("SELECT payload FROM submissions WHERE id = ?1", [&sid], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::UnknownSubmission(id))?;
        let mut stmt = conn.prepare_cached("SELECT sha256, media_type FROM attachments WHERE submission_id = ?1 ORDER BY sha256")?;
        let attachments =
            stmt.query_map([&sid], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(SendItem { id, payload, attachments })
    }

    pub(crate) fn attachment_bytes(&self, id: SubmissionId, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT bytes FROM attachments WHERE submission_id = ?1 AND sha256 = ?2",
            params![id.to_string(), sha256],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| StoreError::Corrupt(format!("attachment {sha256} of {id} is gone")))
    }

    /// Marks an attempt as started (counts it).
    pub(crate) fn mark_sending(&self, id: SubmissionId) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE submissions SET state = 'sending', attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            None,
        )
    }

    /// Back to the queue after a failed attempt, with the reason.
    pub(crate) fn mark_failed(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE submissions SET state = 'queued', last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(reason),
        )
    }

    /// A sync that could not reach the hub counts against the submission it
    /// would have sent first, so the queue shows why it waits.
    pub(crate) fn record_unreachable(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE submissions SET state = 'queued', attempts = attempts + 1, last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(reason),
        )
    }

    pub(crate) fn mark_acknowledged(&self, id: SubmissionId, case_number: &CaseNumber) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE submissions SET state = 'acknowledged', case_number = ?3, last_error = NULL, updated_at = ?2
             WHERE id = ?1",
            Some(case_number.as_str()),
        )
    }

    /// Runs one state change; `?1` is the id, `?2` the time, `?3` the text if any.
    fn update(&self, id: SubmissionId, sql: &str, text: Option<&str>) -> Result<(), StoreError> {
        let conn = self.lock();
        let (sid, ts) = (id.to_string(), format_ts(now()));
        let changed = match text {
            Some(text) => conn.execute(sql, params![sid, ts, text])?,
            None => conn.execute(sql, params![sid, ts])?,
        };
        if changed == 0 {
            return Err(StoreError::UnknownSubmission(id));
        }
        Ok(())
    }
}
