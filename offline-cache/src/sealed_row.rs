//! How one sealed filing is written: its index row, envelope and
//! attachments, and the check of an attachment read back. A leaf shared by
//! the outbox, the sync and the schema migration that
//! seals rows of an older version, so none imports another.

use model::mask::mask_name;
use model::seal::{seal_submission, PlatformPublicKey, Sealed};
use model::submission::sha256_hex;
use model::{Submission, SubmissionId};
use rusqlite::{params, Connection};
use time::OffsetDateTime;

use crate::clock::format_ts;
use crate::error::StoreError;

/// Seals with the operating system's CSPRNG.
pub(crate) fn seal_with_os_rng(key: &PlatformPublicKey, sub: &Submission, attachments: &[&[u8]]) -> Result<Sealed, StoreError> {
    // getrandom fails only without any kernel entropy source; nothing could be sealed then.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    Ok(seal_submission(key, sub, attachments, &mut rng)?)
}

/// One new index row with its sealed bytes.
pub(crate) struct NewRow<'a> {
    pub sub: &'a Submission,
    pub sealed: &'a Sealed,
    pub content_mac: String,
    pub id_number_hash: String,
    pub created_at: OffsetDateTime,
    pub state: &'static str,
    pub case_number: Option<&'a str>,
    pub attempts: i64,
    pub last_error: Option<&'a str>,
}

/// Inserts the row, its envelope and attachments. `None` when the id is
/// already present (nothing written).
pub(crate) fn insert_sealed(conn: &Connection, row: &NewRow<'_>) -> Result<Option<String>, StoreError> {
    let envelope = row.sealed.envelope.to_bytes();
    let digest = sha256_hex(&envelope);
    let sid = row.sub.id.to_string();
    let ts = format_ts(row.created_at);
    let inserted = conn.execute(
        "INSERT INTO outbox (id, item_code, masked_name, id_number_hash, content_mac, sealed_sha256, suite, state,
                             case_number, attempts, last_error, created_at, updated_at, acknowledged_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, CASE WHEN ?8 = 'acknowledged' THEN ?12 END)
         ON CONFLICT(id) DO NOTHING",
        params![
            sid,
            row.sub.item_code.as_str(),
            mask_name(&row.sub.applicant.name),
            row.id_number_hash,
            row.content_mac,
            digest,
            row.sealed.envelope.suite,
            row.state,
            row.case_number,
            row.attempts,
            row.last_error,
            ts
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    conn.execute("INSERT INTO sealed_payloads (submission_id, envelope) VALUES (?1, ?2)", params![sid, envelope])?;
    for (i, a) in row.sealed.attachments.iter().enumerate() {
        conn.execute(
            "INSERT INTO sealed_attachments (submission_id, idx, sha256, bytes) VALUES (?1, ?2, ?3, ?4)",
            params![sid, i as i64, a.sha256, a.bytes],
        )?;
    }
    Ok(Some(digest))
}

/// A damaged local copy of attachment `idx` of `id` is
/// [`StoreError::RecordDamaged`] (the record is quarantined, the rest goes on).
pub(crate) fn check_attachment(id: SubmissionId, idx: u32, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
    if sha256_hex(bytes) == sha256 {
        Ok(())
    } else {
        Err(StoreError::RecordDamaged { id, what: format!("sealed attachment {idx} does not match its hash") })
    }
}
