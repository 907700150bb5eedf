//! What the hub keeps, behind role traits so a PostgreSQL store can sit
//! beside the SQLite one without touching the HTTP layer.
//!
//! One trait per role (submissions, cases, terminals, operators,
//! enrollment, catalog, ratings, SMS, audit, diagnostics, rollouts, rate
//! limits, mail orders, the platform backlog, the heartbeat's round), each
//! in its own module with the types it speaks; [`Store`] bundles them so
//! call sites hold one `Arc<dyn Store>`. Methods are blocking; the HTTP
//! layer calls them on tokio's blocking pool. Idempotency lives in the
//! store's uniqueness constraints, so several hub instances over one
//! database stay correct.

mod audit;
mod backlog;
mod cases;
mod catalog;
mod diagnostics;
mod enrollment;
mod error;
mod heartbeat;
mod mail_orders;
mod operators;
mod progress;
mod rate_limit;
mod rating_forward;
mod ratings;
mod rollouts;
mod sms;
mod submissions;
mod terminals;

pub use audit::{Acknowledgement, AuditBreak, AuditStore, HubAuditEntry, LookupAudit};
pub use backlog::{Backlog, BacklogStore};
pub use cases::{CaseStore, CaseSummary, StatusChange};
pub use catalog::{CatalogStore, MAX_DELTA_CHAIN};
pub use diagnostics::{DiagnosticsRecord, DiagnosticsStore};
pub use enrollment::{terminal_id_for_serial, EnrollBinding, EnrollPresentation, EnrollRecord, EnrollState, EnrollmentStore};
pub use error::StoreError;
pub use heartbeat::{heartbeat_to_keep, BoxFuture, HeartbeatRound, HeartbeatStore, NonceSpend, RoundRead, SpendNonce, Unsettled};
pub use mail_orders::{MailCase, MailOrderStore, MailOutcome, MAIL_LOOK_BACK};
pub use operators::{NewOperator, OperatorStore};
pub use progress::ProgressStore;
pub use rate_limit::{unix_f64, BucketLimit, RateLimitStore};
pub use rating_forward::{RatingForwardStore, RatingToForward};
pub use ratings::{FollowUp, RatingStore, RatingTally, FOLLOW_UP_WITHIN};
pub use rollouts::RolloutStore;
pub use sms::{SmsRow, SmsState, SmsStore, SmsUpdate};
pub use submissions::{NewSubmission, OpenQuota, SubmissionStore, SweepReport};
pub use terminals::{FleetPage, FleetQuery, NewTerminal, TerminalRecord, TerminalStatus, TerminalStore};

/// Everything the hub keeps: one backend implements every role.
pub trait Store:
    SubmissionStore + CaseStore + TerminalStore + OperatorStore + EnrollmentStore + CatalogStore + RatingStore + RatingForwardStore + ProgressStore + SmsStore + AuditStore + DiagnosticsStore + RolloutStore + RateLimitStore + MailOrderStore + BacklogStore + HeartbeatStore + Send + Sync + 'static
{
}

impl<T> Store for T where
    T: SubmissionStore + CaseStore + TerminalStore + OperatorStore + EnrollmentStore + CatalogStore + RatingStore + RatingForwardStore + ProgressStore + SmsStore + AuditStore + DiagnosticsStore + RolloutStore + RateLimitStore + MailOrderStore + BacklogStore + HeartbeatStore + Send + Sync + 'static
{
}
