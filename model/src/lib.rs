//! Cunban's shared vocabulary and wire contract.
//!
//! Field names follow GB/T 39046-2020 (政务服务平台基础数据规范): English identifiers
//! in code, the standard's Chinese names in doc comments. This crate does no I/O;
//! reference data (division codes, the starter catalog) is compiled in.

pub mod audit_chain;
pub mod auth;
mod b64;
pub mod bundle;
pub mod case;
pub mod export;
pub mod catalog;
pub mod divisions;
pub mod diagnostics;
pub mod document;
pub mod enroll;
pub mod evaluation;
pub mod fonts;
/// Test data (cargo feature `fixtures`, for dev-dependencies only).
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod identity;
pub mod kazakh;
pub mod mask;
pub mod operator;
pub mod pin;
pub mod place;
pub mod protocol;
pub mod seal;
pub mod submission;
pub mod text;
pub mod update;
pub mod voicepack;

pub use case::{CaseNumber, CaseStatus};
pub use catalog::{Catalog, CatalogError, ImplementCode, ServiceItem};
pub use identity::{CardType, Gender, IdNumber, IdNumberError, Identity, IdentityError, Validity};
pub use submission::{Submission, SubmissionId, VillageCode};
pub use text::{Lang, LocalizedText};
