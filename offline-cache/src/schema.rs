//! Connection settings, the integrity check at start, and versioned migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use model::seal::PlatformPublicKey;
use model::Submission;
use rusqlite::{params, Connection, OpenFlags, Transaction, TransactionBehavior};
use time::OffsetDateTime;

use crate::audit;
use crate::clock::{file_stamp, now, parse_ts};
use crate::error::StoreError;
use crate::index::{IndexKey, KEY_NAME};
use crate::sealed_row::{insert_sealed, seal_with_os_rng, NewRow};

/// Schema v1: the walking skeleton's plain outbox. Kept verbatim: a
/// migration that shipped is never edited.
const V1: &str = r#"
CREATE TABLE submissions (
    id             TEXT PRIMARY KEY,
    item_code      TEXT NOT NULL,
    payload        BLOB NOT NULL,
    payload_sha256 TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'sending', 'acknowledged')),
    case_number    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX submissions_pending ON submissions (state, created_at, id);
CREATE TABLE attachments (
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    sha256        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    bytes         BLOB NOT NULL,
    PRIMARY KEY (submission_id, sha256)
) WITHOUT ROWID;
"#;

/// Schema v2: sealed payloads, a minimal index, audit log, alerts.
const V2: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
-- The local index: what progress queries and the sync need, nothing more.
CREATE TABLE outbox (
    id                TEXT PRIMARY KEY,
    item_code         TEXT NOT NULL,
    masked_name       TEXT NOT NULL,
    id_number_hash    TEXT NOT NULL,
    content_mac       TEXT NOT NULL,
    sealed_sha256     TEXT NOT NULL,
    suite             TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN
                      ('queued', 'sending', 'acknowledged', 'processed', 'purged', 'quarantined')),
    case_number       TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    quarantine_reason TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    acknowledged_at   TEXT,
    processed_at      TEXT,
    purged_at         TEXT
);
CREATE INDEX outbox_state ON outbox (state, created_at, id);
CREATE INDEX outbox_id_number ON outbox (id_number_hash);
-- Sealed bytes, apart from the index so a purge deletes them and keeps the row.
CREATE TABLE sealed_payloads (
    submission_id TEXT PRIMARY KEY REFERENCES outbox(id),
    envelope      BLOB NOT NULL
);
CREATE TABLE sealed_attachments (
    submission_id TEXT NOT NULL REFERENCES outbox(id),
    idx           INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    bytes         BLOB NOT NULL,
    PRIMARY KEY (submission_id, idx)
);
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    terminal  TEXT NOT NULL,
    operator  TEXT,
    action    TEXT NOT NULL,
    subject   TEXT,
    outcome   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- Alerts that must outlive the moment (a database moved aside). Live ones
-- (stale queue, low disk) are computed when asked.
CREATE TABLE alerts (
    seq    INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL
);
"#;

/// Schema v3 (issue 4): what sync pulls and pushes besides submissions.
const V3: &str = r#"
-- The latest case status the hub reported for an acknowledged submission.
CREATE TABLE case_status (
    submission_id    TEXT PRIMARY KEY REFERENCES outbox(id),
    status           TEXT NOT NULL,
    reason           TEXT,
    result_available INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL,
    fetched_at       TEXT NOT NULL
);
-- 好差评 waiting to be sent; a row is deleted once the hub has it.
CREATE TABLE evaluations (
    id         TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('queued', 'rejected')),
    reason     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
-- Documents pulled from the hub, the newest accepted of each kind:
-- 'catalog' (the signed catalog as received), 'config' (terminal config).
CREATE TABLE pulled (
    kind       TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    body       BLOB NOT NULL,
    fetched_at TEXT NOT NULL
);
"#;

/// Schema v4 (issue 7): assisted mode in service vans.
const V4: &str = r#"
-- Operator accounts as last pulled from the hub (replaced as a whole).
-- The PIN is only an Argon2id PHC string.
CREATE TABLE operators (
    staff_number TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    pin_hash     TEXT NOT NULL,
    villages     TEXT NOT NULL,
    revoked      INTEGER NOT NULL,
    valid_until  TEXT,
    synced_at    TEXT NOT NULL
);
-- Failed logins, kept across restarts so pulling the plug doesn't reset a lockout.
CREATE TABLE operator_lockouts (
    staff_number    TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    locked_until    TEXT,
    last_failure_at TEXT NOT NULL
);
-- Not personal: which village and trip a filing belongs to (trip summary),
-- and when it last went out on removable media (kioskctl export).
ALTER TABLE outbox ADD COLUMN village_code TEXT;
ALTER TABLE outbox ADD COLUMN trip_id TEXT;
ALTER TABLE outbox ADD COLUMN exported_at TEXT;
CREATE INDEX outbox_trip ON outbox (trip_id, village_code);
"#;

/// Schema v5 (issue 15): the parts of a bundle filing (一件事一次办), each a
/// case of its own at the hub, as last pulled (JSON list of
/// `model::protocol::CasePart`: item code, case number, status; no personal data).
const V5: &str = r#"
ALTER TABLE case_status ADD COLUMN parts TEXT;
"#;

/// One schema step; step `n` takes `PRAGMA user_version` from `n` to `n + 1`.
enum Step {
    Sql(&'static str),
    /// Steps that need Rust: random keys, sealing legacy rows.
    Rust(fn(&Transaction<'_>, &MigrationCtx<'_>) -> Result<(), StoreError>),
}

/// Append only.
const MIGRATIONS: &[Step] = &[Step::Sql(V1), Step::Rust(v2_sealed), Step::Sql(V3), Step::Sql(V4), Step::Sql(V5)];

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// What a migration may need from the caller.
pub(crate) struct MigrationCtx<'a> {
    pub platform_key: Option<&'a PlatformPublicKey>,
    pub terminal_id: &'a str,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection with the settings every outbox connection needs.
pub(crate) fn open_connection(path: &Path, create: bool) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal(mode));
    }
    // A villager is told "saved" when enqueue returns: FULL syncs the WAL on
    // every commit, so a power cut right after cannot take the row back.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Purged payloads are overwritten, not just unlinked from the b-tree.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

/// Errors that mean the file itself is damaged (as opposed to busy, missing
/// permissions, a newer schema).
fn is_corruption(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlite(e) => matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
        ),
        StoreError::CorruptDatabase(_) => true,
        _ => false,
    }
}

/// `PRAGMA quick_check`: every page and record well-formed. It skips only
/// the index-versus-table comparison of the full integrity_check, so a start
/// costs one scan of the file.
pub(crate) fn quick_check(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA quick_check(20)")?;
    let problems: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    let mut text = problems.join("; ");
    text.truncate(text.char_indices().nth(500).map_or(text.len(), |(i, _)| i));
    Err(StoreError::CorruptDatabase(text))
}

/// `PRAGMA integrity_check`, for tools and the crash torture.
pub(crate) fn integrity_check(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check(20)")?;
    let rows: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A damaged database the kiosk moved aside at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedAside {
    /// Where the damaged file is now (its `-wal` and `-shm`, if any, beside it).
    pub moved_to: PathBuf,
    /// What the check said.
    pub problem: String,
    pub at: OffsetDateTime,
}

fn opens_clean(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_connection(path, true)?;
    quick_check(&conn)?;
    Ok(conn)
}

/// Opens the file, checking it. A damaged file (and its WAL) is renamed to
/// `<name>.corrupt-<time>` and a fresh database opened in its place: the
/// kiosk can take filings again, and the damaged one is kept for recovery.
pub(crate) fn open_checked(path: &Path) -> Result<(Connection, Option<MovedAside>), StoreError> {
    let problem = match opens_clean(path) {
        Ok(conn) => return Ok((conn, None)),
        Err(e) if is_corruption(&e) => match e {
            StoreError::CorruptDatabase(p) => p,
            other => other.to_string(),
        },
        Err(e) => return Err(e),
    };
    let at = now();
    let moved_to = aside_name(path, at);
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", moved_to.display()));
            std::fs::rename(&from, &to).map_err(|source| StoreError::Io { what: "cannot move aside", path: from.clone(), source })?;
        }
    }
    tracing::error!(moved_to = %moved_to.display(), %problem, "the outbox database failed its integrity check; moved aside, starting a fresh one");
    let conn = opens_clean(path)?;
    Ok((conn, Some(MovedAside { moved_to, problem, at })))
}

/// `<path>.corrupt-<stamp>`, with a counter if that exists already.
fn aside_name(path: &Path, at: OffsetDateTime) -> PathBuf {
    let base = format!("{}.corrupt-{}", path.display(), file_stamp(at));
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        n += 1;
        candidate = PathBuf::from(format!("{base}-{n}"));
    }
    candidate
}

pub(crate) fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Applies every migration the file hasn't had, each in its own transaction.
/// Returns true when unsealed legacy rows were sealed: the caller then
/// scrubs free pages and the WAL of their plain bytes.
pub(crate) fn migrate(conn: &mut Connection, ctx: &MigrationCtx<'_>) -> Result<bool, StoreError> {
    let mut sealed_legacy = false;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the write lock: another process may have migrated meanwhile.
        let version = schema_version(&tx)?;
        if version > CURRENT {
            return Err(StoreError::SchemaTooNew { found: version, known: CURRENT });
        }
        let Some(step) = MIGRATIONS.get(version as usize) else {
            return Ok(sealed_legacy);
        };
        match step {
            Step::Sql(sql) => tx.execute_batch(sql)?,
            Step::Rust(f) => {
                if version == 1 {
                    let legacy: i64 = tx.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?;
                    sealed_legacy |= legacy > 0;
                }
                f(&tx, ctx)?
            }
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

/// Removes what deleted rows left behind: free pages and old WAL frames.
pub(crate) fn scrub(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("VACUUM")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// v1 → v2: new tables, the index key, and every v1 row sealed.
fn v2_sealed(tx: &Transaction<'_>, ctx: &MigrationCtx<'_>) -> Result<(), StoreError> {
    tx.execute_batch(V2)?;
    let key = IndexKey::generate()?;
    tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![KEY_NAME, key.as_bytes()])?;

    // id, payload, state, case number, attempts, last error, created at
    type LegacyRow = (String, Vec<u8>, String, Option<String>, i64, Option<String>, String);
    let rows: Vec<LegacyRow> = {
        let mut stmt = tx.prepare(
            "SELECT id, payload, state, case_number, attempts, last_error, created_at FROM submissions ORDER BY created_at, id",
        )?;
        let mapped = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?;
        mapped.collect::<Result<_, _>>()?
    };
    if !rows.is_empty() {
        let platform_key = ctx.platform_key.ok_or(StoreError::NeedsPlatformKey)?;
        for (sid, payload, state, case_number, attempts, last_error, created_at) in rows {
            let payload = zeroize::Zeroizing::new(payload);
            // serde's message could quote a value: the error names the row only.
            let sub: Submission = serde_json::from_slice(&payload)
                .map_err(|_| StoreError::Corrupt(format!("legacy row {sid} is not a submission")))?;
            let mut atts: Vec<zeroize::Zeroizing<Vec<u8>>> = Vec::new();
            for r in model::seal::distinct_attachments(&sub) {
                let bytes: Vec<u8> = tx.query_row(
                    "SELECT bytes FROM attachments WHERE submission_id = ?1 AND sha256 = ?2",
                    params![sid, r.sha256],
                    |row| row.get(0),
                )?;
                atts.push(zeroize::Zeroizing::new(bytes));
            }
            let slices: Vec<&[u8]> = atts.iter().map(|b| b.as_slice()).collect();
            let sealed = seal_with_os_rng(platform_key, &sub, &slices)?;
            let canonical = sub.canonical_bytes_zeroizing();
            let state = match state.as_str() {
                "acknowledged" => "acknowledged",
                _ => "queued",
            };
            insert_sealed(
                tx,
                &NewRow {
                    sub: &sub,
                    sealed: &sealed,
                    content_mac: key.content_mac(&canonical),
                    id_number_hash: key.id_number_hash(&sub.applicant.id_number),
                    created_at: parse_ts(&created_at)?,
                    state,
                    case_number: case_number.as_deref(),
                    attempts,
                    last_error: last_error.as_deref(),
                },
            )?;
            audit::append(
                tx,
                now(),
                &audit::Record {
                    terminal: ctx.terminal_id,
                    operator: None,
                    action: "seal legacy filing",
                    subject: Some(sub.id),
                    outcome: "sealed",
                },
            )?;
        }
    }
    tx.execute_batch("DROP TABLE attachments; DROP TABLE submissions;")?;
    Ok(())
}
