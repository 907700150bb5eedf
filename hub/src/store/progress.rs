//! Progress at any terminal (issue 16): the applicant's keyed tag beside
//! each filing, and lookups that answer only when the card matches.

use model::protocol::ProgressCase;
use model::{IdNumber, SubmissionId};
use time::OffsetDateTime;

use super::error::StoreError;
use crate::progress::ProgressLookup;

pub trait ProgressStore {
    /// Keeps the keyed hash of the applicant's ID number beside the
    /// terminal's submission. Taken from the filing the hub opened; the
    /// number itself is not kept.
    fn tag_applicant(&self, terminal: &str, id: SubmissionId, id_number: &IdNumber) -> Result<(), StoreError>;

    /// The cases `lookup.receipt` names that were filed with
    /// `lookup.id_number` (any terminal's), or None, counted as a miss of
    /// the asking terminal. Past `max_misses_per_day` misses today:
    /// [`StoreError::QuotaExceeded`], without looking.
    fn progress(&self, lookup: &ProgressLookup<'_>, at: OffsetDateTime) -> Result<Option<Vec<ProgressCase>>, StoreError>;

    /// A case's result document whichever terminal filed it: only for a
    /// case [`ProgressStore::progress`] just matched.
    fn any_case_result(&self, case_number: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;
}
