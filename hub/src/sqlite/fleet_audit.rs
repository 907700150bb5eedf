//! Terminals' audit chains anchored at the hub (issue 19), and the hub's
//! own audit.

use std::collections::HashMap;

use model::audit_chain::{check_extends, AnchorCheck, AuditHead, AuditProof};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;

use crate::store::{Acknowledgement, AuditBreak, HubAuditEntry, StoreError};

use super::rows::*;
use super::SqliteStore;

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Appends to the hub's audit inside the caller's transaction.
pub(super) fn append_hub_audit(
    conn: &Connection,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    outcome: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO hub_audit (at, actor, action, subject, outcome) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![ts(at), actor, action, subject, outcome])?;
    Ok(())
}

fn anchor_of(conn: &Connection, terminal: &str) -> Result<Option<AuditHead>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_anchors WHERE terminal_id = ?1")?
        .query_row([terminal], |r| Ok(AuditHead { seq: u(r.get(0)?), hash: r.get(1)? }))
        .optional()?)
}

impl SqliteStore {
    pub(super) fn do_anchor_audit(&self, terminal: &str, proof: &AuditProof, at: OffsetDateTime) -> Result<(AnchorCheck, AuditHead), StoreError> {
        // Most heartbeats report the head already anchored: answer those
        // from a read, without the write lock 20,000 terminals would queue on.
        {
            let conn = self.pool.get()?;
            if let Some(anchor) = anchor_of(&conn, terminal)? {
                let check = check_extends(Some(&anchor), proof);
                if matches!(check, AnchorCheck::Same | AnchorCheck::Unproven) {
                    return Ok((check, anchor));
                }
            }
        }
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Again inside the transaction: another hub instance may have moved it.
        let anchor = anchor_of(&tx, terminal)?;
        let check = check_extends(anchor.as_ref(), proof);
        let held = match &check {
            AnchorCheck::Same | AnchorCheck::Unproven => anchor.clone().unwrap_or_else(|| proof.head.clone()),
            AnchorCheck::Extends { verified } => verified.clone(),
            AnchorCheck::First => proof.head.clone(),
            AnchorCheck::WentBack { anchored, reported } | AnchorCheck::Rewritten { anchored, reported, .. } => {
                let from_seq = match &check {
                    AnchorCheck::Rewritten { seq, .. } => Some(i(*seq)),
                    _ => None,
                };
                tx.execute(
                    "INSERT INTO audit_breaks (terminal_id, at, kind, from_seq, anchored_seq, anchored_hash, reported_seq, reported_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![terminal, ts(at), check.code(), from_seq, i(anchored.seq), anchored.hash, i(reported.seq), reported.hash],
                )?;
                let outcome = match from_seq {
                    Some(s) => format!("{}: hub held #{}, terminal reports #{}, differs from #{s}", check.code(), anchored.seq, reported.seq),
                    None => format!("{}: hub held #{}, terminal reports #{}", check.code(), anchored.seq, reported.seq),
                };
                append_hub_audit(&tx, at, terminal, "terminal audit chain broken", Some(terminal), &outcome)?;
                // Re-anchor at what the terminal has now, so a second break is a second flag.
                proof.head.clone()
            }
        };
        if matches!(check, AnchorCheck::First) {
            append_hub_audit(&tx, at, terminal, "terminal audit anchored", Some(terminal), &format!("first head #{}", held.seq))?;
        }
        if anchor.as_ref() != Some(&held) {
            tx.execute(
                "INSERT INTO audit_anchors (terminal_id, seq, hash, anchored_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(terminal_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, anchored_at = excluded.anchored_at",
                params![terminal, i(held.seq), held.hash, ts(at)],
            )?;
        }
        tx.commit()?;
        Ok((check, held))
    }

    pub(super) fn do_acknowledge_audit_breaks(&self, terminal: &str, staff: &str, why: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
        let _one = self.write_gate();
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "UPDATE audit_breaks SET acknowledged_by = ?2, acknowledged_at = ?3, acknowledged_why = ?4 WHERE terminal_id = ?1 AND acknowledged_at IS NULL",
            params![terminal, staff, ts(at), why],
        )?;
        if n > 0 {
            append_hub_audit(&tx, at, staff, "audit break acknowledged", Some(terminal), &format!("{n} break(s): {why}"))?;
        }
        tx.commit()?;
        Ok(n)
    }

    pub(super) fn do_hub_audit(&self, actor: &str, action: &str, subject: Option<&str>, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _one = self.write_gate();
        let conn = self.pool.get()?;
        append_hub_audit(&conn, at, actor, action, subject, outcome)
    }

    pub(super) fn do_hub_audit_tail(&self, limit: usize) -> Result<Vec<HubAuditEntry>, StoreError> {
        let conn = self.pool.get()?;
        let mut stmt = conn.prepare("SELECT seq, at, actor, action, subject, outcome FROM (SELECT * FROM hub_audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq")?;
        let mut rows = stmt.query([i64::try_from(limit).unwrap_or(i64::MAX)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let at: String = r.get(1)?;
            out.push(HubAuditEntry { seq: r.get(0)?, at: parse_ts(&at)?, actor: r.get(2)?, action: r.get(3)?, subject: r.get(4)?, outcome: r.get(5)? });
        }
        Ok(out)
    }

    /// Every terminal's anchor and breaks (newest first), for the registry.
    pub(super) fn audit_state(conn: &Connection) -> Result<(HashMap<String, (AuditHead, OffsetDateTime)>, HashMap<String, Vec<AuditBreak>>), StoreError> {
        let mut anchors = HashMap::new();
        let mut stmt = conn.prepare("SELECT terminal_id, seq, hash, anchored_at FROM audit_anchors")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let at: String = r.get(3)?;
            anchors.insert(r.get::<_, String>(0)?, (AuditHead { seq: u(r.get(1)?), hash: r.get(2)? }, parse_ts(&at)?));
        }
        let mut breaks: HashMap<String, Vec<AuditBreak>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT terminal_id, at, kind, from_seq, anchored_seq, anchored_hash, reported_seq, reported_hash,
                    acknowledged_by, acknowledged_at, acknowledged_why FROM audit_breaks ORDER BY id DESC",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let at: String = r.get(1)?;
            let b = AuditBreak {
                at: parse_ts(&at)?,
                kind: r.get(2)?,
                from_seq: r.get::<_, Option<i64>>(3)?.map(u),
                anchored: AuditHead { seq: u(r.get(4)?), hash: r.get(5)? },
                reported: AuditHead { seq: u(r.get(6)?), hash: r.get(7)? },
                acknowledged: match (r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?) {
                    (Some(by), Some(at), why) => Some(Acknowledgement { by, at: parse_ts(&at)?, why: why.unwrap_or_default() }),
                    _ => None,
                },
            };
            breaks.entry(r.get::<_, String>(0)?).or_default().push(b);
        }
        Ok((anchors, breaks))
    }
}
