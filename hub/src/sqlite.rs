//! The embedded-SQLite [`Store`]: the default for one hub on one machine.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use model::auth::{PublicKey, SignedCatalog};
use model::protocol::{CaseStatusEntry, CaseView, EvaluationUpload, Heartbeat, PutOutcome, TerminalConfig, UploadStatus};
use model::seal::{open_envelope, PlatformSecretKey, SealError, SealedEnvelope};
use model::submission::{sha256_hex, AttachmentRef};
use model::operator::{OperatorAccount, StaffNumber};
use model::{CaseNumber, CaseStatus, Submission, SubmissionId, VillageCode};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::blobs::Blobs;
use crate::group::GroupWriter;
use crate::store::{
    terminal_id_for_serial, CaseSummary, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, LookupAudit, NewOperator, NewSubmission,
    NewTerminal, StatusChange, Store, StoreError, SweepReport, TerminalRecord, TerminalStatus,
};
use model::enroll::{Profile, ENROLL_CODE_TTL_SECS};

/// Schema history; entry `n` takes `user_version` from `n` to `n + 1`.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE submissions (
    id          TEXT PRIMARY KEY,
    body        BLOB NOT NULL,
    body_sha256 TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    received_at TEXT NOT NULL
);
-- Which attachments each submission references, for the commit check.
CREATE TABLE submission_attachments (
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    sha256        TEXT NOT NULL,
    PRIMARY KEY (submission_id, sha256)
) WITHOUT ROWID;
-- Content-addressed: the same scan in two submissions is kept once.
CREATE TABLE attachments (
    sha256      TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL,
    received_at TEXT NOT NULL
);
-- The case-number sequence. AUTOINCREMENT never reuses a number, and the
-- day is stored so a replayed commit rebuilds the same case number.
CREATE TABLE case_numbers (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT UNIQUE NOT NULL REFERENCES submissions(id),
    day           TEXT NOT NULL
);
CREATE TABLE cases (
    case_number   TEXT UNIQUE NOT NULL,
    submission_id TEXT UNIQUE NOT NULL REFERENCES submissions(id),
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
"#, r#"
-- v2 (issue 4): device authentication, resumable uploads, case decisions,
-- heartbeats, terminal config, evaluations, signed catalogs.
CREATE TABLE terminals (
    id           TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    village_code TEXT,
    label        TEXT,
    added_at     TEXT NOT NULL,
    revoked_at   TEXT,
    last_seen_at TEXT
);
-- Nonces of signed requests inside the timestamp window: a replay hits the key.
CREATE TABLE seen_nonces (
    terminal_id TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
) WITHOUT ROWID;
CREATE INDEX seen_nonces_at ON seen_nonces (at);
-- The terminal that sent each submission: only it may continue and read its case.
ALTER TABLE submissions ADD COLUMN terminal_id TEXT;
-- Sealed size per attachment, from the envelope: an upload is complete at this size.
ALTER TABLE submission_attachments ADD COLUMN size INTEGER;
UPDATE submission_attachments SET size = (
    SELECT json_extract(j.value, '$.size')
    FROM submissions s, json_each(CAST(s.body AS TEXT), '$.attachments') j
    WHERE s.id = submission_attachments.submission_id AND json_extract(j.value, '$.sha256') = submission_attachments.sha256
);
-- Bytes of unfinished uploads, appended in arrival order; contiguous from 0.
CREATE TABLE upload_chunks (
    sha256 TEXT NOT NULL,
    lo     INTEGER NOT NULL,
    hi     INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    UNIQUE (sha256, lo)
);
ALTER TABLE cases ADD COLUMN updated_at TEXT;
ALTER TABLE cases ADD COLUMN reason TEXT;
UPDATE cases SET updated_at = created_at;
CREATE TABLE case_events (
    seq         INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL REFERENCES cases(case_number),
    status      TEXT NOT NULL,
    reason      TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE TABLE case_results (
    case_number TEXT PRIMARY KEY REFERENCES cases(case_number),
    media_type  TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    sha256      TEXT NOT NULL,
    added_at    TEXT NOT NULL
);
CREATE TABLE heartbeats (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals(id),
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
-- terminal_id '*' is the default for every terminal.
CREATE TABLE terminal_configs (
    terminal_id TEXT PRIMARY KEY,
    body        TEXT NOT NULL
);
CREATE TABLE evaluations (
    id          TEXT PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    case_number TEXT NOT NULL,
    rating      TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE catalogs (
    version      INTEGER PRIMARY KEY,
    signed       TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"#, r#"
-- v3: attachment bytes, partial and complete, live in files beside the
-- database (blobs.rs); rows of `attachments` from before stay readable.
DROP TABLE upload_chunks;
"#, r#"
-- v4 (issue 8): enrollment. A code is known only by its hash; the primary
-- key makes it single-use across hub instances.
CREATE TABLE enrollments (
    code_hash    TEXT PRIMARY KEY,
    serial       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    presented_at TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'bound', 'delivered')),
    terminal_id  TEXT,
    village_code TEXT,
    profile      TEXT CHECK (profile IN ('kiosk', 'van')),
    bound_at     TEXT,
    bound_by     TEXT,
    delivered_at TEXT
);
CREATE INDEX enrollments_expires ON enrollments (expires_at);
"#, r#"
-- v5 (issue 7): assistants of the service vans. The PIN is only ever an
-- Argon2id PHC string; terminals pull the accounts assigned to them.
CREATE TABLE operators (
    staff_number TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    pin_hash     TEXT NOT NULL,
    villages     TEXT NOT NULL,
    valid_until  TEXT,
    status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    added_at     TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE TABLE operator_terminals (
    staff_number TEXT NOT NULL REFERENCES operators(staff_number),
    terminal_id  TEXT NOT NULL,
    PRIMARY KEY (staff_number, terminal_id)
) WITHOUT ROWID;
CREATE INDEX operator_terminals_by_terminal ON operator_terminals (terminal_id);
"#, r#"
-- v6 (issue 12): a submission is known by its terminal AND its id, so another
-- terminal claiming an id (read off a receipt QR) never touches the owner's
-- filing. Rows from before terminal ids existed get the owner '' that no
-- terminal can authenticate as: the back office still opens them, no
-- terminal reads or commits them. Runs with foreign keys off (see migrate).
CREATE TABLE submissions_v6 (
    terminal_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    body        BLOB NOT NULL,
    body_sha256 TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- 1 once its case is open: quotas and clean-up look only at the rest.
    committed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_id, id)
);
INSERT INTO submissions_v6 (terminal_id, id, body, body_sha256, item_code, received_at, committed)
    SELECT COALESCE(s.terminal_id, ''), s.id, s.body, s.body_sha256, s.item_code, s.received_at,
           EXISTS (SELECT 1 FROM cases c WHERE c.submission_id = s.id)
    FROM submissions s;
CREATE TABLE submission_attachments_v6 (
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER,
    PRIMARY KEY (terminal_id, submission_id, sha256),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
) WITHOUT ROWID;
INSERT INTO submission_attachments_v6 (terminal_id, submission_id, sha256, size)
    SELECT COALESCE(s.terminal_id, ''), a.submission_id, a.sha256, a.size
    FROM submission_attachments a JOIN submissions s ON s.id = a.submission_id;
CREATE INDEX submission_attachments_by_sha ON submission_attachments_v6 (sha256);
CREATE TABLE case_numbers_v6 (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    day           TEXT NOT NULL,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
);
INSERT INTO case_numbers_v6 (seq, terminal_id, submission_id, day)
    SELECT n.seq, COALESCE(s.terminal_id, ''), n.submission_id, n.day FROM case_numbers n JOIN submissions s ON s.id = n.submission_id;
-- The sequence never goes back, whatever rows there are.
INSERT INTO sqlite_sequence (name, seq) SELECT 'case_numbers_v6', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'case_numbers_v6');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'case_numbers'), 0)) WHERE name = 'case_numbers_v6';
CREATE TABLE cases_v6 (
    case_number   TEXT UNIQUE NOT NULL,
    terminal_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT,
    reason        TEXT,
    UNIQUE (terminal_id, submission_id),
    FOREIGN KEY (terminal_id, submission_id) REFERENCES submissions(terminal_id, id)
);
INSERT INTO cases_v6 (case_number, terminal_id, submission_id, status, created_at, updated_at, reason)
    SELECT c.case_number, COALESCE(s.terminal_id, ''), c.submission_id, c.status, c.created_at, c.updated_at, c.reason
    FROM cases c JOIN submissions s ON s.id = c.submission_id;
DROP TABLE cases;
DROP TABLE case_numbers;
DROP TABLE submission_attachments;
DROP TABLE submissions;
ALTER TABLE submissions_v6 RENAME TO submissions;
ALTER TABLE submission_attachments_v6 RENAME TO submission_attachments;
ALTER TABLE case_numbers_v6 RENAME TO case_numbers;
ALTER TABLE cases_v6 RENAME TO cases;
-- Uncommitted filings per terminal (quotas, clean-up): a few rows, however
-- many a terminal filed.
CREATE INDEX submissions_open ON submissions (terminal_id, received_at) WHERE committed = 0;
CREATE INDEX evaluations_by_case ON evaluations (case_number);
-- A second key presenting a pending code: someone else read it off the screen.
ALTER TABLE enrollments ADD COLUMN contested_at TEXT;
-- E-license lookups, audited: who asked, when, for which material, the ID
-- number masked (and tagged with a keyed hash, to count distinct people
-- per terminal and day without keeping the number).
CREATE TABLE e_license_lookups (
    seq           INTEGER PRIMARY KEY,
    terminal_id   TEXT NOT NULL,
    at            TEXT NOT NULL,
    day           TEXT NOT NULL,
    material_code TEXT NOT NULL,
    id_masked     TEXT NOT NULL,
    id_tag        TEXT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX e_license_lookups_by_terminal_day ON e_license_lookups (terminal_id, day);
CREATE TABLE hub_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
INSERT INTO hub_secrets (name, value) VALUES ('lookup_tag', randomblob(32));
-- Staff who may read the fleet page and back-office HTTP (Basic auth);
-- the password only as an Argon2id PHC string.
CREATE TABLE staff (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    added_at      TEXT NOT NULL
);
"#];

/// Connections kept open at most; SQLite serialises writers anyway, this
/// only lets reads proceed beside a write.
const MAX_CONNECTIONS: usize = 8;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    pool: Pool,
    blobs: Blobs,
    /// Taken by every in-process writer, before its pool connection (see group.rs).
    gate: Arc<Mutex<()>>,
    group: GroupWriter,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`;
    /// attachment bytes go in `<path>.blobs/`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = open_connection(path)?;
        migrate(&mut conn)?;
        let pool = Pool::new(path.to_owned(), conn);
        let gate = Arc::new(Mutex::new(()));
        let group = GroupWriter::start(path, gate.clone(), open_connection)?;
        Ok(SqliteStore { pool, blobs: Blobs::open(path)?, gate, group })
    }

    /// Creates a database at an old schema version (tests of migrations:
    /// rows as an older hub left them). Not for serving.
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: usize) -> Result<(), StoreError> {
        let mut conn = open_connection(path)?;
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        for (v, sql) in MIGRATIONS.iter().enumerate().take(version) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", v as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Serialises this process's writers (taken before a pool connection,
    /// so a writer waiting here holds no connection).
    fn write_gate(&self) -> MutexGuard<'_, ()> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The registry and last heartbeats as committed (no flush: writes nothing).
    fn read_terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare(
            "SELECT t.id, t.public_key, t.status, t.village_code, t.label, t.added_at, t.last_seen_at, h.received_at, h.body
             FROM terminals t LEFT JOIN heartbeats h ON h.terminal_id = t.id ORDER BY t.id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let key: String = r.get(1)?;
            let status: String = r.get(2)?;
            let village: Option<String> = r.get(3)?;
            let added: String = r.get(5)?;
            let seen: Option<String> = r.get(6)?;
            let hb_at: Option<String> = r.get(7)?;
            let hb_body: Option<String> = r.get(8)?;
            let last_heartbeat = match (hb_at, hb_body) {
                (Some(at), Some(body)) => match serde_json::from_str::<Heartbeat>(&body) {
                    Ok(hb) => Some((parse_ts(&at)?, hb)),
                    Err(_) => None,
                },
                _ => None,
            };
            out.push(TerminalRecord {
                public_key: PublicKey::parse(&key).map_err(|_| StoreError::Corrupt(format!("terminal {id} has a malformed key")))?,
                status: if status == "active" { TerminalStatus::Active } else { TerminalStatus::Revoked },
                village_code: village.and_then(|v| VillageCode::parse(&v).ok()),
                label: r.get(4)?,
                added_at: parse_ts(&added)?,
                last_seen_at: seen.as_deref().map(parse_ts).transpose()?,
                last_heartbeat,
                id,
            });
        }
        Ok(out)
    }

    /// Complete: a verified blob file, or a row from before blobs were files.
    fn kept(&self, conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.exists(sha256)? || legacy_attachment(conn, sha256)?)
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!("journal_mode is {mode}, WAL refused")));
    }
    // A terminal deletes nothing on our 201, but it stops resending: the
    // answer must only go out once the row is on disk.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // Rebuilding a table others refer to (v6) needs foreign keys off, which
    // SQLite only allows outside a transaction; each migration checks them
    // itself before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let r = migrate_steps(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    r
}

fn migrate_steps(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write transaction: another process may have migrated meanwhile.
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > known {
            return Err(StoreError::SchemaTooNew { found: version, known });
        }
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!("migration to v{} leaves a dangling reference in {table}", version + 1)));
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

fn now_rfc3339() -> String {
    // Formatting the current time as RFC 3339 cannot fail for years 0..9999.
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

/// Case numbers carry the date in China Standard Time, the date the villager sees.
fn today_cst() -> String {
    let fmt = format_description!("[year][month][day]");
    OffsetDateTime::now_utc().to_offset(offset!(+8)).format(&fmt).unwrap_or_default()
}

/// "62" (Gansu) + YYYYMMDD + an 8-digit hub-wide sequence (wider past 10^8).
fn case_number_for(day: &str, seq: i64) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(&format!("62{day}{seq:08}")).map_err(|_| StoreError::Corrupt(format!("case number from day {day:?}, seq {seq}")))
}

pub(crate) fn status_to_str(s: CaseStatus) -> &'static str {
    match s {
        CaseStatus::Received => "received",
        CaseStatus::Accepted => "accepted",
        CaseStatus::Processing => "processing",
        CaseStatus::Done => "done",
        CaseStatus::Rejected => "rejected",
    }
}

pub(crate) fn status_from_str(s: &str) -> Result<CaseStatus, StoreError> {
    Ok(match s {
        "received" => CaseStatus::Received,
        "accepted" => CaseStatus::Accepted,
        "processing" => CaseStatus::Processing,
        "done" => CaseStatus::Done,
        "rejected" => CaseStatus::Rejected,
        other => return Err(StoreError::Corrupt(format!("unknown case status {other:?}"))),
    })
}

fn parse_id(s: &str) -> Result<SubmissionId, StoreError> {
    SubmissionId::parse(s).ok_or_else(|| StoreError::Corrupt("stored submission id is not a UUID".into()))
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn parse_ts(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| StoreError::Corrupt(format!("stored time {s:?} is malformed")))
}

fn parse_case_number(s: &str) -> Result<CaseNumber, StoreError> {
    CaseNumber::parse(s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))
}

/// Submission `id` of `terminal`, or UnknownSubmission. Ownership is part
/// of the key: another terminal's row under the same id is not this one, and
/// rows from before terminal ids (owner '') belong to no terminal.
fn owned_submission(tx: &Connection, terminal: &str, id: SubmissionId) -> Result<(), StoreError> {
    let found: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM submissions WHERE terminal_id = ?1 AND id = ?2)")?
        .query_row(params![terminal, id.to_string()], |r| r.get(0))?;
    if terminal.is_empty() || !found {
        return Err(StoreError::UnknownSubmission(id));
    }
    Ok(())
}

/// Size of a referenced attachment, from the envelope.
fn referenced_size(tx: &Connection, terminal: &str, id: SubmissionId, sha256: &str) -> Result<u64, StoreError> {
    let size: Option<Option<i64>> = tx
        .query_row(
            "SELECT size FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2 AND sha256 = ?3",
            params![terminal, id.to_string(), sha256],
            |r| r.get(0),
        )
        .optional()?;
    match size {
        None => Err(StoreError::NotReferenced { id, sha256: sha256.to_owned() }),
        Some(None) => Err(StoreError::Corrupt(format!("attachment {sha256} has no recorded size"))),
        Some(Some(n)) => u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("attachment {sha256} has a negative size"))),
    }
}

/// An attachment stored as a row (hubs before v3).
fn legacy_attachment(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")?.query_row([sha256], |r| r.get(0))?)
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Which decisions the back office may take from each status.
fn transition_allowed(from: CaseStatus, to: CaseStatus) -> bool {
    use CaseStatus::*;
    matches!(
        (from, to),
        (Received, Accepted) | (Received, Rejected) | (Accepted, Processing) | (Accepted, Done) | (Accepted, Rejected) | (Processing, Done) | (Processing, Rejected)
    )
}

const SUMMARY_SELECT: &str = "SELECT c.case_number, c.submission_id, s.item_code, NULLIF(s.terminal_id, ''), c.status, c.created_at,
            COALESCE(c.updated_at, c.created_at), c.reason, r.case_number IS NOT NULL
     FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id
     LEFT JOIN case_results r ON r.case_number = c.case_number";

fn summary_from_row(r: &rusqlite::Row<'_>) -> Result<CaseSummary, StoreError> {
    let number: String = r.get(0)?;
    let sid: String = r.get(1)?;
    let status: String = r.get(4)?;
    let created: String = r.get(5)?;
    let updated: String = r.get(6)?;
    Ok(CaseSummary {
        case_number: parse_case_number(&number)?,
        submission_id: parse_id(&sid)?,
        item_code: r.get(2)?,
        terminal_id: r.get(3)?,
        status: status_from_str(&status)?,
        created_at: parse_ts(&created)?,
        updated_at: parse_ts(&updated)?,
        reason: r.get(7)?,
        has_result: r.get(8)?,
    })
}

impl Store for SqliteStore {
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = sub.id.to_string();
        if sub.terminal_id.is_empty() {
            return Err(StoreError::UnknownTerminal(String::new()));
        }
        // The primary key (terminal, id) decides, not a prior SELECT: two
        // racing PUTs cannot both insert, and another terminal's row under
        // the same id is simply another submission.
        let inserted = tx.execute(
            "INSERT INTO submissions (terminal_id, id, body, body_sha256, item_code, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(terminal_id, id) DO NOTHING",
            params![sub.terminal_id, id, sub.body, sub.body_sha256, sub.item_code, now_rfc3339()],
        )?;
        if inserted == 0 {
            let stored: String = tx.query_row(
                "SELECT body_sha256 FROM submissions WHERE terminal_id = ?1 AND id = ?2",
                params![sub.terminal_id, id],
                |r| r.get(0),
            )?;
            return if stored == sub.body_sha256 { Ok(PutOutcome::Replayed) } else { Err(StoreError::Conflict(sub.id)) };
        }
        for (sha, size) in &sub.attachments {
            tx.execute(
                "INSERT INTO submission_attachments (terminal_id, submission_id, sha256, size) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![sub.terminal_id, id, sha, i64_of(*size)],
            )?;
        }
        if let Some(quota) = sub.quota {
            // Counted with the new one in: over the limit, nothing is kept (the
            // transaction is dropped) and the terminal is told to wait.
            let (open, bytes): (i64, i64) = tx.query_row(
                "SELECT COUNT(*), COALESCE(SUM((SELECT COALESCE(SUM(a.size), 0) FROM submission_attachments a
                                                 WHERE a.terminal_id = s.terminal_id AND a.submission_id = s.id)), 0)
                 FROM submissions s
                 WHERE s.terminal_id = ?1 AND s.committed = 0",
                [sub.terminal_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let what = if u64::try_from(open).unwrap_or(0) > quota.max_open {
                Some(format!("{} uncommitted submissions", quota.max_open))
            } else if u64::try_from(bytes).unwrap_or(0) > quota.max_bytes {
                Some(format!("{} attachment bytes in flight", quota.max_bytes))
            } else {
                None
            };
            if let Some(what) = what {
                return Err(StoreError::QuotaExceeded { terminal: sub.terminal_id.to_owned(), what });
            }
        }
        tx.commit()?;
        Ok(PutOutcome::Stored)
    }

    fn upload_status(&self, terminal: &str, id: SubmissionId, sha256: &str) -> Result<UploadStatus, StoreError> {
        let conn = self.pool.get()?;
        owned_submission(&conn, terminal, id)?;
        let size = referenced_size(&conn, terminal, id, sha256)?;
        let complete = self.kept(&conn, sha256)?;
        let received = if complete { size } else { self.blobs.partial_len(sha256)?.min(size) };
        Ok(UploadStatus { sha256: sha256.to_owned(), size, received, complete })
    }

    fn append_upload(&self, terminal: &str, id: SubmissionId, sha256: &str, offset: u64, bytes: &[u8]) -> Result<u64, StoreError> {
        let size = {
            let conn = self.pool.get()?;
            owned_submission(&conn, terminal, id)?;
            let size = referenced_size(&conn, terminal, id, sha256)?;
            if self.kept(&conn, sha256)? {
                return Ok(size);
            }
            size
        };
        self.blobs.append(sha256, offset, bytes, size)
    }

    fn truncate_upload(&self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.blobs.truncate(sha256, offset)
    }

    fn finish_upload(&self, sha256: &str) -> Result<PutOutcome, StoreError> {
        {
            let conn = self.pool.get()?;
            if legacy_attachment(&conn, sha256)? {
                return Ok(PutOutcome::Replayed);
            }
        }
        self.blobs.finish(sha256)
    }

    fn commit(&self, terminal: &str, id: SubmissionId) -> Result<(CaseNumber, bool), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sid = id.to_string();
        owned_submission(&tx, terminal, id)?;
        let referenced = {
            let mut stmt =
                tx.prepare_cached("SELECT sha256 FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2 ORDER BY sha256")?;
            let rows = stmt.query_map(params![terminal, sid], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut missing = Vec::new();
        for sha in referenced {
            if !self.kept(&tx, &sha)? {
                missing.push(sha);
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::MissingAttachments { id, missing });
        }
        // Both inserts are guarded by UNIQUE(submission_id): a replayed or
        // racing commit reads back the case the first one opened.
        tx.execute(
            "INSERT INTO case_numbers (terminal_id, submission_id, day) VALUES (?1, ?2, ?3) ON CONFLICT(terminal_id, submission_id) DO NOTHING",
            params![terminal, sid, today_cst()],
        )?;
        let (seq, day): (i64, String) = tx.query_row(
            "SELECT seq, day FROM case_numbers WHERE terminal_id = ?1 AND submission_id = ?2",
            params![terminal, sid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let fresh = case_number_for(&day, seq)?;
        let now = now_rfc3339();
        let opened = tx.execute(
            "INSERT INTO cases (case_number, terminal_id, submission_id, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT(terminal_id, submission_id) DO NOTHING",
            params![fresh.as_str(), terminal, sid, status_to_str(CaseStatus::Received), now],
        )?;
        if opened == 1 {
            tx.execute(
                "INSERT INTO case_events (case_number, status, actor, at) VALUES (?1, 'received', ?2, ?3)",
                params![fresh.as_str(), format!("terminal {terminal}"), now],
            )?;
            tx.execute("UPDATE submissions SET committed = 1 WHERE terminal_id = ?1 AND id = ?2", params![terminal, sid])?;
        }
        let stored: String =
            tx.query_row("SELECT case_number FROM cases WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, sid], |r| r.get(0))?;
        tx.commit()?;
        Ok((parse_case_number(&stored)?, opened == 1))
    }

    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        let conn = self.pool.get()?;
        let row: Option<(String, String, String, String)> = conn
            .query_row(
                "SELECT c.case_number, c.submission_id, s.item_code, c.status
                 FROM cases c JOIN submissions s ON s.terminal_id = c.terminal_id AND s.id = c.submission_id WHERE c.case_number = ?1",
                [case_number],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((number, sid, item_code, status)) = row else {
            return Ok(None);
        };
        Ok(Some(CaseView {
            case_number: parse_case_number(&number)?,
            submission_id: parse_id(&sid)?,
            item_code,
            status: status_from_str(&status)?,
        }))
    }

    fn case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT c.case_number, c.status, COALESCE(c.updated_at, c.created_at), c.reason, r.case_number IS NOT NULL
             FROM cases c LEFT JOIN case_results r ON r.case_number = c.case_number
             WHERE c.submission_id = ?1 AND c.terminal_id = ?2 AND ?2 <> ''",
        )?;
        let mut out = Vec::new();
        for id in ids {
            let row: Option<(String, String, String, Option<String>, bool)> = stmt
                .query_row(params![id.to_string(), terminal], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .optional()?;
            if let Some((number, status, updated, reason, result_available)) = row {
                out.push(CaseStatusEntry {
                    submission_id: *id,
                    case_number: parse_case_number(&number)?,
                    status: status_from_str(&status)?,
                    updated_at: parse_ts(&updated)?,
                    reason,
                    result_available,
                });
            }
        }
        Ok(out)
    }

    fn list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE (?1 IS NULL OR c.status = ?1) ORDER BY c.created_at, c.case_number LIMIT ?2"
        ))?;
        let mut rows = stmt.query(params![status.map(status_to_str), i64_of(limit as u64)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(summary_from_row(row)?);
        }
        Ok(out)
    }

    fn case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(&format!("{SUMMARY_SELECT} WHERE c.case_number = ?1"))?;
        let mut rows = stmt.query([case_number])?;
        match rows.next()? {
            Some(row) => Ok(Some(summary_from_row(row)?)),
            None => Ok(None),
        }
    }

    fn set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<String> =
            tx.query_row("SELECT status FROM cases WHERE case_number = ?1", [case_number], |r| r.get(0)).optional()?;
        let Some(current) = current else { return Err(StoreError::UnknownCase(case_number.to_owned())) };
        let from = status_from_str(&current)?;
        if from != change.to {
            if !transition_allowed(from, change.to) {
                return Err(StoreError::WrongCaseStatus {
                    case: case_number.to_owned(),
                    from: status_to_str(from),
                    to: status_to_str(change.to),
                });
            }
            tx.execute(
                "UPDATE cases SET status = ?2, updated_at = ?3, reason = ?4 WHERE case_number = ?1",
                params![case_number, status_to_str(change.to), ts(at), change.reason],
            )?;
            tx.execute(
                "INSERT INTO case_events (case_number, status, reason, actor, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![case_number, status_to_str(change.to), change.reason, change.actor, ts(at)],
            )?;
        }
        if let Some((media_type, bytes)) = change.result {
            tx.execute(
                "INSERT INTO case_results (case_number, media_type, bytes, sha256, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(case_number) DO UPDATE SET media_type = excluded.media_type, bytes = excluded.bytes,
                     sha256 = excluded.sha256, added_at = excluded.added_at",
                params![case_number, media_type, bytes, sha256_hex(bytes), ts(at)],
            )?;
        }
        let summary = {
            let mut stmt = tx.prepare_cached(&format!("{SUMMARY_SELECT} WHERE c.case_number = ?1"))?;
            let mut rows = stmt.query([case_number])?;
            let row = rows.next()?.ok_or_else(|| StoreError::UnknownCase(case_number.to_owned()))?;
            summary_from_row(row)?
        };
        tx.commit()?;
        Ok(summary)
    }

    fn case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let conn = self.pool.get()?;
        Ok(conn
            .query_row(
                "SELECT r.media_type, r.bytes FROM case_results r JOIN cases c ON c.case_number = r.case_number
                 WHERE r.case_number = ?1 AND c.terminal_id = ?2 AND ?2 <> ''",
                params![case_number, terminal],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn add_terminal(&self, t: &NewTerminal, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = t.public_key.to_string();
        let existing: Option<(String, String)> =
            tx.query_row("SELECT public_key, status FROM terminals WHERE id = ?1", [&t.id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match existing {
            Some((k, status)) if k == key && status == "active" => {
                tx.execute(
                    "UPDATE terminals SET village_code = COALESCE(?2, village_code), label = COALESCE(?3, label) WHERE id = ?1",
                    params![t.id, t.village_code.as_ref().map(|v| v.as_str()), t.label],
                )?;
            }
            // A revoked terminal stays revoked: a new key needs a new enrollment.
            Some(_) => return Err(StoreError::TerminalConflict(t.id.clone())),
            None => {
                let inserted = tx.execute(
                    "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES (?1, ?2, 'active', ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![t.id, key, t.village_code.as_ref().map(|v| v.as_str()), t.label, ts(at)],
                )?;
                if inserted == 0 {
                    return Err(StoreError::TerminalConflict(t.id.clone()));
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn revoke_terminal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let changed = conn.execute(
            "UPDATE terminals SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
            params![id, ts(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownTerminal(id.to_owned()));
        }
        Ok(())
    }

    fn terminal_key(&self, id: &str) -> Result<Option<(PublicKey, TerminalStatus)>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached("SELECT public_key, status FROM terminals WHERE id = ?1")?;
        let row: Option<(String, String)> = stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        let Some((key, status)) = row else { return Ok(None) };
        let key = PublicKey::parse(&key).map_err(|_| StoreError::Corrupt(format!("terminal {id} has a malformed key")))?;
        let status = if status == "active" { TerminalStatus::Active } else { TerminalStatus::Revoked };
        Ok(Some((key, status)))
    }

    fn present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let key = p.public_key.to_string();
        let registered: Option<(String, String)> =
            tx.query_row("SELECT id, status FROM terminals WHERE public_key = ?1", [&key], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        if let Some((id, status)) = &registered {
            if status == "revoked" {
                return Err(StoreError::TerminalRevoked(id.clone()));
            }
        }
        type Row = (String, i64, String, Option<String>, Option<String>, Option<String>);
        let row: Option<Row> = tx
            .query_row(
                "SELECT public_key, expires_at, status, terminal_id, village_code, profile FROM enrollments WHERE code_hash = ?1",
                [p.code_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let now = at.unix_timestamp();
        let state = match row {
            None => {
                let expires = now + ENROLL_CODE_TTL_SECS;
                tx.execute(
                    "INSERT INTO enrollments (code_hash, serial, public_key, presented_at, expires_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
                    params![p.code_hash, p.serial, key, ts(at), expires],
                )?;
                EnrollState::Pending { expires_at: unix(expires) }
            }
            // Another key presenting a known code: someone read it off the
            // screen. Refused, and a pending code is marked so that it can
            // no longer be bound to either key (whichever came first).
            Some((k, _, status, ..)) if k != key => {
                if status == "pending" {
                    tx.execute("UPDATE enrollments SET contested_at = COALESCE(contested_at, ?2) WHERE code_hash = ?1", params![p.code_hash, ts(at)])?;
                    tx.commit()?;
                    tracing::warn!(presenter = %p.public_key.fingerprint(), "an enrollment code was presented by a second key; it can no longer be bound");
                }
                return Err(StoreError::EnrollCodeUsed);
            }
            Some((_, expires, status, ..)) if status == "pending" => {
                if now > expires {
                    return Err(StoreError::EnrollCodeExpired);
                }
                EnrollState::Pending { expires_at: unix(expires) }
            }
            Some((_, _, status, Some(terminal_id), Some(village), Some(profile))) if status == "bound" => {
                tx.execute("UPDATE enrollments SET status = 'delivered', delivered_at = ?2 WHERE code_hash = ?1", params![p.code_hash, ts(at)])?;
                EnrollState::Bound {
                    terminal_id,
                    village_code: VillageCode::parse(&village).map_err(|_| StoreError::Corrupt("enrollment village code".into()))?,
                    profile: Profile::parse(&profile).ok_or_else(|| StoreError::Corrupt("enrollment profile".into()))?,
                }
            }
            Some(_) => return Err(StoreError::EnrollCodeUsed),
        };
        // Expired pending codes are of no use to anyone: forget them now and then.
        tx.execute("DELETE FROM enrollments WHERE status = 'pending' AND expires_at < ?1", [now - 86_400])?;
        tx.commit()?;
        Ok(state)
    }

    fn bind_enrollment(&self, code_hash: &str, b: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, i64, String, Option<String>)> = tx
            .query_row("SELECT serial, public_key, expires_at, status, contested_at FROM enrollments WHERE code_hash = ?1", [code_hash], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((serial, key_text, expires, status, contested)) = row else { return Err(StoreError::UnknownEnrollCode) };
        if status != "pending" {
            return Err(StoreError::EnrollCodeUsed);
        }
        if at.unix_timestamp() > expires {
            return Err(StoreError::EnrollCodeExpired);
        }
        if contested.is_some() {
            return Err(StoreError::EnrollCodeContested);
        }
        let key = PublicKey::parse(&key_text).map_err(|_| StoreError::Corrupt("enrollment key".into()))?;
        // The code alone proves nothing (anyone near the screen can read
        // it): the technician confirms the key the terminal shows.
        let Some(expected) = b.expected_fingerprint.as_deref().map(str::trim).filter(|f| !f.is_empty()) else {
            return Err(StoreError::EnrollFingerprintRequired { found: key.fingerprint() });
        };
        if !expected.eq_ignore_ascii_case(&key.fingerprint()) {
            return Err(StoreError::EnrollFingerprintMismatch { expected: expected.to_owned(), found: key.fingerprint() });
        }
        let id = b.terminal_id.clone().unwrap_or_else(|| terminal_id_for_serial(&serial));
        if !model::auth::valid_terminal_id(&id) {
            return Err(StoreError::TerminalConflict(format!("{id} (not a valid terminal id)")));
        }
        let by_key: Option<(String, String)> =
            tx.query_row("SELECT id, status FROM terminals WHERE public_key = ?1", [&key_text], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match by_key {
            Some((existing, status)) if status == "revoked" => return Err(StoreError::TerminalRevoked(existing)),
            Some((existing, _)) if existing != id => return Err(StoreError::TerminalConflict(existing)),
            Some(_) => {
                tx.execute("UPDATE terminals SET village_code = ?2 WHERE id = ?1", params![id, b.village_code.as_str()])?;
            }
            None => {
                let inserted = tx.execute(
                    "INSERT INTO terminals (id, public_key, status, village_code, label, added_at) VALUES (?1, ?2, 'active', ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                    params![id, key_text, b.village_code.as_str(), format!("{} {serial}", b.profile.as_str()), ts(at)],
                )?;
                if inserted == 0 {
                    return Err(StoreError::TerminalConflict(id));
                }
            }
        }
        tx.execute(
            "UPDATE enrollments SET status = 'bound', terminal_id = ?2, village_code = ?3, profile = ?4, bound_at = ?5, bound_by = ?6
             WHERE code_hash = ?1 AND status = 'pending'",
            params![code_hash, id, b.village_code.as_str(), b.profile.as_str(), ts(at), b.actor],
        )?;
        let presented_at: String = tx.query_row("SELECT presented_at FROM enrollments WHERE code_hash = ?1", [code_hash], |r| r.get(0))?;
        tx.commit()?;
        Ok(EnrollRecord {
            serial,
            public_key: key,
            presented_at: parse_ts(&presented_at)?,
            expires_at: unix(expires),
            status: "bound".into(),
            terminal_id: Some(id),
            village_code: Some(b.village_code.as_str().to_owned()),
            profile: Some(b.profile),
        })
    }

    fn pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare(
            "SELECT serial, public_key, presented_at, expires_at,
                    CASE WHEN status = 'pending' AND contested_at IS NOT NULL THEN 'contested' ELSE status END,
                    terminal_id, village_code, profile FROM enrollments
             WHERE status = 'bound' OR (status = 'pending' AND expires_at >= ?1) ORDER BY presented_at DESC",
        )?;
        let rows = stmt.query_map([at.unix_timestamp()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (serial, key, presented, expires, status, terminal_id, village_code, profile) = row?;
            out.push(EnrollRecord {
                serial,
                public_key: PublicKey::parse(&key).map_err(|_| StoreError::Corrupt("enrollment key".into()))?,
                presented_at: parse_ts(&presented)?,
                expires_at: unix(expires),
                status,
                terminal_id,
                village_code,
                profile: profile.as_deref().and_then(Profile::parse),
            });
        }
        Ok(out)
    }

    fn add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let staff = op.staff_number.as_str();
        let status: Option<String> =
            tx.query_row("SELECT status FROM operators WHERE staff_number = ?1", [staff], |r| r.get(0)).optional()?;
        if status.as_deref() == Some("revoked") {
            // A revoked account is not brought back by accident: a new staff number is.
            return Err(StoreError::OperatorRevoked(staff.to_owned()));
        }
        let villages = serde_json::to_string(&op.villages).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.execute(
            "INSERT INTO operators (staff_number, name, pin_hash, villages, valid_until, status, added_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?6)
             ON CONFLICT(staff_number) DO UPDATE SET name = excluded.name, pin_hash = excluded.pin_hash,
                 villages = excluded.villages, valid_until = excluded.valid_until, updated_at = excluded.updated_at",
            params![staff, op.name, op.pin_hash, villages, op.valid_until.map(ts), ts(at)],
        )?;
        tx.execute("DELETE FROM operator_terminals WHERE staff_number = ?1", [staff])?;
        for t in &op.terminals {
            tx.execute("INSERT INTO operator_terminals (staff_number, terminal_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![staff, t])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let changed = conn.execute(
            "UPDATE operators SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?2), updated_at = ?2 WHERE staff_number = ?1",
            params![staff_number, ts(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::UnknownOperator(staff_number.to_owned()));
        }
        Ok(())
    }

    fn operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached(
            "SELECT o.staff_number, o.name, o.pin_hash, o.villages, o.valid_until, o.status
             FROM operators o JOIN operator_terminals t ON t.staff_number = o.staff_number
             WHERE t.terminal_id = ?1 ORDER BY o.staff_number",
        )?;
        let rows = stmt.query_map([terminal], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (staff, name, pin_hash, villages, valid_until, status) = row?;
            out.push(OperatorAccount {
                staff_number: StaffNumber::parse(&staff).map_err(|_| StoreError::Corrupt("a stored staff number is malformed".into()))?,
                name,
                pin_hash,
                villages: serde_json::from_str(&villages).map_err(|_| StoreError::Corrupt(format!("villages of operator {staff} are malformed")))?,
                revoked: status == "revoked",
                valid_until: valid_until.as_deref().map(parse_ts).transpose()?,
            });
        }
        Ok(out)
    }

    fn remember_nonce(&self, terminal: &str, nonce: &str, now_unix: i64, forget_before: i64) -> Result<bool, StoreError> {
        let seen_at = ts(OffsetDateTime::from_unix_timestamp(now_unix).unwrap_or(OffsetDateTime::UNIX_EPOCH));
        self.group.nonce(terminal, nonce, now_unix, seen_at, forget_before)
    }

    fn terminals(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        // Heartbeats are written behind: read them after they landed.
        self.group.flush()?;
        self.read_terminals()
    }

    fn terminals_read_only(&self) -> Result<Vec<TerminalRecord>, StoreError> {
        self.read_terminals()
    }

    fn check_staff(&self, name: &str, password: &str) -> Result<bool, StoreError> {
        let conn = self.pool.get()?;
        let stored: Option<String> =
            conn.prepare_cached("SELECT password_hash FROM staff WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?;
        let Some(stored) = stored else { return Ok(false) };
        let given = crate::auth::staff_token_hash(password);
        // Compare without an early exit: the timing says nothing of the hash.
        Ok(stored.len() == given.len() && stored.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0)
    }

    fn set_staff(&self, name: &str, password_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO staff (name, password_hash, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
            params![name, password_hash, ts(at)],
        )?;
        Ok(())
    }

    fn audit_e_license(&self, l: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let secret: Vec<u8> = tx.query_row("SELECT value FROM hub_secrets WHERE name = 'lookup_tag'", [], |r| r.get(0))?;
        let mut keyed = secret;
        keyed.extend_from_slice(b"\ncunban-e-license-person\n");
        keyed.extend_from_slice(l.id_number.as_bytes());
        let tag = sha256_hex(&keyed)[..32].to_owned();
        let day = at.date().to_string();
        let (seen, people): (bool, i64) = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM e_license_lookups WHERE terminal_id = ?1 AND day = ?2 AND id_tag = ?3 AND outcome <> 'refused'),
                    (SELECT COUNT(DISTINCT id_tag) FROM e_license_lookups WHERE terminal_id = ?1 AND day = ?2 AND outcome <> 'refused')",
            params![l.terminal, day, tag],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let allowed = seen || u64::try_from(people).unwrap_or(0) < max_people;
        tx.execute(
            "INSERT INTO e_license_lookups (terminal_id, at, day, material_code, id_masked, id_tag, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![l.terminal, ts(at), day, l.material_code, l.id_masked, tag, if allowed { "asked" } else { "refused" }],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        if !allowed {
            return Err(StoreError::QuotaExceeded { terminal: l.terminal.to_owned(), what: format!("{max_people} people looked up a day") });
        }
        Ok(seq)
    }

    fn audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        conn.execute("UPDATE e_license_lookups SET outcome = ?2 WHERE seq = ?1", params![seq, outcome])?;
        Ok(())
    }

    fn sweep(&self, uncommitted_before: OffsetDateTime, partial_before: OffsetDateTime) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        {
            // Held until the files are gone: no new reference can appear meanwhile.
            let _one = self.write_gate();
            let mut conn = self.pool.get()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let stale: Vec<(String, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT s.terminal_id, s.id FROM submissions s
                     WHERE s.committed = 0 AND s.received_at < ?1
                       AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.terminal_id = s.terminal_id AND c.submission_id = s.id)
                       AND NOT EXISTS (SELECT 1 FROM case_numbers n WHERE n.terminal_id = s.terminal_id AND n.submission_id = s.id)",
                )?;
                let rows = stmt.query_map([ts(uncommitted_before)], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut shas = std::collections::BTreeSet::new();
            for (terminal, id) in &stale {
                {
                    let mut stmt = tx.prepare_cached("SELECT sha256 FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2")?;
                    for sha in stmt.query_map(params![terminal, id], |r| r.get::<_, String>(0))? {
                        shas.insert(sha?);
                    }
                }
                tx.execute("DELETE FROM submission_attachments WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, id])?;
                tx.execute("DELETE FROM submissions WHERE terminal_id = ?1 AND id = ?2", params![terminal, id])?;
                report.submissions += 1;
            }
            let mut orphans = Vec::new();
            for sha in shas {
                let referenced: bool =
                    tx.query_row("SELECT EXISTS (SELECT 1 FROM submission_attachments WHERE sha256 = ?1)", [&sha], |r| r.get(0))?;
                if !referenced && !legacy_attachment(&tx, &sha)? {
                    orphans.push(sha);
                }
            }
            tx.commit()?;
            for sha in orphans {
                if self.blobs.exists(&sha)? {
                    report.attachments += 1;
                } else if self.blobs.partial_len(&sha)? > 0 {
                    report.partials += 1;
                }
                self.blobs.remove(&sha)?;
            }
        }
        let before = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(partial_before.unix_timestamp()).unwrap_or(0));
        for sha in self.blobs.partials()? {
            if self.blobs.drop_stale_partial(&sha, before)? {
                report.partials += 1;
            }
        }
        if report != SweepReport::default() {
            tracing::info!(?report, "clean-up dropped abandoned uploads");
        }
        Ok(report)
    }

    fn record_heartbeat(&self, terminal: &str, hb: &Heartbeat, at: OffsetDateTime) -> Result<(), StoreError> {
        let body = serde_json::to_string(hb).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.group.heartbeat(terminal, ts(at), body)
    }

    fn terminal_config(&self, terminal: &str) -> Result<TerminalConfig, StoreError> {
        let conn = self.pool.get()?;
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM terminal_configs WHERE terminal_id IN (?1, '*') ORDER BY terminal_id = '*' LIMIT 1",
                [terminal],
                |r| r.get(0),
            )
            .optional()?;
        match body {
            Some(b) => serde_json::from_str(&b).map_err(|_| StoreError::Corrupt(format!("the config of terminal {terminal} is malformed"))),
            None => Ok(TerminalConfig::default()),
        }
    }

    fn set_terminal_config(&self, terminal: Option<&str>, config: &TerminalConfig) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO terminal_configs (terminal_id, body) VALUES (?1, ?2)
             ON CONFLICT(terminal_id) DO UPDATE SET body = excluded.body",
            params![terminal.unwrap_or("*"), body],
        )?;
        Ok(())
    }

    fn put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rating = serde_json::to_value(ev.evaluation.rating).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let case = ev.evaluation.case_number.as_str();
        let held: Option<(String, String)> = tx
            .query_row("SELECT body, terminal_id FROM evaluations WHERE id = ?1", [ev.id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((stored, owner)) = held {
            return if stored == body && owner == terminal { Ok(PutOutcome::Replayed) } else { Err(StoreError::EvaluationConflict(ev.id)) };
        }
        // Only the terminal that filed the case rates it (the villager was
        // there), and once: the rating is the villager's, not a tally.
        let filed_here: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM cases WHERE case_number = ?1 AND terminal_id = ?2 AND ?2 <> '')",
            params![case, terminal],
            |r| r.get(0),
        )?;
        if !filed_here {
            return Err(StoreError::NotYourCase(case.to_owned()));
        }
        let rated: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM evaluations WHERE case_number = ?1)", [case], |r| r.get(0))?;
        if rated {
            return Err(StoreError::AlreadyRated(case.to_owned()));
        }
        tx.execute(
            "INSERT INTO evaluations (id, terminal_id, case_number, rating, body, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ev.id.to_string(), terminal, case, rating, body, ts(at)],
        )?;
        tx.commit()?;
        Ok(PutOutcome::Stored)
    }

    fn publish_catalog(&self, signed: &SignedCatalog, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let body = serde_json::to_string(signed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.pool.get()?;
        conn.execute(
            "INSERT INTO catalogs (version, signed, published_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(version) DO UPDATE SET signed = excluded.signed, published_at = excluded.published_at",
            params![i64_of(signed.version), body, ts(at)],
        )?;
        Ok(())
    }

    fn latest_catalog_version(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.pool.get()?;
        let v: Option<i64> = conn.prepare_cached("SELECT MAX(version) FROM catalogs")?.query_row([], |r| r.get(0))?;
        Ok(v.and_then(|v| u64::try_from(v).ok()))
    }

    fn latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError> {
        let conn = self.pool.get()?;
        let body: Option<String> =
            conn.query_row("SELECT signed FROM catalogs ORDER BY version DESC LIMIT 1", [], |r| r.get(0)).optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(|_| StoreError::Corrupt("a stored catalog is malformed".into()))).transpose()
    }
}

/// Read-only views of a hub database, for tests, the demo and operators.
pub struct HubDb {
    conn: Connection,
    blobs: Blobs,
}

impl HubDb {
    pub fn open(path: &Path) -> Result<HubDb, StoreError> {
        // Read-write flags, though only SELECTs run: a read-only open of a WAL
        // database fails when the hub has just removed its -shm file.
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(HubDb { conn, blobs: Blobs::open(path)? })
    }

    /// A complete attachment's sealed bytes (a file, or a row of an older hub).
    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(b) = self.blobs.read(sha256)? {
            return Ok(Some(b));
        }
        Ok(self.conn.query_row("SELECT bytes FROM attachments WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?)
    }

    /// Rows stored under `id`, whichever terminal sent them (one per terminal at most).
    pub fn submission_count(&self, id: SubmissionId) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM submissions WHERE id = ?1", [id.to_string()], |r| r.get(0))?)
    }

    /// Ids of all submissions held.
    pub fn submission_ids(&self) -> Result<Vec<SubmissionId>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM submissions ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|s| parse_id(s)).collect()
    }

    /// All submissions held.
    pub fn total_submissions(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?)
    }

    /// The stored manifest bytes, exactly as received (the first stored
    /// under `id`, if several terminals used it: see [`HubDb::submission_body_of`]).
    pub fn submission_body(&self, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT body FROM submissions WHERE id = ?1 ORDER BY received_at, terminal_id LIMIT 1", [id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The manifest `terminal` stored under `id` ('' for rows from before terminal ids).
    pub fn submission_body_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT body FROM submissions WHERE terminal_id = ?1 AND id = ?2", params![terminal, id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The case of `id` sent by `terminal`.
    pub fn case_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let s: Option<String> = self
            .conn
            .query_row("SELECT case_number FROM cases WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, id.to_string()], |r| r.get(0))
            .optional()?;
        s.map(|s| CaseNumber::parse(&s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))).transpose()
    }

    /// The first case opened for `id` (by whichever terminal).
    pub fn case_for(&self, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let s: Option<String> = self
            .conn
            .query_row("SELECT case_number FROM cases WHERE submission_id = ?1 ORDER BY created_at LIMIT 1", [id.to_string()], |r| r.get(0))
            .optional()?;
        s.map(|s| CaseNumber::parse(&s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))).transpose()
    }

    pub fn case_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?)
    }

    /// Evaluations (好差评) held, by rating label.
    pub fn evaluations(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT case_number, rating FROM evaluations ORDER BY received_at, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The e-license audit: (terminal, material, masked ID number, outcome), oldest first.
    pub fn e_license_audit(&self) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT terminal_id, material_code, id_masked, outcome FROM e_license_lookups ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Bytes held of an unfinished upload.
    pub fn partial_len(&self, sha256: &str) -> Result<u64, StoreError> {
        self.blobs.partial_len(sha256)
    }

    /// SQLite's `data_version`: it changes when another connection commits
    /// (a reader checks it wrote nothing).
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    pub fn has_attachment(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.exists(sha256)? || legacy_attachment(&self.conn, sha256)?)
    }

    /// Opens a stored sealed submission with the platform's private key:
    /// the submission and every attachment's reference and plain bytes
    /// (zeroised when dropped). The back office (issue 4) builds on this.
    pub fn open_submission(&self, id: SubmissionId, key: &PlatformSecretKey) -> Result<Option<OpenedFiling>, StoreError> {
        let Some(body) = self.submission_body(id)? else { return Ok(None) };
        self.open_body(id, &body, key)
    }

    /// [`HubDb::open_submission`] of the submission `terminal` sent under `id`.
    pub fn open_submission_of(&self, terminal: &str, id: SubmissionId, key: &PlatformSecretKey) -> Result<Option<OpenedFiling>, StoreError> {
        let Some(body) = self.submission_body_of(terminal, id)? else { return Ok(None) };
        self.open_body(id, &body, key)
    }

    fn open_body(&self, id: SubmissionId, body: &[u8], key: &PlatformSecretKey) -> Result<Option<OpenedFiling>, StoreError> {
        let unseal = |e: SealError| StoreError::Unseal { id, reason: e.to_string() };
        let envelope = SealedEnvelope::from_bytes(body).map_err(unseal)?;
        let opened = open_envelope(key, &envelope).map_err(unseal)?;
        let mut attachments = Vec::with_capacity(opened.attachment_count());
        for (i, part) in envelope.attachments.iter().enumerate() {
            let bytes = self.attachment(&part.sha256)?;
            let bytes = bytes.ok_or_else(|| StoreError::Unseal { id, reason: format!("attachment {i} has not arrived") })?;
            attachments.push(opened.open_attachment(i, &bytes).map_err(unseal)?);
        }
        Ok(Some(OpenedFiling { submission: opened.submission, attachments }))
    }
}

/// A submission as the platform reads it, after unsealing.
#[derive(Debug)]
pub struct OpenedFiling {
    pub submission: Submission,
    /// In the submission's order of distinct attachments.
    pub attachments: Vec<(AttachmentRef, Zeroizing<Vec<u8>>)>,
}

/// A small blocking connection pool: at most [`MAX_CONNECTIONS`], opened on demand.
struct Pool {
    path: PathBuf,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Connection>,
    total: usize,
}

struct PooledConn<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Pool {
    fn new(path: PathBuf, first: Connection) -> Pool {
        Pool { path, state: Mutex::new(PoolState { idle: vec![first], total: 1 }), returned: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is a Vec and a counter, consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self) -> Result<PooledConn<'_>, StoreError> {
        let mut st = self.lock();
        loop {
            if let Some(conn) = st.idle.pop() {
                return Ok(PooledConn { pool: self, conn: Some(conn) });
            }
            if st.total < MAX_CONNECTIONS {
                st.total += 1;
                drop(st);
                return match open_connection(&self.path) {
                    Ok(conn) => Ok(PooledConn { pool: self, conn: Some(conn) }),
                    Err(e) => {
                        self.lock().total -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            st = self.returned.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl std::ops::Deref for PooledConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn.as_ref().expect("pooled connection present until drop")
    }
}

impl std::ops::DerefMut for PooledConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("pooled connection present until drop")
    }
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.lock().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}
