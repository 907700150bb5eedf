//! Ratings on their way to the provincial platform (`crate::rating_forward`).

use time::OffsetDateTime;

use super::error::StoreError;

/// A stored rating not yet taken by the platform, with what it is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingToForward {
    pub evaluation_id: uuid::Uuid,
    pub case_number: String,
    pub item_code: String,
    /// '' for a terminal registered without a village.
    pub village_code: String,
    pub terminal_id: String,
    pub rating: model::evaluation::Rating,
    pub reasons: Vec<String>,
    pub text: String,
    pub rated_at: OffsetDateTime,
    /// Tries so far.
    pub attempts: u32,
}

pub trait RatingForwardStore: Send + Sync {
    /// Ratings still to forward, oldest first, at most `limit`.
    fn ratings_to_forward(&self, limit: usize) -> Result<Vec<RatingToForward>, StoreError>;

    /// The platform took the rating (`Ok`), or refused it for good (`Err`
    /// with its reason): either way it is not tried again.
    fn rating_forwarded(&self, evaluation_id: uuid::Uuid, outcome: Result<(), &str>, at: OffsetDateTime) -> Result<(), StoreError>;

    /// A try that did not get through: counted, kept for the next run.
    fn rating_forward_failed(&self, evaluation_id: uuid::Uuid, why: &str, at: OffsetDateTime) -> Result<(), StoreError>;
}
