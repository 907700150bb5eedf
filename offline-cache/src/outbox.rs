//! The outbox: sealed submissions a villager was told are saved, and the
//! minimal index the terminal keeps about them (masked name, keyed hash of
//! the ID number, item, case number, status).
//!
//! The plain submission exists only in memory, for the time it takes to
//! seal it; what reaches the file is the sealed envelope and sealed
//! attachments, which only the platform's private key opens.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use model::catalog::ImplementCode;
use model::mask::mask_name;
use model::seal::{distinct_attachments, seal_submission, PlatformPublicKey, Sealed, SealedAttachment};
use model::submission::{sha256_hex, AttachmentRef};
use model::{CaseNumber, IdNumber, Submission, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use time::OffsetDateTime;

use crate::audit::{self, AuditEntry, AuditReport};
use crate::clock::{format_ts, now, parse_ts};
use crate::error::StoreError;
use crate::index::IndexKey;
use crate::schema::{self, MigrationCtx, MovedAside};
use crate::disk;

/// Where a submission is on its way to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Saved, waiting for a link.
    Queued,
    /// A sync is (or was, before a crash) sending it; retried like `Queued`.
    Sending,
    /// The hub committed it and gave a case number.
    Acknowledged,
    /// The platform reports the case processed; the sealed payload is kept
    /// until the retention window has passed.
    Processed,
    /// Sealed payload deleted; the index row stays for progress queries.
    Purged,
    /// Refused for a reason of its own (see `quarantine_reason`); not sent
    /// again, never purged, waits for a technician. The rest of the queue goes on.
    Quarantined,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Acknowledged => "acknowledged",
            OutboxState::Processed => "processed",
            OutboxState::Purged => "purged",
            OutboxState::Quarantined => "quarantined",
        }
    }

    fn from_db(s: &str) -> Result<OutboxState, StoreError> {
        Ok(match s {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "acknowledged" => OutboxState::Acknowledged,
            "processed" => OutboxState::Processed,
            "purged" => OutboxState::Purged,
            "quarantined" => OutboxState::Quarantined,
            other => return Err(StoreError::Corrupt(format!("unknown outbox state {other:?}"))),
        })
    }
}

/// How the outbox behaves on a terminal. [`OutboxConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Submissions are sealed to this key.
    pub platform_key: PlatformPublicKey,
    /// Written into audit entries as "who".
    pub terminal_id: String,
    /// How long a sealed payload is kept after the platform reports it processed.
    pub retention: Duration,
    /// A submission unsent for longer raises [`Alert::Stale`].
    pub stale_after: Duration,
    /// Free space kept back: below it, new filings are refused so the ones
    /// already accepted can still be written, synced and purged.
    pub disk_reserve_bytes: u64,
    /// Largest attachment accepted (plain bytes).
    pub max_attachment_bytes: u64,
}

impl OutboxConfig {
    /// 30 days: time to notice a platform-side problem and ask for a resend.
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
    /// 3 days: a van's day offline is normal, three days unsent is not.
    pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
    pub const DEFAULT_DISK_RESERVE: u64 = 256 * 1024 * 1024;
    /// 8 MiB: a multi-page scan at kiosk resolution; well under the hub's body limit.
    pub const DEFAULT_MAX_ATTACHMENT: u64 = 8 * 1024 * 1024;

    pub fn new(platform_key: PlatformPublicKey, terminal_id: impl Into<String>) -> OutboxConfig {
        OutboxConfig {
            platform_key,
            terminal_id: terminal_id.into(),
            retention: Self::DEFAULT_RETENTION,
            stale_after: Self::DEFAULT_STALE_AFTER,
            disk_reserve_bytes: Self::DEFAULT_DISK_RESERVE,
            max_attachment_bytes: Self::DEFAULT_MAX_ATTACHMENT,
        }
    }
}

/// What the terminal may show about a submission: no personal data beyond
/// the masked name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: SubmissionId,
    pub item_code: ImplementCode,
    /// e.g. `张*`.
    pub masked_name: String,
    pub state: OutboxState,
    pub case_number: Option<CaseNumber>,
    /// Sync attempts so far, failed or not.
    pub attempts: u32,
    /// Why the latest attempt failed, if it did.
    pub last_error: Option<String>,
    /// Why the record is quarantined.
    pub quarantine_reason: Option<String>,
    /// When the terminal saved it.
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub processed_at: Option<OffsetDateTime>,
    pub purged_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    pub queued: u64,
    pub sending: u64,
    pub acknowledged: u64,
    pub processed: u64,
    pub purged: u64,
    pub quarantined: u64,
}

impl QueueCounts {
    /// Submissions not yet acknowledged by the hub and still to be sent.
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
    pub secure_delete: bool,
    pub schema_version: i64,
}

/// The answer to a successful [`Outbox::enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub id: SubmissionId,
    /// SHA-256 of the sealed envelope as stored (and as it will be sent).
    pub sealed_sha256: String,
    /// The same submission was already queued; nothing was written.
    pub replayed: bool,
}

/// Something a technician should see (kioskctl, diagnostics screen) and a
/// heartbeat should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// Submissions unsent for longer than the staleness limit.
    Stale { count: u64, oldest_saved_at: OffsetDateTime },
    /// Submissions refused by the hub, waiting for a technician.
    Quarantined { count: u64 },
    /// Free space is below the reserve: new filings are refused.
    DiskLow { free_bytes: u64, reserve_bytes: u64 },
    /// The database failed its integrity check at start and was moved aside.
    DatabaseMovedAside { moved_to: String, problem: String, at: OffsetDateTime },
    /// The kiosk runs with a platform key other than the pinned one: new
    /// filings are refused until a technician confirms it.
    PlatformKeyChanged { pinned: String, configured: String },
}

impl Alert {
    /// Stable code for heartbeats and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Alert::Stale { .. } => "stale_queue",
            Alert::Quarantined { .. } => "quarantined",
            Alert::DiskLow { .. } => "disk_low",
            Alert::DatabaseMovedAside { .. } => "database_moved_aside",
            Alert::PlatformKeyChanged { .. } => "platform_key_changed",
        }
    }
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Alert::Stale { count, oldest_saved_at } => {
                write!(f, "{count} submission(s) unsent past the staleness limit; oldest saved {}", format_ts(*oldest_saved_at))
            }
            Alert::Quarantined { count } => write!(f, "{count} submission(s) quarantined, see their reasons"),
            Alert::DiskLow { free_bytes, reserve_bytes } => {
                write!(f, "free disk {} MiB is below the reserve of {} MiB: new filings are refused", free_bytes >> 20, reserve_bytes >> 20)
            }
            Alert::DatabaseMovedAside { moved_to, problem, at } => {
                write!(f, "at {} the outbox failed its integrity check ({problem}); the damaged file is kept at {moved_to}", format_ts(*at))
            }
            Alert::PlatformKeyChanged { pinned, configured } => write!(
                f,
                "the platform key changed from {pinned} to {configured}: new filings are refused until `kioskctl platform-key confirm` with the new fingerprint"
            ),
        }
    }
}

/// What [`Outbox::purge_expired`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub purged: Vec<SubmissionId>,
}

/// What happened while opening.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The file failed its integrity check and was moved aside.
    pub moved_aside: Option<MovedAside>,
    /// Unsealed rows of an older version were sealed and scrubbed.
    pub sealed_legacy: bool,
}

/// A stored sealed copy, checked against its hashes.
#[derive(Debug, Clone)]
pub struct SealedCopy {
    pub envelope: Vec<u8>,
    pub attachments: Vec<SealedAttachment>,
}

/// A submission as the sync client sends it.
pub(crate) struct SendItem {
    pub id: SubmissionId,
    pub envelope: Vec<u8>,
    /// (index, sha256 of the sealed bytes) of each attachment.
    pub attachments: Vec<(u32, String)>,
}

/// Thresholds a tool reads back from the file (the kiosk writes them at open).
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    stale_after: Duration,
    disk_reserve_bytes: u64,
}

struct Inner {
    conn: Mutex<Connection>,
    dir: PathBuf,
    /// None for [`Outbox::inspect`] handles.
    config: Option<OutboxConfig>,
    thresholds: Thresholds,
    index_key: IndexKey,
    report: OpenReport,
}

/// The durable outbox. Cheap to clone; clones share one connection, so the
/// UI session and the sync worker can each hold one.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("dir", &self.inner.dir).finish_non_exhaustive()
    }
}

/// Seals with the operating system's CSPRNG.
pub(crate) fn seal_with_os_rng(key: &PlatformPublicKey, sub: &Submission, attachments: &[&[u8]]) -> Result<Sealed, StoreError> {
    // getrandom fails only without any kernel entropy source; nothing could be sealed then.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    Ok(seal_submission(key, sub, attachments, &mut rng)?)
}

/// One new index row with its sealed bytes.
pub(crate) struct NewRow<'a> {
    pub sub: &'a Submission,
    pub sealed: &'a Sealed,
    pub content_mac: String,
    pub id_number_hash: String,
    pub created_at: OffsetDateTime,
    pub state: &'static str,
    pub case_number: Option<&'a str>,
    pub attempts: i64,
    pub last_error: Option<&'a str>,
}

/// Inserts the row, its envelope and attachments. `None` when the id is
/// already present (nothing written).
pub(crate) fn insert_sealed(conn: &Connection, row: &NewRow<'_>) -> Result<Option<String>, StoreError> {
    let envelope = row.sealed.envelope.to_bytes();
    let digest = sha256_hex(&envelope);
    let sid = row.sub.id.to_string();
    let ts = format_ts(row.created_at);
    let inserted = conn.execute(
        "INSERT INTO outbox (id, item_code, masked_name, id_number_hash, content_mac, sealed_sha256, suite, state,
                             case_number, attempts, last_error, created_at, updated_at, acknowledged_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, CASE WHEN ?8 = 'acknowledged' THEN ?12 END)
         ON CONFLICT(id) DO NOTHING",
        params![
            sid,
            row.sub.item_code.as_str(),
            mask_name(&row.sub.applicant.name),
            row.id_number_hash,
            row.content_mac,
            digest,
            row.sealed.envelope.suite,
            row.state,
            row.case_number,
            row.attempts,
            row.last_error,
            ts
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    conn.execute("INSERT INTO sealed_payloads (submission_id, envelope) VALUES (?1, ?2)", params![sid, envelope])?;
    for (i, a) in row.sealed.attachments.iter().enumerate() {
        conn.execute(
            "INSERT INTO sealed_attachments (submission_id, idx, sha256, bytes) VALUES (?1, ?2, ?3, ?4)",
            params![sid, i as i64, a.sha256, a.bytes],
        )?;
    }
    Ok(Some(digest))
}

const ENTRY_COLUMNS: &str = "id, item_code, masked_name, state, case_number, attempts, last_error, quarantine_reason,
     created_at, updated_at, acknowledged_at, processed_at, purged_at";

fn opt_ts(s: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}

fn entry_from_row(row: &Row<'_>) -> Result<OutboxEntry, StoreError> {
    let id: String = row.get(0)?;
    let id = SubmissionId::parse(&id).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?;
    let item_code: String = row.get(1)?;
    let state: String = row.get(3)?;
    let case_number: Option<String> = row.get(4)?;
    let attempts: i64 = row.get(5)?;
    let created_at: String = row.get(8)?;
    let updated_at: String = row.get(9)?;
    Ok(OutboxEntry {
        id,
        item_code: ImplementCode::parse(&item_code).map_err(|_| StoreError::Corrupt(format!("item code of {id} is malformed")))?,
        masked_name: row.get(2)?,
        state: OutboxState::from_db(&state)?,
        case_number: case_number
            .map(|c| CaseNumber::parse(&c).map_err(|_| StoreError::Corrupt(format!("case number of {id} is malformed"))))
            .transpose()?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: row.get(6)?,
        quarantine_reason: row.get(7)?,
        created_at: parse_ts(&created_at)?,
        updated_at: parse_ts(&updated_at)?,
        acknowledged_at: opt_ts(row.get(10)?)?,
        processed_at: opt_ts(row.get(11)?)?,
        purged_at: opt_ts(row.get(12)?)?,
    })
}

/// Longest reason kept in the index and the audit log.
const MAX_REASON: usize = 300;

fn truncate(s: &str) -> &str {
    let mut cut = s.len().min(MAX_REASON);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

fn std_to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::MAX)
}

fn read_thresholds(conn: &Connection) -> Result<Thresholds, StoreError> {
    let get = |key: &str| -> Result<Option<i64>, StoreError> {
        Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, i64>(0)).optional()?)
    };
    Ok(Thresholds {
        stale_after: get("stale_after_secs")?
            .and_then(|s| u64::try_from(s).ok())
            .map_or(OutboxConfig::DEFAULT_STALE_AFTER, Duration::from_secs),
        disk_reserve_bytes: get("disk_reserve_bytes")?
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(OutboxConfig::DEFAULT_DISK_RESERVE),
    })
}

impl Outbox {
    /// Opens the kiosk's outbox at `path`, creating it if needed. The file is
    /// integrity-checked first; a damaged one is moved aside (see
    /// [`Outbox::open_report`] and [`Alert::DatabaseMovedAside`]) and a fresh
    /// one started. Then migrations run; unsealed rows of an older version
    /// are sealed to `config.platform_key`.
    pub fn open(path: &Path, config: OutboxConfig) -> Result<Outbox, StoreError> {
        let (mut conn, moved_aside) = schema::open_checked(path)?;
        let ctx = MigrationCtx { platform_key: Some(&config.platform_key), terminal_id: &config.terminal_id };
        let sealed_legacy = schema::migrate(&mut conn, &ctx)?;
        if sealed_legacy {
            schema::scrub(&conn)?;
            tracing::info!("unsealed filings of the previous version sealed; free pages and WAL scrubbed");
        }
        let index_key = IndexKey::load(&conn)?;
        let thresholds = Thresholds { stale_after: config.stale_after, disk_reserve_bytes: config.disk_reserve_bytes };
        {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Tools (kioskctl) read these back to judge alerts as the kiosk does.
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('stale_after_secs', ?1), ('disk_reserve_bytes', ?2), ('terminal_id', ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![
                    i64::try_from(config.stale_after.as_secs()).unwrap_or(i64::MAX),
                    i64::try_from(config.disk_reserve_bytes).unwrap_or(i64::MAX),
                    config.terminal_id
                ],
            )?;
            crate::pinning::record_at_open(&tx, &config.platform_key, &config.terminal_id)?;
            if let Some(m) = &moved_aside {
                let detail = serde_json::json!({ "moved_to": m.moved_to.display().to_string(), "problem": m.problem }).to_string();
                tx.execute("INSERT INTO alerts (at, kind, detail) VALUES (?1, 'database_moved_aside', ?2)", params![format_ts(m.at), detail])?;
                let file = m.moved_to.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                audit::append(
                    &tx,
                    m.at,
                    &audit::Record {
                        terminal: &config.terminal_id,
                        operator: None,
                        action: "integrity check at start",
                        subject: None,
                        outcome: &format!("failed; damaged database moved aside to {file}"),
                    },
                )?;
            }
            tx.commit()?;
        }
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        tracing::info!(platform_key = %config.platform_key.fingerprint(), "outbox open");
        Ok(Outbox {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                dir,
                config: Some(config),
                thresholds,
                index_key,
                report: OpenReport { moved_aside, sealed_legacy },
            }),
        })
    }

    /// Opens an existing outbox for a technician's tool: reads only, never
    /// migrates, never moves a damaged file (it reports it), can't enqueue.
    pub fn inspect(path: &Path) -> Result<Outbox, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Io {
                what: "no outbox at",
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let corrupt = |e: StoreError| match &e {
            StoreError::Sqlite(inner)
                if matches!(
                    inner.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
                ) =>
            {
                StoreError::CorruptDatabase(inner.to_string())
            }
            _ => e,
        };
        let conn = schema::open_connection(path, false).map_err(corrupt)?;
        let version = schema::schema_version(&conn).map_err(corrupt)?;
        if version > schema::CURRENT {
            return Err(StoreError::SchemaTooNew { found: version, known: schema::CURRENT });
        }
        if version < schema::CURRENT {
            return Err(StoreError::SchemaOutdated { found: version, current: schema::CURRENT });
        }
        let index_key = IndexKey::load(&conn).map_err(corrupt)?;
        let thresholds = read_thresholds(&conn).map_err(corrupt)?;
        let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_owned);
        Ok(Outbox {
            inner: Arc::new(Inner { conn: Mutex::new(conn), dir, config: None, thresholds, index_key, report: OpenReport::default() }),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolled that transaction back while unwinding;
        // the connection itself is still sound.
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn config(&self) -> Result<&OutboxConfig, StoreError> {
        self.inner.config.as_ref().ok_or(StoreError::InspectOnly)
    }

    /// The directory holding the database (free space is measured there).
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What happened at open: a damaged file moved aside, legacy rows sealed.
    pub fn open_report(&self) -> &OpenReport {
        &self.inner.report
    }

    /// Refuses early when an attachment of `size` bytes could not be queued,
    /// so the kiosk can say so before the villager scans more pages.
    pub fn check_attachment_size(&self, id: SubmissionId, material_code: &str, size: u64) -> Result<(), StoreError> {
        let limit = self.config()?.max_attachment_bytes;
        if size > limit {
            return Err(StoreError::AttachmentTooLarge { id, material_code: material_code.to_owned(), size, limit });
        }
        Ok(())
    }

    /// Whether a filing of about `bytes` could be accepted now; the kiosk
    /// asks before the villager starts one. [`Outbox::enqueue`] asks again.
    pub fn check_capacity(&self, bytes: u64) -> Result<(), StoreError> {
        let reserve = self.inner.thresholds.disk_reserve_bytes;
        let free = match disk::free_bytes(&self.inner.dir) {
            Ok(f) => f,
            Err(e) => {
                // Unknowable free space shouldn't stop filings; SQLite still
                // refuses atomically if the disk really is full.
                tracing::warn!(error = %e, "cannot read free disk space");
                return Ok(());
            }
        };
        // WAL and database each hold the bytes until a checkpoint.
        let needed = bytes.saturating_mul(2).saturating_add(64 * 1024);
        if free < reserve.saturating_add(needed) {
            return Err(StoreError::DiskReserve { free_bytes: free, reserve_bytes: reserve });
        }
        Ok(())
    }

    /// Durably queues `sub`, sealed, with the bytes of every attachment it
    /// references, in one transaction: when this returns Ok, the villager
    /// may be told it is saved. Queueing the same submission again is Ok
    /// (`replayed`) and writes nothing; the same id with other content is
    /// [`StoreError::Conflict`]. Refused, with nothing written, when an
    /// attachment is over the limit or free space is below the reserve.
    pub fn enqueue(&self, sub: &Submission, attachments: &[(AttachmentRef, Vec<u8>)]) -> Result<Enqueued, StoreError> {
        let cfg = self.config()?;
        let id = sub.id;
        self.check_platform_key(&cfg.platform_key)?;
        // Size first: cheap, and the answer to a huge scan shouldn't wait on hashing it.
        for (r, bytes) in attachments {
            self.check_attachment_size(id, &r.material_code, r.size.max(bytes.len() as u64))?;
        }
        for r in &sub.attachments {
            self.check_attachment_size(id, &r.material_code, r.size)?;
        }
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
        // The submission's own references decide what is sealed, in envelope order.
        let mut ordered: Vec<&[u8]> = Vec::new();
        for r in distinct_attachments(sub) {
            match given.get(r.sha256.as_str()) {
                Some(bytes) if bytes.len() as u64 == r.size => ordered.push(bytes),
                Some(_) => return Err(StoreError::AttachmentMismatch { id, sha256: r.sha256.clone() }),
                None => return Err(StoreError::MissingAttachment { id, sha256: r.sha256.clone() }),
            }
        }
        let key = &self.inner.index_key;
        let content_mac = key.content_mac(&sub.canonical_bytes_zeroizing());
        // A replay is answered without sealing again.
        if let Some(answer) = self.replay_answer(id, &content_mac)? {
            return answer;
        }

        let sealed = seal_with_os_rng(&cfg.platform_key, sub, &ordered)?;
        let size = sealed.envelope.manifest.len() as u64 + sealed.attachments.iter().map(|a| a.bytes.len() as u64).sum::<u64>();
        let operator = sub.agent().map(|a| a.staff_number.as_str());
        if let Err(e) = self.check_capacity(size) {
            tracing::warn!(%id, error = %e, "filing refused: disk below reserve");
            self.audit_best_effort("file submission", Some(id), operator, "refused: free disk below the reserve");
            return Err(e);
        }
        let row = NewRow {
            sub,
            sealed: &sealed,
            content_mac,
            id_number_hash: key.id_number_hash(&sub.applicant.id_number),
            created_at: now(),
            state: "queued",
            case_number: None,
            attempts: 0,
            last_error: None,
        };

        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(sealed_sha256) = insert_sealed(&tx, &row)? else {
            // Queued by another caller between the replay check and now.
            drop(tx);
            drop(conn);
            return self.replay_answer(id, &row.content_mac)?.unwrap_or(Err(StoreError::UnknownSubmission(id)));
        };
        // Beside the row (not in insert_sealed, which the v2 migration also runs).
        tx.execute(
            "UPDATE outbox SET village_code = ?2, trip_id = ?3 WHERE id = ?1",
            params![id.to_string(), sub.village_code.as_str(), sub.filed_by.on_behalf().map(|o| o.trip_id.to_string())],
        )?;
        audit::append(
            &tx,
            row.created_at,
            &audit::Record { terminal: &cfg.terminal_id, operator, action: "file submission", subject: Some(id), outcome: "saved" },
        )?;
        tx.commit()?;
        tracing::info!(%id, item = %sub.item_code, attachments = ordered.len(), "queued, sealed");
        Ok(Enqueued { id, sealed_sha256, replayed: false })
    }

    /// For an id already present: Ok(replayed) if the content is the same, Conflict if not.
    fn replay_answer(&self, id: SubmissionId, content_mac: &str) -> Result<Option<Result<Enqueued, StoreError>>, StoreError> {
        let conn = self.lock();
        let stored: Option<(String, String)> = conn
            .query_row("SELECT content_mac, sealed_sha256 FROM outbox WHERE id = ?1", [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(stored.map(|(mac, sealed_sha256)| {
            if mac == content_mac {
                Ok(Enqueued { id, sealed_sha256, replayed: true })
            } else {
                Err(StoreError::Conflict(id))
            }
        }))
    }

    fn audit_best_effort(&self, action: &str, subject: Option<SubmissionId>, operator: Option<&str>, outcome: &str) {
        let Some(cfg) = self.inner.config.as_ref() else { return };
        let mut conn = self.lock();
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            audit::append(&tx, now(), &audit::Record { terminal: &cfg.terminal_id, operator, action, subject, outcome })?;
            tx.commit()?;
            Ok::<_, StoreError>(())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot write the audit entry");
        }
    }

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
        let keys = self.platform_key_state()?;
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

    /// Records that the platform has processed the case (issue 4's case
    /// status sync calls this). Starts the retention window. Idempotent.
    pub fn mark_processed(&self, id: SubmissionId, at: OffsetDateTime) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = state_of(&tx, id)?;
        match state {
            OutboxState::Processed | OutboxState::Purged => return Ok(()),
            OutboxState::Acknowledged => {}
            other => return Err(StoreError::WrongState { id, state: other.as_str(), wanted: "processed" }),
        }
        tx.execute(
            "UPDATE outbox SET state = 'processed', processed_at = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.to_string(), format_ts(at), format_ts(now())],
        )?;
        audit::append(
            &tx,
            now(),
            &audit::Record { terminal: &terminal, operator: None, action: "platform processed", subject: Some(id), outcome: "processed" },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes the sealed payloads of submissions processed at least the
    /// retention window before `now`; their index rows stay, as `Purged`.
    /// Nothing else is ever purged.
    pub fn purge_expired(&self, now_at: OffsetDateTime) -> Result<PurgeReport, StoreError> {
        let cfg = self.config()?;
        let cutoff = format_ts(now_at - std_to_time(cfg.retention));
        let mut report = PurgeReport::default();
        loop {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ids: Vec<String> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM outbox WHERE state = 'processed' AND processed_at <= ?1 ORDER BY processed_at, id LIMIT 100",
                )?;
                let rows = stmt.query_map([&cutoff], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            for sid in &ids {
                let id = SubmissionId::parse(sid).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?;
                tx.execute("DELETE FROM sealed_attachments WHERE submission_id = ?1", [sid])?;
                tx.execute("DELETE FROM sealed_payloads WHERE submission_id = ?1", [sid])?;
                tx.execute(
                    "UPDATE outbox SET state = 'purged', purged_at = ?2, updated_at = ?2 WHERE id = ?1",
                    params![sid, format_ts(now_at)],
                )?;
                audit::append(
                    &tx,
                    now_at,
                    &audit::Record {
                        terminal: &cfg.terminal_id,
                        operator: None,
                        action: "purge sealed payload",
                        subject: Some(id),
                        outcome: "purged after the retention window",
                    },
                )?;
                report.purged.push(id);
            }
            tx.commit()?;
            if ids.len() < 100 {
                break;
            }
        }
        if !report.purged.is_empty() {
            tracing::info!(count = report.purged.len(), "sealed payloads purged after retention");
        }
        Ok(report)
    }

    /// The stored sealed copy of `id`, checked against its hashes (for
    /// export to removable media and for checks). None once purged.
    pub fn sealed_copy(&self, id: SubmissionId) -> Result<Option<SealedCopy>, StoreError> {
        let conn = self.lock();
        let sid = id.to_string();
        let row: Option<(String, Option<Vec<u8>>)> = conn
            .query_row(
                "SELECT o.sealed_sha256, p.envelope FROM outbox o LEFT JOIN sealed_payloads p ON p.submission_id = o.id WHERE o.id = ?1",
                [&sid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((digest, envelope)) = row else { return Err(StoreError::UnknownSubmission(id)) };
        let Some(envelope) = envelope else { return Ok(None) };
        if sha256_hex(&envelope) != digest {
            return Err(StoreError::RecordDamaged { id, what: "the sealed envelope does not match its hash".into() });
        }
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

    /// The last `limit` audit entries, oldest first.
    pub fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        audit::tail(&self.lock(), limit)
    }

    // ---- steps of a sync, used by `SyncClient` ----

    /// The sealed envelope and attachment list of a pending submission,
    /// checked against the stored hash (a damaged copy is
    /// [`StoreError::RecordDamaged`], which quarantines just that record).
    pub(crate) fn load_for_send(&self, id: SubmissionId) -> Result<SendItem, StoreError> {
        let conn = self.lock();
        let sid = id.to_string();
        let row: Option<(String, Option<Vec<u8>>)> = conn
            .query_row(
                "SELECT o.sealed_sha256, p.envelope FROM outbox o LEFT JOIN sealed_payloads p ON p.submission_id = o.id WHERE o.id = ?1",
                [&sid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((digest, envelope)) = row else { return Err(StoreError::UnknownSubmission(id)) };
        let Some(envelope) = envelope else {
            return Err(StoreError::RecordDamaged { id, what: "the sealed envelope is missing".into() });
        };
        if sha256_hex(&envelope) != digest {
            return Err(StoreError::RecordDamaged { id, what: "the sealed envelope does not match its hash".into() });
        }
        let mut stmt = conn.prepare_cached("SELECT idx, sha256 FROM sealed_attachments WHERE submission_id = ?1 ORDER BY idx")?;
        let attachments = stmt
            .query_map([&sid], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SendItem { id, envelope, attachments })
    }

    pub(crate) fn attachment_bytes(&self, id: SubmissionId, idx: u32) -> Result<Vec<u8>, StoreError> {
        let conn = self.lock();
        let row: Option<(String, Vec<u8>)> = conn
            .query_row(
                "SELECT sha256, bytes FROM sealed_attachments WHERE submission_id = ?1 AND idx = ?2",
                params![id.to_string(), idx],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((sha, bytes)) if sha256_hex(&bytes) == sha => Ok(bytes),
            Some(_) => Err(StoreError::RecordDamaged { id, what: format!("sealed attachment {idx} does not match its hash") }),
            None => Err(StoreError::RecordDamaged { id, what: format!("sealed attachment {idx} is missing") }),
        }
    }

    /// Marks an attempt as started (counts it).
    pub(crate) fn mark_sending(&self, id: SubmissionId) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            None,
        )
    }

    /// Back to the queue after a failed attempt, with the reason.
    pub(crate) fn mark_failed(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'queued', last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(truncate(reason)),
        )
    }

    /// A sync that could not reach the hub counts against the submission it
    /// would have sent first, so the queue shows why it waits.
    pub(crate) fn record_unreachable(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        self.update(
            id,
            "UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            Some(truncate(reason)),
        )
    }

    pub(crate) fn mark_acknowledged(&self, id: SubmissionId, case_number: &CaseNumber) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ts = format_ts(now());
        let changed = tx.execute(
            "UPDATE outbox SET state = 'acknowledged', case_number = ?3, last_error = NULL, updated_at = ?2,
                    acknowledged_at = COALESCE(acknowledged_at, ?2)
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), ts, case_number.as_str()],
        )?;
        if changed == 0 {
            let state = state_of(&tx, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "acknowledged" });
        }
        audit::append(
            &tx,
            now(),
            &audit::Record {
                terminal: &terminal,
                operator: None,
                action: "hub acknowledged",
                subject: Some(id),
                outcome: &format!("case {}", case_number.as_str()),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Takes a record out of the queue for a reason of its own (the hub
    /// refused it, or its stored copy is damaged). The rest goes on.
    pub(crate) fn mark_quarantined(&self, id: SubmissionId, reason: &str) -> Result<(), StoreError> {
        let terminal = self.config()?.terminal_id.clone();
        let reason = truncate(reason);
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE outbox SET state = 'quarantined', quarantine_reason = ?3, last_error = ?3, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
            params![id.to_string(), format_ts(now()), reason],
        )?;
        if changed == 0 {
            let state = state_of(&tx, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "quarantined" });
        }
        audit::append(
            &tx,
            now(),
            &audit::Record { terminal: &terminal, operator: None, action: "quarantine", subject: Some(id), outcome: reason },
        )?;
        tx.commit()?;
        tracing::warn!(%id, %reason, "quarantined");
        Ok(())
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
            let state = state_of(&conn, id)?;
            return Err(StoreError::WrongState { id, state: state.as_str(), wanted: "sending or queued" });
        }
        Ok(())
    }
}

fn state_of(conn: &Connection, id: SubmissionId) -> Result<OutboxState, StoreError> {
    let state: Option<String> =
        conn.query_row("SELECT state FROM outbox WHERE id = ?1", [id.to_string()], |r| r.get(0)).optional()?;
    match state {
        Some(s) => OutboxState::from_db(&s),
        None => Err(StoreError::UnknownSubmission(id)),
    }
}

#[cfg(test)]
mod case_number_tests {
    use super::*;
    use model::identity::check_char;
    use model::submission::{Applicant, Consent};
    use model::{CardType, Gender, VillageCode};

    fn submission() -> Submission {
        let first17 = *b"62010219900307123";
        Submission {
            id: SubmissionId::new(),
            item_code: ImplementCode::parse("620000RS0001").unwrap(),
            bundle_code: None,
            applicant: Applicant {
                name: "张三".into(),
                id_number: IdNumber::parse(&format!("62010219900307123{}", check_char(&first17))).unwrap(),
                card_type: CardType::ResidentId,
                gender: Gender::Male,
                nation_code: "01".into(),
                birth_date: time::macros::date!(1990 - 03 - 07),
                address: "甘肃省兰州市城关区".into(),
            },
            form: Default::default(),
            attachments: vec![],
            consent: Consent { text_version: "v1".into(), given_at: OffsetDateTime::now_utc() },
            filed_by: model::submission::FiledBy::SelfServiceTerminal,
            village_code: VillageCode::parse("620102001001").unwrap(),
            created_at: OffsetDateTime::now_utc(),
            terminal_id: "T-0001".into(),
        }
    }

    #[test]
    fn finds_a_filing_by_its_case_number_even_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::generate_platform_key();
        let mut config = OutboxConfig::new(key.public_key(), "T-0001");
        config.disk_reserve_bytes = 0;
        let outbox = Outbox::open(&dir.path().join("outbox.db"), config).unwrap();
        let (done, waiting) = (submission(), submission());
        outbox.enqueue(&done, &[]).unwrap();
        outbox.enqueue(&waiting, &[]).unwrap();
        let case = CaseNumber::parse("62292620261121000123").unwrap();
        outbox.mark_acknowledged(done.id, &case).unwrap();
        outbox.mark_processed(done.id, OffsetDateTime::now_utc()).unwrap();

        let found = outbox.find_by_case_number(&case).unwrap();
        assert_eq!(found.iter().map(|e| (e.id, e.state)).collect::<Vec<_>>(), [(done.id, OutboxState::Processed)]);
        assert!(outbox.find_by_case_number(&CaseNumber::parse("62292620261121000999").unwrap()).unwrap().is_empty());
    }
}
