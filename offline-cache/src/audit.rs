//! The append-only audit log (DESIGN §5): who (terminal, operator), what,
//! when, outcome; never personal data. It lives in the outbox database so an
//! entry commits in the same transaction as the change it records.
//!
//! Each entry carries the SHA-256 of its own fields and of the previous
//! entry's hash, so editing, removing or inserting an entry breaks the chain
//! at that point. Triggers refuse UPDATE and DELETE; someone with the file
//! can drop them, which is what the chain is for. Dropping entries from the
//! end is not detectable from the file alone, so each heartbeat carries the
//! head and the entries since the head the hub last acknowledged (stored in
//! `meta` as `audit_anchor`); the hub checks that the chain still runs
//! through what it anchored (`model::audit_chain`, SECURITY.md).

use std::fmt;

use model::audit_chain::{AuditHead, AuditLink, AuditProof, LINKS_BUDGET};
use model::SubmissionId;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use crate::clock::{format_ts, parse_ts};
use crate::error::StoreError;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = model::audit_chain::GENESIS;

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

/// Sequence numbers start at 1; a negative one (a damaged row) hashes as 0
/// and so breaks the chain rather than the verifier.
fn seq_for_hash(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
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
    let hash = model::audit_chain::entry_hash(seq_for_hash(seq), &at, r.terminal, r.operator, r.action, subject.as_deref(), r.outcome, &prev);
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
        let recomputed = model::audit_chain::entry_hash(seq_for_hash(seq), &at, &terminal, operator.as_deref(), &action, subject.as_deref(), &outcome, &prev_hash);
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

/// The last entry's number and hash, without walking the chain.
pub(crate) fn head(conn: &Connection) -> Result<AuditHead, StoreError> {
    let last: Option<(i64, String)> =
        conn.query_row("SELECT seq, CAST(hash AS TEXT) FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    Ok(match last {
        Some((seq, hash)) => AuditHead { seq: u64::try_from(seq).unwrap_or(0), hash },
        None => AuditHead::empty(),
    })
}

const ANCHOR_KEY: &str = "audit_anchor";

/// The head the hub last acknowledged, if any.
pub(crate) fn anchor(conn: &Connection) -> Result<Option<AuditHead>, StoreError> {
    let v: Option<String> = conn.query_row("SELECT CAST(value AS TEXT) FROM meta WHERE key = ?1", [ANCHOR_KEY], |r| r.get(0)).optional()?;
    Ok(v.and_then(|v| serde_json::from_str(&v).ok()))
}

pub(crate) fn set_anchor(conn: &Connection, head: &AuditHead) -> Result<(), StoreError> {
    let v = serde_json::to_string(head).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![ANCHOR_KEY, v],
    )?;
    Ok(())
}

/// The head and the entries after the acknowledged one, oldest first, up
/// to [`LINKS_BUDGET`] bytes (at least one). None acknowledged yet: no
/// entries (the hub takes the first head it hears as it is).
pub(crate) fn proof(conn: &Connection) -> Result<AuditProof, StoreError> {
    let head = head(conn)?;
    let Some(after) = anchor(conn)? else { return Ok(AuditProof { head, since: Vec::new() }) };
    let mut stmt = conn.prepare("SELECT seq, at, terminal, operator, action, subject, outcome, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq")?;
    let mut rows = stmt.query([i64::try_from(after.seq).unwrap_or(i64::MAX)])?;
    let (mut since, mut bytes) = (Vec::new(), 0usize);
    while let Some(row) = rows.next()? {
        let mut f = Vec::with_capacity(8);
        for i in 1..9 {
            // An unreadable field: stop here; the hub will see a chain that does not follow.
            match text(row, i)? {
                Some(v) => f.push(v),
                None => return Ok(AuditProof { head, since }),
            }
        }
        let seq: i64 = row.get(0)?;
        let link = AuditLink {
            seq: u64::try_from(seq).unwrap_or(0),
            at: f[0].clone().unwrap_or_default(),
            terminal: f[1].clone().unwrap_or_default(),
            operator: f[2].clone(),
            action: f[3].clone().unwrap_or_default(),
            subject: f[4].clone(),
            outcome: f[5].clone().unwrap_or_default(),
            prev_hash: f[6].clone().unwrap_or_default(),
            hash: f[7].clone().unwrap_or_default(),
        };
        bytes += serde_json::to_string(&link).map(|s| s.len()).unwrap_or(LINKS_BUDGET);
        if bytes > LINKS_BUDGET && !since.is_empty() {
            break;
        }
        since.push(link);
    }
    Ok(AuditProof { head, since })
}
