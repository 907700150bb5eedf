//! Result mailing's outbox (`crate::result_mail`): every case opened while
//! mailing is on gets a row once the hub has read its filing's choice, and
//! a mail order stays pending until the platform takes or refuses it. The
//! rows hold case numbers and states only: the order itself (name, phone,
//! address) is read again from the sealed filing for each try.

use model::SubmissionId;
use time::{Duration, OffsetDateTime};

use super::error::StoreError;

/// How far back cases are looked at: a hub that turns mailing on does not
/// read years of filings, and one down for weeks still catches up.
pub const MAIL_LOOK_BACK: Duration = Duration::days(30);

/// A case whose filing's delivery choice is still to be acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailCase {
    pub case_number: String,
    pub terminal_id: String,
    pub submission_id: SubmissionId,
    pub case_created_at: OffsetDateTime,
    /// Tries so far (0: not looked at yet).
    pub attempts: u32,
}

/// What became of a case's mailing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The filing collects at the village point (or names no address).
    NotMail,
    /// The platform took the order.
    Sent,
    /// The platform refused it for good (its status): the back office arranges it.
    Refused(String),
    /// Not taken yet (no answer, 429, 5xx): tried again from `next_try_at`.
    Retry { why: String, next_try_at: OffsetDateTime },
}

pub trait MailOrderStore: Send + Sync {
    /// Cases opened since `since` not looked at yet, and pending orders due
    /// at `now`; oldest first, at most `limit`. New cases are looked for
    /// from the newest case with a row (less ten minutes, for commits racing
    /// on other instances), so a tick reads only what is new.
    fn mail_cases_due(&self, since: OffsetDateTime, now: OffsetDateTime, limit: usize) -> Result<Vec<MailCase>, StoreError>;

    /// Keeps what became of `case`'s mailing. Sent, refused and not-mail
    /// are final: a later retry outcome (another instance's try) does not
    /// undo them.
    fn mail_case_done(&self, case: &MailCase, outcome: &MailOutcome, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The mailing state of a case (`not_mail`, `pending`, `sent`,
    /// `refused`) with its tries and last error, for `hub case open`.
    fn mail_state(&self, case_number: &str) -> Result<Option<(String, u32, Option<String>)>, StoreError>;
}
