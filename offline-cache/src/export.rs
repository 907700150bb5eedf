//! The sealed queue to removable media (`kioskctl export`), and what the
//! terminal learns afterwards: at its next sync it asks the hub for the
//! cases of the records it exported before sending any of them, so a queue
//! imported at the hub (`hub import`) is acknowledged without crossing the
//! link again. See `model::export` for the file.

use std::io::Write as _;
use std::path::Path;

use model::export::{ExportFile, ExportRecord};
use model::submission::sha256_hex;
use model::SubmissionId;
use rusqlite::{params, TransactionBehavior};
use time::OffsetDateTime;

use crate::audit;
use crate::clock::format_ts;
use crate::error::StoreError;
use crate::identity::DeviceIdentity;
use crate::outbox::Outbox;

/// What went into an export file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub terminal_id: String,
    pub records: usize,
    pub attachments: usize,
    pub bytes: u64,
    /// Records left out because their stored copy is damaged (the sync
    /// quarantines those; a technician looks at them).
    pub damaged: Vec<SubmissionId>,
}

impl Outbox {
    /// The terminal id the kiosk last opened this outbox with.
    pub fn recorded_terminal_id(&self) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension as _;
        Ok(self.lock().query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = 'terminal_id'", [], |r| r.get(0)).optional()?)
    }

    /// Every unsent record (queued or sending), sealed as stored, signed by
    /// the device key. Each stored copy is checked against its hashes; a
    /// damaged one is left out and named. The records are marked exported
    /// and the export is an audit entry, in one transaction. Works on an
    /// [`Outbox::inspect`] handle too: it is the one write a tool makes.
    pub fn export_queue(&self, identity: &DeviceIdentity, at: OffsetDateTime) -> Result<(ExportFile, ExportSummary), StoreError> {
        let terminal = identity.terminal_id().to_owned();
        let ids: Vec<SubmissionId> = {
            let conn = self.lock();
            let mut stmt = conn.prepare("SELECT id FROM outbox WHERE state IN ('queued', 'sending') ORDER BY created_at, id")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut ids = Vec::new();
            for r in rows {
                let s = r?;
                ids.push(SubmissionId::parse(&s).ok_or_else(|| StoreError::Corrupt("a stored submission id is not a UUID".into()))?);
            }
            ids
        };
        let mut records = Vec::with_capacity(ids.len());
        let mut damaged = Vec::new();
        let mut bytes = 0u64;
        let mut attachments = 0usize;
        for id in ids {
            let item = match self.load_for_send(id) {
                Ok(item) => item,
                Err(StoreError::RecordDamaged { .. }) => {
                    damaged.push(id);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut atts = Vec::with_capacity(item.attachments.len());
            let mut ok = true;
            for (idx, sha) in &item.attachments {
                match self.attachment_bytes(id, *idx) {
                    Ok(b) if sha256_hex(&b) == *sha => atts.push(b),
                    Ok(_) | Err(StoreError::RecordDamaged { .. }) => {
                        ok = false;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !ok {
                damaged.push(id);
                continue;
            }
            bytes += item.envelope.len() as u64 + atts.iter().map(|a| a.len() as u64).sum::<u64>();
            attachments += atts.len();
            records.push(ExportRecord { id, envelope: item.envelope, attachments: atts });
        }
        let head = self.audit_head()?;
        let file = ExportFile::sign_with_head(identity.key(), &terminal, at, records, Some(head));
        {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for r in &file.records {
                tx.execute("UPDATE outbox SET exported_at = ?2 WHERE id = ?1", params![r.id.to_string(), format_ts(at)])?;
            }
            let outcome = format!("{} record(s), {attachments} attachment(s), {bytes} bytes; {} damaged left out", file.records.len(), damaged.len());
            audit::append(&tx, at, &audit::Record { terminal: &terminal, operator: None, action: "queue exported", subject: None, outcome: &outcome })?;
            tx.commit()?;
        }
        let summary = ExportSummary { terminal_id: terminal, records: file.records.len(), attachments, bytes, damaged };
        Ok((file, summary))
    }

    /// Exported records still waiting for an acknowledgement, oldest first:
    /// the next sync asks the hub about these before sending anything.
    pub fn exported_unacknowledged(&self, limit: usize) -> Result<Vec<SubmissionId>, StoreError> {
        self.ids("SELECT id FROM outbox WHERE state IN ('queued', 'sending') AND exported_at IS NOT NULL ORDER BY created_at, id LIMIT ?1", limit)
    }
}

/// Writes an export next to `path`, syncs it, then renames it into place
/// and syncs the directory: a stick pulled mid-write leaves the old file
/// or none, never half of one. Mode 0600; never overwrites `path`.
pub fn write_export_file(path: &Path, file: &ExportFile) -> Result<u64, StoreError> {
    let io = |what: &'static str, source| StoreError::Io { what, path: path.to_owned(), source };
    if path.exists() {
        return Err(io("will not overwrite", std::io::Error::from(std::io::ErrorKind::AlreadyExists)));
    }
    let tmp = path.with_extension("partial");
    let bytes = file.to_bytes();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(|e| io("cannot create", e))?;
    f.write_all(&bytes).and_then(|()| f.sync_all()).map_err(|e| io("cannot write", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io("cannot rename into", e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            d.sync_all().map_err(|e| io("cannot sync the directory of", e))?;
        }
    }
    Ok(bytes.len() as u64)
}
