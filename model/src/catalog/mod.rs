//! The service catalog (事项目录): items a villager can file, the life-event
//! themes they are listed under, and bundles of them (一件事一次办).
//!
//! The catalog is data: the starter catalog ships in `model/data/catalog.json`
//! (generated from `model/data/catalog_src/`); deployments receive versioned,
//! signed catalogs from the hub. [`Catalog::from_json`] checks everything a
//! kiosk relies on, so a corrupt file is refused whole, with the item and
//! field at fault.

mod bundle;
mod check;
mod delta;
mod error;
mod search;
mod types;

#[cfg(test)]
mod delta_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;

pub use check::ITEM_FIELDS;
pub use delta::{CatalogDelta, DeltaError};
pub use error::CatalogError;
pub use search::{SearchHit, SearchIndex};
pub use types::*;

const STARTER: &str = include_str!("../../data/catalog.json");

impl Catalog {
    /// The starter catalog compiled into this build.
    pub fn starter() -> Catalog {
        // The starter is checked by this crate's tests, so failure here is a
        // build defect, not bad input.
        Catalog::from_json(STARTER).expect("the compiled-in starter catalog is valid")
    }

    /// The starter catalog's JSON exactly as compiled in (`data/catalog.json`), e.g. to store or sign it.
    pub fn starter_json() -> &'static str {
        STARTER
    }
}
