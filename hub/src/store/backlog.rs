//! What waits to reach the provincial platform: the outboxes the hub works
//! through on its own (texts, ratings, mail orders), for the fleet page.

use time::OffsetDateTime;

use super::error::StoreError;

/// One outbox's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// `sms`, `ratings` or `mail`.
    pub outbox: &'static str,
    /// Still to be taken (tried again by the hub).
    pub pending: u64,
    /// When the oldest pending one was made.
    pub oldest_pending: Option<OffsetDateTime>,
    /// Refused or given up in the last 30 days: a person must act.
    pub given_up: u64,
}

pub trait BacklogStore: Send + Sync {
    /// The three outboxes, in that order, as of `now`.
    fn platform_backlog(&self, now: OffsetDateTime) -> Result<Vec<Backlog>, StoreError>;
}
