//! Why a catalog is refused. Every variant names the item (or theme,
//! bundle) and the field, so whoever publishes a catalog can fix it.

use thiserror::Error;

/// Why [`super::Catalog::from_json`] (or a code or delta) refused a catalog.
/// Item, bundle and field names are catalog text, never personal data.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    /// Not JSON, or JSON not of the catalog's shape; serde's message.
    #[error("the catalog is not valid JSON of the expected shape: {0}")]
    Parse(String),
    /// An implementation code that is empty, longer than 24 or not ASCII
    /// letters and digits (the first 40 characters of it).
    #[error("implementation code {0:?} is not 1..24 letters or digits")]
    BadCode(String),
    /// Two items share this 实施编码.
    #[error("item {0} appears twice")]
    DuplicateItem(String),
    /// This item's name has no zh-CN text.
    #[error("item {0} has no Chinese name")]
    MissingName(String),
    /// A field is absent or null (`phone` and `source.guide`: also blank).
    #[error("{item}: missing field {field}")]
    MissingField {
        /// Which item, and where in it: `item 620000MZ0003`,
        /// `item 620000MZ0003 materials[1]`.
        item: String,
        /// The field's name, as in GB/T 39046 (`legal_basis`, `location`, …).
        field: &'static str,
    },
    /// An item has every field but does not parse (a value of the wrong
    /// type or out of its set).
    #[error("{item}: {reason}")]
    BadItem {
        /// Which item, e.g. `item 620000RS0003`.
        item: String,
        /// serde's message for it.
        reason: String,
    },
    /// A text has no zh-CN version, which every text needs.
    #[error("{owner}: {path} has no zh-CN text")]
    MissingText {
        /// What holds the text, e.g. `item 620000MZ0003`.
        owner: String,
        /// Where in it, e.g. `materials[1].name`.
        path: String,
    },
    /// An item or bundle is listed under a theme the catalog does not define.
    #[error("item {item} names theme {theme}, which the catalog does not define")]
    UnknownTheme {
        /// The item's or bundle's code.
        item: String,
        /// The undefined theme id.
        theme: String,
    },
    /// Two form fields of one item share a key.
    #[error("item {item} has two form fields named {field}")]
    DuplicateField {
        /// The item's code.
        item: String,
        /// The repeated key.
        field: String,
    },
    /// A choice field offers nothing to choose.
    #[error("item {item}: choice field {field} has no options")]
    EmptyChoice {
        /// The item's code.
        item: String,
        /// The field's key.
        field: String,
    },
    /// A bundle names an item the catalog does not hold.
    #[error("bundle {bundle} names item {item}, which the catalog does not hold")]
    UnknownBundleItem {
        /// The bundle's code.
        bundle: String,
        /// The missing item's code.
        item: String,
    },
    /// A bundle's shared field is in fewer than two of its items, or its
    /// items define it differently.
    #[error("bundle {bundle}: shared field {field} is {problem}")]
    BadSharedField {
        /// The bundle's code.
        bundle: String,
        /// The shared field's key.
        field: String,
        /// What is wrong with it, as a phrase completing "field … is".
        problem: &'static str,
    },
    /// A value a bundle fixes for its parts' field (`fixed_fields`) that no
    /// part asks, that is also asked (shared), or that a part would refuse.
    #[error("bundle {bundle}: fixed field {field} {problem}")]
    BadFixedField {
        /// The bundle's code.
        bundle: String,
        /// The fixed field's key.
        field: String,
        /// What is wrong with it, as a phrase completing "fixed field …".
        problem: String,
    },
    /// A bundle's part is not filed for the person the bundle is about, or
    /// takes what the kiosk can only get from the applicant.
    #[error("bundle {bundle}, item {item}: {problem}")]
    BadBundlePart {
        /// The bundle's code.
        bundle: String,
        /// The part's code.
        item: String,
        /// What is wrong, in words.
        problem: String,
    },
    /// A material of another person than the applicant from a source that
    /// only gets the applicant's.
    #[error("item {item}: material {material} is {problem}")]
    BadMaterialHolder {
        /// The item's code.
        item: String,
        /// The material's code.
        material: String,
        /// What is wrong with it, as a phrase completing "material … is".
        problem: &'static str,
    },
    /// Two themes share this id.
    #[error("theme {0} appears twice")]
    DuplicateTheme(String),
    /// The catalog has no items at all.
    #[error("the catalog holds no items")]
    Empty,
}

impl From<serde_json::Error> for CatalogError {
    fn from(e: serde_json::Error) -> Self {
        CatalogError::Parse(e.to_string())
    }
}
