//! Catalog deltas: what changed between two published versions, so a
//! terminal on a slow village link downloads one changed item, not the
//! whole catalog. A delta names the version it applies to and the SHA-256
//! of the catalog it produces, so applying it to anything else, or
//! applying a delta whose content was altered, is refused whole and the
//! old catalog stays in use.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::error::CatalogError;
use super::types::{Bundle, Catalog, ImplementCode, ServiceItem, Theme, TranslationStatus};
use std::collections::BTreeMap;

/// Why a delta could not be applied.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeltaError {
    /// The delta was made from another version than the catalog in use.
    #[error("the delta applies to version {expected}, the catalog in use is {actual}")]
    WrongBase {
        /// The delta's `from_version`.
        expected: u64,
        /// The version of the catalog it was applied to.
        actual: u64,
    },
    /// The delta removes an item (this code) the catalog does not hold.
    #[error("the delta removes item {0}, which the catalog does not hold")]
    UnknownItem(String),
    /// The result fails the catalog's checks.
    #[error("the catalog the delta produces is invalid: {0}")]
    Invalid(#[from] CatalogError),
    /// The result's SHA-256 is not the delta's `result_sha256`: wrong base
    /// content or an altered delta.
    #[error("the catalog the delta produces is not the one published (hash differs)")]
    HashMismatch,
}

/// What changed from `from_version` to `to_version`. Themes and bundles are
/// few and small: when they change they are sent whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDelta {
    /// Version of the catalog the delta applies to.
    pub from_version: u64,
    /// Version of the catalog it produces.
    pub to_version: u64,
    /// SHA-256 (hex) of the canonical JSON of the resulting catalog.
    pub result_sha256: String,
    /// New or changed items, whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ServiceItem>,
    /// Codes of items no longer in the catalog.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<ImplementCode>,
    /// The full item order, only when it is not "changed in place, new at the end".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Vec<ImplementCode>>,
    /// All themes, when any changed; None: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub themes: Option<Vec<Theme>>,
    /// All bundles, when any changed; None: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundles: Option<Vec<Bundle>>,
    /// The new [`Catalog::source_note`], when it changed; None: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_note: Option<String>,
    /// The new [`Catalog::translation_status`], when it changed; None: unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation_status: Option<BTreeMap<String, TranslationStatus>>,
}

impl Catalog {
    /// SHA-256 (hex) of the canonical JSON (struct order, sorted language
    /// keys): what a delta's result is compared with.
    pub fn content_sha256(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// The delta that turns `self` into `new`.
    pub fn diff(&self, new: &Catalog) -> CatalogDelta {
        let items: Vec<ServiceItem> = new.items.iter().filter(|i| self.item(i.implement_code.as_str()) != Some(*i)).cloned().collect();
        let removed: Vec<ImplementCode> =
            self.items.iter().filter(|i| new.item(i.implement_code.as_str()).is_none()).map(|i| i.implement_code.clone()).collect();
        let mut delta = CatalogDelta {
            from_version: self.version,
            to_version: new.version,
            result_sha256: new.content_sha256(),
            items,
            removed,
            order: None,
            themes: (self.themes != new.themes).then(|| new.themes.clone()),
            bundles: (self.bundles != new.bundles).then(|| new.bundles.clone()),
            source_note: (self.source_note != new.source_note).then(|| new.source_note.clone()),
            translation_status: (self.translation_status != new.translation_status).then(|| new.translation_status.clone()),
        };
        let naive = delta.merge(self).map(|c| c.items.iter().map(|i| i.implement_code.clone()).collect::<Vec<_>>());
        let wanted: Vec<ImplementCode> = new.items.iter().map(|i| i.implement_code.clone()).collect();
        if naive.as_ref() != Ok(&wanted) {
            delta.order = Some(wanted);
        }
        delta
    }
}

impl CatalogDelta {
    /// Applies the changes without checking the result.
    fn merge(&self, base: &Catalog) -> Result<Catalog, DeltaError> {
        let mut c = base.clone();
        c.version = self.to_version;
        for code in &self.removed {
            let at = c.items.iter().position(|i| &i.implement_code == code).ok_or_else(|| DeltaError::UnknownItem(code.to_string()))?;
            c.items.remove(at);
        }
        for item in &self.items {
            match c.items.iter_mut().find(|i| i.implement_code == item.implement_code) {
                Some(slot) => *slot = item.clone(),
                None => c.items.push(item.clone()),
            }
        }
        if let Some(order) = &self.order {
            let mut by_code: BTreeMap<ImplementCode, ServiceItem> = c.items.drain(..).map(|i| (i.implement_code.clone(), i)).collect();
            c.items = order.iter().filter_map(|code| by_code.remove(code)).collect();
            if !by_code.is_empty() {
                return Err(DeltaError::HashMismatch);
            }
        }
        if let Some(t) = &self.themes {
            c.themes = t.clone();
        }
        if let Some(b) = &self.bundles {
            c.bundles = b.clone();
        }
        if let Some(s) = &self.source_note {
            c.source_note = s.clone();
        }
        if let Some(t) = &self.translation_status {
            c.translation_status = t.clone();
        }
        Ok(c)
    }

    /// The catalog this delta makes of `base`: refused whole when `base` is
    /// not the version it was made for, the result is not a valid catalog,
    /// or it is not exactly the catalog that was published.
    pub fn apply(&self, base: &Catalog) -> Result<Catalog, DeltaError> {
        if base.version != self.from_version {
            return Err(DeltaError::WrongBase { expected: self.from_version, actual: base.version });
        }
        let c = self.merge(base)?;
        c.check()?;
        if c.content_sha256() != self.result_sha256 {
            return Err(DeltaError::HashMismatch);
        }
        Ok(c)
    }
}
