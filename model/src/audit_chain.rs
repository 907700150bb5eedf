//! A terminal's audit chain as the hub sees it (issue 19): the head the
//! terminal reports with each heartbeat, the entries since the head the hub
//! last anchored, and the check that a new head *extends* the anchored one.
//!
//! The hash of an entry is defined here so the terminal that writes the
//! chain and the hub that checks it compute the same thing. The hub keeps
//! only one head per terminal: to accept a longer chain it recomputes the
//! hash of every entry after its anchor from the entry's fields, and the
//! first of those must name the anchored hash as its predecessor. A
//! shorter chain (entries deleted, an older disk restored) or a different
//! hash at the anchored number (rewritten) cannot pass. Audit entries carry
//! no personal data (DESIGN §5), so sending them to the hub moves none.

use serde::{Deserialize, Serialize};

use crate::submission::sha256_hex;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Bytes of entries one heartbeat carries at most (its body is capped at
/// 16 KiB); the rest follows with the next heartbeats.
pub const LINKS_BUDGET: usize = 8 * 1024;

/// The last entry of a chain: its number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// Sequence number, from 1. 0 with [`GENESIS`] is an empty chain.
    pub seq: u64,
    /// SHA-256 (hex) of the entry.
    pub hash: String,
}

impl AuditHead {
    /// The head of a chain with no entries.
    pub fn empty() -> AuditHead {
        AuditHead { seq: 0, hash: GENESIS.to_owned() }
    }
}

/// One entry with everything its hash covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLink {
    /// Sequence number, from 1.
    pub seq: u64,
    /// RFC 3339, exactly as stored (the hash covers the text).
    pub at: String,
    /// Terminal id the entry was written under.
    pub terminal: String,
    /// Staff number of an assistant or technician, when one acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// What happened.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The submission it concerns, if one.
    pub subject: Option<String>,
    /// How it ended.
    pub outcome: String,
    /// Hash of the entry before ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// Hash of this entry ([`entry_hash`]).
    pub hash: String,
}

impl AuditLink {
    /// The hash this entry's fields give.
    pub fn recomputed(&self) -> String {
        entry_hash(self.seq, &self.at, &self.terminal, self.operator.as_deref(), &self.action, self.subject.as_deref(), self.outcome.as_str(), &self.prev_hash)
    }
}

/// What a heartbeat says about the chain: its head, and the entries after
/// the head the hub last acknowledged (oldest first, at most
/// [`LINKS_BUDGET`] bytes of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProof {
    /// The last entry.
    pub head: AuditHead,
    /// Entries after the acknowledged head, oldest first.
    #[serde(default)]
    pub since: Vec<AuditLink>,
}

/// SHA-256 of an entry: a JSON array of its fields and its predecessor's
/// hash (unambiguous field boundaries, stable across versions).
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: u64,
    at: &str,
    terminal: &str,
    operator: Option<&str>,
    action: &str,
    subject: Option<&str>,
    outcome: &str,
    prev_hash: &str,
) -> String {
    let fields = serde_json::json!([seq, at, terminal, operator, action, subject, outcome, prev_hash]);
    sha256_hex(fields.to_string().as_bytes())
}

/// How a reported chain relates to the head the hub anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorCheck {
    /// The hub had no head: this one is taken as it is (trust on first use).
    First,
    /// The same head as anchored.
    Same,
    /// The entries after the anchor check out up to `verified` (the head,
    /// or as far as this heartbeat's entries went).
    Extends {
        /// The furthest entry checked.
        verified: AuditHead,
    },
    /// The head is further on, but the entries that would show it follow
    /// the anchor were not sent (the terminal did not know the anchor).
    /// Nothing is concluded; the hub answers its anchor and waits.
    Unproven,
    /// Fewer entries than anchored: the last ones were deleted, or an older
    /// copy of the database was put back.
    WentBack {
        /// What the hub held.
        anchored: AuditHead,
        /// What the terminal reports now.
        reported: AuditHead,
    },
    /// The chain no longer runs through the anchored entry: from entry
    /// `seq` on, it was rewritten (or entries were deleted and new ones
    /// written in their place).
    Rewritten {
        /// The first entry that differs.
        seq: u64,
        /// What the hub held.
        anchored: AuditHead,
        /// What the terminal reports now.
        reported: AuditHead,
    },
}

impl AnchorCheck {
    /// True for the outcomes that mean the terminal's audit was tampered with.
    pub fn is_break(&self) -> bool {
        matches!(self, AnchorCheck::WentBack { .. } | AnchorCheck::Rewritten { .. })
    }

    /// Short code for audits and the fleet page.
    pub fn code(&self) -> &'static str {
        match self {
            AnchorCheck::First => "anchored",
            AnchorCheck::Same => "same",
            AnchorCheck::Extends { .. } => "extends",
            AnchorCheck::Unproven => "unproven",
            AnchorCheck::WentBack { .. } => "went_back",
            AnchorCheck::Rewritten { .. } => "rewritten",
        }
    }
}

/// Does `proof` extend `anchor`? See the module text.
pub fn check_extends(anchor: Option<&AuditHead>, proof: &AuditProof) -> AnchorCheck {
    let head = &proof.head;
    let Some(anchor) = anchor else { return AnchorCheck::First };
    let rewritten = |seq| AnchorCheck::Rewritten { seq, anchored: anchor.clone(), reported: head.clone() };
    if head.seq < anchor.seq {
        return AnchorCheck::WentBack { anchored: anchor.clone(), reported: head.clone() };
    }
    if head.seq == anchor.seq {
        return if head.hash == anchor.hash { AnchorCheck::Same } else { rewritten(head.seq) };
    }
    // head.seq > anchor.seq here, so anchor.seq + 1 cannot overflow.
    let mut prev = anchor.hash.clone();
    let mut next = anchor.seq + 1;
    let mut verified: Option<AuditHead> = None;
    for link in &proof.since {
        if link.seq < anchor.seq {
            continue;
        }
        if link.seq == anchor.seq {
            if link.hash != anchor.hash {
                return rewritten(link.seq);
            }
            continue;
        }
        if link.seq != next {
            // A gap in what was sent proves nothing either way.
            break;
        }
        if link.prev_hash != prev || link.recomputed() != link.hash {
            return rewritten(link.seq);
        }
        if link.seq == head.seq && link.hash != head.hash {
            return rewritten(link.seq);
        }
        prev = link.hash.clone();
        verified = Some(AuditHead { seq: link.seq, hash: link.hash.clone() });
        if link.seq >= head.seq {
            break;
        }
        next = link.seq + 1;
    }
    match verified {
        Some(verified) => AnchorCheck::Extends { verified },
        None => AnchorCheck::Unproven,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditLink> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let at = format!("2026-12-04T00:00:{:02}Z", seq % 60);
                let hash = entry_hash(seq, &at, "t1", None, "filed", None, "ok", &prev);
                let l = AuditLink { seq, at, terminal: "t1".into(), operator: None, action: "filed".into(), subject: None, outcome: "ok".into(), prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                l
            })
            .collect()
    }

    fn head(l: &AuditLink) -> AuditHead {
        AuditHead { seq: l.seq, hash: l.hash.clone() }
    }

    #[test]
    fn a_chain_that_grew_extends_its_anchor() {
        let c = chain(6);
        let proof = AuditProof { head: head(&c[5]), since: c[3..].to_vec() };
        assert_eq!(check_extends(Some(&head(&c[2])), &proof), AnchorCheck::Extends { verified: head(&c[5]) });
        // Entries from before the anchor are skipped; the anchored one must match.
        let proof = AuditProof { head: head(&c[5]), since: c[2..].to_vec() };
        assert_eq!(check_extends(Some(&head(&c[2])), &proof), AnchorCheck::Extends { verified: head(&c[5]) });
        // Only part of the entries: verified as far as they go.
        let proof = AuditProof { head: head(&c[5]), since: c[3..4].to_vec() };
        assert_eq!(check_extends(Some(&head(&c[2])), &proof), AnchorCheck::Extends { verified: head(&c[3]) });
        assert_eq!(check_extends(Some(&head(&c[5])), &AuditProof { head: head(&c[5]), since: vec![] }), AnchorCheck::Same);
        assert_eq!(check_extends(Some(&head(&c[2])), &AuditProof { head: head(&c[5]), since: vec![] }), AnchorCheck::Unproven);
    }

    #[test]
    fn truncation_and_rewriting_do_not_extend() {
        let c = chain(6);
        let anchor = head(&c[4]);
        let r = check_extends(Some(&anchor), &AuditProof { head: head(&c[2]), since: vec![] });
        assert!(matches!(r, AnchorCheck::WentBack { .. }) && r.is_break());
        // Entries 4.. deleted and three new ones written: seq 6 again, but
        // entry 4's predecessor is not the anchored 3.
        let mut other = chain(3);
        let mut prev = other[2].hash.clone();
        for seq in 4..=6 {
            let at = "2026-12-05T00:00:00Z".to_owned();
            let hash = entry_hash(seq, &at, "t1", None, "other", None, "ok", &prev);
            other.push(AuditLink { seq, at, terminal: "t1".into(), operator: None, action: "other".into(), subject: None, outcome: "ok".into(), prev_hash: prev.clone(), hash: hash.clone() });
            prev = hash;
        }
        let anchor = head(&c[3]);
        let r = check_extends(Some(&anchor), &AuditProof { head: head(&other[5]), since: other[4..].to_vec() });
        assert!(matches!(r, AnchorCheck::Rewritten { seq: 5, .. }), "{r:?}");
        // Same number, other hash.
        let r = check_extends(Some(&head(&c[5])), &AuditProof { head: head(&other[5]), since: vec![] });
        assert!(matches!(r, AnchorCheck::Rewritten { seq: 6, .. }), "{r:?}");
        // An entry edited after it was written: its fields no longer give its hash.
        let mut edited = c.clone();
        edited[4].outcome = "changed".into();
        let r = check_extends(Some(&head(&c[3])), &AuditProof { head: head(&c[5]), since: edited[4..].to_vec() });
        assert!(matches!(r, AnchorCheck::Rewritten { seq: 5, .. }), "{r:?}");
        assert_eq!(check_extends(None, &AuditProof { head: head(&c[0]), since: vec![] }), AnchorCheck::First);
        // Numbers at the end of the range do not overflow.
        let top = AuditHead { seq: u64::MAX - 1, hash: GENESIS.into() };
        let at = "2026-12-04T00:00:00Z".to_owned();
        let hash = entry_hash(u64::MAX, &at, "t1", None, "x", None, "ok", GENESIS);
        let last = AuditLink { seq: u64::MAX, at, terminal: "t1".into(), operator: None, action: "x".into(), subject: None, outcome: "ok".into(), prev_hash: GENESIS.into(), hash: hash.clone() };
        let r = check_extends(Some(&top), &AuditProof { head: AuditHead { seq: u64::MAX, hash }, since: vec![last] });
        assert!(matches!(r, AnchorCheck::Extends { .. }), "{r:?}");
    }
}
