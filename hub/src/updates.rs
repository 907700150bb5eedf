//! `hub update publish` (issue 19): a bundle is accepted only when it would
//! install on a terminal. The checks are `model::bundle`'s, the same code
//! the terminal's updater runs (signature by the release key, package
//! `cunban-kiosk`, a plain version, every payload file's size and SHA-256),
//! so a bundle refused here is one every terminal would refuse, and a
//! typo'd or tampered upload never starts a rollout.

use std::path::Path;

use model::auth::PublicKey;
use model::bundle::{check_payloads, read_signed_manifest, BundleError, Manifest};
use model::submission::sha256_hex;
use thiserror::Error;
use time::OffsetDateTime;

use crate::store::{Store, StoreError};

/// Largest bundle the hub takes (a kiosk .deb is tens of MB).
pub const MAX_BUNDLE: u64 = 512 << 20;

#[derive(Debug, Error)]
pub enum PublishError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{0} is over the {MAX_BUNDLE}-byte limit for a bundle")]
    TooLarge(String),
    #[error("refused: {0}")]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was published.
#[derive(Debug, Clone)]
pub struct Published {
    pub manifest: Manifest,
    pub sha256: String,
    pub size: u64,
}

/// Verifies `bundle` with the release `key`, keeps its bytes for download
/// and publishes its version (audited with `by`). The bytes are read once
/// and everything is judged from that copy, so the file cannot change
/// between the check and what terminals get.
pub fn publish_bundle(store: &dyn Store, bundle: &Path, key: &PublicKey, by: &str, at: OffsetDateTime) -> Result<Published, PublishError> {
    let shown = bundle.display().to_string();
    let len = std::fs::metadata(bundle).map_err(|source| PublishError::Read { path: shown.clone(), source })?.len();
    if len > MAX_BUNDLE {
        return Err(PublishError::TooLarge(shown));
    }
    let bytes = std::fs::read(bundle).map_err(|source| PublishError::Read { path: shown.clone(), source })?;
    let manifest = read_signed_manifest(bytes.as_slice(), key)?;
    check_payloads(bytes.as_slice(), &manifest, |_| Ok(Box::new(std::io::sink())))?;
    let sha256 = sha256_hex(&bytes);
    let size = bytes.len() as u64;
    store.keep_update_bundle(&sha256, &bytes)?;
    store.publish_update(&manifest.version, &sha256, size, by, at)?;
    Ok(Published { manifest, sha256, size })
}
