//! `hub import FILE`: a van's sealed queue brought in on removable media
//! (`kioskctl export`). The file's signature is checked against the
//! terminal registry, then every record goes through the same store calls
//! as an online upload (put manifest, attachments, commit), so the
//! guarantees are the same: a record already held is a replay, another
//! body under a held id is a conflict, a case is opened once.

use model::export::{ExportError, ExportFile};
use model::protocol::PutOutcome;
use model::seal::{open_envelope, PlatformSecretKey};
use model::submission::sha256_hex;
use model::{CaseNumber, SubmissionId};
use thiserror::Error;

use crate::store::{NewSubmission, Store, StoreError, TerminalStatus};

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("the export names terminal {0}, which is not registered on this hub")]
    UnknownTerminal(String),
    #[error("terminal {0} is revoked; its export is not accepted")]
    Revoked(String),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What happened to each record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// New on the hub: stored and a case opened.
    Stored(CaseNumber),
    /// Already held (an earlier import or online sync): nothing changed.
    AlreadyHeld(CaseNumber),
    /// Refused, with the reason; the rest of the file is still applied.
    Refused(String),
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub terminal_id: String,
    pub records: Vec<(SubmissionId, RecordOutcome)>,
}

impl ImportReport {
    pub fn stored(&self) -> usize {
        self.records.iter().filter(|(_, o)| matches!(o, RecordOutcome::Stored(_))).count()
    }

    pub fn already_held(&self) -> usize {
        self.records.iter().filter(|(_, o)| matches!(o, RecordOutcome::AlreadyHeld(_))).count()
    }

    pub fn refused(&self) -> usize {
        self.records.iter().filter(|(_, o)| matches!(o, RecordOutcome::Refused(_))).count()
    }
}

/// Verifies `file` and applies every record. With the platform key, a
/// record whose manifest does not open is refused, as online.
/// Blocking (store calls): run it off async threads.
pub fn import(store: &dyn Store, file: &ExportFile, platform_key: Option<&PlatformSecretKey>) -> Result<ImportReport, ImportError> {
    let terminal = file.terminal_id.as_str();
    let (key, status) = store.terminal_key(terminal)?.ok_or_else(|| ImportError::UnknownTerminal(terminal.to_owned()))?;
    if status == TerminalStatus::Revoked {
        return Err(ImportError::Revoked(terminal.to_owned()));
    }
    // Nothing is applied unless the whole file verifies.
    let checked = file.verify(&key)?;
    // The head is kept in the hub's audit, not checked against the anchor:
    // the terminal may well have gone on (and sent heartbeats) since it exported.
    let head = file.audit_head.as_ref().map_or("no audit head (exported before issue 19)".to_owned(), |h| format!("audit head #{} {}", h.seq, h.hash));
    store.hub_audit("hub import", "queue imported", Some(terminal), &format!("{} record(s); {head}", checked.len()), time::OffsetDateTime::now_utc())?;
    let mut report = ImportReport { terminal_id: terminal.to_owned(), records: Vec::with_capacity(checked.len()) };
    for rec in checked {
        let id = rec.envelope.id;
        let outcome = match apply(store, terminal, &rec, platform_key) {
            Ok(o) => o,
            Err(StoreError::Busy) => return Err(StoreError::Busy.into()),
            Err(e @ (StoreError::Sqlite(_) | StoreError::Blob(_) | StoreError::Corrupt(_))) => return Err(e.into()),
            Err(e) => RecordOutcome::Refused(e.to_string()),
        };
        tracing::info!(%id, %terminal, ?outcome, "imported record");
        report.records.push((id, outcome));
    }
    Ok(report)
}

fn apply(
    store: &dyn Store,
    terminal: &str,
    rec: &model::export::CheckedRecord<'_>,
    platform_key: Option<&PlatformSecretKey>,
) -> Result<RecordOutcome, StoreError> {
    let env = &rec.envelope;
    let id = env.id;
    let mut applicant = None;
    if let Some(key) = platform_key {
        match open_envelope(key, env) {
            Ok(opened) => applicant = Some(opened.submission.applicant.id_number.clone()),
            Err(e) => return Ok(RecordOutcome::Refused(format!("the sealed submission does not open with the platform key: {e}"))),
        }
    }
    let body = &rec.record.envelope;
    let put = store.put_submission(&NewSubmission {
        id,
        terminal_id: terminal,
        item_code: env.item_code.as_str(),
        body,
        body_sha256: &sha256_hex(body),
        attachments: env.attachments.iter().map(|a| (a.sha256.as_str(), a.size)).collect(),
        // A technician applies what the van brought back: no quota.
        quota: None,
        // Progress at any terminal for what the van brought back (issue 16).
        applicant: applicant.as_ref(),
    })?;
    for (part, bytes) in env.attachments.iter().zip(&rec.record.attachments) {
        let status = store.upload_status(terminal, id, &part.sha256)?;
        if status.complete {
            continue;
        }
        // Whatever a broken online upload left is completed from offset 0:
        // bytes already held are skipped, the rest appended.
        store.append_upload(&part.sha256, status.size, 0, bytes)?;
        store.finish_upload(&part.sha256)?;
    }
    let (case_number, opened) = store.commit(terminal, id)?;
    let opened = opened.is_some();
    Ok(if opened || put == PutOutcome::Stored { RecordOutcome::Stored(case_number) } else { RecordOutcome::AlreadyHeld(case_number) })
}
