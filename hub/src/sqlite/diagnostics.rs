//! Diagnostics requests (issue 19): staff ask, the terminal announces and
//! uploads its bundle through the attachment machinery (`blobs`), staff
//! download it. Requests and downloads go to the hub's audit.

use model::SubmissionId;
use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::store::{DiagnosticsRecord, StoreError};

use super::fleet_audit::append_hub_audit;
use super::rows::*;
use super::SqliteStore;

/// Size of the upload `(terminal, id, sha256)` may make: a submission's
/// referenced attachment, or the bundle announced for a diagnostics request
/// under that id. The one resumable transfer serves both.
pub(super) fn upload_size(conn: &Connection, terminal: &str, id: SubmissionId, sha256: &str) -> Result<u64, StoreError> {
    match owned_submission(conn, terminal, id) {
        Ok(()) => referenced_size(conn, terminal, id, sha256),
        Err(StoreError::UnknownSubmission(_)) => {
            let size: Option<Option<i64>> = conn
                .prepare_cached("SELECT size FROM diagnostics_requests WHERE terminal_id = ?1 AND id = ?2 AND sha256 = ?3")?
                .query_row(params![terminal, id.to_string(), sha256], |r| r.get(0))
                .optional()?;
            match size {
                Some(Some(n)) => Ok(u64::try_from(n).unwrap_or(0)),
                _ => Err(StoreError::UnknownSubmission(id)),
            }
        }
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    pub(super) fn do_request_diagnostics(&self, terminal: &str, staff: &str, at: OffsetDateTime) -> Result<uuid::Uuid, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let known: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM terminals WHERE id = ?1)", [terminal], |r| r.get(0))?;
        if !known {
            return Err(StoreError::UnknownTerminal(terminal.to_owned()));
        }
        let id = uuid::Uuid::now_v7();
        tx.execute(
            "INSERT INTO diagnostics_requests (id, terminal_id, requested_by, requested_at) VALUES (?1, ?2, ?3, ?4)",
            params![id.to_string(), terminal, staff, ts(at)],
        )?;
        append_hub_audit(&tx, at, staff, "diagnostics requested", Some(terminal), &format!("request {id}"))?;
        tx.commit()?;
        Ok(id)
    }

    pub(super) fn do_pending_diagnostics(&self, terminal: &str) -> Result<Option<uuid::Uuid>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare_cached("SELECT id, sha256 FROM diagnostics_requests WHERE terminal_id = ?1 ORDER BY requested_at, id")?;
        let rows: Vec<(String, Option<String>)> = stmt.query_map([terminal], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (id, sha) in rows {
            let done = match sha {
                Some(sha) => self.blobs.exists(&sha)?,
                None => false,
            };
            if !done {
                return uuid::Uuid::parse_str(&id).map(Some).map_err(|_| StoreError::Corrupt("a diagnostics request id is not a UUID".into()));
            }
        }
        Ok(None)
    }

    pub(super) fn do_announce_diagnostics(&self, terminal: &str, id: uuid::Uuid, sha256: &str, size: u64, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        let held: Option<Option<String>> = conn
            .query_row("SELECT sha256 FROM diagnostics_requests WHERE terminal_id = ?1 AND id = ?2", params![terminal, id.to_string()], |r| r.get(0))
            .optional()?;
        let Some(held) = held else { return Err(StoreError::UnknownDiagnostics(id)) };
        if let Some(old) = held.filter(|h| h != sha256) {
            // A complete bundle stays; an unfinished one is replaced (the terminal restarted and built another).
            if self.blobs.exists(&old)? {
                return Err(StoreError::UnknownDiagnostics(id));
            }
            self.blobs.remove(&old)?;
        }
        conn.execute(
            "UPDATE diagnostics_requests SET sha256 = ?3, size = ?4, announced_at = ?5 WHERE terminal_id = ?1 AND id = ?2",
            params![terminal, id.to_string(), sha256, i64::try_from(size).unwrap_or(i64::MAX), ts(at)],
        )?;
        Ok(())
    }

    pub(super) fn do_diagnostics_requests(&self) -> Result<Vec<DiagnosticsRecord>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare("SELECT id, terminal_id, requested_by, requested_at, sha256, size FROM diagnostics_requests ORDER BY requested_at DESC, id DESC")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let at: String = r.get(3)?;
            let sha: Option<String> = r.get(4)?;
            let size: Option<i64> = r.get(5)?;
            let complete = match &sha {
                Some(s) => self.blobs.exists(s)?,
                None => false,
            };
            out.push(DiagnosticsRecord {
                id: uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt("a diagnostics request id is not a UUID".into()))?,
                terminal_id: r.get(1)?,
                requested_by: r.get(2)?,
                requested_at: parse_ts(&at)?,
                announced: sha.zip(size.map(|n| u64::try_from(n).unwrap_or(0))),
                complete,
            });
        }
        Ok(out)
    }

    pub(super) fn do_download_diagnostics(&self, id: uuid::Uuid, staff: &str, at: OffsetDateTime) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row: Option<(String, Option<String>)> = {
            let conn = self.pool.get()?;
            conn.query_row("SELECT terminal_id, sha256 FROM diagnostics_requests WHERE id = ?1", [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
        };
        let Some((terminal, sha)) = row else { return Err(StoreError::UnknownDiagnostics(id)) };
        let Some(bytes) = sha.map(|s| self.blobs.read(&s)).transpose()?.flatten() else { return Ok(None) };
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        append_hub_audit(&conn, at, staff, "diagnostics downloaded", Some(&terminal), &format!("request {id}, {} bytes", bytes.len()))?;
        Ok(Some((terminal, bytes)))
    }
}
