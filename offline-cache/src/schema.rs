//! Connection settings and versioned migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;

/// Schema history; entry `n` takes `PRAGMA user_version` from `n` to `n + 1`.
/// Append only: a migration that shipped is never edited.
pub(crate) const MIGRATIONS: &[&str] = &[r#"
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
"#];

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a connection with the settings every outbox connection needs.
pub(crate) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal(mode));
    }
    // A villager is told "saved" when enqueue returns: FULL syncs the WAL on
    // every commit, so a power cut right after cannot take the row back.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Applies every migration the file hasn't had, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read under the write lock: another process may have migrated meanwhile.
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
