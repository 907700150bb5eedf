//! The hub's own audit, terminals' audit anchors and the e-license lookup audit.

use model::audit_chain::{AnchorCheck, AuditHead, AuditProof};
use time::OffsetDateTime;

use super::error::StoreError;

/// One e-license lookup, as audited (never the ID number itself).
#[derive(Debug, Clone)]
pub struct LookupAudit<'a> {
    pub terminal: &'a str,
    pub material_code: &'a str,
    /// e.g. `620102********1234`.
    pub id_masked: &'a str,
    /// The ID number: the store keeps only a keyed hash of it (under a
    /// secret of its own), to count distinct people per terminal and day.
    pub id_number: &'a str,
}

/// A terminal's audit chain that stopped extending what the hub anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    pub at: OffsetDateTime,
    /// [`model::audit_chain::AnchorCheck::code`]: `went_back` or `rewritten`.
    pub kind: String,
    /// The entry from which the chain differs (`rewritten`).
    pub from_seq: Option<u64>,
    pub anchored: AuditHead,
    pub reported: AuditHead,
    /// Staff looked into it (fleet page): who, when, why.
    pub acknowledged: Option<Acknowledgement>,
}

/// A staff member's note on an audit break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub by: String,
    pub at: OffsetDateTime,
    pub why: String,
}

/// One entry of the hub's own audit: who (a staff name, a terminal, `hub`),
/// what, about what, how it ended. Never personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAuditEntry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub outcome: String,
}

/// Audit anchors, the hub's audit and the e-license lookup audit.
pub trait AuditStore: Send + Sync {
    /// Checks a terminal's reported audit chain against the head the hub
    /// holds and moves the anchor on; a head that does not extend it is
    /// kept as an [`AuditBreak`] and in the hub's audit, and the new head
    /// becomes the anchor (so the next break is caught too). Returns the
    /// check and the anchor now held.
    fn anchor_audit(&self, terminal: &str, proof: &AuditProof, at: OffsetDateTime) -> Result<(AnchorCheck, AuditHead), StoreError>;

    /// Staff acknowledge every unacknowledged audit break of `terminal`
    /// (audited); returns how many. The breaks themselves stay.
    fn acknowledge_audit_breaks(&self, terminal: &str, staff: &str, why: &str, at: OffsetDateTime) -> Result<usize, StoreError>;

    /// Appends to the hub's own audit.
    fn hub_audit(&self, actor: &str, action: &str, subject: Option<&str>, outcome: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The last `limit` entries of the hub's own audit, oldest first.
    fn hub_audit_tail(&self, limit: usize) -> Result<Vec<HubAuditEntry>, StoreError>;

    /// Records an e-license lookup and says whether it is within the
    /// terminal's allowance of distinct people per day (`max_people`); a
    /// refused one is recorded too. Errors with [`StoreError::QuotaExceeded`].
    /// Returns the audit record's number, for [`Self::audit_e_license_outcome`].
    fn audit_e_license(&self, lookup: &LookupAudit<'_>, max_people: u64, at: OffsetDateTime) -> Result<i64, StoreError>;

    /// Records how an allowed lookup ended (`found`, `not_found`, `unavailable`).
    fn audit_e_license_outcome(&self, seq: i64, outcome: &str) -> Result<(), StoreError>;
}
