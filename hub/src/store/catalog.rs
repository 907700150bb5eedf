//! The signed catalog and its deltas.

use model::auth::{SignedCatalog, SignedCatalogDelta};
use time::OffsetDateTime;

use super::error::StoreError;

/// More deltas than this and a terminal gets the full catalog: applying a
/// long chain on a kiosk costs more than one download.
pub const MAX_DELTA_CHAIN: usize = 16;

/// The signed catalog.
pub trait CatalogStore: Send + Sync {
    /// Keeps a signed catalog, with the signed delta from the version
    /// published before it when there is one; the newest version is what
    /// terminals get.
    fn publish_catalog(&self, signed: &SignedCatalog, delta: Option<&SignedCatalogDelta>, at: OffsetDateTime) -> Result<(), StoreError>;

    /// What a terminal holding version `since` needs: None when it is up to
    /// date (or the hub has no catalog); the chain of deltas when there is
    /// an unbroken one of at most [`MAX_DELTA_CHAIN`] steps that weighs less
    /// than the full catalog; the full catalog otherwise.
    fn catalog_update(&self, since: u64) -> Result<Option<model::protocol::CatalogUpdate>, StoreError>;

    fn latest_catalog(&self) -> Result<Option<SignedCatalog>, StoreError>;

    /// The newest catalog's version (heartbeat answers carry it).
    fn latest_catalog_version(&self) -> Result<Option<u64>, StoreError>;
}
