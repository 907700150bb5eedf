//! Connections: opened in WAL with synchronous=FULL, and a small blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::store::StoreError;

/// Connections kept open at most; SQLite serialises writers anyway, this
/// only lets reads proceed beside a write.
pub(super) const MAX_CONNECTIONS: usize = 8;
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
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

/// A small blocking connection pool: at most [`MAX_CONNECTIONS`], opened on demand.
pub(super) struct Pool {
    path: PathBuf,
    state: Mutex<PoolState>,
    returned: Condvar,
}

pub(super) struct PoolState {
    idle: Vec<Connection>,
    total: usize,
}

pub(super) struct PooledConn<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Pool {
    pub(super) fn new(path: PathBuf, first: Connection) -> Pool {
        Pool { path, state: Mutex::new(PoolState { idle: vec![first], total: 1 }), returned: Condvar::new() }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is a Vec and a counter, consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn get(&self) -> Result<PooledConn<'_>, StoreError> {
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
