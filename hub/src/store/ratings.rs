//! Ratings (好差评) and the follow-ups bad ones open.

use model::protocol::{EvaluationUpload, PutOutcome};
use time::OffsetDateTime;

use super::error::StoreError;

/// How long the back office has to answer a 不满意/非常不满意 rating. The
/// 好差评 rule gives 15 working days for 整改 and reply; counting calendar
/// days keeps the hub inside it.
pub const FOLLOW_UP_WITHIN: time::Duration = time::Duration::days(15);

/// A bad rating's follow-up task (差评整改).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub evaluation_id: uuid::Uuid,
    pub case_number: String,
    pub terminal_id: String,
    pub item_code: String,
    pub rating: model::evaluation::Rating,
    /// The reasons the villager chose (Chinese labels) and any words.
    pub reasons: Vec<String>,
    pub opened_at: OffsetDateTime,
    pub due_at: OffsetDateTime,
    /// The answer, who gave it and when.
    pub reply: Option<(String, String, OffsetDateTime)>,
}

/// Ratings of one item in one village, per grade (非常满意 … 非常不满意,
/// in [`model::evaluation::Rating::ALL`] order), and follow-ups still open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingTally {
    /// '' for terminals registered without a village.
    pub village_code: String,
    pub item_code: String,
    pub counts: [u64; 5],
    pub open_followups: u64,
}

/// Ratings and their follow-ups.
pub trait RatingStore: Send + Sync {
    /// An evaluation of a case `terminal` filed, once per case
    /// ([`StoreError::NotYourCase`], [`StoreError::AlreadyRated`]).
    fn put_evaluation(&self, terminal: &str, ev: &EvaluationUpload, at: OffsetDateTime) -> Result<PutOutcome, StoreError>;

    /// 差评 follow-ups, oldest deadline first; only those without a reply when `open_only`.
    fn followups(&self, open_only: bool) -> Result<Vec<FollowUp>, StoreError>;

    /// The follow-ups of one case's ratings (what the villager may be shown).
    fn followups_of_case(&self, case_number: &str) -> Result<Vec<FollowUp>, StoreError>;

    /// The back office answers a follow-up (once; a second reply is refused).
    fn reply_followup(&self, evaluation_id: uuid::Uuid, reply: &str, actor: &str, at: OffsetDateTime) -> Result<FollowUp, StoreError>;

    /// Ratings counted per village and item (the operations centre's report).
    fn ratings_report(&self) -> Result<Vec<RatingTally>, StoreError>;
}
