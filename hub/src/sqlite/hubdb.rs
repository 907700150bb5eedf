//! Read-only views of a hub database (tests, the demo, operators), and
//! filings unsealed with the platform key.

use std::path::Path;

use model::seal::{open_envelope, PlatformSecretKey, SealError, SealedEnvelope};
use model::submission::AttachmentRef;
use model::{CaseNumber, Submission, SubmissionId};
use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use crate::objects::Objects;
use crate::postgres::PgReader;
use crate::store::StoreError;

use super::rows::*;
use super::pool::*;

/// Read-only views of a hub database, for tests, the demo and operators.
pub struct HubDb {
    backend: Backend,
    blobs: Objects,
}

enum Backend {
    Sqlite(Connection),
    Postgres(PgReader),
}

impl HubDb {
    pub fn open(path: &Path) -> Result<HubDb, StoreError> {
        // Read-write flags, though only SELECTs run: a read-only open of a WAL
        // database fails when the hub has just removed its -shm file.
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(HubDb { backend: Backend::Sqlite(conn), blobs: Objects::beside(path)? })
    }

    /// The database `db` names: a PostgreSQL URL (attachments in
    /// `blob_dir`), else a SQLite file.
    pub fn open_any(db: &Path, blob_dir: Option<&Path>) -> Result<HubDb, StoreError> {
        match db.to_str().filter(|d| crate::postgres::is_postgres_url(d)) {
            Some(url) => {
                let dir = blob_dir.ok_or_else(|| StoreError::Blob("a PostgreSQL database needs its blob directory".into()))?;
                Ok(HubDb { backend: Backend::Postgres(PgReader::open(url)?), blobs: Objects::open(dir)? })
            }
            None => HubDb::open(db),
        }
    }

    /// A complete attachment's sealed bytes (a file, or a row of an older hub).
    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(b) = self.blobs.read(sha256)? {
            return Ok(Some(b));
        }
        let Backend::Sqlite(conn) = &self.backend else { return Ok(None) };
        Ok(conn.query_row("SELECT bytes FROM attachments WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?)
    }

    /// Rows stored under `id`, whichever terminal sent them (one per terminal at most).
    pub fn submission_count(&self, id: SubmissionId) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.submission_count(id),
        };
        Ok(conn.query_row("SELECT COUNT(*) FROM submissions WHERE id = ?1", [id.to_string()], |r| r.get(0))?)
    }

    /// Ids of all submissions held.
    pub fn submission_ids(&self) -> Result<Vec<SubmissionId>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.submission_ids(),
        };
        let mut stmt = conn.prepare("SELECT id FROM submissions ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|s| parse_id(s)).collect()
    }

    /// All submissions held.
    pub fn total_submissions(&self) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.total_submissions(),
        };
        Ok(conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?)
    }

    /// The stored manifest bytes, exactly as received (the first stored
    /// under `id`, if several terminals used it: see [`HubDb::submission_body_of`]).
    pub fn submission_body(&self, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.submission_body(id),
        };
        Ok(conn
            .query_row("SELECT body FROM submissions WHERE id = ?1 ORDER BY received_at, terminal_id LIMIT 1", [id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The manifest `terminal` stored under `id` ('' for rows from before terminal ids).
    pub fn submission_body_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.submission_body_of(terminal, id),
        };
        Ok(conn
            .query_row("SELECT body FROM submissions WHERE terminal_id = ?1 AND id = ?2", params![terminal, id.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The case of `id` sent by `terminal`.
    pub fn case_of(&self, terminal: &str, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.case_of(terminal, id),
        };
        let s: Option<String> = conn
            .query_row("SELECT case_number FROM cases WHERE terminal_id = ?1 AND submission_id = ?2", params![terminal, id.to_string()], |r| r.get(0))
            .optional()?;
        s.map(|s| CaseNumber::parse(&s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))).transpose()
    }

    /// The first case opened for `id` (by whichever terminal).
    pub fn case_for(&self, id: SubmissionId) -> Result<Option<CaseNumber>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.case_for(id),
        };
        let s: Option<String> = conn
            .query_row("SELECT case_number FROM cases WHERE submission_id = ?1 ORDER BY created_at LIMIT 1", [id.to_string()], |r| r.get(0))
            .optional()?;
        s.map(|s| CaseNumber::parse(&s).map_err(|_| StoreError::Corrupt("stored case number is malformed".into()))).transpose()
    }

    pub fn case_count(&self) -> Result<u64, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.case_count(),
        };
        Ok(conn.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?)
    }

    /// Evaluations (好差评) held, by rating label.
    pub fn evaluations(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.evaluations(),
        };
        let mut stmt = conn.prepare("SELECT case_number, rating FROM evaluations ORDER BY received_at, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The e-license audit: (terminal, material, masked ID number, outcome), oldest first.
    pub fn e_license_audit(&self) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(pg) => return pg.e_license_audit(),
        };
        let mut stmt = conn.prepare("SELECT terminal_id, material_code, id_masked, outcome FROM e_license_lookups ORDER BY seq")?;
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
        let conn = match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(_) => return Err(StoreError::Unsupported("data_version on PostgreSQL")),
        };
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    pub fn has_attachment(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.exists(sha256)?
            || match &self.backend {
                Backend::Sqlite(conn) => legacy_attachment(conn, sha256)?,
                Backend::Postgres(_) => false,
            })
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
