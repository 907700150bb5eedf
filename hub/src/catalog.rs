//! Publishing a catalog: sign the full catalog and, when a version was
//! published before, the delta from it. Both are signed with the catalog
//! key, which the publisher holds (the hub only stores and serves what was
//! signed), so a terminal trusts a delta exactly as much as a full copy.

use model::auth::{AuthError, SignedCatalog, SignedCatalogDelta, SigningKey};
use model::Catalog;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(#[from] AuthError),
    #[error("version {new} is not newer than the published version {published}")]
    NotNewer { new: u64, published: u64 },
}

/// A signed catalog and the signed delta from the previous publication.
#[derive(Debug, Clone)]
pub struct Publication {
    pub full: SignedCatalog,
    pub delta: Option<SignedCatalogDelta>,
}

/// Signs `json` (refused unless it is a valid catalog newer than
/// `previous`), and the delta from `previous` when `previous` still reads
/// as a catalog under the same key.
pub fn prepare(key: &SigningKey, json: &[u8], previous: Option<&SignedCatalog>) -> Result<Publication, PublishError> {
    let full = SignedCatalog::sign(key, json)?;
    let (new, _) = full.verify(&key.public_key())?;
    let delta = match previous {
        Some(prev) if prev.version >= full.version => return Err(PublishError::NotNewer { new: full.version, published: prev.version }),
        // A previous catalog signed with another key (a key rotation) gets no
        // delta: terminals holding it get the full copy.
        Some(prev) => prev.verify(&key.public_key()).ok().map(|(old, _): (Catalog, _)| SignedCatalogDelta::sign(key, &old.diff(&new))).transpose()?,
        None => None,
    };
    Ok(Publication { full, delta })
}
