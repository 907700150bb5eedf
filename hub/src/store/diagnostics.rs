//! Diagnostics bundles staff ask terminals for.

use time::OffsetDateTime;

use super::error::StoreError;

/// A staff request for a terminal's diagnostics bundle, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsRecord {
    pub id: uuid::Uuid,
    pub terminal_id: String,
    pub requested_by: String,
    pub requested_at: OffsetDateTime,
    /// SHA-256 and size the terminal announced, once it did.
    pub announced: Option<(String, u64)>,
    /// The whole bundle is on the hub, hash checked.
    pub complete: bool,
}

/// Diagnostics requests and bundles.
pub trait DiagnosticsStore: Send + Sync {
    /// Staff ask `terminal` for a diagnostics bundle (audited); its id.
    fn request_diagnostics(&self, terminal: &str, staff: &str, at: OffsetDateTime) -> Result<uuid::Uuid, StoreError>;

    /// The oldest request of `terminal` whose bundle is not complete yet.
    fn pending_diagnostics(&self, terminal: &str) -> Result<Option<uuid::Uuid>, StoreError>;

    /// The terminal announces the bundle it will upload under `id`.
    fn announce_diagnostics(&self, terminal: &str, id: uuid::Uuid, sha256: &str, size: u64, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Every request, newest first (the fleet page).
    fn diagnostics_requests(&self) -> Result<Vec<DiagnosticsRecord>, StoreError>;

    /// A complete bundle for staff (the download is audited): the
    /// terminal it came from and its bytes; None while incomplete.
    fn download_diagnostics(&self, id: uuid::Uuid, staff: &str, at: OffsetDateTime) -> Result<Option<(String, Vec<u8>)>, StoreError>;
}
