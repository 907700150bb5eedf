//! Cases: what the back office lists and decides, and terminals ask about.

use model::protocol::{CaseStatusEntry, CaseView};
use model::{CaseNumber, CaseStatus, SubmissionId};
use time::OffsetDateTime;

use super::error::StoreError;

/// One case as the back office lists it (no personal data: that is sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub case_number: CaseNumber,
    pub submission_id: SubmissionId,
    pub item_code: String,
    pub terminal_id: Option<String>,
    pub status: CaseStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reason: Option<String>,
    pub has_result: bool,
}

/// A back-office decision on a case.
#[derive(Debug, Clone)]
pub struct StatusChange<'a> {
    pub to: CaseStatus,
    /// Why (shown to the villager on rejection).
    pub reason: Option<&'a str>,
    /// A result document: media type and bytes.
    pub result: Option<(&'a str, &'a [u8])>,
    /// Who decided: an operator name or "connector".
    pub actor: &'a str,
}

/// Cases as the back office and terminals see them.
pub trait CaseStore: Send + Sync {
    fn case(&self, case_number: &str) -> Result<Option<CaseView>, StoreError>;

    /// Cases of `ids` that `terminal` sent; others are left out.
    fn case_statuses(&self, terminal: &str, ids: &[SubmissionId]) -> Result<Vec<CaseStatusEntry>, StoreError>;

    fn list_cases(&self, status: Option<CaseStatus>, limit: usize) -> Result<Vec<CaseSummary>, StoreError>;

    fn case_summary(&self, case_number: &str) -> Result<Option<CaseSummary>, StoreError>;

    /// Moves a case on (received → accepted → processing → done, or → rejected).
    fn set_case_status(&self, case_number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<CaseSummary, StoreError>;

    /// A part of a bundle filing (一件事一次办) by its own number: the
    /// bundle's case number and the part.
    fn case_part(&self, number: &str) -> Result<Option<(String, model::protocol::CasePart)>, StoreError>;

    /// Moves a part of a bundle filing on, by the rules of a case.
    fn set_part_status(&self, number: &str, change: &StatusChange<'_>, at: OffsetDateTime) -> Result<model::protocol::CasePart, StoreError>;

    /// The result document of a case sent by `terminal`: (media type, bytes).
    fn case_result(&self, terminal: &str, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;
}
