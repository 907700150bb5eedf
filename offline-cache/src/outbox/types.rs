//! What the outbox hands out: states, settings, entries, counts, alerts.

use std::time::Duration;

use model::catalog::ImplementCode;
use model::seal::{PlatformPublicKey, SealedAttachment};
use model::{CaseNumber, SubmissionId};
use time::OffsetDateTime;

use crate::clock::format_ts;
use crate::error::StoreError;
use crate::schema::MovedAside;

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

    pub(crate) fn from_db(s: &str) -> Result<OutboxState, StoreError> {
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
pub(crate) struct Thresholds {
    pub stale_after: Duration,
    pub disk_reserve_bytes: u64,
}
