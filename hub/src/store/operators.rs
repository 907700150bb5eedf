//! Assisted-mode operators (van assistants) and the staff who read the fleet page.

use model::operator::{OperatorAccount, StaffNumber};
use model::VillageCode;
use time::OffsetDateTime;

use super::error::StoreError;

/// An assistant's account as the back office writes it.
#[derive(Clone)]
pub struct NewOperator {
    pub staff_number: StaffNumber,
    pub name: String,
    /// Argon2id PHC string ([`model::operator::hash_pin`]); never the PIN.
    pub pin_hash: String,
    /// Terminals (vans) the assistant may log in on.
    pub terminals: Vec<String>,
    /// Villages the van visits: the trip screen offers these.
    pub villages: Vec<VillageCode>,
    pub valid_until: Option<OffsetDateTime>,
}

impl std::fmt::Debug for NewOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOperator").field("staff_number", &self.staff_number).field("terminals", &self.terminals).finish_non_exhaustive()
    }
}

/// Van assistants and fleet-page staff.
pub trait OperatorStore: Send + Sync {
    /// Adds an assistant, or updates name, PIN, assignment and expiry of
    /// an active one; a revoked one is refused.
    fn add_operator(&self, op: &NewOperator, at: OffsetDateTime) -> Result<(), StoreError>;

    fn revoke_operator(&self, staff_number: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Accounts assigned to `terminal`, revoked ones included (so the
    /// terminal drops them at its next pull).
    fn operators_for(&self, terminal: &str) -> Result<Vec<OperatorAccount>, StoreError>;

    /// True if `name` is a staff member and `password` is theirs.
    fn check_staff(&self, name: &str, password: &str) -> Result<bool, StoreError>;

    /// Adds a staff member (or sets a new password); `password_hash` is an Argon2id PHC string.
    fn set_staff(&self, name: &str, password_hash: &str, at: OffsetDateTime) -> Result<(), StoreError>;
}
