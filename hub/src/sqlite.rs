//! The embedded-SQLite [`Store`]: the default for one hub on one machine.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use model::protocol::{CaseView, PutOutcome};
use model::seal::{open_envelope, PlatformSecretKey, SealError, SealedEnvelope};
use model::submission::AttachmentRef;
use model::{CaseNumber, CaseStatus, Submission, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::store::{NewSubmission, Store, StoreError};

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
"#];

/// Connections kept open at most; SQLite serialises writers anyway, this
/// only lets reads proceed beside a write.
const MAX_CONNECTIONS: usize = 8;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = open_connection(path)?;
        migrate(&mut conn)?;
        let pool = Pool::new(path.to_owned(), conn);
        Ok(SqliteStore { pool })
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

impl Store for SqliteStore {
    fn put_submission(&self, sub: &NewSubmission<'_>) -> Result<PutOutcome, StoreError> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = sub.id.to_string();
        // The primary key decides, not a prior SELECT: two racing PUTs cannot both insert.
        let inserted = tx.execute(
            "INSERT INTO submissions (id, body, body_sha256, item_code, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO NOTHING",
            params![id, sub.body, sub.body_sha256, sub.item_code, now_rfc3339()],
        )?;
        if inserted == 0 {
            let stored: String = tx.query_row("SELECT body_sha256 FROM submissions WHERE id = ?1", [&id], |r| r.get(0))?;
            return if stored == sub.body_sha256 { Ok(PutOutcome::Replayed) } else { Err(StoreError::Conflict(sub.id)) };
        }
        for sha in &sub.attachment_hashes {
            tx.execute(
                "INSERT INTO submission_attachments (submission_id, sha256) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![id, sha],
            )?;
        }
        tx.commit()?;
        Ok(PutOutcome::Stored)
    }

    fn put_attachment(&self, id: SubmissionId, sha256: &str, bytes: &[u8]) -> Result<PutOutcome, StoreError> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sid = id.to_string();
        let referenced: Option<bool> = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM submission_attachments WHERE submission_id = ?1 AND sha256 = ?2)
                 FROM submissions WHERE id = ?1",
                params![sid, sha256],
                |r| r.get(0),
            )
            .optional()?;
        match referenced {
            None => return Err(StoreError::UnknownSubmission(id)),
            Some(false) => return Err(StoreError::NotReferenced { id, sha256: sha256.to_owned() }),
            Some(true) => {}
        }
        let inserted = tx.execute(
            "INSERT INTO attachments (sha256, bytes, received_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(sha256) DO NOTHING",
            params![sha256, bytes, now_rfc3339()],
        )?;
        tx.commit()?;
        Ok(if inserted == 0 { PutOutcome::Replayed } else { PutOutcome::Stored })
    }

    fn commit(&self, id: SubmissionId) -> Result<CaseNumber, StoreError> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sid = id.to_string();
        let exists: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM submissions WHERE id = ?1)", [&sid], |r| r.get(0))?;
        if !exists {
            return Err(StoreError::UnknownSubmission(id));
        }
        let missing = {
            let mut stmt = tx.prepare(
                "SELECT sa.sha256 FROM submission_attachments sa
                 LEFT JOIN attachments a ON a.sha256 = sa.sha256
                 WHERE sa.submission_id = ?1 AND a.sha256 IS NULL ORDER BY sa.sha256",
            )?;
            let rows = stmt.query_map([&sid], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        if !missing.is_empty() {
            return Err(StoreError::MissingAttachments { id, missing });
        }
        // Both inserts are guarded by UNIQUE(submission_id): a replayed or
        // racing commit reads back the case the first one opened.
        tx.execute(
            "INSERT INTO case_numbers (submission_id, day) VALUES (?1, ?2) ON CONFLICT(submission_id) DO NOTHING",
            params![sid, today_cst()],
        )?;
        let (seq, day): (i64, String) =
            tx.query_row("SELECT seq, day FROM case_numbers WHERE submission_id = ?1", [&sid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let fresh = case_number_for(&day, seq)?;
        tx.execute(
            "INSERT INTO cases (case_number, submission_id, status, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(submission_id) DO NOTHING",
            params![fresh.as_str(), sid, status_to_str(CaseStatus::Received), now_rfc3339()],
        )?;
        let stored: String = tx.query_row("SELECT case_number FROM cases WHERE submission_id = ?1", [&sid], |r| r.get(0))?;
        tx.commit()?;
        CaseNumber::parse(&stored).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))
    }

    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError> {
        let conn = self.pool.get()?;
        let row: Option<(String, String, String, String)> = conn
            .query_row(
                "SELECT c.case_number, c.submission_id, s.item_code, c.status
                 FROM cases c JOIN submissions s ON s.id = c.submission_id WHERE c.case_number = ?1",
                [case_number],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((number, sid, item_code, status)) = row else {
            return Ok(None);
        };
        Ok(Some(CaseView {
            case_number: CaseNumber::parse(&number).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))?,
            submission_id: parse_id(&sid)?,
            item_code,
            status: status_from_str(&status)?,
        }))
    }
}

/// Read-only views of a hub database, for tests, the demo and operators.
pub struct HubDb {
    conn: Connection,
}

impl HubDb {
    pub fn open(path: &Path) -> Result<HubDb, StoreError> {
        // Read-write flags, though only SELECTs run: a read-only open of a WAL
        // database fails when the hub has just removed its -shm file.
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(HubDb { conn })
    }

    /// Rows stored under `id`: 0 or 1, by the primary key.
    pub fn submission_count(&self, id: SubmissionId) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM submissions WHERE id = ?1", [id.to_string()], |r| r.get(0))?)
    }

    /// All submissions held.
    pub fn total_submissions(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?)
    }

    /// The stored manifest bytes, exactly as received.
    pub fn submission_body(&self, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn.query_row("SELECT body FROM submissions WHERE id = ?1", [id.to_string()], |r| r.get(0)).optional()?)
    }

    pub fn case_for(&self, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let s: Option<String> =
            self.conn.query_row("SELECT case_number FROM cases WHERE submission_id = ?1", [id.to_string()], |r| r.get(0)).optional()?;
        s.map(|s| CaseNumber::parse(&s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))).transpose()
    }

    pub fn case_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?)
    }

    pub fn has_attachment(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)", [sha256], |r| r.get(0))?)
    }

    /// Opens a stored sealed submission with the platform's private key:
    /// the submission and every attachment's reference and plain bytes
    /// (zeroised when dropped). The back office (issue 4) builds on this.
    pub fn open_submission(&self, id: SubmissionId, key: &PlatformSecretKey) -> Result<Option<OpenedFiling>, StoreError> {
        let Some(body) = self.submission_body(id)? else { return Ok(None) };
        let unseal = |e: SealError| StoreError::Unseal { id, reason: e.to_string() };
        let envelope = SealedEnvelope::from_bytes(&body).map_err(unseal)?;
        let opened = open_envelope(key, &envelope).map_err(unseal)?;
        let mut attachments = Vec::with_capacity(opened.attachment_count());
        for (i, part) in envelope.attachments.iter().enumerate() {
            let bytes: Option<Vec<u8>> = self
                .conn
                .query_row("SELECT bytes FROM attachments WHERE sha256 = ?1", [&part.sha256], |r| r.get(0))
                .optional()?;
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
