//! The hub's SMS outbox of progress texts.

use model::CaseStatus;
use time::OffsetDateTime;

use super::error::StoreError;

/// Where one progress text stands (the hub's SMS outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsState {
    /// Not yet accepted by the gateway (never tried, or every try failed).
    Pending,
    /// The gateway accepted it; delivery not yet known.
    Sent,
    /// The gateway reports it delivered to the handset.
    Delivered,
    /// The gateway refused it or reports it undeliverable; a person looks.
    Failed,
    /// The villager left no mobile number: nothing to send.
    NoNumber,
    /// Still unsent days after the change (see the sms module): old news, not sent.
    Expired,
}

impl SmsState {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsState::Pending => "pending",
            SmsState::Sent => "sent",
            SmsState::Delivered => "delivered",
            SmsState::Failed => "failed",
            SmsState::NoNumber => "no_number",
            SmsState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<SmsState> {
        Some(match s {
            "pending" => SmsState::Pending,
            "sent" => SmsState::Sent,
            "delivered" => SmsState::Delivered,
            "failed" => SmsState::Failed,
            "no_number" => SmsState::NoNumber,
            "expired" => SmsState::Expired,
            _ => return None,
        })
    }
}

/// One progress text, written with the status change it tells of (same
/// transaction). The number is not kept here: it stays in the sealed filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRow {
    /// The idempotency key the gateway sees on every try.
    pub key: String,
    pub case_number: String,
    pub status: CaseStatus,
    pub reason: Option<String>,
    pub state: SmsState,
    pub attempts: u32,
    pub gateway_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What happened to a progress text.
#[derive(Debug, Clone, Copy)]
pub enum SmsUpdate<'a> {
    /// A try failed (the gateway down or busy); stays pending.
    Attempted { error: &'a str },
    /// The gateway accepted it under this id.
    Sent { gateway_id: &'a str },
    /// Delivered, failed (with why), no number, expired.
    Closed { state: SmsState, error: Option<&'a str> },
}

/// The SMS outbox.
pub trait SmsStore: Send + Sync {
    /// Progress texts due: waiting to be sent, or sent and not yet known
    /// delivered or failed; oldest first.
    fn sms_due(&self, limit: usize) -> Result<Vec<SmsRow>, StoreError>;

    /// Records what happened to one progress text.
    fn sms_record(&self, key: &str, update: &SmsUpdate<'_>, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The progress texts of one case, oldest first.
    fn sms_of_case(&self, case_number: &str) -> Result<Vec<SmsRow>, StoreError>;
}
