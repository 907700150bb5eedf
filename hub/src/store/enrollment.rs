//! Enrollment codes: presented by terminals, bound by technicians, spent once.

use model::auth::PublicKey;
use model::enroll::Profile;
use model::VillageCode;
use time::OffsetDateTime;

use super::error::StoreError;

/// A terminal presenting an enrollment code (hash only: codes are not stored).
#[derive(Debug, Clone)]
pub struct EnrollPresentation<'a> {
    pub code_hash: &'a str,
    pub serial: &'a str,
    pub public_key: &'a PublicKey,
}

/// Where a presented code stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollState {
    /// Waiting for a technician, until `expires_at`.
    Pending { expires_at: OffsetDateTime },
    /// Bound: the terminal is registered and receives this (once).
    Bound { terminal_id: String, village_code: VillageCode, profile: Profile },
}

/// A technician's decision on a presented code.
#[derive(Debug, Clone)]
pub struct EnrollBinding {
    /// The id to register; by default `T-` and the serial.
    pub terminal_id: Option<String>,
    pub village_code: VillageCode,
    pub profile: Profile,
    /// The key fingerprint read off the terminal's screen or QR: required
    /// (None is refused), and binding fails if the presenter's key differs.
    pub expected_fingerprint: Option<String>,
    /// Who bound it (audit).
    pub actor: String,
}

/// A presented code as the hub lists it.
#[derive(Debug, Clone)]
pub struct EnrollRecord {
    pub serial: String,
    pub public_key: PublicKey,
    pub presented_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// pending, contested (a second key presented it: it cannot be bound), bound or delivered.
    pub status: String,
    pub terminal_id: Option<String>,
    pub village_code: Option<String>,
    pub profile: Option<Profile>,
}

/// The id a terminal gets by default: `T-` and its serial, upper case,
/// other characters as '-', cut to 32.
pub fn terminal_id_for_serial(serial: &str) -> String {
    let mut id = String::from("T-");
    id.extend(serial.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '-' }));
    id.truncate(32);
    id
}

/// One-time enrollment codes.
pub trait EnrollmentStore: Send + Sync {
    /// A terminal presents a one-time code, first to announce itself, then
    /// polling: Pending until bound, then Bound exactly once (the code is
    /// spent); [`StoreError::EnrollCodeUsed`] for a spent code or another
    /// key, [`StoreError::EnrollCodeExpired`] past its life,
    /// [`StoreError::TerminalRevoked`] for a revoked terminal's key.
    fn present_enrollment(&self, p: &EnrollPresentation<'_>, at: OffsetDateTime) -> Result<EnrollState, StoreError>;

    /// Binds a presented, live code: registers the terminal with the key
    /// that presented it. Single-use: a second bind is `EnrollCodeUsed`.
    fn bind_enrollment(&self, code_hash: &str, binding: &EnrollBinding, at: OffsetDateTime) -> Result<EnrollRecord, StoreError>;

    /// Codes presented and not yet expired or delivered, newest first.
    fn pending_enrollments(&self, at: OffsetDateTime) -> Result<Vec<EnrollRecord>, StoreError>;
}
