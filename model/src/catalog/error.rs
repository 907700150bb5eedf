//! Why a catalog is refused. Every variant names the item (or theme,
//! bundle) and the field, so whoever publishes a catalog can fix it.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("the catalog is not valid JSON of the expected shape: {0}")]
    Parse(String),
    #[error("implementation code {0:?} is not 1..24 letters or digits")]
    BadCode(String),
    #[error("item {0} appears twice")]
    DuplicateItem(String),
    #[error("item {0} has no Chinese name")]
    MissingName(String),
    #[error("{item}: missing field {field}")]
    MissingField { item: String, field: &'static str },
    #[error("{item}: {reason}")]
    BadItem { item: String, reason: String },
    #[error("{owner}: {path} has no zh-CN text")]
    MissingText { owner: String, path: String },
    #[error("item {item} names theme {theme}, which the catalog does not define")]
    UnknownTheme { item: String, theme: String },
    #[error("item {item} has two form fields named {field}")]
    DuplicateField { item: String, field: String },
    #[error("item {item}: choice field {field} has no options")]
    EmptyChoice { item: String, field: String },
    #[error("bundle {bundle} names item {item}, which the catalog does not hold")]
    UnknownBundleItem { bundle: String, item: String },
    #[error("bundle {bundle}: shared field {field} is {problem}")]
    BadSharedField { bundle: String, field: String, problem: &'static str },
    #[error("theme {0} appears twice")]
    DuplicateTheme(String),
    #[error("the catalog holds no items")]
    Empty,
}

impl From<serde_json::Error> for CatalogError {
    fn from(e: serde_json::Error) -> Self {
        CatalogError::Parse(e.to_string())
    }
}
