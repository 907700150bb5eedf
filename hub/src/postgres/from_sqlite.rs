//! `hub migrate`: a county pilot's SQLite hub moved into an empty
//! PostgreSQL database, in one transaction, so that its terminals notice
//! nothing: the same rows (case numbers and their sequence, nonces, the
//! e-license tag secret, audit anchors), and the attachment files copied
//! into the blob folder (rows of hubs before v3 written out as files).

use std::path::Path;

use rusqlite::types::ValueRef;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use crate::store::StoreError;

use super::PgStore;

/// Parents before children (foreign keys).
const TABLES: &[&str] = &[
    "terminals", "seen_nonces", "submissions", "submission_attachments", "case_numbers", "cases", "case_events", "case_results", "case_parts",
    "heartbeats", "terminal_configs", "evaluations", "rating_followups", "catalogs", "enrollments", "operators", "operator_terminals",
    "e_license_lookups", "hub_secrets", "staff", "audit_anchors", "audit_breaks", "hub_audit", "diagnostics_requests", "update_bundles",
    "rollouts", "update_reports", "sms_outbox", "progress_misses", "rating_forwards", "mail_orders",
];

/// What was moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// (table, rows), in the order copied.
    pub rows: Vec<(String, u64)>,
    /// Attachment files copied (or written from rows of an old hub).
    pub blobs: u64,
    /// Published update bundles copied (`<db>.updates/`).
    pub bundles: u64,
}

fn bad(table: &str, column: &str, why: &str) -> StoreError {
    StoreError::Corrupt(format!("{table}.{column}: {why}"))
}

/// One SQLite value as the PostgreSQL column's type wants it.
fn convert(table: &str, column: &str, pg_type: &str, v: ValueRef<'_>) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    Ok(match (pg_type, v) {
        (_, ValueRef::Null) => match pg_type {
            "timestamp with time zone" => Box::new(None::<OffsetDateTime>),
            "bigint" => Box::new(None::<i64>),
            "integer" => Box::new(None::<i32>),
            "boolean" => Box::new(None::<bool>),
            "bytea" => Box::new(None::<Vec<u8>>),
            _ => Box::new(None::<String>),
        },
        ("timestamp with time zone", ValueRef::Text(t)) => {
            let text = std::str::from_utf8(t).map_err(|_| bad(table, column, "not UTF-8"))?;
            Box::new(OffsetDateTime::parse(text, &Rfc3339).map_err(|_| bad(table, column, "not an RFC 3339 time"))?)
        }
        ("bigint", ValueRef::Integer(i)) => Box::new(i),
        ("integer", ValueRef::Integer(i)) => Box::new(i32::try_from(i).map_err(|_| bad(table, column, "out of range"))?),
        ("boolean", ValueRef::Integer(i)) => Box::new(i != 0),
        ("bytea", ValueRef::Blob(b) | ValueRef::Text(b)) => Box::new(b.to_vec()),
        ("text", ValueRef::Text(t)) => Box::new(std::str::from_utf8(t).map_err(|_| bad(table, column, "not UTF-8"))?.to_owned()),
        (other, _) => return Err(bad(table, column, &format!("a value that does not fit {other}"))),
    })
}

fn copy_dir(from: &Path, to: &Path, count: &mut u64) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Blob(format!("copying attachments: {e}"));
    std::fs::create_dir_all(to).map_err(io)?;
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    for e in entries {
        let e = e.map_err(io)?;
        let target = to.join(e.file_name());
        if e.file_type().map_err(io)?.is_dir() {
            copy_dir(&e.path(), &target, count)?;
        } else if !target.exists() {
            std::fs::copy(e.path(), &target).map_err(io)?;
            *count += 1;
        }
    }
    Ok(())
}

impl PgStore {
    /// Moves the SQLite hub at `sqlite` (already at the current schema:
    /// [`crate::migrate_to_postgres`] sees to it; its attachments beside
    /// it) into this store, which must hold no terminals and no
    /// submissions. All rows or none.
    pub(crate) fn import_sqlite(&self, sqlite: &Path) -> Result<MigrateReport, StoreError> {
        let src = rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut report = MigrateReport::default();
        let (mut blobs_from, mut updates_from) = (sqlite.as_os_str().to_owned(), sqlite.as_os_str().to_owned());
        blobs_from.push(".blobs");
        updates_from.push(".updates");
        if self.blobs.dir().is_none() {
            // Into a bucket, before any row: complete blobs only, each
            // checked against its name, so a damaged pilot folder stops the
            // move while the database is still empty (a rerun finds the
            // objects already there).
            report.blobs += self.blobs.import_folder(Path::new(&blobs_from))?;
            report.bundles += self.updates.import_folder(Path::new(&updates_from))?;
        }
        let mut client = self.pool.get()?;
        self.pool.wait(async {
            let tx = client.transaction().await?;
            let held = tx.query_one("SELECT (SELECT COUNT(*) FROM terminals) + (SELECT COUNT(*) FROM submissions)", &[]).await?;
            if held.try_get::<_, i64>(0)? > 0 {
                return Err(StoreError::Corrupt("the PostgreSQL database already holds terminals or submissions; migrate into an empty one".into()));
            }
            // This database's own tag secret gives way to the pilot's, so lookups keep counting the same people.
            tx.execute("DELETE FROM hub_secrets", &[]).await?;
            for table in TABLES {
                let cols = tx
                    .query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", &[table])
                    .await?;
                let cols: Vec<(String, String)> = cols.iter().map(|r| Ok::<_, StoreError>((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, _>>()?;
                let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
                let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
                let insert = tx
                    .prepare(&format!("INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES ({})", names.join(", "), placeholders.join(", ")))
                    .await?;
                let mut stmt = src.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
                let mut rows = stmt.query([])?;
                let mut n = 0u64;
                while let Some(row) = rows.next()? {
                    let mut values = Vec::with_capacity(cols.len());
                    for (i, (name, ty)) in cols.iter().enumerate() {
                        values.push(convert(table, name, ty, row.get_ref(i)?)?);
                    }
                    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
                    tx.execute(&insert, &params).await?;
                    n += 1;
                }
                report.rows.push(((*table).to_owned(), n));
            }
            // Sequences go on from the pilot's numbers: no case number twice.
            for (table, column) in [("case_numbers", "seq"), ("case_events", "seq"), ("e_license_lookups", "seq"), ("audit_breaks", "id"), ("hub_audit", "seq"), ("progress_misses", "seq")] {
                tx.execute(
                    &format!("SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"),
                    &[],
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        // Into a folder: attachment files, and published update bundles so
        // rollouts in progress go on serving them; then the rows of hubs
        // from before blobs were files.
        if let (Some(dir), Some(updates)) = (self.blobs.dir(), self.updates.dir()) {
            copy_dir(Path::new(&blobs_from), dir, &mut report.blobs)?;
            copy_dir(Path::new(&updates_from), updates, &mut report.bundles)?;
        }
        let mut stmt = src.prepare("SELECT sha256, bytes FROM attachments")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let sha: String = r.get(0)?;
            let bytes: Vec<u8> = r.get(1)?;
            if !self.blobs.exists(&sha)? {
                // Through the upload path: the hash is checked before the file gets its name.
                self.blobs.append(&sha, 0, &bytes, bytes.len() as u64)?;
                self.blobs.finish(&sha)?;
            }
            report.blobs += 1;
        }
        Ok(report)
    }
}
