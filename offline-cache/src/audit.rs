//! The append-only audit log (DESIGN §5): who (terminal, operator), what,
//! when, outcome; never personal data. It lives in the outbox database so an
//! entry commits in the same transaction as the change it records.
//!
//! Each entry carries the SHA-256 of its own fields and of the previous
//! entry's hash, so editing, removing or inserting an entry breaks the chain
//! at that point. Triggers refuse UPDATE and DELETE; someone with the file
//! can drop them, which is what the chain is for. Dropping entries from the
//! end is not detectable from the file alone: the head hash has to be
//! anchored elsewhere (heartbeats to the hub, a later issue).

use std::fmt;

use model::submission::sha256_hex;
use model::SubmissionId;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use crate::clock::{format_ts, parse_ts};
use crate::error::StoreError;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry says, before it is numbered and chained.
pub(crate) struct Record<'a> {
    pub terminal: &'a str,
    /// Staff number of an assistant or technician, when one acted.
    pub operator: Option<&'a str>,
    pub action: &'a str,
    pub subject: Option<SubmissionId>,
    pub outcome: &'a str,
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub terminal: String,
    pub operator: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub outcome: String,
}

/// Where the chain breaks first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The entry at which verification fails.
    pub seq: i64,
    pub problem: LinkProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProblem {
    /// The entry's fields don't hash to its stored hash: it was edited.
    Altered,
    /// The entry doesn't name the previous entry's hash: something before it
    /// was removed, inserted or rewritten.
    NotChained,
    /// Entries are missing before this one (`expected` was next).
    Missing { expected: i64 },
    /// A field is not text where text belongs.
    Unreadable,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            LinkProblem::Altered => write!(f, "entry #{} was altered (its content no longer matches its hash)", self.seq),
            LinkProblem::NotChained => {
                write!(f, "entry #{} does not follow entry #{} (an entry before it was removed or rewritten)", self.seq, self.seq - 1)
            }
            LinkProblem::Missing { expected } => write!(f, "entries #{expected}..#{} are missing", self.seq - 1),
            LinkProblem::Unreadable => write!(f, "entry #{} has a field of the wrong type", self.seq),
        }
    }
}

/// The verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// Hash of the last entry: what a heartbeat would anchor.
    pub head: String,
    pub first_broken: Option<BrokenLink>,
}

impl AuditReport {
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    seq: i64,
    at: &str,
    terminal: &str,
    operator: Option<&str>,
    action: &str,
    subject: Option<&str>,
    outcome: &str,
    prev_hash: &str,
) -> String {
    // A JSON array: unambiguous field boundaries, stable across versions.
    let fields = serde_json::json!([seq, at, terminal, operator, action, subject, outcome, prev_hash]);
    sha256_hex(fields.to_string().as_bytes())
}

/// Appends one entry. Call inside the write transaction of the change it records.
pub(crate) fn append(conn: &Connection, at: OffsetDateTime, r: &Record<'_>) -> Result<(), StoreError> {
    let last: Option<(i64, String)> =
        conn.query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_owned()),
    };
    let at = format_ts(at);
    let subject = r.subject.map(|s| s.to_string());
    let hash = entry_hash(seq, &at, r.terminal, r.operator, r.action, subject.as_deref(), r.outcome, &prev);
    conn.execute(
        "INSERT INTO audit (seq, at, terminal, operator, action, subject, outcome, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![seq, at, r.terminal, r.operator, r.action, subject, r.outcome, prev, hash],
    )?;
    Ok(())
}

fn text(row: &Row<'_>, i: usize) -> Result<Option<Option<String>>, StoreError> {
    Ok(match row.get_ref(i)? {
        ValueRef::Null => Some(None),
        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(|s| Some(s.to_owned())),
        _ => None,
    })
}

/// Walks the whole chain from the first entry and reports the first break.
pub(crate) fn verify(conn: &Connection) -> Result<AuditReport, StoreError> {
    let mut stmt = conn.prepare("SELECT seq, at, terminal, operator, action, subject, outcome, prev_hash, hash FROM audit ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut entries = 0u64;
    while let Some(row) = rows.next()? {
        let seq: i64 = match row.get_ref(0)? {
            ValueRef::Integer(n) => n,
            _ => return Err(StoreError::Corrupt("an audit entry has no number".into())),
        };
        let broken = |problem| AuditReport { entries, head: prev.clone(), first_broken: Some(BrokenLink { seq, problem }) };
        if seq != expected_seq {
            return Ok(broken(LinkProblem::Missing { expected: expected_seq }));
        }
        let mut fields = Vec::with_capacity(8);
        for i in 1..9 {
            match text(row, i)? {
                Some(v) => fields.push(v),
                None => return Ok(broken(LinkProblem::Unreadable)),
            }
        }
        let (Some(at), Some(terminal), operator, Some(action), subject, Some(outcome), Some(prev_hash), Some(hash)) = (
            fields[0].clone(),
            fields[1].clone(),
            fields[2].clone(),
            fields[3].clone(),
            fields[4].clone(),
            fields[5].clone(),
            fields[6].clone(),
            fields[7].clone(),
        ) else {
            return Ok(broken(LinkProblem::Unreadable));
        };
        if prev_hash != prev {
            return Ok(broken(LinkProblem::NotChained));
        }
        let recomputed = entry_hash(seq, &at, &terminal, operator.as_deref(), &action, subject.as_deref(), &outcome, &prev_hash);
        if recomputed != hash {
            return Ok(broken(LinkProblem::Altered));
        }
        prev = hash;
        expected_seq += 1;
        entries += 1;
    }
    Ok(AuditReport { entries, head: prev, first_broken: None })
}

/// The last `limit` entries, newest last.
pub(crate) fn tail(conn: &Connection, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, terminal, operator, action, subject, outcome FROM
         (SELECT * FROM audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query([limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let at: String = row.get(1)?;
        out.push(AuditEntry {
            seq: row.get(0)?,
            at: parse_ts(&at)?,
            terminal: row.get(2)?,
            operator: row.get(3)?,
            action: row.get(4)?,
            subject: row.get(5)?,
            outcome: row.get(6)?,
        });
    }
    Ok(out)
}
