//! Bundle filings (一件事一次办): one submission and one case (the number on
//! the villager's receipt), split here into a case per item, numbered
//! `<bundle case>P<n>`. The parts come from the envelope's clear header, so
//! a hub without the platform key splits too. Each part is decided on its
//! own (`hub case accept|process|reject|complete <part>`).

use model::protocol::CasePart;
use model::seal::SealedEnvelope;
use model::CaseStatus;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{StatusChange, StoreError};

use super::rows::*;
use super::SqliteStore;

/// Opens a case per part of the bundle filed under `bundle_case`, inside
/// the commit's transaction. `body` is the stored envelope; a single-item
/// filing (no parts) opens nothing.
pub(super) fn open_parts(tx: &Connection, bundle_case: &str, body: &[u8], now: &str) -> Result<usize, StoreError> {
    // The envelope was checked when it was stored: failing to read it now is damage.
    let env = SealedEnvelope::from_bytes(body).map_err(|_| StoreError::Corrupt(format!("the envelope of case {bundle_case} no longer parses")))?;
    for (i, item) in env.parts.iter().enumerate() {
        let number = format!("{bundle_case}P{}", i + 1);
        tx.execute(
            "INSERT INTO case_parts (case_number, bundle_case, position, item_code, status, updated_at) VALUES (?1, ?2, ?3, ?4, 'received', ?5)
             ON CONFLICT(case_number) DO NOTHING",
            params![number, bundle_case, i as i64 + 1, item.as_str(), now],
        )?;
    }
    Ok(env.parts.len())
}

/// The parts of a bundle case, in order (empty for a single item).
pub(super) fn parts_of(conn: &Connection, bundle_case: &str) -> Result<Vec<CasePart>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT case_number, item_code, status, reason FROM case_parts WHERE bundle_case = ?1 ORDER BY position")?;
    let rows = stmt.query_map([bundle_case], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (number, item_code, status, reason) = row?;
        out.push(CasePart { item_code, case_number: parse_case_number(&number)?, status: status_from_str(&status)?, reason });
    }
    Ok(out)
}

impl SqliteStore {
    /// A part by its own number: the bundle case it belongs to, and the part.
    pub(super) fn do_case_part(&self, number: &str) -> Result<Option<(String, CasePart)>, StoreError> {
        let conn = self.pool.get()?;
        let row: Option<(String, String, String, Option<String>)> = conn
            .query_row(
                "SELECT bundle_case, item_code, status, reason FROM case_parts WHERE case_number = ?1",
                [number],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(bundle, item_code, status, reason)| {
            Ok((bundle, CasePart { item_code, case_number: parse_case_number(number)?, status: status_from_str(&status)?, reason }))
        })
        .transpose()
    }

    /// Moves a part on, by the same rules as a case.
    pub(super) fn do_set_part_status(&self, number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CasePart, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: Option<String> =
            tx.query_row("SELECT status FROM case_parts WHERE case_number = ?1", [number], |r| r.get(0)).optional()?;
        let Some(current) = current else { return Err(StoreError::UnknownCase(number.to_owned())) };
        let from = status_from_str(&current)?;
        if from != change.to {
            if !transition_allowed(from, change.to) {
                return Err(StoreError::WrongCaseStatus { case: number.to_owned(), from: status_to_str(from), to: status_to_str(change.to) });
            }
            let reason = if change.to == CaseStatus::Rejected { change.reason } else { None };
            tx.execute(
                "UPDATE case_parts SET status = ?2, reason = ?3, updated_at = ?4 WHERE case_number = ?1",
                params![number, status_to_str(change.to), reason, ts(at)],
            )?;
        }
        tx.commit()?;
        drop(conn);
        self.do_case_part(number)?.map(|(_, p)| p).ok_or_else(|| StoreError::UnknownCase(number.to_owned()))
    }
}
